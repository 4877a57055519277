"""Sequential decode vs seek-per-GOP for 8 TSN frames of N, and what `auto` picks.

Run:  .venv/bin/python benchmarks/decode_seek.py [--repeats 3] [--no-real]

Encodes a few H.264 test videos (sizes, lengths and keyframe intervals that
bracket RoCoG-v2 synthetic clips and camera footage) into bench-out/, then
times, per video, reading the 8 TSN test-mode frames three ways:

* sequential: decode from frame 0 and stop after the last needed frame;
* seek: seek to the keyframe before every needed frame in a new GOP;
* auto: the per-video plan of gesturebench.data.decode (SEEK_COST_FRAMES).

It also estimates the fixed cost of one seek in units of one decoded frame:
``(t_seek / t_frame - frames_decoded_by_seek) / seeks``, where ``t_frame`` is
the sequential time per decoded frame. That number is what
``SEEK_COST_FRAMES`` encodes. Results go to bench-out/decode_seek.json.
Timings on a shared machine are noisy: take the minimum of the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import av  # noqa: E402
import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from gesturebench.data import decode  # noqa: E402
from gesturebench.data.sampling import tsn_indices  # noqa: E402

OUT = REPO / "bench-out"

#: name -> (width, height, frames, keyframe interval)
CASES = {
    "syn224_64f_gop250": (224, 224, 64, 250),  # our generator / RoCoG-v2 synthetic size
    "syn224_64f_gop16": (224, 224, 64, 16),
    "cam480_300f_gop30": (640, 480, 300, 30),
    "cam480_300f_gop250": (640, 480, 300, 250),
    "cam720_240f_gop24": (1280, 720, 240, 24),
    "cam720_600f_gop60": (1280, 720, 600, 60),
}


def _content(i: int, w: int, h: int, rng: np.random.Generator, base: np.ndarray) -> np.ndarray:
    """Textured background drifting right plus a moving block: realistic P-frame work."""
    frame = np.roll(base, shift=2 * i, axis=1).copy()
    x = (7 * i) % max(1, w - w // 5)
    y = h // 3
    frame[y : y + h // 5, x : x + w // 5] = (230, 60, 40)
    noise = rng.integers(0, 12, size=frame.shape, dtype=np.uint8)
    return frame + noise


def make_case(path: Path, w: int, h: int, n: int, gop: int) -> Path:
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 3) % 256], axis=-1).astype(np.uint8)
    base = (base // 2 + rng.integers(0, 64, size=base.shape, dtype=np.uint8)).astype(np.uint8)
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as out:
        s = out.add_stream(
            "libx264",
            rate=30,
            options={"preset": "veryfast", "crf": "23", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"},
        )
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for i in range(n):
            for p in s.encode(av.VideoFrame.from_ndarray(_content(i, w, h, rng, base), format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    tmp.replace(path)
    return path


def _index(path: Path) -> decode._Index:
    container, stream = decode._open(path)
    try:
        return decode._build_index(path, container, stream)
    finally:
        container.close()


def _time_all(fns: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """Min CPU seconds and min wall seconds per method, methods interleaved.

    CPU time (decoding runs single-threaded in this process) is what the
    seek-cost estimate uses: on a shared, overloaded machine wall time mostly
    measures the neighbours.
    """
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    wall: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            c0, w0 = time.process_time(), time.perf_counter()
            fn()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    return {k: (min(cpu[k]), min(wall[k])) for k in fns}


def seek_micro(path: Path, index: decode._Index, reps: int = 30) -> float | None:
    """CPU cost of (seek to the last keyframe + first frame out) minus one frame, in frame units.

    The direct estimate of the fixed seek overhead: demuxer seek, decoder
    flush, the keyframe's extra cost and refilling the B-frame reorder delay.
    """
    if not index.seekable or index.pts is None:
        return None
    container, stream = decode._open(path)
    try:
        target = index.pts[index.keyframes[-1]]
        c0 = time.process_time()
        for _ in range(reps):
            container.seek(target, stream=stream, backward=True, any_frame=False)
            next(iter(container.decode(stream)))
        t_seek = (time.process_time() - c0) / reps
        container.seek(index.pts[0], stream=stream, backward=True)
        c0 = time.process_time()
        n = sum(1 for _ in container.decode(stream))
        t_frame = (time.process_time() - c0) / max(n, 1)
    finally:
        container.close()
    return t_seek / t_frame - 1.0


def measure(path: Path, repeats: int) -> dict:
    t0 = time.perf_counter()
    index = _index(path)
    t_index = time.perf_counter() - t0
    idx = tsn_indices(index.count, 8)
    needed = sorted(set(idx.tolist()))
    seq_plan = decode.plan_reads(needed, index.keyframes, float("inf"))
    seek_plan = decode.plan_reads(needed, index.keyframes, 0.0) if index.seekable else seq_plan
    auto_plan = decode.plan_reads(needed, index.keyframes, decode.SEEK_COST_FRAMES) if index.seekable else seq_plan

    def frames_of(plan):
        return sum(b - a + 1 for a, b in plan)

    def seeks_of(plan):
        return sum(1 for a, _ in plan if a > 0)

    timed = _time_all(
        {m: (lambda m=m: decode.read_frames(path, idx, method=m, _index=index)) for m in ("sequential", "seek", "auto")},
        repeats,
    )
    t_seq, t_seek, t_auto = (timed[m][0] for m in ("sequential", "seek", "auto"))
    t_frame = t_seq / frames_of(seq_plan)
    n_seeks = seeks_of(seek_plan)
    seek_cost = (t_seek / t_frame - frames_of(seek_plan)) / n_seeks if n_seeks else None
    info = decode.probe(path)
    return {
        "video": path.name,
        "size": f"{info.width}x{info.height}",
        "frames": index.count,
        "keyframes": len(index.keyframes),
        "seekable": index.seekable,
        "index_ms": round(1000 * t_index, 2),
        "sequential_ms": round(1000 * t_seq, 2),
        "seek_ms": round(1000 * t_seek, 2),
        "auto_ms": round(1000 * t_auto, 2),
        "wall_ms": {m: round(1000 * timed[m][1], 2) for m in timed},
        "frames_decoded": {"sequential": frames_of(seq_plan), "seek": frames_of(seek_plan), "auto": frames_of(auto_plan)},
        "seeks": {"seek": n_seeks, "auto": seeks_of(auto_plan)},
        "ms_per_frame": round(1000 * t_frame, 3),
        "seek_cost_frames": None if seek_cost is None else round(seek_cost, 2),
        "seek_cost_frames_micro": None if (m := seek_micro(path, index)) is None else round(m, 2),
        "auto_choice": "seek" if seeks_of(auto_plan) else "sequential",
        "best": min(("sequential", t_seq), ("seek", t_seek), key=lambda kv: kv[1])[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-real", action="store_true", help="skip ../shared/real-clips")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    work = OUT / "decode_seek_videos"
    work.mkdir(exist_ok=True)
    paths = [make_case(work / f"{name}.mp4", *spec) for name, spec in CASES.items()]
    real = REPO.parent / "shared" / "real-clips"
    if real.is_dir() and not args.no_real:
        paths += sorted(p for p in real.iterdir() if p.suffix in (".mp4", ".avi", ".gif"))
    rows = [measure(p, args.repeats) for p in paths]

    print("CPU ms per video (min of repeats), 8 TSN frames:")
    head = (
        f"{'video':44} {'size':>9} {'N':>4} {'kf':>3} {'seq ms':>8} {'seek ms':>8} {'auto ms':>8} "
        f"{'auto':>10} {'best':>10} {'P(run)':>7} {'P(micro)':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        sc = "-" if r["seek_cost_frames"] is None else f"{r['seek_cost_frames']:.1f}"
        mc = "-" if r["seek_cost_frames_micro"] is None else f"{r['seek_cost_frames_micro']:.1f}"
        print(
            f"{r['video'][:44]:44} {r['size']:>9} {r['frames']:>4} {r['keyframes']:>3} {r['sequential_ms']:>8.1f} "
            f"{r['seek_ms']:>8.1f} {r['auto_ms']:>8.1f} {r['auto_choice']:>10} {r['best']:>10} {sc:>7} {mc:>8}"
        )
    costs = [r["seek_cost_frames"] for r in rows if r["seek_cost_frames"] is not None]
    micro = [r["seek_cost_frames_micro"] for r in rows if r["seek_cost_frames_micro"] is not None]
    summary = {
        "seek_cost_frames_median": statistics.median(costs) if costs else None,
        "seek_cost_frames_all": costs,
        "seek_cost_frames_micro_median": statistics.median(micro) if micro else None,
        "seek_cost_frames_micro_all": micro,
        "SEEK_COST_FRAMES_in_code": decode.SEEK_COST_FRAMES,
        "auto_within_10pct_of_best": sum(
            r["auto_ms"] <= 1.1 * min(r["sequential_ms"], r["seek_ms"]) + 1.0 for r in rows
        ),
        "videos": len(rows),
    }
    print(f"\nseek cost P in decoded-frame units, from whole runs: median {summary['seek_cost_frames_median']}, all {costs}")
    print(f"seek cost P, direct (seek + first frame - 1): median {summary['seek_cost_frames_micro_median']}, all {micro}")
    print(f"SEEK_COST_FRAMES in gesturebench.data.decode: {decode.SEEK_COST_FRAMES}")
    print(f"auto within 10% (+1 ms) of the faster path on {summary['auto_within_10pct_of_best']}/{len(rows)} videos")
    result = {
        "benchmark": "decode_seek",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "av": av.__version__,
        "repeats": args.repeats,
        "rows": rows,
        "summary": summary,
    }
    (OUT / "decode_seek.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT / 'decode_seek.json'}")


if __name__ == "__main__":
    main()
