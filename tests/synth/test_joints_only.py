"""Pose-space synthesis: projected ground-truth joints -> a `pose` feature store, no rendering."""

from __future__ import annotations

import numpy as np
import pytest

from gesturebench.errors import ConfigError, StoreError
from gesturebench.synth.joints_only import (
    TRACK_JOINTS,
    JointsOnlyConfig,
    batched_fk,
    project_joints,
    project_many,
    synth_joints_only,
)


def _spec_and_params(style="default", index=0, size=96, frames=20, gesture=1):
    from gesturebench.synth.gestures import load_gestures
    from gesturebench.synth.randomize import sample_params

    spec = load_gestures(None)[gesture]
    return spec, sample_params(0, style, "ground", spec, index, size, frames)


@pytest.mark.parametrize("style", ["default", "target"])  # target adds handheld roll
def test_projection_equals_the_renderers_ground_truth_joints(style):
    from gesturebench.synth.render import render_clip
    from gesturebench.synth.skeleton import JOINT_INDEX

    spec, p = _spec_and_params(style)
    clip = render_clip(p, spec)
    idx = np.array([0, 3, 11, 19])
    want = clip.joints_2d[idx][:, [JOINT_INDEX[n] for n in TRACK_JOINTS]]
    np.testing.assert_allclose(project_joints(p, spec, idx), want, atol=1e-3)


def test_batched_fk_equals_forward_kinematics_for_two_bodies():
    from gesturebench.synth.skeleton import JOINT_INDEX, Body, forward_kinematics

    rng = np.random.default_rng(0)
    from gesturebench.synth.skeleton import DOF_NAMES

    pose = rng.uniform(-60, 120, (6, len(DOF_NAMES)))
    bodies = [Body(1.6, 1.2, 0.95), Body(1.9, 0.9, 1.1)]
    root = rng.normal(0, 0.1, (6, 3))
    want = np.concatenate([forward_kinematics(pose[3 * i:3 * i + 3], b, root[3 * i:3 * i + 3])[0] for i, b in enumerate(bodies)])
    offsets = np.concatenate([np.broadcast_to(b.offsets(), (3,) + b.offsets().shape) for b in bodies])
    got = batched_fk(pose, root, offsets)
    np.testing.assert_allclose(got, want[:, [JOINT_INDEX[n] for n in TRACK_JOINTS]], atol=1e-12)
    spec, p = _spec_and_params()
    spec2, p2 = _spec_and_params(index=1, gesture=4)
    many = project_many([p, p2], [spec, spec2])
    np.testing.assert_allclose(many[1], project_joints(p2, spec2), atol=1e-9)


def test_store_is_a_pose_store_that_knn_takes_and_a_rerun_is_a_cache_hit(tmp_path):
    from gesturebench.evaluators.knn import evaluate_knn
    from gesturebench.features.store import FeatureStore

    cfg = JointsOnlyConfig(per_class=6, size=160, frames=48, seed=0, azimuths="0,30,330")
    first = synth_joints_only(cfg, tmp_path / "jnt")
    assert (first.total, first.computed) == (42, 42)
    fs = FeatureStore(tmp_path / "jnt").load()
    assert fs.features.shape == (42, 336) and np.isfinite(fs.features).all()
    assert fs.video_ids[0] == "jnt/syn/ground/Advance/syn_Advance_ground_s0_00000" and set(fs.domains) == {"synthetic"}
    assert sorted(np.bincount(fs.labels).tolist()) == [6] * 7
    settings = fs.meta["settings"]
    assert settings["decoder"] == "joints-only" and settings["encoder"]["name"] == "pose"
    assert settings["sampler"]["num_frames"] == 24 and settings["joints_only"]["noise"] == 0.03
    again = synth_joints_only(cfg, tmp_path / "jnt")
    assert again.computed == 0 and again.reused == 42
    np.testing.assert_array_equal(FeatureStore(tmp_path / "jnt").load().features, fs.features)
    # another seed is a disjoint set of clips of the same gestures: k-NN tells them apart well above chance
    other = synth_joints_only(JointsOnlyConfig(per_class=3, size=160, frames=48, seed=1, azimuths="0"), tmp_path / "test")
    result = evaluate_knn(fs, FeatureStore(other.store).load(), k=3, bootstrap=0)
    assert result.accuracy > 0.6, result.accuracy
    with pytest.raises(StoreError, match="holds features made with other settings"):
        synth_joints_only(JointsOnlyConfig(per_class=6, size=160, frames=48, seed=0, noise=0.0, azimuths="0,30,330"), tmp_path / "jnt")


def test_noise_and_azimuths_change_the_clips_deterministically(tmp_path):
    from gesturebench.features.store import FeatureStore

    def feats(**kw):
        name = "-".join(f"{k}{v}" for k, v in kw.items()) or "base"
        synth_joints_only(JointsOnlyConfig(per_class=2, size=96, frames=24, **kw), tmp_path / name)
        return FeatureStore(tmp_path / name).load().features

    base = feats()
    np.testing.assert_array_equal(base, feats(seed=0))
    assert not np.allclose(base, feats(noise=0.0))
    assert not np.allclose(base, feats(azimuths="0"))


def test_workers_give_the_same_features(tmp_path, monkeypatch):
    import gesturebench.synth.joints_only as jo
    from gesturebench.features.store import FeatureStore

    monkeypatch.setattr(jo, "CHUNK", 4)  # 14 clips in 4 chunks, so the pool really runs
    cfg = JointsOnlyConfig(per_class=2, size=96, frames=24)
    synth_joints_only(cfg, tmp_path / "a", workers=0)
    synth_joints_only(cfg, tmp_path / "b", workers=2)
    np.testing.assert_array_equal(FeatureStore(tmp_path / "a").load().features, FeatureStore(tmp_path / "b").load().features)


def test_bad_settings_are_refused_with_the_value():
    with pytest.raises(ConfigError, match=r"--azimuths range must have low <= high; got '30:10:5'"):
        synth_joints_only(JointsOnlyConfig(per_class=1, azimuths="30:10:5"), "/nonexistent/never-written")
    with pytest.raises(ConfigError, match=r"noise must be a number from 0 to 0.5 \(torso lengths\); got 2"):
        JointsOnlyConfig(per_class=1, noise=2)
    with pytest.raises(ConfigError, match=r"view must be one of ground, air; got 'side'"):
        JointsOnlyConfig(per_class=1, views=("side",))
    with pytest.raises(ConfigError, match=r"'motion' is a basic encoder"):
        synth_joints_only(JointsOnlyConfig(per_class=1, encoder="motion"), "/nonexistent/never-written")


def test_cli_joints_only(tmp_path, capsys):
    from gesturebench.cli import main

    assert main(["synth", "--joints-only", "--out", str(tmp_path / "s"), "--per-class", "2", "--size", "96",
                 "--frames", "24", "--azimuths", "0,30"]) == 0
    out = capsys.readouterr().out
    assert "joints-only: 14 pose feature rows (14 computed" in out
    assert main(["synth", "--joints-only", "--out", str(tmp_path / "s8"), "--per-class", "1", "--size", "96",
                 "--frames", "24", "--encoder-opt", "num_frames=8"]) == 0
    from gesturebench.features.store import FeatureStore

    assert FeatureStore(tmp_path / "s8").load().meta["settings"]["sampler"]["num_frames"] == 8
    capsys.readouterr()
    assert main(["synth", "--out", str(tmp_path / "r"), "--per-class", "1", "--overwrite"]) == 1
    assert "error: --overwrite and --encoder-opt only apply with --joints-only" in capsys.readouterr().err


def test_a_joints_only_store_trains_for_a_detected_pose_test_store(tmp_path):
    pytest.importorskip("mediapipe")
    from gesturebench.data.manifest import load_rocog
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders import create_encoder
    from gesturebench.evaluators.checks import check_same_extraction
    from gesturebench.evaluators.knn import evaluate_knn
    from gesturebench.features.extract import extract_features
    from gesturebench.features.store import FeatureStore
    from gesturebench.synth import generate_dataset

    generate_dataset(tmp_path / "data", per_class=1, views=("ground",), seed=0, size=128, frames=24,
                     splits={"train": 1.0}, azimuths="0")
    manifest = load_rocog(tmp_path / "data", [tmp_path / "data" / "annotations" / "syn_ground_train.txt"])
    enc = create_encoder("pose", device="cpu", num_frames=8)  # 8 frames: a third of the detection time
    extract_features(manifest, enc, tmp_path / "detected", sampler=SamplerConfig(num_frames=8), workers=0)
    detected = FeatureStore(tmp_path / "detected").load()
    opts = {"num_frames": 8}
    synth_joints_only(JointsOnlyConfig(per_class=1, size=128, frames=24, azimuths="0", encoder_options=opts),
                      tmp_path / "jnt")
    joints = FeatureStore(tmp_path / "jnt").load()
    check_same_extraction([("training set 1", joints), ("test set", detected)])  # no refusal
    # the same 7 clips, projected vs rendered and detected: each is nearer its own twin than the others on average
    d = np.linalg.norm(detected.features[:, None] - joints.features[None], axis=-1)
    assert np.mean(np.diag(d)) < np.mean(d[~np.eye(7, dtype=bool)])
    synth_joints_only(JointsOnlyConfig(per_class=4, size=128, frames=24, seed=3, azimuths="0", encoder_options=opts),
                      tmp_path / "train")
    result = evaluate_knn(FeatureStore(tmp_path / "train").load(), detected, k=3, bootstrap=0)
    assert len(result.predictions) == 7 and result.encoder == "pose"


def test_more_clips_per_class_grows_the_store_and_keeps_the_old_rows(tmp_path):
    from gesturebench.features.store import FeatureStore

    small = synth_joints_only(JointsOnlyConfig(per_class=2, size=96, frames=24), tmp_path / "grow")
    grown = synth_joints_only(JointsOnlyConfig(per_class=3, size=96, frames=24), tmp_path / "grow")
    assert (small.computed, grown.computed, grown.reused) == (14, 7, 14)
    fresh = synth_joints_only(JointsOnlyConfig(per_class=3, size=96, frames=24), tmp_path / "fresh")
    a, b = FeatureStore(tmp_path / "grow").load(), FeatureStore(fresh.store).load()
    assert a.video_ids == b.video_ids
    np.testing.assert_array_equal(a.features, b.features)
