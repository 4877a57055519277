"""The hand-crafted encoders: motion beats pixels where only motion tells classes apart."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gesturebench.encoders import create_encoder
from gesturebench.encoders.basic.motion import MotionEncoder, orientation_histograms
from gesturebench.encoders.preprocess import normalize, resize_crop
from gesturebench.errors import ConfigError

DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))  # class = direction of motion (x, y)


def moving_blob_clip(rng: np.random.Generator, direction: tuple[int, int], size: int = 64, frames: int = 8) -> np.ndarray:
    """uint8 (T, size, size, 3): a textured square of random colour on a random static
    background, moving 3 px per frame along ``direction``."""
    bg = rng.integers(0, 256, (size // 8, size // 8, 3)).astype(np.uint8)
    bg = np.kron(bg, np.ones((8, 8, 1), np.uint8))  # static blocky texture
    side, step = 16, 3
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
    clips, labels = [], []
    for label, d in enumerate(DIRECTIONS):
        for _ in range(per_class):
            clips.append(moving_blob_clip(rng, d))
            labels.append(label)
    return clips, np.array(labels)


def features(name: str, clips: list[np.ndarray]) -> np.ndarray:
    enc = create_encoder(name, device="cpu")
    batch = torch.from_numpy(np.stack([resize_crop(c, enc.spec) for c in clips]))
    return enc.encode(normalize(batch, enc.spec)).numpy()


def nearest_neighbour_accuracy(train_x, train_y, test_x, test_y) -> float:
    d = ((test_x[:, None, :] - train_x[None, :, :]) ** 2).sum(-1)
    return float((train_y[d.argmin(1)] == test_y).mean())


def test_motion_separates_directions_where_pixels_cannot():
    train, ytr = make_dataset(seed=1, per_class=8)
    test, yte = make_dataset(seed=2, per_class=6)
    acc = {
        name: nearest_neighbour_accuracy(features(name, train), ytr, features(name, test), yte)
        for name in ("pixels", "motion")
    }
    assert acc["motion"] >= 0.95, acc
    assert acc["pixels"] <= 0.45, acc  # chance is 0.25
    assert acc["motion"] - acc["pixels"] >= 0.45, acc


def test_motion_feature_is_unit_norm_and_deterministic():
    clips, _ = make_dataset(seed=3, per_class=1)
    a = features("motion", clips)
    b = features("motion", clips)
    assert a.shape == (4, 1056) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    assert (a >= 0).all()  # square roots of non-negative histograms


def test_motion_static_clip_has_no_flow_blocks():
    enc = create_encoder("motion", device="cpu")
    frame = np.random.default_rng(0).integers(0, 256, (1, 112, 112, 3), dtype=np.uint8)
    clip = torch.from_numpy(np.repeat(frame, 8, axis=0)[None])
    f = enc.encode(normalize(clip, enc.spec))[0].numpy()
    hog_len = 2 * 16 * 9
    assert np.linalg.norm(f[:hog_len]) == pytest.approx(1.0, rel=1e-5)  # only HOG is non-zero
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
    assert enc.feature_dim == 1 * 4 * (9 + 24)
    x = normalize(torch.zeros((1, 8, 112, 112, 3), dtype=torch.uint8), enc.spec)
    assert enc.encode(x).shape == (1, 132)
    with pytest.raises(ConfigError, match=r"^motion encoder segments \(8\) must be <= num_frames - 1 \(7\)$"):
        create_encoder("motion", device="cpu", segments=8)
    with pytest.raises(ConfigError, match=r"^unknown option\(s\) bogus for encoder 'motion'"):
        create_encoder("motion", device="cpu", bogus=1)
    assert isinstance(enc, MotionEncoder)
