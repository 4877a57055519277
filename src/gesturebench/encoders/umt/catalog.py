"""Presets of the umt family (pure data: no torch, no model code)."""
