"""Presets of the basic family (pure data: no torch, no model code)."""
