"""Run every benchmark script in sequence (what `make bench` does).

Each script prints its own table and writes JSON to bench-out/. Run this on an
otherwise idle machine: the load average before each script is printed so the
numbers can be quoted with it.

    .venv/bin/python benchmarks/run_all.py [--only knn_speed,synth_throughput] [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script -> extra arguments for a full run, and for --quick
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "knn_speed": ([], ["--repeats", "3", "--no-sklearn"]),
    "synth_throughput": ([], ["--per-class", "1"]),
    "decode_seek": ([], ["--repeats", "2", "--no-real"]),
    "extraction_overhead": ([], ["--videos", "16", "--repeats", "1"]),
    "bench_repeatability": ([], ["--runs", "2", "--budget", "0.5"]),
    "port_vs_hf_vit": ([], ["--reps", "2"]),
    "motion_demo_accuracy": ([], ["--seeds", "0"]),
    "pose_detection": ([], ["--azimuths", "0", "90", "180", "--joints-per-class", "20"]),
    "pose_demo_accuracy": ([], ["--per-class-synthetic", "6", "--per-class-target", "6", "--joints-per-class", "50"]),
    "recogniser_latency": ([], ["--repeats", "3", "--per-class", "3", "--index-rows", "0"]),
    "serve_load": ([], ["--clients", "2", "--requests", "1", "--per-class", "3"]),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(SCRIPTS))
    ap.add_argument("--quick", action="store_true", help="smaller settings (a smoke run, not for quoting)")
    args = ap.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SCRIPTS)
    unknown = [s for s in chosen if s not in SCRIPTS]
    if unknown:
        print(f"error: unknown benchmark(s) {', '.join(unknown)}; allowed: {', '.join(SCRIPTS)}", file=sys.stderr)
        return 1
    failed = []
    for name in chosen:
        extra = SCRIPTS[name][1 if args.quick else 0]
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"\n=== {name} (load average {load:.2f}) ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(HERE / f"{name}.py"), *extra])
        print(f"=== {name}: exit {rc} in {time.perf_counter() - t0:.0f} s ===", flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
