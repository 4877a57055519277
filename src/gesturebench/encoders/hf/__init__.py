"""hf encoders."""
