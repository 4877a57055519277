"""Shared test fixtures. Tests must pass without ../shared (real clips skip)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Two cores on CI: keep torch/OpenCV from oversubscribing when pytest-xdist runs 2 workers.
os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

REPO = Path(__file__).resolve().parents[1]
REAL_CLIPS = REPO.parent / "shared" / "real-clips"


@pytest.fixture(scope="session")
def real_clips_dir() -> Path:
    """../shared/real-clips, or skip when this clone has no shared/ beside it."""
    if not REAL_CLIPS.is_dir():
        pytest.skip("../shared/real-clips not present")
    return REAL_CLIPS
