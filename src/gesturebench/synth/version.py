"""The renderer's version: part of every synthetic video's identity.

Bump ``RENDERER_VERSION`` with any change that alters the pixels (or the
joints files) rendered for the same sampled parameters, so that a rerun of
``synth`` re-renders the videos an earlier renderer made instead of keeping them.
"""

RENDERER_VERSION = 1
