"""Dataset writer: layout, lists, determinism, resume, styles, splits (small videos)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import av
import numpy as np
import pytest

from gesturebench.errors import ConfigError
from gesturebench.synth import generate_dataset, parse_splits
from gesturebench.synth.skeleton import JOINT_NAMES
from gesturebench.types import ROCOG_CLASSES

SMALL = dict(size=64, frames=16)


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def videos(root: Path, prefix: str = "syn") -> list[Path]:
    return sorted((root / prefix).rglob("*.mp4"))


@pytest.fixture(scope="module")
def ground(tmp_path_factory) -> tuple[Path, object]:
    root = tmp_path_factory.mktemp("synth") / "ds"
    calls = []
    summary = generate_dataset(root, 1, ["ground"], seed=3, progress=lambda d, t: calls.append((d, t)), **SMALL)
    assert calls[0] == (0, 7) and calls[-1] == (7, 7)
    return root, summary


def test_layout_lists_class_dict_and_joints(ground):
    root, summary = ground
    assert json.loads((root / "class_dict.json").read_text()) == {str(i): n for i, n in enumerate(ROCOG_CLASSES)}
    assert summary.generated == 7 and summary.skipped == 0
    lines = (root / "annotations" / "syn_ground_train.txt").read_text().splitlines()
    assert len(lines) == 7  # 1 per class: train=0.8 wins the single video
    assert not (root / "annotations" / "syn_ground_val.txt").exists()
    for label, line in enumerate(lines):
        rel, lab = line.split(" ")
        name = ROCOG_CLASSES[label]
        assert rel == f"syn/ground/{name}/syn_{name}_ground_s3_00000.mp4" and lab == str(label)
        assert (root / rel).is_file()
    with open(root / "params" / "syn_ground.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["class_name"] for r in rows] == list(ROCOG_CLASSES)
    for key in ("speed", "repeats", "camera_azimuth", "camera_height", "skin", "light_azimuth", "noise_sigma", "crf", "fps"):
        assert all(r[key] != "" for r in rows)
    assert all(1.0 <= float(r["speed"]) <= 1.25 for r in rows)
    assert rows[ROCOG_CLASSES.index("Halt")]["repeats"] == "1"
    az = {round((float(r["camera_azimuth"]) - 30) / 60) * 60 + 30 for r in rows}
    assert az <= {30, 90, 150, 210, 270, 330}
    z = np.load(root / "joints" / "syn" / "ground" / "Halt" / "syn_Halt_ground_s3_00000.npz")
    assert z["joints_2d"].shape == (16, len(JOINT_NAMES), 2) and z["joints_3d"].shape == (16, len(JOINT_NAMES), 3)
    assert list(z["joint_names"]) == list(JOINT_NAMES)
    assert json.loads(str(z["params_json"]))["class_name"] == "Halt"
    # Halt raises the right hand above the head at some point
    j = z["joints_3d"]
    assert (j[:, JOINT_NAMES.index("r_hand"), 1] > j[:, JOINT_NAMES.index("head"), 1] + 0.3).any()


def test_video_format(ground):
    root, _ = ground
    path = videos(root)[0]
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 16 and frames[0].shape == (64, 64, 3)
    # joints project inside the frame most of the time (the subject is framed)
    z = np.load(root / "joints" / path.relative_to(root).with_suffix(".npz"))
    inside = ((z["joints_2d"] >= 0) & (z["joints_2d"] < 64)).all(-1).mean()
    assert inside > 0.9


def test_deterministic_and_seed_dependent(ground, tmp_path):
    root, _ = ground
    again = tmp_path / "again"
    generate_dataset(again, 1, "ground", seed=3, **SMALL)
    assert (again / "params" / "syn_ground.csv").read_bytes() == (root / "params" / "syn_ground.csv").read_bytes()
    for a, b in zip(videos(root), videos(again)):
        np.testing.assert_array_equal(decode(a), decode(b))
    other = tmp_path / "other"
    generate_dataset(other, 1, "ground", seed=4, **SMALL)
    assert (other / "params" / "syn_ground.csv").read_bytes() != (root / "params" / "syn_ground.csv").read_bytes()
    a, b = decode(videos(root)[0]), decode(videos(other)[0])
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 5


def test_worker_count_does_not_change_output(ground, tmp_path):
    root, _ = ground
    par = tmp_path / "par"
    generate_dataset(par, 1, "ground", seed=3, workers=2, **SMALL)
    assert (par / "params" / "syn_ground.csv").read_bytes() == (root / "params" / "syn_ground.csv").read_bytes()
    np.testing.assert_array_equal(decode(videos(par)[3]), decode(videos(root)[3]))


def test_resume_regenerates_only_missing(tmp_path):
    root = tmp_path / "r"
    generate_dataset(root, 1, "ground", seed=5, **SMALL)
    vids = videos(root)
    before = {p: p.stat().st_mtime_ns for p in vids}
    vids[0].unlink()  # video gone
    npz = root / "joints" / vids[1].relative_to(root).with_suffix(".npz")
    npz.unlink()  # joints gone: the video must be redone too
    leftover = vids[2].parent / f".tmp-{vids[2].name}.abc.mp4"
    leftover.write_bytes(b"partial")  # an interrupted write
    summary = generate_dataset(root, 1, "ground", seed=5, **SMALL)
    assert (summary.generated, summary.skipped) == (2, 5)
    assert not leftover.exists()
    assert vids[0].exists() and npz.exists()
    for p in vids[2:]:
        assert p.stat().st_mtime_ns == before[p]
    assert len((root / "annotations" / "syn_ground_train.txt").read_text().splitlines()) == 7


def test_resume_redoes_videos_whose_parameters_changed(tmp_path):
    root = tmp_path / "r"
    generate_dataset(root, 1, "ground", seed=5, **SMALL)
    summary = generate_dataset(root, 1, "ground", seed=5, size=64, frames=20)
    assert summary.generated == 7


def test_target_style_differs_and_shares_root(ground, tmp_path):
    root = tmp_path / "both"
    generate_dataset(root, 1, "ground", seed=3, **SMALL)
    summary = generate_dataset(root, 1, "ground", seed=3, style="target", **SMALL)
    assert summary.lists == [root / "annotations" / "tgt_ground_train.txt"]
    assert (root / "annotations" / "syn_ground_train.txt").exists()
    line = (root / "annotations" / "tgt_ground_train.txt").read_text().splitlines()[0]
    assert line == "tgt/ground/Advance/tgt_Advance_ground_s3_00000.mp4 0"
    syn = np.stack([decode(p) for p in videos(root, "syn")]).astype(np.float32)
    tgt = np.stack([decode(p) for p in videos(root, "tgt")]).astype(np.float32)

    def flicker(x):  # mean frame-to-frame change: sensor noise and handheld shake
        return np.abs(np.diff(x.mean(-1), axis=1)).mean()

    assert flicker(tgt) > 1.5 * flicker(syn)
    assert (tgt.max(-1) - tgt.min(-1)).mean() < (syn.max(-1) - syn.min(-1)).mean()  # duller, hazier colours
    # colour: desert/camouflage palette vs grassland: red-minus-green differs
    assert (tgt[..., 0] - tgt[..., 1]).mean() - (syn[..., 0] - syn[..., 1]).mean() > 5


def test_splits_option_and_errors(tmp_path):
    root = tmp_path / "s"
    summary = generate_dataset(root, 4, "air", seed=1, splits="train=0.5,val=0.25,test=0.25", size=32, frames=8)
    for split, n in (("train", 14), ("val", 7), ("test", 7)):
        assert len((root / "annotations" / f"syn_air_{split}.txt").read_text().splitlines()) == n
    assert summary.counts[("air", "Rally", "train")] == 2
    assert parse_splits("val=1,train=3") == {"train": 0.75, "val": 0.25}
    with pytest.raises(ConfigError, match=r"^split must be one of train, val, test; got 'dev'$"):
        parse_splits("train=1,dev=1")
    with pytest.raises(ConfigError, match=r"^splits must look like train=0.8,val=0.2; got 'train'$"):
        parse_splits("train")
    with pytest.raises(ConfigError, match=r"^split train must be a number >= 0; got '-1'$"):
        parse_splits("train=-1")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(per_class=0), "per-class must be an integer >= 1; got 0"),
        (dict(views="ground,sky"), "view must be one of ground, air; got 'sky'"),
        (dict(views=""), "views must name at least one of ground, air; got none"),
        (dict(style="real"), "style must be one of default, target; got 'real'"),
        (dict(size=31), "size must be an even integer from 32 to 1024; got 31"),
        (dict(frames=2), "frames must be an integer from 4 to 1000; got 2"),
        (dict(workers=-1), "workers must be an integer >= 0; got -1"),
        (dict(seed=-5), "seed must be an integer >= 0; got -5"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, message):
    args = dict(per_class=1, views="ground", seed=0, size=32, frames=8) | kwargs
    with pytest.raises(ConfigError) as err:
        generate_dataset(tmp_path / "x", **args)
    assert str(err.value) == message
    assert not (tmp_path / "x").exists()


def test_class_dict_conflict(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    (root / "class_dict.json").write_text('{"0": "Wave"}')
    with pytest.raises(ConfigError, match="lists other classes than these gestures"):
        generate_dataset(root, 1, "ground", size=32, frames=8)


def test_output_loads_through_rocog_reader(ground):
    manifest_mod = pytest.importorskip("gesturebench.data.manifest")
    root, _ = ground
    m = manifest_mod.load_rocog(root, [root / "annotations" / "syn_ground_train.txt"])
    assert len(m) == 7 and m.class_names == ROCOG_CLASSES
    assert {r.domain for r in m.records} == {"synthetic"} and {r.view for r in m.records} == {"ground"}


def test_joints_2d_follow_the_rendered_figure(tmp_path):
    """Projected hands/head land on figure pixels (not background) in both styles."""
    import cv2

    from gesturebench.synth.gestures import load_gestures
    from gesturebench.synth.randomize import sample_params
    from gesturebench.synth.render import render_clip

    spec = load_gestures()[4]  # Halt
    for style in ("default", "target"):
        p = sample_params(1, style, "ground", spec, 0, 96, 12)
        p.update(noise_sigma=0.0, motion_blur=0.0, defocus=0.0, clutter=0)
        if style == "target":
            p["roll_jitter"] = 15.0  # exaggerated handheld roll: joints must follow the warp
        clip = render_clip(p, spec)
        # same scene and pose, every body colour changed: differing pixels are the figure
        recoloured = {k: "#ff00ff" if p[k] != "#ff00ff" else "#00ff00"
                      for k in ("skin", "hair", "shirt", "shirt_front", "trousers", "boots", "glove", "armband", "pack")}
        bg = render_clip(dict(p, **recoloured), spec).frames
        dists = []
        for f in range(12):
            off_body = (np.abs(clip.frames[f].astype(int) - bg[f].astype(int)).sum(-1) <= 20).astype(np.uint8)
            dist = cv2.distanceTransform(off_body, cv2.DIST_L2, 3)  # 0 on the figure, px to it elsewhere
            for joint in ("head", "neck", "r_elbow", "r_wrist", "l_elbow", "l_wrist", "l_knee", "r_ankle"):
                x, y = np.clip(np.round(clip.joints_2d[f, JOINT_NAMES.index(joint)]).astype(int), 0, 95)
                dists.append(dist[y, x])
        assert np.mean(dists) < 0.5 and np.max(dists) < 3, (style, np.mean(dists), np.max(dists))
