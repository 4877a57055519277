"""Feature extraction (the hot loop) and the on-disk feature store.

Names are loaded on first use, so ``import gesturebench.features`` stays cheap.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_EXPORTS = {
    "FeatureStore": ".store",
    "cache_key": ".store",
    "extract_features": ".extract",
    "ExtractionReport": ".extract",
    "BadVideo": ".extract",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
