"""Recogniser workflows: fit a model folder from feature stores, predict videos, serve it."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..recognise.app import ServeLimits
    from ..recognise.predict import BadVideo, Prediction, Recogniser

log = logging.getLogger(__name__)

#: import name -> pip name of what `serve` needs beyond the core install
SERVE_MODULES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "python_multipart": "python-multipart"}


@dataclass(frozen=True)
class FitSummary:
    path: Path
    encoder: str
    videos: int
    per_class: dict[str, int]
    per_domain: dict[str, int]
    quantile: float | None
    thresholds: list[float | None] | None


def fit_recogniser(
    train: list[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    weights: str | os.PathLike[str] | None = None,
    encoder_options: dict[str, Any] | None = None,
    k: int = 3,
    quantile: float | None = 0.95,
    overwrite: bool = False,
) -> FitSummary:
    """Merge the ``train`` feature stores into a recogniser model folder at ``out``.

    Refuses stores of different encoders or extraction settings, overlapping stores, and an
    encoder that cannot be rebuilt identically here (``weights``/``encoder_options``).
    """
    from ..features.store import FeatureStore
    from ..recognise.encoder import encoder_recipe
    from ..recognise.model import check_compatible, fit_model, save_model

    if not train:
        raise ConfigError("fit needs at least one --train feature store")
    stores = [(str(p), FeatureStore(p).load()) for p in train]
    check_compatible(stores)
    settings = stores[0][1].meta["settings"]
    recipe, _ = encoder_recipe(
        settings["encoder"], int(settings["sampler"]["num_frames"]), weights, encoder_options, device="cpu"
    )
    model = fit_model(stores, recipe, k=k, quantile=quantile)
    path = save_model(model, out, overwrite=overwrite)
    meta = model.meta
    return FitSummary(
        path=path, encoder=recipe["name"], videos=len(model), per_class=meta["training"]["per_class"],
        per_domain=meta["training"]["per_domain"], quantile=meta["unknown"]["quantile"],
        thresholds=meta["unknown"]["thresholds"],
    )


def load_recogniser(
    model: str | os.PathLike[str], device: str = "cpu", weights: str | os.PathLike[str] | None = None
) -> Recogniser:
    from ..recognise.predict import Recogniser

    return Recogniser.load(model, device=device, weights=weights)


def predict_videos(
    model: str | os.PathLike[str], videos: list[str | os.PathLike[str]], *, device: str = "cpu",
    weights: str | os.PathLike[str] | None = None,
) -> tuple[list[Prediction], list[BadVideo]]:
    """Predict every readable video; list the others with their reason."""
    if not videos:
        raise ConfigError("predict needs at least one VIDEO")
    return load_recogniser(model, device, weights).predict_files(list(videos))


def check_serve_extra() -> None:
    """Raise one line naming the ``[serve]`` extra when its packages are missing."""
    missing = [pip for mod, pip in SERVE_MODULES.items() if importlib.util.find_spec(mod) is None]
    if missing:
        raise ConfigError(
            f"serve needs the [serve] extra ({', '.join(missing)} missing): pip install 'gesturebench[serve]'"
        )


def _share_cores(workers: int) -> None:
    """Give each of the ``workers`` prediction threads its share of the cores.

    torch's and OpenCV's thread pools are process-wide; left at one thread per core each,
    ``workers`` concurrent predictions oversubscribe the CPU, and torch's OpenMP barriers then
    spin: on a loaded 2-core machine a 140-row k-NN query took 70 ms with 2 threads against
    0.4 ms with 1 (benchmarks/recogniser_latency.py --threads).
    """
    import cv2
    import torch

    share = max(1, (os.cpu_count() or 1) // workers)
    torch.set_num_threads(share)
    cv2.setNumThreads(share)
    log.info("serve: %d prediction workers, %d torch/OpenCV thread(s) each", workers, share)


def serve(
    model: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 8000, *, device: str = "cpu",
    weights: str | os.PathLike[str] | None = None, limits: ServeLimits | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve ``model`` until interrupted (uvicorn). ``on_ready`` runs once the model has loaded
    and been verified, just before the server starts (the CLI announces the address then)."""
    check_serve_extra()
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"--port must be an integer in 0..65535; got {port!r}")
    import uvicorn

    from ..recognise.app import ServeLimits, create_app

    limits = limits or ServeLimits()
    _share_cores(limits.workers)
    app = create_app(load_recogniser(model, device, weights), limits)
    if on_ready is not None:
        on_ready()
    uvicorn.run(app, host=host, port=port, log_level="info")


__all__ = ["FitSummary", "check_serve_extra", "fit_recogniser", "load_recogniser", "predict_videos", "serve"]
