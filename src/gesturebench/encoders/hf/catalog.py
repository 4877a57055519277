"""Presets of the hf family (pure data: no torch, no model code)."""
