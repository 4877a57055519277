from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from training_data import make_rocog  # noqa: E402


@pytest.fixture(scope="session")
def rocog(tmp_path_factory):
    """(root, {list stem: path}): 4 classes x 2 videos in syn train, tgt train and tgt test lists."""
    root = tmp_path_factory.mktemp("rocog")
    return root, make_rocog(root)
