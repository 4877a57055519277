"""The pose clip feature on planted landmark tracks with hand-computed answers (no MediaPipe needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gesturebench.encoders.pose.features import (
    PoseOptions,
    direction_histogram,
    fill_gaps,
    occupancy,
    pose_feature,
    resample_arc,
)
from gesturebench.encoders.pose.track import BLAZEPOSE_LANDMARKS, POSE_JOINTS, PoseTrack, landmarks_to_track
from gesturebench.errors import ConfigError

OPTS = PoseOptions(n_time=3, n_arc=3, grid=2, dir_bins=4)


def planted(l_wrist_y=(100.0, 50.0, 0.0), vis=None) -> PoseTrack:
    """Shoulders (120,100)/(80,100), hips (110,200)/(90,200): centre (100,100), torso 100 px.
    Elbows fixed at (150,100)/(50,100); right wrist fixed at (0,100); left wrist at x=200
    moving up through the given image y values."""
    frames = []
    for y in l_wrist_y:
        pts = {"l_shoulder": (120, 100), "r_shoulder": (80, 100), "l_elbow": (150, 100), "r_elbow": (50, 100),
               "l_wrist": (200, y), "r_wrist": (0, 100), "l_hip": (110, 200), "r_hip": (90, 200)}
        frames.append([pts[n] for n in POSE_JOINTS])
    xy = np.array(frames, dtype=np.float32)
    v = np.ones(xy.shape[:2], np.float32) if vis is None else vis
    return PoseTrack(xy, v, POSE_JOINTS, (200, 200))


def test_planted_track_gives_the_hand_computed_feature():
    feat, report = pose_feature(planted(), OPTS)
    assert feat.shape == (OPTS.feature_dim,) == (52,)
    # smoothed left wrist y (up +, torso units): [0, .5, 1] -> [.125, .5, .875]
    lw = [(1.0, 0.125), (1.0, 0.5), (1.0, 0.875)]
    traj = np.array([(0.5, 0.0)] * 3 + [(-0.5, 0.0)] * 3 + lw + [(-1.0, 0.0)] * 3).ravel() / math.sqrt(12)
    arc = np.array(lw + [(-1.0, 0.0)] * 3).ravel() / math.sqrt(6)
    # occupancy over [-1.75, 1.75]^2 on a 2x2 grid (row 0 = top): left wrist rows (1 - v) / v
    # with v = .428571, .214286, 0 -> top-right 2.357143/3, bottom-right .642857/3
    occ_l = np.array([0.0, 2.357142857 / 3, 0.0, 0.642857143 / 3])
    occ_r = np.array([0.5, 0.0, 0.5, 0.0])
    occ = np.sqrt(np.concatenate([occ_l, occ_r])) / math.sqrt(2)
    # straight up (90 deg) lies half-way between the 45 and 135 degree bins; the right wrist is still
    direction = np.sqrt(np.array([0.5, 0.5, 0, 0, 0, 0, 0, 0])) / math.sqrt(2)
    expected = np.concatenate([traj, arc, occ, direction])
    np.testing.assert_allclose(feat, expected, atol=1e-6)
    assert report.view == "front" and report.scale == "torso" and report.masked == ()
    assert report.width_ratio == pytest.approx(0.4) and report.swapped == 0.0
    assert report.detected == 3 and report.warning() is None


def test_feature_is_invariant_to_translation_and_scale():
    base, _ = pose_feature(planted(), OPTS)
    tr = planted()
    moved = PoseTrack(tr.xy * 2.5 + np.array([37.0, -12.0], np.float32), tr.visibility, tr.joints, (500, 500))
    np.testing.assert_allclose(pose_feature(moved, OPTS)[0], base, atol=1e-5)


def test_a_joint_hidden_in_most_frames_is_masked_and_named():
    vis = np.ones((3, 8), np.float32)
    vis[:, POSE_JOINTS.index("r_elbow")] = 0.2
    feat, report = pose_feature(planted(vis=vis), OPTS)
    full, _ = pose_feature(planted(), OPTS)
    assert report.masked == ("r_elbow",)
    np.testing.assert_array_equal(feat[6:12], 0.0)  # r_elbow's trajectory entries
    np.testing.assert_allclose(np.delete(feat, range(6, 12)), np.delete(full, range(6, 12)), atol=1e-6)
    assert report.warning() == "joints hidden in most frames, left out of the feature: r_elbow"


def test_one_unseen_frame_is_filled_by_interpolation():
    vis = np.ones((3, 8), np.float32)
    vis[1, POSE_JOINTS.index("l_wrist")] = 0.0  # its position in that frame is ignored
    track = planted(l_wrist_y=(100.0, 999.0, 0.0), vis=vis)
    np.testing.assert_allclose(pose_feature(track, OPTS)[0], pose_feature(planted(), OPTS)[0], atol=1e-6)


def test_side_back_and_empty_views_are_flagged():
    tr = planted()
    side = tr.xy.copy()
    side[:, [0, 1], 0] = 100.0  # shoulders on top of each other
    rep = pose_feature(PoseTrack(side, tr.visibility, tr.joints, tr.size), OPTS)[1]
    assert rep.view == "side" and rep.width_ratio == pytest.approx(0.0)
    assert rep.warning().startswith("seen from the side (shoulder width 0.00 torso lengths")
    back = tr.xy.copy()
    back[:, [0, 1]] = back[:, [1, 0]]  # left shoulder on the image's left
    rep = pose_feature(PoseTrack(back, tr.visibility, tr.joints, tr.size), OPTS)[1]
    assert rep.view == "back" and rep.swapped == 1.0
    assert rep.warning() == "seen from behind (left and right swapped in 100% of frames)"
    feat, rep = pose_feature(PoseTrack(tr.xy, np.zeros((3, 8), np.float32), tr.joints, tr.size), OPTS)
    assert rep.view == "none" and not feat.any()


def test_hidden_hips_fall_back_to_shoulder_width():
    vis = np.ones((3, 8), np.float32)
    vis[:, [POSE_JOINTS.index("l_hip"), POSE_JOINTS.index("r_hip")]] = 0.0
    feat, rep = pose_feature(planted(vis=vis), OPTS)
    assert rep.scale == "shoulders"
    # scale = 40 px / 0.75 = 53.33 px: the left elbow (50 px out) sits at 0.9375
    assert feat[0] * math.sqrt(12) == pytest.approx(50 / (40 / 0.75))


def test_arc_resampling_is_even_along_the_path_whatever_the_speed():
    # an L: 1 unit right in 1 step, then 1 unit up in 4 steps
    path = np.array([[0, 0], [1, 0], [1, 0.25], [1, 0.5], [1, 0.75], [1, 1]], float)
    np.testing.assert_allclose(resample_arc(path, 5), [[0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1]])
    np.testing.assert_allclose(resample_arc(np.array([[2.0, 3.0]] * 4), 3), [[2, 3]] * 3)


def test_histograms():
    np.testing.assert_allclose(direction_histogram(np.array([[0, 0], [1, 0], [2, 0]], float), 4), [0.5, 0, 0, 0.5])
    assert not direction_histogram(np.zeros((5, 2)), 8).any()
    h = occupancy(np.array([[0.0, 0.0]]), 4)  # the centre of a 4x4 grid: four cells share the vote
    np.testing.assert_allclose(h, [[0, 0, 0, 0], [0, 0.25, 0.25, 0], [0, 0.25, 0.25, 0], [0, 0, 0, 0]])
    filled = fill_gaps(np.array([[0.0], [9.0], [2.0], [9.0]]), np.array([True, False, True, False]))
    np.testing.assert_allclose(filled[:, 0], [0, 1, 2, 2])


def test_landmarks_to_track_and_validation():
    lm = np.full((2, 33, 3), np.nan, np.float32)
    lm[0] = [0.5, 0.25, 0.9]
    tr = landmarks_to_track(lm, (640, 480))
    assert tr.joints == BLAZEPOSE_LANDMARKS and tr.xy[0, 0].tolist() == [320.0, 120.0]
    assert tr.visibility[1].max() == 0.0 and tr.visibility[0, 0] == pytest.approx(0.9)
    with pytest.raises(ConfigError, match=r"pose track has no joint\(s\) l_shoulder"):
        PoseTrack(np.zeros((2, 1, 2)), np.ones((2, 1)), ("nose",), (10, 10)).select()
    with pytest.raises(ConfigError, match=r"pose encoder option grid must be an integer from 2 to 256; got 1"):
        PoseOptions(grid=1)
