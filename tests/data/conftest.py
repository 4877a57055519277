"""Fixtures for the data tests: tiny videos with known frame content, made once per session."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from videos import make_video  # noqa: E402

#: name -> (make_video kwargs, expected frame count, expected (H, W) after rotation, step)
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


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for name, (kwargs, _, _) in VIDEO_CASES.items():
        make_video(root / name, **kwargs)
    return root
