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


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray instance with 2 CPUs for this test session (tests using it skip without ray).

    Started quiet and small (no dashboard, no usage stats, worker logs kept off the
    terminal, a 256 MiB object store) and shut down at the end. Modules that use it
    mark themselves ``xdist_group("ray")`` so one pytest worker runs them all, on one
    Ray instance. Its workers find the test fakes through PYTHONPATH.
    """
    import importlib.util
    import logging

    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed (pip install 'gesturebench[ray]'; make test installs it)")
    import ray

    extra = [str(REPO / "tests" / "features"), str(REPO / "tests" / "synth")]
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "RAY_USAGE_STATS_ENABLED")}
    os.environ["PYTHONPATH"] = os.pathsep.join(extra + ([saved["PYTHONPATH"]] if saved["PYTHONPATH"] else []))
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 object_store_memory=256 * 1024**2)
    finally:  # the raylet has copied the environment; give the rest of the session its own back
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield ray
    finally:
        ray.shutdown()
