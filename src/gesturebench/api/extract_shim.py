"""Where the API finds ``build_encoder`` until it moves out of the CLI (the study branch moves it to api/extract.py)."""

from __future__ import annotations

try:  # pragma: no cover - whichever home main has
    from .extract import build_encoder  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    from ..cli.extract import build_encoder

__all__ = ["build_encoder"]
