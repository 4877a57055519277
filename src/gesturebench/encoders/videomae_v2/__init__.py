"""videomae_v2 encoders."""
