"""Throughput of the synthetic generator: videos per second for workers = 1 and 2.

    .venv/bin/python benchmarks/synth_throughput.py [--per-class 3] [--size 224] [--frames 64]

Generates ground+air videos of the default style into a temporary folder for
each worker count, prints a table and writes bench-out/synth_throughput.json.
Also reports the per-video CPU split between rendering and H.264 encoding
(in this process). Numbers depend on machine load: report the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def stage_split(size: int, frames: int, n: int = 6) -> dict:
    import cv2

    from gesturebench.synth.gestures import load_gestures
    from gesturebench.synth.randomize import sample_params
    from gesturebench.synth.render import render_clip
    from gesturebench.synth.writer import encode_mp4

    cv2.setNumThreads(1)
    specs = load_gestures()
    render = encode = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            spec = specs[i % len(specs)]
            p = sample_params(0, "default", ("ground", "air")[i % 2], spec, i, size, frames)
            t0 = time.process_time()
            clip = render_clip(p, spec)
            t1 = time.process_time()
            encode_mp4(Path(tmp) / f"{i}.mp4", clip.frames, clip.fps, p["crf"])
            t2 = time.process_time()
            render, encode = render + t1 - t0, encode + t2 - t1
    return {"render_cpu_ms_per_video": 1000 * render / n, "encode_cpu_ms_per_video": 1000 * encode / n,
            "cpu_ms_per_frame": 1000 * (render + encode) / n / frames}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=3)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--workers", default="1,2")
    args = ap.parse_args()

    from gesturebench.synth import generate_dataset

    import resource

    def cpu_seconds() -> float:
        r_self, r_kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return r_self.ru_utime + r_self.ru_stime + r_kids.ru_utime + r_kids.ru_stime

    rows = []
    for w in [int(x) for x in args.workers.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            c0, t0 = cpu_seconds(), time.perf_counter()
            s = generate_dataset(Path(tmp) / "ds", args.per_class, ["ground", "air"], seed=0, size=args.size,
                                 frames=args.frames, workers=w)
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        # CPU seconds per video (worker start-up included) give a load-independent projection
        rows.append({"workers": w, "videos": s.generated, "wall_s": round(wall, 2),
                     "videos_per_s": round(s.generated / wall, 2), "cpu_s_per_video": round(cpu / s.generated, 4),
                     "projected_videos_per_s_idle": round(max(w, 1) * s.generated / cpu, 2)})
    split = stage_split(args.size, args.frames)
    load = os.getloadavg()
    out = {"size": args.size, "frames": args.frames, "cpu_count": os.cpu_count(), "loadavg": load,
           "runs": rows, "per_video_cpu": split}
    print(f"synth throughput, {args.size}x{args.size}, {args.frames} frames, cpus={os.cpu_count()}, "
          f"loadavg={load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (includes process start-up)")
    print(f"{'workers':>8} {'videos':>7} {'wall s':>8} {'videos/s':>9} {'cpu s/video':>12} {'idle-projected videos/s':>24}")
    for r in rows:
        print(f"{r['workers']:>8} {r['videos']:>7} {r['wall_s']:>8} {r['videos_per_s']:>9} "
              f"{r['cpu_s_per_video']:>12} {r['projected_videos_per_s_idle']:>24}")
    print(f"per video CPU: render {split['render_cpu_ms_per_video']:.0f} ms + encode "
          f"{split['encode_cpu_ms_per_video']:.0f} ms = {split['cpu_ms_per_frame']:.2f} ms/frame")
    dest = REPO / "bench-out" / "synth_throughput.json"
    dest.parent.mkdir(exist_ok=True)
    dest.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
