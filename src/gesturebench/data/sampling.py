"""Frame samplers: which frame indices of a video to decode.

Every sampler is a *pure function* of (total frame count, parameters, seed):
no file access, no global random state. Indices are 0-based positions in
presentation order, returned as sorted ``int64`` arrays, always in
``[0, total - 1]`` and always exactly as long as requested.

Short-video policy ("repeat last"): when a video has fewer frames than a
sampler needs, the sampler uses every frame once, in order, and then repeats
the last frame until the requested length is reached, e.g.
``tsn_indices(5, 8) == [0, 1, 2, 3, 4, 4, 4, 4]``. Dense clips that would run
past the end are clamped to the last frame the same way. Repeating (rather
than looping back to frame 0) keeps indices sorted and keeps the end of a
gesture from being glued to its start.

Definitions (``seg = total / N``):

* TSN test mode: centre of each of N equal segments,
  ``floor(seg * i + seg / 2)``; total=80, N=8 gives 5, 15, ..., 75.
* ``tsn-suite`` (test mode): OpenVFM Video_Benchmark_Suite's segment centres,
  ``i * (total // N) + (total // N) // 2`` (``ac_lp_dataloader_dali.py``,
  ``get_frame_id_list``); total=80, N=8 gives 5, 15, ..., 75 like TSN, but
  total=100 gives 6, 18, ..., 90 where TSN gives 6, 18, 31, ..., 93, because
  the suite's segment length is rounded down first. A video shorter than N
  frames pads at the start by repeating frame 0, as the suite does
  (``[0] * (N - total) + range(total)``). Train mode draws
  ``i * (total // N) + randint(total // N)`` (seeded).
* TSN train mode: one frame drawn uniformly (seeded) from each segment
  ``[floor(seg * i), floor(seg * (i + 1)) - 1]``.
* uniform: N frames evenly spaced from the first to the last frame inclusive,
  ``floor(i * (total - 1) / (N - 1) + 0.5)``; N=1 gives the middle frame.
* dense: ``start + i * stride``, clamped to the last frame.
* multi-clip: ``num_clips`` views of one video; see :func:`multi_clip_indices`.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, check_choice, check_positive_int

SAMPLERS = ("tsn", "tsn-suite", "uniform", "dense")
MODES = ("test", "train")

__all__ = [
    "MODES",
    "SAMPLERS",
    "SamplerConfig",
    "dense_indices",
    "multi_clip_indices",
    "tsn_indices",
    "tsn_suite_indices",
    "uniform_indices",
]


def _check_total(total: object) -> int:
    if isinstance(total, (bool, np.bool_)) or not isinstance(total, (int, np.integer)) or total < 1:
        raise ConfigError(f"total frame count must be an integer >= 1; got {total!r}")
    return int(total)


def _short(total: int, num: int) -> np.ndarray:
    """Repeat-last policy: every frame once, then the last frame again."""
    return np.minimum(np.arange(num, dtype=np.int64), total - 1)


def _rng(seed: int | None, salt: object = None) -> np.random.Generator:
    """A generator seeded from ``seed`` (None means 0) and an optional salt.

    The salt (e.g. a video id or an epoch number) is hashed with SHA-256 so the
    stream is the same on every machine and Python version (``hash()`` is not).
    """
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ConfigError(f"seed must be an integer >= 0 or None; got {seed!r}")
    entropy = [int(seed or 0)]
    if salt is not None:
        digest = hashlib.sha256(repr(salt).encode("utf-8")).digest()
        entropy.append(int.from_bytes(digest[:8], "little"))
    return np.random.default_rng(entropy)


def tsn_indices(
    total: int,
    num_segments: int,
    mode: str = "test",
    seed: int | None = None,
    *,
    salt: object = None,
) -> np.ndarray:
    """TSN sampling: one frame per each of ``num_segments`` equal segments.

    ``mode="test"`` takes each segment's centre (deterministic, no seed used);
    ``mode="train"`` draws one frame per segment from a generator seeded with
    ``seed`` (None means 0) and ``salt``.
    """
    total = _check_total(total)
    n = check_positive_int("num_segments", num_segments)
    check_choice("mode", mode, MODES)
    if total < n:
        return _short(total, n)
    if mode == "test":
        # Integer arithmetic for the centre avoids float rounding: floor((2i+1)*total / 2n).
        i = np.arange(n, dtype=np.int64)
        return ((2 * i + 1) * total) // (2 * n)
    rng = _rng(seed, salt)
    lo = (np.arange(n, dtype=np.int64) * total) // n
    hi = (np.arange(1, n + 1, dtype=np.int64) * total) // n  # exclusive; hi > lo since seg >= 1
    return lo + (rng.random(n) * (hi - lo)).astype(np.int64)


def tsn_suite_indices(
    total: int,
    num_segments: int,
    mode: str = "test",
    seed: int | None = None,
    *,
    salt: object = None,
) -> np.ndarray:
    """Video_Benchmark_Suite's TSN variant: segment length ``total // num_segments`` first.

    Test mode: ``i * seg + seg // 2``; train mode: ``i * seg + U{0, seg - 1}``
    (seeded with ``seed`` and ``salt``). Fewer frames than segments: frame 0
    repeated at the start, then every frame once (the suite's own short-video rule).
    """
    total = _check_total(total)
    n = check_positive_int("num_segments", num_segments)
    check_choice("mode", mode, MODES)
    seg = total // n
    if seg == 0:
        return np.concatenate([np.zeros(n - total, np.int64), np.arange(total, dtype=np.int64)])
    start = np.arange(n, dtype=np.int64) * seg
    if mode == "test":
        return start + seg // 2
    return start + _rng(seed, salt).integers(0, seg, size=n).astype(np.int64)


def uniform_indices(total: int, num: int) -> np.ndarray:
    """``num`` frames evenly spaced over the whole video, first and last included."""
    total = _check_total(total)
    num = check_positive_int("num", num)
    if total < num:
        return _short(total, num)
    if num == 1:
        return np.array([(total - 1) // 2], dtype=np.int64)
    i = np.arange(num, dtype=np.int64)
    # floor(i*(total-1)/(num-1) + 1/2) in integers: rounds half up, strictly increasing.
    return (2 * i * (total - 1) + (num - 1)) // (2 * (num - 1))


def dense_indices(total: int, num: int, stride: int, start: int = 0) -> np.ndarray:
    """``num`` frames ``stride`` apart from ``start``; past the end, the last frame repeats."""
    total = _check_total(total)
    num = check_positive_int("num", num)
    stride = check_positive_int("stride", stride)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ConfigError(f"start must be an integer >= 0; got {start!r}")
    idx = int(start) + np.arange(num, dtype=np.int64) * stride
    return np.minimum(idx, total - 1)


def _dense_starts(total: int, span: int, num_clips: int, mode: str, rng: np.random.Generator | None) -> np.ndarray:
    """Start frames of ``num_clips`` dense clips covering ``span`` frames each."""
    room = total - span  # last valid start
    if room <= 0:
        return np.zeros(num_clips, dtype=np.int64)
    if mode == "test":
        # Centre of each of num_clips equal parts of [0, room].
        k = np.arange(num_clips, dtype=np.int64)
        return ((2 * k + 1) * (room + 1)) // (2 * num_clips)
    rng = rng if rng is not None else np.random.default_rng(0)
    return np.sort(rng.integers(0, room + 1, size=num_clips)).astype(np.int64)


def multi_clip_indices(
    total: int,
    num_frames: int,
    num_clips: int,
    *,
    name: str = "tsn",
    stride: int = 4,
    mode: str = "test",
    seed: int | None = None,
    salt: object = None,
) -> np.ndarray:
    """Indices of ``num_clips`` views of one video, shape ``(num_clips, num_frames)``.

    * ``tsn``: test mode shifts the point inside every segment, clip k taking
      offset ``(k + 1/2) / num_clips`` of the segment (num_clips=1: the centre,
      same as :func:`tsn_indices`); train mode draws each clip independently.
    * ``uniform``: ``num_clips * num_frames`` evenly spaced frames, dealt out
      round-robin, so clip k is ``uniform[k::num_clips]``.
    * ``dense``: clips of ``num_frames`` frames ``stride`` apart; test mode
      spreads the clip starts evenly (one clip: centred), train mode draws
      them (seeded). A clip longer than the video starts at 0 and repeats
      the last frame.

    Each row is sorted and in range; rows are in order of their first frame.
    """
    total = _check_total(total)
    num_frames = check_positive_int("num_frames", num_frames)
    num_clips = check_positive_int("num_clips", num_clips)
    check_choice("sampler", name, SAMPLERS)
    check_choice("mode", mode, MODES)
    if name == "tsn-suite":
        raise ConfigError(f"sampler tsn-suite takes one clip per video (as the suite does); got num_clips={num_clips}")
    if name == "tsn":
        if mode == "train":
            rng = _rng(seed, salt)
            rows = []
            for _ in range(num_clips):
                rows.append(tsn_indices(total, num_frames, "train", seed=int(rng.integers(0, 2**31))))
            return np.array(sorted(rows, key=lambda r: r.tolist()), dtype=np.int64)
        if total < num_frames:
            return np.tile(_short(total, num_frames), (num_clips, 1))
        i = np.arange(num_frames, dtype=np.int64)[None, :]
        k = np.arange(num_clips, dtype=np.int64)[:, None]
        # floor(total * (i + (2k+1)/(2 num_clips)) / num_frames), in integers.
        return (total * (2 * num_clips * i + 2 * k + 1)) // (2 * num_clips * num_frames)
    if name == "uniform":
        flat = uniform_indices(total, num_frames * num_clips)
        return np.stack([flat[k::num_clips] for k in range(num_clips)])
    stride = check_positive_int("stride", stride)
    span = (num_frames - 1) * stride + 1
    starts = _dense_starts(total, span, num_clips, mode, _rng(seed, salt) if mode == "train" else None)
    return np.stack([dense_indices(total, num_frames, stride, int(s)) for s in starts])


@dataclass(frozen=True)
class SamplerConfig:
    """Which frames to take from each video; a frozen, validated value.

    ``indices(total)`` returns shape ``(num_frames,)`` when ``num_clips == 1``
    and ``(num_clips, num_frames)`` otherwise. ``seed`` only matters in
    ``mode="train"``; pass ``salt`` (e.g. the video id and epoch) to
    :meth:`indices` to get a different but reproducible draw per video.
    ``stride`` only matters for ``name="dense"``.
    """

    name: str = "tsn"
    num_frames: int = 8
    mode: str = "test"
    stride: int = 4
    num_clips: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("sampler", self.name, SAMPLERS)
        check_choice("mode", self.mode, MODES)
        check_positive_int("num_frames", self.num_frames)
        check_positive_int("stride", self.stride)
        check_positive_int("num_clips", self.num_clips)
        if self.name == "tsn-suite" and self.num_clips != 1:
            raise ConfigError(f"sampler tsn-suite takes one clip per video (as the suite does); got num_clips={self.num_clips}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be an integer >= 0; got {self.seed!r}")

    @property
    def frames_per_video(self) -> int:
        return self.num_frames * self.num_clips

    def indices(self, total: int, salt: object = None) -> np.ndarray:
        if self.num_clips > 1:
            return multi_clip_indices(
                total,
                self.num_frames,
                self.num_clips,
                name=self.name,
                stride=self.stride,
                mode=self.mode,
                seed=self.seed,
                salt=salt,
            )
        if self.name == "tsn":
            return tsn_indices(total, self.num_frames, self.mode, self.seed, salt=salt)
        if self.name == "tsn-suite":
            return tsn_suite_indices(total, self.num_frames, self.mode, self.seed, salt=salt)
        if self.name == "uniform":
            return uniform_indices(total, self.num_frames)
        return multi_clip_indices(
            total, self.num_frames, 1, name="dense", stride=self.stride, mode=self.mode, seed=self.seed, salt=salt
        )[0]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SamplerConfig:
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(
                f"unknown sampler setting(s) {', '.join(unknown)}; allowed: {', '.join(cls.__dataclass_fields__)}"
            )
        return cls(**d)
