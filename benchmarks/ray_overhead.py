"""Ray engine overhead: the same job with ``--engine ray`` on a local Ray vs ``--engine local``.

On this machine's cores (2 here), for the same input:

* extract: ``extract_features`` of the same videos into a fresh store, local engine (decode
  worker processes + encoding in this process) vs Ray engine (decode tasks + one encoder actor);
* synth: ``generate_dataset`` of the same videos, local engine (``--workers`` = cores) vs Ray
  (render tasks; this process writes the files).

``ratio`` = Ray wall time / local wall time, best of ``--repeats`` each, on a *warm* local Ray
(started once before timing, as an existing cluster would be): each timed Ray run still pays
its own actor start-up, task scheduling and object transfers. Ray's one-off start-up
(``ray.init``) is printed separately. Target (issue 12): ratio <= 1.25 on 2 cores.
``cpu ratio`` = CPU seconds (this process and all its descendants, Ray's daemons included)
Ray / local. Also checks that both engines produced identical features / videos.

    .venv/bin/python benchmarks/ray_overhead.py [--videos 48] [--encoders pixels,motion] [--per-class 8]

Writes bench-out/ray_overhead.json. The machine may be shared: the load average is printed.
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
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from extraction_overhead import OUT, CpuMeter, make_videos  # noqa: E402  (same videos, same meter)

TARGET = 1.25


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(best wall seconds, CPU seconds of that run, its result)."""
    best = (float("inf"), 0.0, None)
    for r in range(repeats):
        with CpuMeter() as meter:
            t = time.perf_counter()
            out = fn(r)
            wall = time.perf_counter() - t
        if wall < best[0]:
            best = (wall, meter.seconds, out)
    return best


def bench_extract(name: str, manifest, batch_size: int, repeats: int, tmp: Path) -> dict:
    import numpy as np

    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders.registry import create_encoder
    from gesturebench.features.extract import extract_features
    from gesturebench.features.store import FeatureStore

    enc = create_encoder(name, device="cpu")
    sampler = SamplerConfig(num_frames=enc.spec.num_frames)
    walls = {}
    for engine in ("local", "ray"):
        def run(r: int, engine=engine) -> Path:
            path = tmp / f"{name}-{engine}-{r}"
            rep = extract_features(manifest, enc, path, sampler, batch_size=batch_size, overwrite=True,
                                   engine=engine)
            assert rep.computed == len(manifest), rep.to_dict()
            return path

        walls[engine] = timed(run, repeats)
    a, b = FeatureStore(walls["local"][2]).load(), FeatureStore(walls["ray"][2]).load()
    identical = bool(np.array_equal(a.features, b.features) and a.video_ids == b.video_ids and a.key == b.key)
    return _row(f"extract {name}", len(manifest), walls, identical)


def bench_synth(per_class: int, size: int, frames: int, repeats: int, tmp: Path) -> dict:
    from gesturebench.synth import generate_dataset

    cores = os.cpu_count() or 1
    walls = {}
    for engine in ("local", "ray"):
        def run(r: int, engine=engine) -> Path:
            out = tmp / f"synth-{engine}-{r}"
            s = generate_dataset(out, per_class, ["ground"], seed=0, size=size, frames=frames, workers=cores,
                                 engine=engine)
            assert s.generated == 7 * per_class, (s.generated, s.skipped)
            return out

        walls[engine] = timed(run, repeats)
    la, lb = walls["local"][2], walls["ray"][2]
    videos = sorted(p.relative_to(la) for p in la.rglob("*.mp4"))
    identical = all((la / v).read_bytes() == (lb / v).read_bytes() for v in videos) and (
        (la / "params" / "syn_ground.csv").read_bytes() == (lb / "params" / "syn_ground.csv").read_bytes())
    return _row(f"synth {size}px x{frames}", len(videos), walls, identical)


def _row(what: str, n: int, walls: dict, identical: bool) -> dict:
    (lw, lc, _), (rw, rc, _) = walls["local"], walls["ray"]
    return {"what": what, "videos": n, "local_s": round(lw, 3), "ray_s": round(rw, 3), "ratio": round(rw / lw, 3),
            "local_cpu_s": round(lc, 2), "ray_cpu_s": round(rc, 2), "cpu_ratio": round(rc / lc, 3) if lc else None,
            "identical": identical, "meets_target": rw / lw <= TARGET}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=48)
    ap.add_argument("--size", default="320x240", help="WxH of the generated input videos (extract)")
    ap.add_argument("--frames", type=int, default=64, help="frames per input video (extract)")
    ap.add_argument("--encoders", default="pixels,motion")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--per-class", type=int, default=8, help="synth: videos per gesture (7 gestures)")
    ap.add_argument("--synth-size", type=int, default=224)
    ap.add_argument("--synth-frames", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)

    import logging

    import ray
    import torch

    from gesturebench.provenance import provenance
    from gesturebench.types import Manifest, VideoRecord

    torch.set_num_threads(1)  # the same single compute thread for both engines (the actor copies it)
    load_before = os.getloadavg()
    cores = os.cpu_count() or 1
    t = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    ray_start = time.perf_counter() - t

    w, h = (int(v) for v in args.size.split("x"))
    videos = make_videos(OUT / "extraction_overhead" / "videos", args.videos, (w, h), args.frames)
    manifest = Manifest(videos[0].parent, ("a", "b"),
                        tuple(VideoRecord(p.name, i % 2, "ab"[i % 2]) for i, p in enumerate(videos)))
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in [e.strip() for e in args.encoders.split(",") if e.strip()]:
                rows.append(bench_extract(name, manifest, args.batch_size, args.repeats, Path(tmp)))
            if args.per_class > 0:
                rows.append(bench_synth(args.per_class, args.synth_size, args.synth_frames, args.repeats, Path(tmp)))
    finally:
        ray.shutdown()
    load_after = os.getloadavg()

    print(f"Ray engine overhead on a local Ray with {cores} CPUs (ray {ray.__version__}); best of {args.repeats}; "
          f"extract input {args.videos} videos {w}x{h}x{args.frames} H.264")
    print(f"{'job':<24}{'videos':>7}{'local s':>9}{'ray s':>8}{'ratio':>7}{'cpu ratio':>11}  identical")
    for r in rows:
        print(f"{r['what']:<24}{r['videos']:>7}{r['local_s']:>9.2f}{r['ray_s']:>8.2f}{r['ratio']:>7.2f}"
              f"{r['cpu_ratio']:>11.2f}  {'yes' if r['identical'] else 'NO'}"
              f"  {'ok' if r['meets_target'] else f'ABOVE {TARGET}x'}")
    print(f"ray.init (local, once): {ray_start:.1f} s; load average before {load_before[0]:.2f} "
          f"{load_before[1]:.2f} {load_before[2]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    OUT.mkdir(exist_ok=True)
    result = {"benchmark": "ray_overhead", "target_ratio": TARGET, "rows": rows, "ray_init_s": round(ray_start, 2),
              "ray_version": ray.__version__, "args": vars(args), "cpus": cores,
              "load_average_before": load_before, "load_average_after": load_after, "provenance": provenance()}
    (OUT / "ray_overhead.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"wrote {OUT / 'ray_overhead.json'}")
    worst = max(r["ratio"] for r in rows)
    print(f"ratio {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
