"""k-NN speed: 100 queries against 44,510 x 768 training features on CPU.

Issue 3 target: under 0.5 s per call (median). Also reports 1 query, cosine,
one vs all torch threads, and scikit-learn's brute-force classifier for scale,
and checks the neighbours of a few queries against a float64 numpy brute force.

    .venv/bin/python benchmarks/knn_speed.py [--repeats 7] [--out bench-out/knn_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
from pathlib import Path

import numpy as np
from _timing import timed
import torch

from gesturebench.evaluators.knn import knn_predict
from gesturebench.provenance import provenance

N_TRAIN, DIM, N_QUERY, N_CLASSES, K = 44_510, 768, 100, 7, 3



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=Path("bench-out/knn_speed.json"))
    ap.add_argument("--no-sklearn", action="store_true")
    args = ap.parse_args()

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    rng = np.random.default_rng(0)
    train = rng.standard_normal((N_TRAIN, DIM), dtype=np.float32)
    labels = rng.integers(0, N_CLASSES, N_TRAIN)
    queries = rng.standard_normal((N_QUERY, DIM), dtype=np.float32)

    # exactness spot check: 5 queries against a float64 brute force ordered by (distance, index)
    _, idx, _ = knn_predict(train, labels, queries[:5], k=K, device="cpu")
    d = ((queries[:5, None, :].astype(np.float64) - train[None].astype(np.float64)) ** 2).sum(-1)
    ref = np.stack([np.lexsort((np.arange(N_TRAIN), row))[:K] for row in d])
    assert (idx == ref).all(), "neighbours differ from the float64 brute force"

    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    default_threads = torch.get_num_threads()
    rows = []
    cases = [
        ("l2, 100 queries", "l2", queries),
        ("cosine, 100 queries", "cosine", queries),
        ("l2, 1 query", "l2", queries[:1]),
    ]
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        with threadpool_limits(limits=threads):  # numpy's BLAS too
            for name, metric, q in cases:
                ts = timed(lambda: knn_predict(train, labels, q, k=K, metric=metric, device="cpu"), args.repeats)
                rows.append({"case": name, "impl": "gesturebench", "threads": threads,
                             "median_s": statistics.median(ts), "min_s": min(ts), "runs": len(ts)})
            # floor: the one float32 matrix multiply any exact brute-force search must do
            tq, tt = torch.from_numpy(queries), torch.from_numpy(train)
            for impl, fn in (("bare GEMM, numpy", lambda: queries @ train.T), ("bare GEMM, torch.mm", lambda: torch.mm(tq, tt.T))):
                ts = timed(fn, args.repeats)
                rows.append({"case": "l2, 100 queries", "impl": impl, "threads": threads,
                             "median_s": statistics.median(ts), "min_s": min(ts), "runs": len(ts)})
    torch.set_num_threads(default_threads)
    if not args.no_sklearn:
        from sklearn.neighbors import KNeighborsClassifier

        clf = KNeighborsClassifier(n_neighbors=K, algorithm="brute").fit(train, labels)
        ts = timed(lambda: clf.predict(queries), max(3, args.repeats // 2))
        rows.append({"case": "l2, 100 queries", "impl": "scikit-learn brute", "threads": default_threads,
                     "median_s": statistics.median(ts), "min_s": min(ts), "runs": len(ts)})

    print(f"k-NN speed: {N_QUERY} queries vs {N_TRAIN} x {DIM} float32, k={K}, CPU ({platform.processor() or 'cpu'})")
    print(f"load average before: {load_before}")
    print(f"{'case':<22} {'impl':<22} {'threads':>7} {'median s':>9} {'min s':>8}")
    for r in rows:
        print(f"{r['case']:<22} {r['impl']:<22} {r['threads']:>7} {r['median_s']:>9.3f} {r['min_s']:>8.3f}")
    target = [r for r in rows if r["case"] == "l2, 100 queries" and r["impl"] == "gesturebench"]
    best = min(r["median_s"] for r in target)
    print(f"target: < 0.5 s -> best median {best:.3f} s: {'PASS' if best < 0.5 else 'FAIL'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "knn_speed", "n_train": N_TRAIN, "dim": DIM, "n_query": N_QUERY,
                                    "k": K, "rows": rows, "target_s": 0.5, "pass": best < 0.5,
                                    "load_average_before": load_before,
                                    "provenance": provenance()}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
