"""Video encoders: one contract (:class:`Encoder`), a lazy registry, presets.

Importing this package imports no model code; ``create_encoder`` imports the
one family it needs.
"""

from .base import Encoder, InputSpec
from .registry import EncoderEntry, create_encoder, get_entry, list_encoders, register

__all__ = ["Encoder", "InputSpec", "EncoderEntry", "create_encoder", "get_entry", "list_encoders", "register"]
