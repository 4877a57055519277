"""A gesture recogniser from feature stores: ``fit`` a k-NN model folder, ``predict`` video
files with it, ``serve`` it as a local web app (camera page + ``POST /predict``).

Submodules load on first use (``import gesturebench.recognise`` imports no torch).
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_EXPORTS = {
    "RecogniserModel": ".model",
    "fit_model": ".model",
    "load_model": ".model",
    "save_model": ".model",
    "Prediction": ".predict",
    "Recogniser": ".predict",
    "ServeLimits": ".app",
    "create_app": ".app",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
