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


def _text(img: np.ndarray, text: str, height: int) -> None:
    import cv2

    scale = height / 40.0
    cv2.putText(img, text, (4, int(height * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0),
                max(1, int(round(scale * 1.5))), cv2.LINE_AA)


def _sheet_azimuths(azimuths) -> list[float]:
    """Rows of the sheet: ``None`` (330), a list of degrees, or option text (``0,30,330``, ``-30:30:15``)."""
    if azimuths is None:
        return [SHEET_AZIMUTH["ground"]]
    from .scene import _option_spec

    if isinstance(azimuths, (list, tuple)):
        values = [_option_spec("--azimuths", a, "camera.camera_azimuth")[0]["fixed"] for a in azimuths]
    else:
        spec, _ = _option_spec("--azimuths", azimuths, "camera.camera_azimuth")
        if "uniform" in spec:
            raise ConfigError(f"contact sheet azimuths must be values (330, 0,30,330 or -30:30:15); got {azimuths!r}")
        values = spec.get("choice") or [spec["fixed"]]
    if not 1 <= len(values) <= 24:
        raise ConfigError(f"contact sheet azimuths: 1 to 24 rows per view; got {len(values)}")
    return values


def render_contact_sheet(
    out: str | os.PathLike[str],
    style: str = "default",
    size: int = 224,
    seed: int = 0,
    views: tuple[str, ...] | str = VIEWS,
    frames: int = 32,
    gesture_dir: str | os.PathLike[str] | None = None,
    scene=None,
    azimuths=None,
    elevations=None,
    distance=None,
) -> Path:
    """Write a PNG grid (rows: view x azimuth, columns: gestures) with labels; returns its path.

    Each tile is video 0 of its gesture and view drawn from ``scene`` (a Scene,
    a YAML path, or the style's built-in scene; ``elevations``/``distance``
    override it as in ``synth``), seen from each of ``azimuths`` (default 330:
    in front of the subject, a little to its right), not mirrored, without
    motion blur. A title line names the scene and its hash.
    """
    import cv2

    from .gestures import load_gestures
    from .randomize import sample_params
    from .render import render_clip
    from .scene import resolve_scene

    check_choice("style", style, STYLES)
    if isinstance(views, str):
        views = tuple(v.strip() for v in views.split(",") if v.strip())
    if not views:
        raise ConfigError("views must name at least one of ground, air; got none")
    for v in views:
        check_choice("view", v, VIEWS)
    if isinstance(size, bool) or not isinstance(size, int) or size < 32 or size > 1024 or size % 2:
        raise ConfigError(f"size must be an even integer from 32 to 1024; got {size!r}")
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise ConfigError(f"contact sheet must be a .png file; got {str(out)!r}")
    sc = resolve_scene(style, scene, elevations=elevations, distance=distance)
    az_rows = _sheet_azimuths(azimuths)
    cv2.setNumThreads(1)
    specs = load_gestures(str(gesture_dir) if gesture_dir is not None else None)
    label_h = max(16, size // 9)
    rows = []
    for view in views:
        for az in az_rows:
            tiles = []
            for spec in specs:
                p = sample_params(seed, style, view, spec, 0, size, frames, scene=sc)
                p.update(camera_azimuth=float(az), mirror=False, motion_blur=0.0)
                clip = render_clip(p, spec)
                img = clip.frames[mid_gesture_frame(clip)]
                label = np.full((label_h, size, 3), 255, np.uint8)
                _text(label, f"{spec.name} / {view}" + (f" {az:g}" if len(az_rows) > 1 else ""), label_h)
                tile = np.concatenate([label, img], 0)
                tiles.append(np.pad(tile, ((2, 2), (2, 2), (0, 0)), constant_values=255))
            rows.append(np.concatenate(tiles, 1))
    sheet = np.concatenate(rows, 0)
    title = np.full((label_h, sheet.shape[1], 3), 255, np.uint8)
    hashes = ",".join(sorted({sc.view_hash(v) for v in views}))
    _text(title, f"scene {sc.name} ({hashes}), style {style}, seed {seed}, azimuths "
          f"{' '.join(f'{a:g}' for a in az_rows)}", label_h)
    sheet = np.concatenate([title, sheet], 0)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - cv2 always encodes uint8 RGB
        raise ConfigError(f"cannot encode {out}")
    from ..fileio import atomic_write_bytes

    atomic_write_bytes(out, buf.tobytes())
    return out
