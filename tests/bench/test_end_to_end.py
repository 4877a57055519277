"""End-to-end timing (decode + sample + preprocess + encode) from real video files."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from gesturebench.bench import BenchConfig, TimerConfig
from gesturebench.bench.output import to_markdown
from gesturebench.bench.runner import run_bench
from gesturebench.errors import GesturebenchError

av = pytest.importorskip("av")
FAST = TimerConfig(warmup=1, min_reps=3, max_reps=4, budget_s=0.2)


def write_video(path, frames=16, width=64, height=48, seed=0):
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for i in range(frames):
            img = np.full((height, width, 3), (20 + 10 * i) % 256, np.uint8)
            img[rng.integers(0, height - 8) :, : 8] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return str(path)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")  # folder-per-class layout
    (d / "Advance").mkdir()
    (d / "Halt").mkdir()
    good = [write_video(d / ("Advance" if i < 2 else "Halt") / f"v{i}.mp4", seed=i) for i in range(3)]
    bad = d / "Halt" / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    return good, str(bad)


def test_end_to_end_breakdown(videos):
    good, bad = videos
    res = run_bench(
        BenchConfig(encoders=("test-tiny-vit",), end_to_end=True, videos=(*good, bad), batch_sizes=(1, 2), timer=FAST)
    )
    assert [(r["batch_size"], r["status"], r["mode"]) for r in res.rows] == [(1, "ok", "end-to-end"), (2, "ok", "end-to-end")]
    skipped = [n for n in res.notes if n.startswith("skipped")]
    assert len(skipped) == 1 and skipped[0].startswith(f"skipped unreadable video {bad}: cannot decode {bad}")
    for r in res.rows:
        parts = [r["decode_ms"], r["preprocess_ms"], r["encode_ms"]]
        assert all(p > 0 for p in parts)
        assert r["decode_share"] + r["preprocess_share"] + r["encode_share"] == pytest.approx(1.0)
        # the stages are most of the measured call (medians of parts vs median of totals)
        assert 0.5 * r["p50_ms"] <= sum(parts) <= 1.5 * r["p50_ms"]
    md = to_markdown(res)
    assert "decode + sample + preprocess + encode" in md and "decode / preprocess / encode" in md


def test_end_to_end_with_no_readable_video_is_an_error(videos):
    _, bad = videos
    with pytest.raises(GesturebenchError, match=r"^none of the 1 video\(s\) could be decoded; see the notes$"):
        run_bench(BenchConfig(encoders=("pixels",), end_to_end=True, videos=(bad,), batch_sizes=(1,), timer=FAST))


def test_cli_end_to_end_from_a_dataset_root(videos, tmp_path, capsys):
    import json
    from pathlib import Path

    from gesturebench.cli import main

    root = Path(videos[0][0]).parent.parent
    out = tmp_path / "b"
    args = ["bench", "--encoder", "pixels", "--end-to-end", "--data", str(root), "--batch-sizes", "2"]
    assert main(args + ["--warmup", "1", "--min-reps", "3", "--max-reps", "3", "--out", str(out), "--no-plots"]) == 0
    result = json.loads((out / "bench.json").read_text())
    assert result["config"]["mode"] == "end-to-end" and result["config"]["num_videos"] == 4
    assert [r["status"] for r in result["rows"]] == ["ok"] and result["rows"][0]["decode_ms"] > 0
    assert "end-to-end latency per batch in ms, cpu fp32" in capsys.readouterr().out
