"""Fakes for feature-extraction tests: a decoder without video files and an encoder
whose output is known exactly, so stored features can be checked value by value.

A fake "video" is a text file holding an integer seed (or ``bad: <reason>``).
Frame t of seed s is a constant image whose channel c has value
``pixel(s, t, c)``; the encoder returns the per-frame, per-channel mean of its
input (in [0, 1]), so a video's feature is exactly ``expected_feature(s)``.

Importable from spawned decode workers (pytest puts this folder on sys.path,
and spawn passes sys.path on), so ``fake_decode`` can run in worker processes.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from gesturebench.encoders.base import UNIT_MEAN, UNIT_STD, Encoder, InputSpec
from gesturebench.errors import DecodeError
from gesturebench.types import Manifest, VideoRecord

SPEC = InputSpec(num_frames=4, size=8, mean=UNIT_MEAN, std=UNIT_STD, layout="TCHW")
CLASSES = ("Advance", "Attention", "Rally")

#: decode calls made in this process (workers=0 runs only)
DECODE_CALLS = {"n": 0}


def pixel(seed: int, t: int, c: int) -> int:
    return (seed * 31 + t * 7 + c * 50) % 256


def fake_decode(path: str, sampler) -> np.ndarray:
    DECODE_CALLS["n"] += 1
    p = Path(path)
    if not p.is_file():
        raise DecodeError(path, "file not found")
    text = p.read_text().strip()
    if text.startswith("bad"):
        raise DecodeError(path, text)
    seed = int(text)
    n = sampler.num_frames * getattr(sampler, "num_clips", 1)
    frames = np.empty((n, 12, 16, 3), dtype=np.uint8)
    for t in range(n):
        frames[t] = [pixel(seed, t, c) for c in range(3)]
    return frames


def expected_feature(seed: int, num_frames: int = 4, clip: int = 0) -> np.ndarray:
    t0 = clip * num_frames
    return np.array(
        [[pixel(seed, t0 + t, c) / 255.0 for c in range(3)] for t in range(num_frames)], dtype=np.float32
    ).reshape(-1)


class MeanColourEncoder(Encoder):
    """(B, T, C, S, S) -> (B, T*C) per-frame channel means; counts calls; optional delay."""

    name = "test-mean-colour"
    version = "1"
    spec = SPEC
    feature_dim = 12

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.calls = 0
        self.videos = 0

    def encode(self, clips):
        self.calls += 1
        self.videos += int(clips.shape[0])
        if self.delay:
            time.sleep(self.delay)
        return clips.mean(dim=(3, 4)).flatten(1).float()


class AnyFramesEncoder(MeanColourEncoder):
    """Same function, but accepts any frame count (feature_dim follows the frame count)."""

    name = "test-any-frames"
    accepts_any_num_frames = True

    def __init__(self, num_frames: int) -> None:
        super().__init__()
        self.feature_dim = 3 * num_frames


def make_dataset(
    root: Path, seeds: list[int], bad: dict[int, str] | None = None, missing: tuple[int, ...] = ()
) -> Manifest:
    """Fake videos ``vNNN.vid`` under ``root``; row i has seed ``seeds[i]``.

    Rows in ``bad`` hold ``bad: <reason>``; rows in ``missing`` have no file.
    Labels cycle over CLASSES; domains alternate synthetic/target; views ground/ground/air.
    """
    bad = bad or {}
    root.mkdir(parents=True, exist_ok=True)
    records = []
    for i, seed in enumerate(seeds):
        rel = f"clips/v{i:03d}.vid"
        if i not in missing:
            (root / "clips").mkdir(exist_ok=True)
            (root / rel).write_text(f"bad: {bad[i]}" if i in bad else str(seed))
        records.append(
            VideoRecord(
                path=rel, label=i % 3, class_name=CLASSES[i % 3],
                domain="synthetic" if i % 2 == 0 else "target", view="air" if i % 3 == 2 else "ground",
            )
        )
    return Manifest(root=root, class_names=CLASSES, records=tuple(records), sources=("fake",))


def write_clip(path: Path, seed: int, frames: int = 16, size: tuple[int, int] = (64, 48)) -> None:
    import av

    w, h = size
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for t in range(frames):
            img = np.roll(base, 2 * t, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


class PidLoader:
    """A stand-in for ClipLoader: (row, path) -> (row, [pid that ran it], None) after a short sleep."""

    def __init__(self, delay: float = 0.005) -> None:
        self.delay = delay

    def __call__(self, row: int, path: str):
        import os

        time.sleep(self.delay)
        return row, np.array([os.getpid()]), None
