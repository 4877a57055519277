"""basic encoders."""
