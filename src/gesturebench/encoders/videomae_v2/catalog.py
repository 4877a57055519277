"""Presets of the videomae_v2 family (pure data: no torch, no model code)."""
