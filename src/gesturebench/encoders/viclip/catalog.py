"""Presets of the viclip family (pure data: no torch, no model code)."""
