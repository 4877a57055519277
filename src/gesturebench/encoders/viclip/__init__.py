"""viclip encoders."""
