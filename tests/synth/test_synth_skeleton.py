"""Forward kinematics on known angles: exact positions."""

from __future__ import annotations

import numpy as np
import pytest

from gesturebench.synth.skeleton import (
    DOF_NAMES, JOINT_INDEX, Body, forward_kinematics, idle_vector, mirror_pose_vector,
)

J = JOINT_INDEX
BODY = Body(height=1.83, girth=1.0, shoulder_width=1.0)  # scale 1: offsets are the table values


def pose(**dofs: float) -> np.ndarray:
    v = np.zeros(len(DOF_NAMES))
    for k, x in dofs.items():
        v[DOF_NAMES.index(k.replace("__", "."))] = x
    return v


def test_rest_pose_positions_exact():
    pos, rot = forward_kinematics(pose(), BODY)
    p = pos[0]
    np.testing.assert_allclose(p[J["pelvis"]], [0, 0.97, 0], atol=1e-12)
    np.testing.assert_allclose(p[J["head"]], [0, 0.97 + 0.10 + 0.22 + 0.22 + 0.10, 0], atol=1e-12)
    np.testing.assert_allclose(p[J["r_shoulder"]], [-0.19, 0.97 + 0.32 + 0.19, 0], atol=1e-12)
    np.testing.assert_allclose(p[J["r_hand"]], [-0.19, 1.48 - 0.29 - 0.25 - 0.08, 0], atol=1e-12)
    np.testing.assert_allclose(p[J["l_toe"]], [0.10, 0.07 - 0.06, 0.15], atol=1e-12)
    np.testing.assert_allclose(p[J["l_ankle"]][1], 0.07, atol=1e-12)  # sole on the ground
    np.testing.assert_allclose(rot[0, J["chest"]], np.eye(3), atol=1e-12)


def test_arm_forward_sideways_up():
    sh = np.array([-0.19, 1.48, 0.0])
    p = forward_kinematics(pose(r_shoulder__elev=90, r_shoulder__azim=0), BODY)[0][0]
    np.testing.assert_allclose(p[J["r_elbow"]], sh + [0, 0, 0.29], atol=1e-12)
    np.testing.assert_allclose(p[J["r_hand"]], sh + [0, 0, 0.62], atol=1e-12)
    p = forward_kinematics(pose(r_shoulder__elev=90, r_shoulder__azim=90), BODY)[0][0]
    np.testing.assert_allclose(p[J["r_hand"]], sh + [-0.62, 0, 0], atol=1e-12)  # out to the right (-x)
    p = forward_kinematics(pose(l_shoulder__elev=90, l_shoulder__azim=90), BODY)[0][0]
    np.testing.assert_allclose(p[J["l_hand"]], [0.19 + 0.62, 1.48, 0], atol=1e-12)  # left arm to +x
    p = forward_kinematics(pose(r_shoulder__elev=180), BODY)[0][0]
    np.testing.assert_allclose(p[J["r_hand"]], sh + [0, 0.62, 0], atol=1e-12)


def test_elbow_flex_and_knee_flex():
    sh = np.array([-0.19, 1.48, 0.0])
    p = forward_kinematics(pose(r_shoulder__elev=90, r_elbow__flex=90), BODY)[0][0]
    np.testing.assert_allclose(p[J["r_wrist"]], sh + [0, 0.25, 0.29], atol=1e-12)  # forearm points up
    p = forward_kinematics(pose(r_knee__flex=90), BODY)[0][0]
    knee = np.array([-0.10, 0.97 - 0.05 - 0.43, 0])
    np.testing.assert_allclose(p[J["r_ankle"]], knee + [0, 0, -0.42], atol=1e-12)  # shin swings back


def test_trunk_bend_turn_and_root_yaw():
    p = forward_kinematics(pose(chest__bend=90), BODY)[0][0]
    chest = np.array([0, 0.97 + 0.32, 0])
    np.testing.assert_allclose(p[J["neck"]], chest + [0, 0, 0.22], atol=1e-12)  # bends forward (+z)
    p = forward_kinematics(pose(r_shoulder__elev=90), BODY, root_yaw_deg=90.0)[0][0]
    # yaw +90 turns the body's forward (+z) to +x: the right shoulder goes to -z
    np.testing.assert_allclose(p[J["r_hand"]], [0.62, 1.48, 0.19], atol=1e-12)


def test_batch_matches_single_and_mirror():
    rng = np.random.default_rng(0)
    poses = idle_vector() + rng.normal(0, 20, (5, len(DOF_NAMES)))
    batch = forward_kinematics(poses, BODY)[0]
    for i in range(5):
        np.testing.assert_allclose(batch[i], forward_kinematics(poses[i], BODY)[0][0], atol=1e-12)
    m = forward_kinematics(mirror_pose_vector(poses), BODY)[0]
    flip = np.array([-1.0, 1.0, 1.0])
    for a, b in (("l_hand", "r_hand"), ("head", "head"), ("l_toe", "r_toe")):
        np.testing.assert_allclose(m[:, J[a]], batch[:, J[b]] * flip, atol=1e-9)


def test_body_proportions_scale():
    tall = forward_kinematics(pose(), Body(height=1.83 * 1.1))[0][0]
    base = forward_kinematics(pose(), BODY)[0][0]
    assert tall[J["head"]][1] == pytest.approx(base[J["head"]][1] * 1.1)
