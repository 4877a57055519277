"""Contact sheet: one mid-gesture frame per gesture x view, labelled, in one PNG."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ConfigError, check_choice
from .randomize import STYLES, VIEWS


def mid_gesture_frame(clip) -> int:
    """The frame whose hands are farthest from where they rest (the signal's peak)."""
    from .skeleton import JOINT_INDEX

    hands = clip.joints_3d[:, [JOINT_INDEX["l_hand"], JOINT_INDEX["r_hand"]]]
    dev = np.linalg.norm(hands - hands[:1], axis=-1).sum(-1)
    return int(np.argmax(dev))


#: Camera azimuth for the sheet: in front of the subject, a little to its right (most signals use the right arm),
#: so a reader sees face and both arms (the dataset samples RoCoG-v2's 30..330 degrees).
SHEET_AZIMUTH = {"ground": 330.0, "air": 330.0}


def render_contact_sheet(
    out: str | os.PathLike[str],
    style: str = "default",
    size: int = 224,
    seed: int = 0,
    views: tuple[str, ...] = VIEWS,
    frames: int = 32,
    gesture_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Write a PNG grid (rows: views, columns: gestures) with labels; returns its path."""
    import cv2

    from .gestures import load_gestures
    from .randomize import sample_params
    from .render import render_clip

    check_choice("style", style, STYLES)
    for v in views:
        check_choice("view", v, VIEWS)
    if isinstance(size, bool) or not isinstance(size, int) or size < 32 or size > 1024 or size % 2:
        raise ConfigError(f"size must be an even integer from 32 to 1024; got {size!r}")
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ConfigError(f"contact sheet must be a .png file; got {str(out)!r}")
    cv2.setNumThreads(1)
    specs = load_gestures(str(gesture_dir) if gesture_dir is not None else None)
    label_h = max(16, size // 9)
    scale = label_h / 40.0
    rows = []
    for view in views:
        tiles = []
        for spec in specs:
            p = sample_params(seed, style, view, spec, 0, size, frames)
            p.update(camera_azimuth=SHEET_AZIMUTH[view], mirror=False, motion_blur=0.0)
            clip = render_clip(p, spec)
            img = clip.frames[mid_gesture_frame(clip)]
            label = np.full((label_h, size, 3), 255, np.uint8)
            text = f"{spec.name} / {view}"
            cv2.putText(label, text, (4, int(label_h * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                        max(1, int(round(scale * 1.5))), cv2.LINE_AA)
            tile = np.concatenate([label, img], 0)
            tiles.append(np.pad(tile, ((2, 2), (2, 2), (0, 0)), constant_values=255))
        rows.append(np.concatenate(tiles, 1))
    sheet = np.concatenate(rows, 0)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - cv2 always encodes uint8 RGB
        raise ConfigError(f"cannot encode {out}")
    from ..fileio import atomic_write_bytes

    atomic_write_bytes(out, buf.tobytes())
    return out
