"""Samplers: exact known cases plus properties over random inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gesturebench.data.sampling import (
    SamplerConfig,
    dense_indices,
    multi_clip_indices,
    tsn_indices,
    uniform_indices,
)
from gesturebench.errors import ConfigError

totals = st.integers(min_value=1, max_value=5000)
nums = st.integers(min_value=1, max_value=64)
seeds = st.integers(min_value=0, max_value=2**32)
FAST = settings(max_examples=150, deadline=None)


def _ok(idx: np.ndarray, total: int, n: int) -> None:
    assert idx.dtype == np.int64
    assert idx.shape == (n,)
    assert idx.min() >= 0 and idx.max() <= total - 1
    assert np.all(np.diff(idx) >= 0)


# ---- exact cases -------------------------------------------------------------


def test_tsn_test_mode_centres_known_case():
    assert tsn_indices(80, 8).tolist() == [5, 15, 25, 35, 45, 55, 65, 75]
    assert tsn_indices(64, 8).tolist() == [4, 12, 20, 28, 36, 44, 52, 60]
    # seg = 12.5: floor(6.25), floor(18.75), ...
    assert tsn_indices(100, 8).tolist() == [6, 18, 31, 43, 56, 68, 81, 93]
    assert tsn_indices(1, 1).tolist() == [0]
    assert tsn_indices(8, 8).tolist() == list(range(8))


def test_short_video_repeats_last_frame():
    assert tsn_indices(5, 8).tolist() == [0, 1, 2, 3, 4, 4, 4, 4]
    assert tsn_indices(5, 8, "train", seed=3).tolist() == [0, 1, 2, 3, 4, 4, 4, 4]
    assert uniform_indices(3, 5).tolist() == [0, 1, 2, 2, 2]
    assert dense_indices(10, 4, 4, start=3).tolist() == [3, 7, 9, 9]
    assert tsn_indices(1, 4).tolist() == [0, 0, 0, 0]


def test_uniform_known_cases():
    assert uniform_indices(10, 4).tolist() == [0, 3, 6, 9]
    assert uniform_indices(64, 8).tolist() == [0, 9, 18, 27, 36, 45, 54, 63]
    assert uniform_indices(9, 1).tolist() == [4]
    # 0, 1.5, 3 -> half rounds up: 0, 2, 3
    assert uniform_indices(4, 3).tolist() == [0, 2, 3]


def test_dense_known_cases():
    assert dense_indices(100, 4, 4).tolist() == [0, 4, 8, 12]
    assert dense_indices(100, 3, 10, start=50).tolist() == [50, 60, 70]
    # one dense clip in test mode is centred: span 13 of 40 -> start (27+1)//2 = 14
    assert SamplerConfig("dense", num_frames=4, stride=4).indices(40).tolist() == [14, 18, 22, 26]


def test_tsn_train_mode_known_draw_and_segments():
    idx = tsn_indices(80, 8, "train", seed=1)
    assert idx.tolist() == [5, 19, 21, 39, 43, 54, 68, 74]
    assert np.all(idx // 10 == np.arange(8))  # one frame in each segment of 10


def test_multi_clip_known_cases():
    tsn = multi_clip_indices(80, 8, 3)
    assert tsn.tolist() == [
        [1, 11, 21, 31, 41, 51, 61, 71],
        [5, 15, 25, 35, 45, 55, 65, 75],
        [8, 18, 28, 38, 48, 58, 68, 78],
    ]
    assert multi_clip_indices(80, 8, 1).tolist() == [tsn_indices(80, 8).tolist()]
    assert multi_clip_indices(20, 4, 2, name="uniform").tolist() == [[0, 5, 11, 16], [3, 8, 14, 19]]
    assert multi_clip_indices(40, 4, 3, name="dense", stride=4).tolist() == [
        [4, 8, 12, 16],
        [14, 18, 22, 26],
        [23, 27, 31, 35],
    ]
    assert SamplerConfig(num_clips=3).indices(80).shape == (3, 8)


def test_sampler_config_validation_messages():
    with pytest.raises(ConfigError, match=r"^sampler must be one of tsn, tsn-suite, uniform, dense; got 'random'$"):
        SamplerConfig(name="random")
    with pytest.raises(ConfigError, match=r"^mode must be one of test, train; got 'eval'$"):
        SamplerConfig(mode="eval")
    with pytest.raises(ConfigError, match=r"^num_frames must be an integer >= 1; got 0$"):
        SamplerConfig(num_frames=0)
    with pytest.raises(ConfigError, match=r"^total frame count must be an integer >= 1; got 0$"):
        tsn_indices(0, 8)
    with pytest.raises(ConfigError, match=r"^unknown sampler setting\(s\) frames; allowed: name, num_frames"):
        SamplerConfig.from_dict({"frames": 8})


def test_sampler_config_round_trip():
    cfg = SamplerConfig("dense", num_frames=16, mode="train", stride=2, num_clips=2, seed=7)
    assert cfg.to_dict() == {"name": "dense", "num_frames": 16, "mode": "train", "stride": 2, "num_clips": 2, "seed": 7}
    assert SamplerConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.frames_per_video == 32


def test_salt_changes_train_draw_reproducibly():
    cfg = SamplerConfig(mode="train", seed=0)
    a = cfg.indices(300, salt="video_a.mp4")
    assert np.array_equal(a, cfg.indices(300, salt="video_a.mp4"))
    assert not np.array_equal(a, cfg.indices(300, salt="video_b.mp4"))
    # test mode ignores seed and salt
    assert np.array_equal(SamplerConfig(seed=5).indices(300, salt="x"), tsn_indices(300, 8))


# ---- properties --------------------------------------------------------------


@FAST
@given(totals, nums, st.sampled_from(["test", "train"]), seeds)
def test_tsn_properties(total, n, mode, seed):
    idx = tsn_indices(total, n, mode, seed)
    _ok(idx, total, n)
    assert np.array_equal(idx, tsn_indices(total, n, mode, seed))  # pure
    if total >= n:
        i = np.arange(n)
        lo = (i * total) // n
        if mode == "train":  # drawn from the frames [floor(i*T/n), floor((i+1)*T/n))
            assert np.all((idx >= lo) & (idx < ((i + 1) * total) // n))
        else:  # centre of the real segment [i*T/n, (i+1)*T/n): exact formula
            assert np.array_equal(idx, np.floor((i + 0.5) * total / n + 1e-9).astype(np.int64))
            assert np.all((idx >= lo) & (idx * n < (i + 1) * total))
        assert len(set(idx.tolist())) == n
    else:
        assert idx.tolist() == list(range(total)) + [total - 1] * (n - total)


@FAST
@given(totals, nums)
def test_uniform_properties(total, n):
    idx = uniform_indices(total, n)
    _ok(idx, total, n)
    if total >= n:
        assert len(set(idx.tolist())) == n
        if n > 1:
            assert idx[0] == 0 and idx[-1] == total - 1


@FAST
@given(totals, nums, st.integers(1, 16), st.integers(0, 6000))
def test_dense_properties(total, n, stride, start):
    idx = dense_indices(total, n, stride, start)
    _ok(idx, total, n)
    expected = np.minimum(start + stride * np.arange(n), total - 1)
    assert np.array_equal(idx, expected)


@FAST
@given(totals, st.integers(1, 32), st.integers(1, 5), st.sampled_from(["tsn", "uniform", "dense"]),
       st.sampled_from(["test", "train"]), seeds)
def test_multi_clip_properties(total, n, clips, name, mode, seed):
    rows = multi_clip_indices(total, n, clips, name=name, mode=mode, seed=seed, stride=3)
    assert rows.shape == (clips, n) and rows.dtype == np.int64
    for row in rows:
        _ok(row, total, n)
    assert np.all(np.diff(rows[:, 0]) >= 0)  # clips ordered by first frame
    assert np.array_equal(rows, multi_clip_indices(total, n, clips, name=name, mode=mode, seed=seed, stride=3))


@FAST
@given(st.integers(8, 5000), seeds)
def test_train_seed_determinism_and_variety(total, seed):
    a = tsn_indices(total, 8, "train", seed)
    assert np.array_equal(a, tsn_indices(total, 8, "train", seed))
    if total >= 80:  # enough room per segment that 4 seeds all agreeing is implausible
        draws = {tuple(tsn_indices(total, 8, "train", seed + k).tolist()) for k in range(4)}
        assert len(draws) > 1


# ---- Video_Benchmark_Suite's TSN variant ------------------------------------------------------


def _suite_reference(total: int, n: int) -> list[int]:
    """The suite's test-mode rule written out in plain Python (its get_frame_id_list)."""
    avg = total // n
    if avg > 0:
        return [i * avg + avg // 2 for i in range(n)]
    return [0] * (n - total) + list(range(total))


def test_tsn_suite_known_cases():
    from gesturebench.data.sampling import tsn_suite_indices

    assert tsn_suite_indices(80, 8).tolist() == [5, 15, 25, 35, 45, 55, 65, 75]
    # 100 // 8 = 12: the suite's centres drift left of TSN's (6, 18, 31, 43, 56, 68, 81, 93)
    assert tsn_suite_indices(100, 8).tolist() == [6, 18, 30, 42, 54, 66, 78, 90]
    assert tsn_suite_indices(15, 8).tolist() == list(range(8))  # seg 1 -> 0..7, never the last 7 frames
    assert tsn_suite_indices(5, 8).tolist() == [0, 0, 0, 0, 1, 2, 3, 4]  # pads at the start


def test_tsn_suite_matches_the_reference_and_differs_from_tsn():
    from gesturebench.data.sampling import tsn_suite_indices

    differ = 0
    for total in range(1, 400):
        for n in (1, 4, 8, 16):
            got = tsn_suite_indices(total, n).tolist()
            assert got == _suite_reference(total, n), (total, n)
            differ += got != tsn_indices(total, n).tolist()
    assert differ > 500  # a real variant, not TSN under another name


def test_tsn_suite_train_mode_stays_in_its_segments_and_is_seeded():
    from gesturebench.data.sampling import tsn_suite_indices

    a = tsn_suite_indices(100, 8, "train", seed=2, salt="v1")
    assert a.tolist() == tsn_suite_indices(100, 8, "train", seed=2, salt="v1").tolist()
    assert ((a // 12) == np.arange(8)).all()
    assert a.tolist() != tsn_suite_indices(100, 8, "train", seed=3, salt="v1").tolist()


def test_tsn_suite_through_sampler_config():
    cfg = SamplerConfig(name="tsn-suite", num_frames=8)
    assert cfg.indices(100).tolist() == [6, 18, 30, 42, 54, 66, 78, 90]
    with pytest.raises(ConfigError, match=r"sampler tsn-suite takes one clip per video \(as the suite does\); got num_clips=2"):
        SamplerConfig(name="tsn-suite", num_clips=2)
