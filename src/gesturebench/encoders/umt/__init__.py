"""umt encoders."""
