"""Gesture YAML format: built-ins, schema errors, timing, distinctness."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gesturebench.synth.gestures import (
    GestureSpecError, Performance, animate, load_gesture, load_gestures, parse_gesture, sample_poses, timeline,
)
from gesturebench.synth.skeleton import DOF_NAMES, Body, forward_kinematics, idle_vector
from gesturebench.types import ROCOG_CLASSES

GOOD = {
    "name": "Wave", "label": 0, "repeats": [1, 2], "durations": {"enter": 0.5, "cycle": 1.0, "exit": 0.5},
    "enter": [{"t": 1.0, "pose": {"r_shoulder": {"elev": 150}}}],
    "cycle": [{"t": 0.0, "hold": 0.2, "pose": {"r_elbow": {"flex": 10}}},
              {"t": 0.6, "pose": {"r_elbow": {"flex": 80}}}],
}


def bad(**changes):
    doc = {**GOOD, **changes}
    return {k: v for k, v in doc.items() if v is not None}


def test_builtin_gestures_are_rocog_classes():
    specs = load_gestures()
    assert tuple(s.name for s in specs) == ROCOG_CLASSES
    assert [s.label for s in specs] == list(range(7))
    halt = specs[ROCOG_CLASSES.index("Halt")]
    assert halt.repeats == (1, 1)
    assert all(s.repeats[1] <= 4 for s in specs)
    assert all("FM 21-60" in s.source for s in specs)


@pytest.mark.parametrize(
    "doc, message",
    [
        (bad(cycle=None), "<g>: missing required key 'cycle'"),
        (bad(colour="red"), "<g>: unknown key 'colour'; allowed: cycle, description, durations, enter, exit, label, name, repeats, source"),
        (bad(label=-1), "<g>: label must be an integer >= 0; got -1"),
        (bad(name="Wave it"), "<g>: name must be a word of letters/digits/underscores; got 'Wave it'"),
        (bad(repeats=[3, 1]), "<g>: repeats must be [min, max] integers with 1 <= min <= max <= 20; got [3, 1]"),
        (bad(durations={"cycle": 0}), "<g>: durations.cycle must be within [0.05, 10] seconds; got 0"),
        (bad(cycle=[{"t": 0.2, "pose": {}}]), "<g>: cycle[0].t must be 0 (the cycle starts at its first keyframe); got 0.2"),
        (bad(cycle=[{"t": 0.0, "pose": {"r_elbo": {"flex": 1}}}]),
         "<g>: cycle[0].pose: unknown joint 'r_elbo'; allowed: pelvis, spine, chest, neck, head, l_shoulder, l_elbow, "
         "l_wrist, r_shoulder, r_elbow, r_wrist, l_hip, l_knee, l_ankle, r_hip, r_knee, r_ankle"),
        (bad(cycle=[{"t": 0.0, "pose": {"r_elbow": {"bend": 1}}}]), "<g>: cycle[0].pose.r_elbow: unknown dof 'bend'; allowed: flex"),
        (bad(cycle=[{"t": 0.0, "pose": {"r_elbow": {"flex": 400}}}]), "<g>: cycle[0].pose.r_elbow.flex must be within [-90, 160] degrees; got 400"),
        (bad(cycle=[{"t": 0.0, "pose": {"r_elbow": {"flex": "x"}}}]), "<g>: cycle[0].pose.r_elbow.flex must be a number; got 'x'"),
        (bad(cycle=[{"t": 0.0, "hold": 0.5, "pose": {}}, {"t": 0.4, "pose": {}}]),
         "<g>: cycle[1].t must be greater than the previous keyframe's t + hold (0.5); got 0.4"),
        (bad(enter=[{"t": 1.5, "pose": {}}]), "<g>: enter[0].t must be within [0, 1]; got 1.5"),
        (bad(enter=[{"t": 0.5, "hold": 0.6, "pose": {}}]), "<g>: enter[0].hold must be >= 0 with t + hold <= 1; got t=0.5 hold=0.6"),
        (bad(enter=[{"pose": {}}]), "<g>: enter[0] needs both 't' and 'pose'"),
        (bad(exit={"t": 1}), "<g>: exit must be a list of keyframes; got {'t': 1}"),
    ],
)
def test_schema_errors_name_field_and_value(doc, message):
    with pytest.raises(GestureSpecError) as err:
        parse_gesture(doc, "<g>")
    assert str(err.value) == message


def test_yaml_file_errors(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(GestureSpecError, match=r"x\.yaml:2: not valid YAML"):
        load_gesture(p)
    (tmp_path / "a.yaml").write_text("name: A\nlabel: 0\ncycle: [{t: 0, pose: {}}]\n")
    p.write_text("name: B\nlabel: 2\ncycle: [{t: 0, pose: {}}]\n")
    with pytest.raises(GestureSpecError, match=r"labels must be 0\.\.1 exactly once each; got \[0, 2\]"):
        load_gestures(tmp_path)


def test_timeline_holds_repeats_and_idle_ends():
    spec = parse_gesture(GOOD)
    perf = Performance(repeats=2, speed=1.0, idle_before=0.5, idle_after=0.25)
    t, poses = timeline(spec, perf)
    assert t[-1] == pytest.approx(0.5 + 0.5 + 2 * 1.0 + 0.5 + 0.25)
    np.testing.assert_allclose(poses[0], idle_vector())
    np.testing.assert_allclose(poses[-1], idle_vector())
    flex = DOF_NAMES.index("r_elbow.flex")
    elev = DOF_NAMES.index("r_shoulder.elev")
    # the hold keeps the cycle's first pose from t=1.0 to 1.2 (first repetition), then moves
    held = sample_poses(np.array([1.01, 1.1, 1.19, 1.5]), t, poses)
    np.testing.assert_allclose(held[:3, flex], 10)
    assert 10 < held[3, flex] < 80
    np.testing.assert_allclose(held[:, elev], 150)  # carried forward from the enter keyframe
    faster, _ = timeline(spec, Performance(repeats=2, speed=1.25, idle_before=0.5, idle_after=0.25))
    assert faster[-1] == pytest.approx(0.5 + (0.5 + 2 + 0.5) / 1.25 + 0.25)


def test_animate_shape_and_mirror():
    spec = parse_gesture(GOOD)
    pose, dur = animate(spec, Performance(repeats=1), 16)
    assert pose.shape == (16, len(DOF_NAMES))
    mpose, _ = animate(spec, Performance(repeats=1, mirror=True), 16)
    assert mpose[:, DOF_NAMES.index("l_elbow.flex")].max() == pytest.approx(pose[:, DOF_NAMES.index("r_elbow.flex")].max())


def test_gestures_are_kinematically_distinct():
    """Pairwise mean distance of time-aligned joint trajectories exceeds 2.5 cm (arms: 10 cm)."""
    specs = load_gestures()
    traj = {}
    for s in specs:
        pose, _ = animate(s, Performance(repeats=min(2, s.repeats[1]), idle_before=0.2, idle_after=0.2), 48)
        traj[s.name] = forward_kinematics(pose, Body())[0]
    dists = {}
    for a, b in itertools.combinations(traj, 2):
        dists[(a, b)] = float(np.linalg.norm(traj[a] - traj[b], axis=-1).mean())
    worst = min(dists, key=dists.get)
    assert dists[worst] > 0.025, (worst, dists[worst])
    # and on the arms alone (what the signal is made of) much larger
    from gesturebench.synth.skeleton import JOINT_INDEX as J

    arms = [J[n] for n in ("l_elbow", "l_wrist", "l_hand", "r_elbow", "r_wrist", "r_hand")]
    arm_d = {k: float(np.linalg.norm(traj[k[0]][:, arms] - traj[k[1]][:, arms], axis=-1).mean()) for k in dists}
    worst = min(arm_d, key=arm_d.get)
    assert arm_d[worst] > 0.1, (worst, arm_d[worst])


WAVE = """\
name: WaveOverhead
label: 7
description: Both arms raised overhead and crossed and uncrossed several times.
source: my own signal
repeats: [2, 4]
durations: {enter: 0.5, cycle: 0.8, exit: 0.5}
enter:
  - {t: 1.0, pose: {r_shoulder: {elev: 160, azim: 60}, l_shoulder: {elev: 160, azim: 60}}}
cycle:
  - {t: 0.0, hold: 0.1, pose: {r_shoulder: {azim: 60}, l_shoulder: {azim: 60}}}
  - {t: 0.5, pose: {r_shoulder: {azim: 0, elev: 170}, l_shoulder: {azim: 0, elev: 170},
                    r_elbow: {flex: 20}, l_elbow: {flex: 20}}}
exit: []
"""


def test_docs_worked_example_adds_a_class(tmp_path):
    """The docs/synth.md example: copy the built-ins, add wave.yaml, generate."""
    import shutil

    from gesturebench.synth import generate_dataset
    from gesturebench.synth.gestures import builtin_dir

    gdir = tmp_path / "my_gestures"
    shutil.copytree(builtin_dir(), gdir)
    (gdir / "wave.yaml").write_text(WAVE)
    summary = generate_dataset(tmp_path / "ds", 1, "ground", seed=0, size=32, frames=8, gesture_dir=gdir)
    assert summary.class_names[-1] == "WaveOverhead" and summary.generated == 8
    assert (tmp_path / "ds" / "syn" / "ground" / "WaveOverhead" / "syn_WaveOverhead_ground_s0_00000.mp4").is_file()
