"""Tiny RoCoG-layout datasets of real (H.264) videos for fine-tuning tests.

Each class has its own colour and motion direction, so a model can learn
them in a couple of epochs; videos are 12 frames of 40x48 pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CLASSES = ("Advance", "Attention", "Rally", "Halt")


def write_video(path: Path, label: int, seed: int, frames: int = 12, size: tuple[int, int] = (48, 40)) -> None:
    import av

    w, h = size
    rng = np.random.default_rng(seed)
    colour = np.array([(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40)][label % 4], np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for t in range(frames):
            img = np.full((h, w, 3), 90, np.int16) + rng.integers(-20, 20, (h, w, 3))
            x = (4 + 3 * t * (1 if label % 2 == 0 else -1)) % (w - 12)
            img[10:30, x : x + 12] = colour
            frame = np.clip(img, 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def make_rocog(root: Path, per_class: int = 2, classes: tuple[str, ...] = CLASSES,
               splits: dict[str, tuple[str, str]] | None = None) -> dict[str, Path]:
    """Write ``class_dict.json``, videos and lists; returns list name -> path.

    ``splits``: list stem -> (domain dir, seed offset); default a synthetic
    training list, a target-style training list and a target-style test list.
    """
    splits = splits or {"syn_ground_train": ("syn", 0), "tgt_ground_train": ("tgt", 100), "tgt_ground_test": ("tgt", 200)}
    root.mkdir(parents=True, exist_ok=True)
    (root / "class_dict.json").write_text(json.dumps({str(i): c for i, c in enumerate(classes)}))
    (root / "annotations").mkdir(exist_ok=True)
    out = {}
    for stem, (domain, offset) in splits.items():
        lines = []
        for label, name in enumerate(classes):
            for i in range(per_class):
                rel = f"{domain}/ground/{name}/{stem}_{i}.mp4"
                if not (root / rel).exists():
                    write_video(root / rel, label, seed=offset + 10 * label + i)
                lines.append(f"{rel} {label}\n")
        path = root / "annotations" / f"{stem}.txt"
        path.write_text("".join(lines))
        out[stem] = path
    return out
