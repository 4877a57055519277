"""Feature extraction (the hot loop) and the on-disk feature store.

Names are loaded on first use, so ``import gesturebench.features`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FeatureStore": ".store",
    "cache_key": ".store",
    "extract_features": ".extract",
    "ExtractionReport": ".extract",
    "BadVideo": ".extract",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
