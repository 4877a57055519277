"""The hand-crafted encoders: motion beats pixels where only motion tells classes apart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gesturebench.encoders import create_encoder, get_entry
from gesturebench.encoders.basic.motion import (
    MotionEncoder,
    actor_box,
    camera_motion,
    compensate,
    dense_flow,
    orientation_histograms,
    stabilised_crop,
)
from gesturebench.encoders.preprocess import normalize, resize_crop
from gesturebench.errors import ConfigError

DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # class = direction of motion (x, y)


def moving_blob_clip(rng: np.random.Generator, direction: tuple[int, int], size: int = 64, frames: int = 16) -> np.ndarray:
    """uint8 (T, size, size, 3): a textured square of random colour on a random static
    background, moving 2 px per frame along ``direction``."""
    bg = rng.integers(0, 256, (size // 8, size // 8, 3)).astype(np.uint8)
    bg = np.kron(bg, np.ones((8, 8, 1), np.uint8))  # static blocky texture
    side, step = 16, max(1, 24 // (frames - 1))  # 3 px per frame for 8 frames
    tex = (rng.integers(0, 2, (side // 4, side // 4, 1)) * 255).astype(np.float32)
    tex = np.kron(tex, np.ones((4, 4, 1), np.float32))
    colour = rng.integers(40, 216, 3).astype(np.float32)
    blob = np.clip(0.6 * colour + 0.4 * tex, 0, 255).astype(np.uint8)
    # The path is centred (like a signer in the frame) with a random jitter of +-6 px.
    travel = step * (frames - 1)
    centre = (size - side) // 2
    x0, y0 = (centre + int(j) for j in rng.integers(-6, 7, 2))
    x0 -= direction[0] * travel // 2
    y0 -= direction[1] * travel // 2
    out = np.repeat(bg[None], frames, axis=0)
    for t in range(frames):
        x, y = x0 + direction[0] * step * t, y0 + direction[1] * step * t
        out[t, y : y + side, x : x + side] = blob
    return out


def make_dataset(seed: int, per_class: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    frames = get_entry("motion").spec.num_frames
    clips, labels = [], []
    for label, d in enumerate(DIRECTIONS):
        for _ in range(per_class):
            clips.append(moving_blob_clip(rng, d, frames=frames))
            labels.append(label)
    return clips, np.array(labels)


def features(name: str, clips: list[np.ndarray], **options) -> np.ndarray:
    enc = create_encoder(name, device="cpu", num_frames=clips[0].shape[0], **options)
    batch = torch.from_numpy(np.stack([resize_crop(c, enc.spec) for c in clips]))
    return enc.encode(normalize(batch, enc.spec)).numpy()


def nearest_neighbour_accuracy(train_x, train_y, test_x, test_y) -> float:
    d = ((test_x[:, None, :] - train_x[None, :, :]) ** 2).sum(-1)
    return float((train_y[d.argmin(1)] == test_y).mean())


def test_motion_separates_directions_where_pixels_cannot():
    train, ytr = make_dataset(seed=1, per_class=8)
    test, yte = make_dataset(seed=2, per_class=6)
    # mirror=False: mirror canonicalisation deliberately merges left and right motion
    opts = {"pixels": {}, "motion": {"mirror": False}}
    acc = {
        name: nearest_neighbour_accuracy(features(name, train, **opts[name]), ytr, features(name, test, **opts[name]), yte)
        for name in ("pixels", "motion")
    }
    assert acc["motion"] >= 0.95, acc
    assert acc["pixels"] <= 0.45, acc  # chance is 0.25
    assert acc["motion"] - acc["pixels"] >= 0.45, acc


def test_motion_feature_is_unit_norm_and_deterministic():
    clips, _ = make_dataset(seed=3, per_class=1)
    a = features("motion", clips)
    b = features("motion", clips)
    assert a.shape == (4, 1120) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert (a >= 0).all()  # square roots of non-negative histograms


def test_motion_static_clip_has_no_flow_blocks():
    enc = create_encoder("motion", device="cpu")
    frame = np.random.default_rng(0).integers(0, 256, (1, 112, 112, 3), dtype=np.uint8)
    clip = torch.from_numpy(np.repeat(frame, 16, axis=0)[None])
    f = enc.encode(normalize(clip, enc.spec))[0].numpy()
    hog_len = 2 * 16 * 9
    assert np.linalg.norm(f[:hog_len]) == pytest.approx(1.0, rel=1e-5)  # only HOG is non-zero
    assert enc.locate(np.repeat(frame[..., 0], 16, axis=0))[0] == (0.0, 0.0, 112.0)  # whole frame
    assert np.abs(f[hog_len:]).max() < 1e-3


def test_orientation_histogram_planted_votes():
    # One element pointing at +x (angle 0) with magnitude 2, signed 4 bins centred at
    # 45, 135, 225, 315 degrees: split equally between bin 3 (315) and bin 0 (45).
    dx, dy = np.array([[2.0]], np.float32), np.array([[0.0]], np.float32)
    h = orientation_histograms(dx, dy, np.zeros((1, 1), np.int64), 1, 4, signed=True)
    np.testing.assert_allclose(h, [1.0, 0.0, 0.0, 1.0], atol=1e-5)
    # Angle 90 degrees, magnitude 3, in cell 1 of 2: exactly between bins 0 and 1.
    h = orientation_histograms(np.array([[0.0]], np.float32), np.array([[3.0]], np.float32),
                               np.ones((1, 1), np.int64), 2, 4, signed=True)
    np.testing.assert_allclose(h, [0, 0, 0, 0, 1.5, 1.5, 0, 0], atol=1e-5)
    # Unsigned: 180 degrees folds onto 0 degrees.
    h = orientation_histograms(np.array([[-1.0]], np.float32), np.array([[0.0]], np.float32),
                               np.zeros((1, 1), np.int64), 1, 2, signed=False)
    np.testing.assert_allclose(h, [0.5, 0.5], atol=1e-5)


def test_motion_options_change_dimension_and_are_validated():
    enc = create_encoder("motion", device="cpu", grid=2, segments=1)
    assert enc.feature_dim == 1 * 4 * (9 + 24) + 64
    x = normalize(torch.zeros((1, 16, 112, 112, 3), dtype=torch.uint8), enc.spec)
    assert enc.encode(x).shape == (1, 196)
    assert create_encoder("motion", device="cpu", num_frames=8, mei_grid=4).feature_dim == 1056 + 16
    with pytest.raises(ConfigError, match=r"^motion encoder segments \(16\) must be <= num_frames - 1 \(15\)$"):
        create_encoder("motion", device="cpu", segments=16)
    with pytest.raises(ConfigError, match=r"^motion encoder grid \(4\) and mei_grid \(80\) must be <= flow_size \(64\)$"):
        create_encoder("motion", device="cpu", mei_grid=80)
    with pytest.raises(ConfigError, match=r"^unknown option\(s\) bogus for encoder 'motion'"):
        create_encoder("motion", device="cpu", bogus=1)
    assert isinstance(enc, MotionEncoder)


def test_actor_box_surrounds_planted_energy():
    energy = np.full((48, 48), 0.01, np.float32)  # background below MIN_ENERGY
    energy[10:30, 20:32] = 1.0  # rows 10..29, cols 20..31: centre (26, 20), 20 rows tall
    # side = 20 * (1 + 2 * 0.15) = 26, centred on (26, 20); frame pixels = 2x grid cells
    assert actor_box(energy, 48) == pytest.approx((13.0, 7.0, 26.0))
    assert actor_box(energy, 96) == pytest.approx((26.0, 14.0, 52.0))
    corner = np.zeros((48, 48), np.float32)
    corner[0:4, 44:48] = 2.0  # tiny blob in a corner: minimum size, shifted inside the frame
    assert actor_box(corner, 48) == pytest.approx((48 - 14.4, 0.0, 14.4))
    assert actor_box(np.zeros((48, 48), np.float32), 112) == (0.0, 0.0, 112.0)


def smooth_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    import cv2

    noise = rng.integers(0, 256, (size, size)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 255, 0, 255).astype(np.uint8)


def test_camera_motion_compensation_removes_a_global_shift():
    rng = np.random.default_rng(0)
    bg = smooth_texture(rng, 96)
    frames = np.stack([np.roll(bg, (-t, 2 * t), axis=(0, 1)) for t in range(4)])[:, 16:80, 16:80].copy()
    flow = dense_flow(frames)
    np.testing.assert_allclose(camera_motion(flow), [[2.0, -1.0]] * 3, atol=0.1)
    raw = np.hypot(*np.moveaxis(flow[:, 8:-8, 8:-8], -1, 0))
    residual = np.hypot(*np.moveaxis(compensate(flow)[:, 8:-8, 8:-8], -1, 0))
    assert np.median(raw) > 2.0 and np.median(residual) < 0.05 and np.percentile(residual, 90) < 0.3
    assert (compensate(flow)[:, :3] == 0).all()  # the unreliable border band is zeroed


def test_locate_follows_the_camera_and_finds_the_mover():
    rng = np.random.default_rng(1)
    bg = smooth_texture(rng, 160)
    frames = []
    for t in range(16):
        f = np.roll(bg, (0, 2 * t), axis=(0, 1))[24:136, 24:136].copy()  # camera pans: content moves +2 px/frame
        y = 20 + 3 * t + 2 * t  # a 10 px square falling 3 px/frame relative to the scene, around x = 70
        f[y : y + 10, 70 + 2 * t : 80 + 2 * t] = 255
        frames.append(f)
    enc = create_encoder("motion", device="cpu")
    (x0, y0, side), offsets = enc.locate(np.stack(frames))
    np.testing.assert_allclose(np.diff(offsets, axis=0), [[2.0, 0.0]] * 15, atol=0.25)
    assert offsets.mean(axis=0) == pytest.approx([0.0, 0.0], abs=1e-3)
    # the square's path in mean-camera coordinates: x 85..95 (+-1), y 20..100
    assert x0 <= 85 and x0 + side >= 95 and y0 <= 25 and y0 + side >= 95
    assert side < 112


def test_stabilised_crop_undoes_planted_offsets():
    rng = np.random.default_rng(2)
    bg = smooth_texture(rng, 64)
    shifts = np.array([[0, 0], [3, -2], [-4, 5], [6, 1]], np.float32)  # (dx, dy) per frame
    frames = np.stack([np.roll(bg, (int(dy), int(dx)), axis=(0, 1)) for dx, dy in shifts])
    crops = stabilised_crop(frames, (16.0, 16.0, 32.0), shifts, 32)
    for t in range(4):
        np.testing.assert_array_equal(crops[t], bg[16:48, 16:48])
    half = stabilised_crop(frames[:1], (16.0, 16.0, 32.0), shifts[:1], 16)  # resized to 16 x 16
    assert half.shape == (1, 16, 16)


def test_mirror_canonicalisation_makes_mirrored_clips_alike():
    rng = np.random.default_rng(4)
    clip = moving_blob_clip(rng, (0, 1))  # falling square on a textured background
    clip[:, :, 40:48] = clip[:, :, 40:48] // 2 + 60  # asymmetric static stripe
    mirrored = clip[:, :, ::-1].copy()
    other = moving_blob_clip(rng, (1, 0))
    on = features("motion", [clip, mirrored, other])
    off = features("motion", [clip, mirrored, other], mirror=False)
    # mirror on: the clip and its mirror image are near neighbours, closer than a different motion
    assert float(on[0] @ on[1]) > 0.97 and float(on[0] @ on[1]) > float(on[0] @ on[2]) + 0.1
    # mirror off: the static stripe sits on opposite sides, so the two differ more
    assert float(off[0] @ off[1]) < float(on[0] @ on[1]) - 0.05
    with pytest.raises(ConfigError, match=r"^motion encoder option mirror must be true or false; got 2$"):
        create_encoder("motion", device="cpu", mirror=2)
