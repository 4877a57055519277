"""The ``pose`` encoder family: MediaPipe BlazePose landmarks -> arm-path clip features.

- :mod:`.track`: the clip representation (named 2-D joints over time + visibility)
  shared with joints-only synthesis (:mod:`gesturebench.synth.joints_only`);
- :mod:`.features`: the clip feature and the view check (pure numpy);
- :mod:`.encoder`: the encoder (needs the ``[pose]`` extra; imported lazily).
"""
