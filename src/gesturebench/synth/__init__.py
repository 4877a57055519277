"""Procedural gesture video generator writing the RoCoG-v2 layout.

``generate_dataset`` is the entry point; see docs/synth.md. Submodules are
imported lazily so ``import gesturebench.synth`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["generate_dataset", "parse_splits", "SynthSummary", "load_gestures", "render_contact_sheet"]

_LAZY = {
    "generate_dataset": "writer", "parse_splits": "writer", "SynthSummary": "writer",
    "load_gestures": "gestures", "render_contact_sheet": "contact",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
