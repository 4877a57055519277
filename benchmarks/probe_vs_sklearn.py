"""Linear probe vs plain scikit-learn, side by side in one run.

Issue 12 target: a probe fit costs at most 1.2x scikit-learn's own
``StandardScaler + LogisticRegression(solver="lbfgs")`` fit on the same features
at the same C. Cases: the issue's 63 x 1120 (7 classes, 9 videos each, the
few-shot size) and 700 x 768. Both sides get the same float32 features. The
C search (``C="auto"``: many fits on 80% of the rows, then one refit) is timed
too and reported as a multiple of one scikit-learn fit. The last line is
``ratio R``: the largest per-case median ratio probe / scikit-learn.

    .venv/bin/python benchmarks/probe_vs_sklearn.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

import numpy as np
from _timing import timed

from gesturebench.evaluators.probe import fit_probe

CASES = ((63, 1120), (700, 768))
K = 7


def planted(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % K
    x = rng.normal(size=(K, d))[y] + 3.0 * rng.normal(size=(n, d))
    return x.astype(np.float32), y


def sklearn_fit(x: np.ndarray, y: np.ndarray, c: float) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    make_pipeline(StandardScaler(), LogisticRegression(C=c, solver="lbfgs", max_iter=1000)).fit(x, y)



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--C", type=float, default=1.0)
    args = ap.parse_args()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"probe vs scikit-learn: {platform.machine()} {platform.processor() or 'cpu'}, {os.cpu_count()} cores; "
          f"load average before {load}")
    worst = 0.0
    for n, d in CASES:
        x, y = planted(n, d)
        # interleave the two sides so a change in machine load hits both alike
        ours, ref = [], []
        for _ in range(args.repeats):
            ours += timed(lambda: fit_probe(x, y, K, C=args.C), 1)
            ref += timed(lambda: sklearn_fit(x, y, args.C), 1)
        search = timed(lambda: fit_probe(x, y, K), 1)
        fit = fit_probe(x, y, K)
        mo, mr = statistics.median(ours), statistics.median(ref)
        worst = max(worst, mo / mr)
        print(f"{n} x {d}: probe {mo:.3f} s, scikit-learn {mr:.3f} s (medians of {args.repeats}) -> {mo / mr:.2f}x; "
              f"C search {statistics.median(search):.2f} s for {len(fit.c_search)} fits + refit "
              f"({statistics.median(search) / mr:.1f}x one fit), chose C={fit.C:g}")
    print(f"load average after {os.getloadavg() if hasattr(os, 'getloadavg') else None}")
    print(f"target <= 1.2x: {'PASS' if worst <= 1.2 else 'FAIL'}")
    print(f"ratio {worst:.2f}")


if __name__ == "__main__":
    main()
