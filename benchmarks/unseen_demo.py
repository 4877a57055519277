"""The unseen-class table on the demo data: frozen `motion` features vs an MLP adapter trained on the seen classes.

Run:  .venv/bin/python benchmarks/unseen_demo.py [--data /tmp/gb-unseen-demo] [--per-class 30] [--size 160]
          [--unseen 3] [--seed 0]

1. Renders the demo's data with ``gesturebench synth`` into ``--data`` (outside the repo):
   ``--per-class`` synthetic videos per gesture (ground view, all in ``syn_ground_train``)
   and as many target-style videos split half/half into ``tgt_ground_train`` / ``tgt_ground_test``.
   The target style is a *synthetic stand-in* for real footage, not real video.
2. Runs ``gesturebench unseen --encoder motion --method head --unseen-classes 3``:
   every one of the C(7, 3) = 35 splits of the 7 gestures into 4 seen + 3 unseen;
   the adapter trains on the seen classes of the synthetic list only; support =
   the synthetic videos of the unseen classes; test = target-style test videos.
   The adapter is *an adapter on training-free features, not a fine-tuned foundation model*.
3. Prints the pooled table with 95% bootstrap intervals and the paired difference,
   the machine and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GB = [str(REPO / ".venv" / "bin" / "gesturebench")]


def sh(*args: str) -> None:
    subprocess.run([*GB, *args], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/gb-unseen-demo")
    ap.add_argument("--out", default="/tmp/gb-unseen-demo-out")
    ap.add_argument("--per-class", type=int, default=30)
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--unseen", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", default="2")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from gesturebench.provenance import machine_info

    print(f"machine: {json.dumps(machine_info())}")
    print(f"load average before: {os.getloadavg()}")
    t0 = time.perf_counter()
    data = Path(args.data)
    common = ["--out", str(data), "--per-class", str(args.per_class), "--views", "ground", "--size", str(args.size),
              "--seed", str(args.seed), "--workers", args.workers]
    sh("synth", *common, "--splits", "train=1")
    sh("synth", *common, "--style", "target", "--splits", "train=0.5,test=0.5")
    t_synth = time.perf_counter() - t0
    sh("unseen", "--data", str(data), "--train-list", "annotations/syn_ground_train.txt",
       "--test-list", "annotations/tgt_ground_test.txt", "--encoder", "motion", "--method", "head",
       "--unseen-classes", str(args.unseen), "--seed", str(args.seed), "--workers", args.workers,
       "--out", args.out)
    doc = json.loads((Path(args.out) / "unseen.json").read_text())
    s = doc["summary"]
    print(f"\nrender {t_synth:.0f} s; total {time.perf_counter() - t0:.0f} s; {s['n_folds']} folds; "
          f"{s['n_test_unseen_pooled']} unseen-class test predictions pooled")
    print("| embedding | unseen-class top-1 % (pooled, 95% CI) | mean over folds | seen-class top-1 % (95% CI) |")
    print("|---|---:|---:|---:|")
    for side, label in (("frozen", "motion features, frozen"), ("finetuned", "MLP adapter on motion features (seen classes)")):
        d = s[side]
        print(f"| {label} | {100 * d['unseen_accuracy']:.1f} [{100 * d['unseen_ci'][0]:.1f}–{100 * d['unseen_ci'][1]:.1f}] "
              f"| {100 * d['unseen_accuracy_fold_mean']:.1f} | {100 * d['seen_accuracy']:.1f} "
              f"[{100 * d['seen_ci'][0]:.1f}–{100 * d['seen_ci'][1]:.1f}] |")
    dd, sd = s["difference"], s["seen_difference"]
    print(f"| adapter − frozen (paired) | {100 * dd['mean']:+.1f} [{100 * dd['ci'][0]:+.1f}, {100 * dd['ci'][1]:+.1f}] | "
          f"| {100 * sd['mean']:+.1f} [{100 * sd['ci'][0]:+.1f}, {100 * sd['ci'][1]:+.1f}] |")
    print(f"| chance | {100 * s['chance_unseen']:.1f} | | {100 / (7 - args.unseen):.1f} |")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
