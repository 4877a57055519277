"""Fixtures for the data tests: tiny videos with known frame content, made once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data_videos import VIDEO_CASES, make_video  # noqa: E402


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for name, (kwargs, _, _) in VIDEO_CASES.items():
        make_video(root / name, **kwargs)
    return root
