"""Decoding: exact frame indices on videos with known content, both decode paths, broken files."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import av
import numpy as np
import pytest
from data_videos import VIDEO_CASES, level, make_video

from gesturebench.data import decode
from gesturebench.data.decode import decode_clip, plan_reads, probe, read_frames
from gesturebench.data.sampling import SamplerConfig, tsn_indices
from gesturebench.errors import ConfigError, DecodeError

TOL = 6  # lossy codecs move flat grey levels by a few units


def _levels(frames: np.ndarray) -> list[int]:
    """Mean of the bottom-right quarter (away from the white block) per frame."""
    h, w = frames.shape[1:3]
    return [int(round(float(f[h // 2 :, w // 2 :].mean()))) for f in frames]


@pytest.mark.parametrize("name", sorted(VIDEO_CASES))
def test_every_frame_decodes_with_exact_index(video_dir: Path, name: str):
    kwargs, count, (h, w) = VIDEO_CASES[name]
    info = probe(video_dir / name)
    assert (info.num_frames, info.height, info.width) == (count, h, w)
    frames = read_frames(video_dir / name, range(count), method="sequential")
    assert frames.dtype == np.uint8 and frames.shape == (count, h, w, 3)
    step = kwargs.get("step", 12)
    got = np.array(_levels(frames))
    want = np.array([level(i, step) for i in range(count)])
    assert np.abs(got - want).max() <= TOL, list(zip(got, want))


@pytest.mark.parametrize("name", sorted(VIDEO_CASES))
def test_seek_and_sequential_paths_are_byte_identical(video_dir: Path, name: str):
    count = VIDEO_CASES[name][1]
    picks = [tsn_indices(count, 8), np.array([count - 1, 0, 3, 3, count - 2]), np.arange(count)[::5]]
    for idx in picks:
        seq = read_frames(video_dir / name, idx, method="sequential")
        for method in ("seek", "auto"):
            assert np.array_equal(read_frames(video_dir / name, idx, method=method), seq), (name, method, idx)


def test_seek_path_really_seeks(video_dir: Path, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.DEBUG, logger="gesturebench.data.decode"):
        read_frames(video_dir / "h264_gop4.mp4", [3, 21, 45], method="seek")
    seeks = [r.getMessage().split(": ", 1)[1] for r in caplog.records if "seek to keyframe" in r.getMessage()]
    assert seeks == ["seek to keyframe 20 for frames up to 21", "seek to keyframe 44 for frames up to 45"]


def test_rotation_is_applied(video_dir: Path):
    # The white block sits top-left in the coded picture; rotating 90 degrees
    # counter-clockwise moves it bottom-left, 270 moves it top-right.
    ccw = read_frames(video_dir / "rot90.mp4", [0])[0, ..., 0]
    cw = read_frames(video_dir / "rot270.mp4", [0])[0, ..., 0]
    assert ccw.shape == cw.shape == (64, 48)
    assert ccw[-4:, :4].min() > 240 and ccw[:4, :4].max() < 40
    assert cw[:4, -4:].min() > 240 and cw[:4, :4].max() < 40
    assert probe(video_dir / "rot90.mp4").rotation == 90
    assert probe(video_dir / "rot270.mp4").rotation == 270


def test_legacy_rotate_tag_is_clockwise():
    class Frame:
        rotation = 0

    assert decode._rotation(Frame(), "90") == 270  # rotate=90 (clockwise) -> 270 counter-clockwise
    assert decode._rotation(Frame(), None) == 0
    assert decode._rotation(Frame(), "junk") == 0
    Frame.rotation = -90.0  # display matrix wins over the tag
    assert decode._rotation(Frame(), "180") == 270


def test_wrong_header_frame_count_is_ignored(tmp_path: Path):
    import struct

    data = bytearray(make_video(tmp_path / "a.avi", codec="mjpeg", pix_fmt="yuvj420p").read_bytes())
    # AVI headers: strh.dwLength (stream) and avih.dwTotalFrames claim 5 frames; 16 are present.
    struct.pack_into("<I", data, data.find(b"strh") + 8 + 32, 5)
    struct.pack_into("<I", data, data.find(b"avih") + 8 + 16, 5)
    (tmp_path / "b.avi").write_bytes(bytes(data))
    info = probe(tmp_path / "b.avi")
    assert (info.header_frames, info.num_frames, info.duration) == (5, 16, 0.5)
    frames = read_frames(tmp_path / "b.avi", [15])
    assert _levels(frames) == pytest.approx([level(15)], abs=TOL)
    # An AVI header claiming more frames than packets is not treated as truncation
    # (empty "dropped frame" packets are legal there); MP4 is (see BROKEN below).
    struct.pack_into("<I", data, data.find(b"strh") + 8 + 32, 20)
    (tmp_path / "c.avi").write_bytes(bytes(data))
    info = probe(tmp_path / "c.avi")
    assert (info.header_frames, info.num_frames) == (20, 16)


def test_probe_fields(video_dir: Path):
    info = probe(video_dir / "h264_gop4.mp4")
    assert (info.codec, info.pix_fmt, info.fps, info.duration) == ("h264", "yuv420p", 10.0, 4.8)
    assert info.num_keyframes == 12 and info.header_frames == 48
    # Matroska headers carry no frame count: the count comes from packets.
    mkv = probe(video_dir / "ffv1_gray.mkv")
    assert (mkv.header_frames, mkv.num_frames, mkv.pix_fmt) == (0, 16, "gray")
    assert probe(video_dir / "mjpeg_yuvj420p.avi").pix_fmt == "yuvj420p"


def test_variable_frame_rate_counts_frames_not_fps_times_duration(video_dir: Path):
    info = probe(video_dir / "vfr.mp4")
    assert info.num_frames == 16
    # timestamps span 94/30 s: at the nominal 10 fps that would be ~31 frames
    assert info.duration == pytest.approx(94 / 30, abs=0.04)
    frames = read_frames(video_dir / "vfr.mp4", tsn_indices(16, 8))
    assert _levels(frames) == pytest.approx([level(i) for i in tsn_indices(16, 8)], abs=TOL)


def test_indices_beyond_end_repeat_last_and_any_order(video_dir: Path):
    path = video_dir / "h264_yuv420p.mp4"
    all_frames = read_frames(path, range(16))
    out = read_frames(path, [20, 0, 15, 100, 7, 7])
    assert np.array_equal(out, all_frames[[15, 0, 15, 15, 7, 7]])
    assert read_frames(path, []).shape == (0, 0, 0, 3)


def test_decode_clip_shapes_and_short_video(video_dir: Path):
    path = video_dir / "h264_yuv420p.mp4"  # 16 frames
    clip = decode_clip(path, SamplerConfig(num_frames=8))
    assert clip.shape == (8, 48, 64, 3)
    assert _levels(clip) == pytest.approx([level(i) for i in [1, 3, 5, 7, 9, 11, 13, 15]], abs=TOL)
    multi = decode_clip(path, SamplerConfig(num_frames=4, num_clips=3))
    assert multi.shape == (3, 4, 48, 64, 3)
    short = decode_clip(path, SamplerConfig(num_frames=20))
    assert _levels(short[15:]) == [_levels(short[15:16])[0]] * 5  # repeat-last policy
    assert decode_clip(path).shape == (8, 48, 64, 3)  # default sampler: TSN 8


def test_wrong_seek_index_falls_back_to_sequential(video_dir: Path):
    path = video_dir / "h264_gop4.mp4"
    container, stream = decode._open(path)
    try:
        index = decode._build_index(path, container, stream)
    finally:
        container.close()
    assert index.seekable and index.keyframes == tuple(range(0, 48, 4))
    lying = dataclasses.replace(index, pts=tuple(p + 1 for p in index.pts))
    idx = [2, 30, 45]
    assert np.array_equal(
        read_frames(path, idx, method="seek", _index=lying), read_frames(path, idx, method="sequential")
    )


def test_plan_reads():
    kf = list(range(0, 48, 4))
    assert plan_reads([3, 21, 45], kf, 0.0) == [(0, 3), (20, 21), (44, 45)]
    assert plan_reads([3, 21, 45], kf, float("inf")) == [(0, 45)]
    # seek cost 4: jumping from 3 to 21 costs 4 + 2 = 6 < 18 frames; 21 -> 23 continues
    assert plan_reads([3, 21, 23, 45], kf, 4.0) == [(0, 3), (20, 23), (44, 45)]
    # first group far from the start: seek straight to it
    assert plan_reads([41], kf, 4.0) == [(40, 41)]
    # dense needs: continuing is cheaper than any seek
    assert plan_reads(list(range(0, 48, 3)), kf, 4.0) == [(0, 45)]
    assert plan_reads([5, 9], [0], 0.0) == [(0, 9)]


def test_bad_arguments_are_config_errors(video_dir: Path):
    path = video_dir / "h264_yuv420p.mp4"
    with pytest.raises(ConfigError, match=r"^indices must be >= 0; got -1$"):
        read_frames(path, [0, -1])
    with pytest.raises(ConfigError, match=r"^method must be one of auto, sequential, seek; got 'fast'$"):
        read_frames(path, [0], method="fast")


# ---- broken files: always DecodeError(path, reason) ---------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("broken")
    good = make_video(d / "good.mp4").read_bytes()  # moov atom at the end
    fast = make_video(d / "fast.mp4", container_options={"movflags": "faststart"}).read_bytes()
    (d / "truncated.mp4").write_bytes(good[: len(good) // 2])
    (d / "truncated_faststart.mp4").write_bytes(fast[: len(fast) * 2 // 3])
    (d / "zero.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n" * 20)
    head = bytearray(good)
    head[:64] = bytes(range(64))
    (d / "bad_header.mp4").write_bytes(bytes(head))
    mid = bytearray(fast)
    mid[len(fast) // 2 : len(fast) // 2 + 200] = b"\xff" * 200
    (d / "corrupt_middle.mp4").write_bytes(bytes(mid))
    (d / "folder.mp4").mkdir()
    with av.open(str(d / "audio.wav"), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    return d


INVALID = "not a readable video (invalid data: corrupt, truncated or not a video file)"
BROKEN = {
    "missing.mp4": "file not found",
    "zero.mp4": "empty file (0 bytes)",
    "folder.mp4": "is a directory, not a video file",
    "text.mp4": INVALID,
    "truncated.mp4": INVALID,
    "bad_header.mp4": INVALID,
    "truncated_faststart.mp4": "truncated: container lists 16 frames but only 7 are present",
    "audio.wav": "no video stream",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("call", ["probe", "read_frames", "decode_clip"])
def test_broken_files_raise_decode_error(broken: Path, name: str, call: str):
    fn = {"probe": probe, "read_frames": lambda p: read_frames(p, [0, 5]), "decode_clip": decode_clip}[call]
    with pytest.raises(DecodeError) as info:
        fn(broken / name)
    assert info.value.reason == BROKEN[name]
    assert info.value.path == str(broken / name)
    assert str(info.value) == f"cannot decode {broken / name}: {BROKEN[name]}"


def test_corrupt_middle_names_the_frame(broken: Path):
    # A corrupt frame that is not sampled does not cost the video (issue 10, item 16) ...
    assert read_frames(broken / "corrupt_middle.mp4", [0, 15], method="sequential").shape[0] == 2
    # ... a sampled one does, named.
    with pytest.raises(DecodeError, match=r"corrupt data at frame 2, one of the sampled frames"):
        read_frames(broken / "corrupt_middle.mp4", [0, 2, 15], method="sequential")


# ---- real camera clips (../shared/real-clips; skipped when absent) ------------


def test_real_clips_decode_8_tsn_frames(real_clips_dir: Path):
    clips = sorted(p for p in real_clips_dir.iterdir() if p.suffix in (".mp4", ".avi", ".gif"))
    assert len(clips) >= 5
    for path in clips:
        info = probe(path)
        assert info.num_frames > 8, path.name
        clip = decode_clip(path, SamplerConfig(num_frames=8))
        assert clip.shape == (8, info.height, info.width, 3), path.name
        assert clip.dtype == np.uint8 and clip.std() > 5, path.name  # real content, not blank


def test_real_clip_seek_matches_sequential(real_clips_dir: Path):
    path = real_clips_dir / "mmskeleton_ta_chi.mp4"  # 300 frames, 2 keyframes
    idx = tsn_indices(probe(path).num_frames, 8)
    assert np.array_equal(read_frames(path, idx, method="seek"), read_frames(path, idx, method="sequential"))
