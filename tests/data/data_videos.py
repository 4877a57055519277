"""Tiny test videos with known per-frame content, written with PyAV.

Frame ``i`` is a flat grey of intensity ``level(i)`` with a white 25% block in
the top-left corner (so rotation is visible). Lossy codecs change pixel values
a little; tests compare frame means against ``level(i)`` with a tolerance, and
compare decode paths byte for byte.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def level(i: int, step: int = 12) -> int:
    return (16 + i * step) % 224


def frame_rgb(i: int, width: int, height: int, step: int = 12, block: bool = True) -> np.ndarray:
    a = np.full((height, width, 3), level(i, step), dtype=np.uint8)
    if block and width >= 4 and height >= 4:
        a[: height // 4, : width // 4] = 255
    return a


def make_video(
    path: Path,
    n: int = 16,
    width: int = 64,
    height: int = 48,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rate: int = 10,
    gop: int | None = None,
    rotation: int | None = None,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    step: int = 12,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    bframes: bool = False,
) -> Path:
    """Encode ``n`` frames; ``pts`` (with ``time_base``) makes variable frame rate."""
    path = Path(path)
    opts = dict(options or {})
    if codec == "libx264":
        opts.setdefault("preset", "ultrafast")
        if not bframes:
            opts.setdefault("bf", "0")
        if gop is not None:
            opts.setdefault("x264-params", f"keyint={gop}:min-keyint={gop}:scenecut=0")
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=rate, options=opts)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if gop is not None:
            stream.codec_context.gop_size = gop
        if time_base is not None:
            stream.time_base = time_base
            stream.codec_context.time_base = time_base
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(frame_rgb(i, width, height, step), format="rgb24")
            if pts is not None:
                frame.pts = pts[i]
                frame.time_base = time_base
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


#: name -> (make_video kwargs, expected frame count, expected (H, W) after rotation)
VIDEO_CASES = {
    "h264_yuv420p.mp4": (dict(), 16, (48, 64)),
    "h264_gop4.mp4": (dict(n=48, gop=4, step=4), 48, (48, 64)),
    "h264_bframes_gop8.mp4": (dict(n=48, gop=8, step=4, bframes=True), 48, (48, 64)),
    "h264_odd_yuv444p.mp4": (dict(width=33, height=25, pix_fmt="yuv444p"), 16, (25, 33)),
    "ffv1_gray.mkv": (dict(codec="ffv1", pix_fmt="gray"), 16, (48, 64)),
    "ffv1_tiny_3x2.mkv": (dict(codec="ffv1", pix_fmt="yuv444p", width=3, height=2), 16, (2, 3)),
    "mjpeg_yuvj420p.avi": (dict(codec="mjpeg", pix_fmt="yuvj420p"), 16, (48, 64)),
    "mpeg4.avi": (dict(codec="mpeg4", pix_fmt="yuv420p"), 16, (48, 64)),
    "vp9_gop4.webm": (dict(codec="libvpx-vp9", n=24, gop=4), 24, (48, 64)),
    "anim.gif": (dict(codec="gif", pix_fmt="rgb8"), 16, (48, 64)),
    "rot90.mp4": (dict(rotation=90), 16, (64, 48)),
    "rot270.mp4": (dict(rotation=-90), 16, (64, 48)),
    # variable frame rate: irregular timestamps, 16 frames over 91/30 s
    "vfr.mp4": (
        dict(pts=[0, 1, 3, 7, 8, 20, 21, 22, 40, 41, 42, 43, 60, 61, 90, 91], time_base=Fraction(1, 30)),
        16,
        (48, 64),
    ),
    "faststart.mp4": (dict(container_options={"movflags": "faststart"}), 16, (48, 64)),
}
