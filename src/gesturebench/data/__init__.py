"""Dataset layer: manifests (RoCoG-v2 lists, folder-per-class, CSV/JSONL),
frame samplers and video decoding.

Submodules load lazily so ``import gesturebench.data`` stays cheap (PyAV is
imported only when something is decoded).
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_EXPORTS = {
    "SamplerConfig": ".sampling",
    "tsn_indices": ".sampling",
    "uniform_indices": ".sampling",
    "dense_indices": ".sampling",
    "multi_clip_indices": ".sampling",
    "VideoInfo": ".decode",
    "probe": ".decode",
    "read_frames": ".decode",
    "decode_clip": ".decode",
    "load_rocog": ".manifest",
    "load_folder": ".manifest",
    "load_table": ".manifest",
    "load_manifest": ".manifest",
    "read_class_dict": ".manifest",
    "write_annotation_list": ".manifest",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
