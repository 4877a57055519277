"""Pose-space synthesis against rendered-and-detected pose, on a test set where BlazePose sees the person.

Reads the stores ``pose_demo_accuracy.py`` leaves under ``bench-out/pose-features/<data>/``
(run that first). Test set: the *detected* default-style synthetic renders (``pose/synthetic``,
RoCoG azimuths). Training sets, k-NN K=3 L2:

- ``detected (leave-one-out)``: the other detected renders of the same set;
- ``joints:N``, ``joints:N:front``, ``joints:N:clean``: joints-only stores (other seed);
- ``joints:same``: each test clip's own projected twin is left out (leave-one-out over twins).

Also the median L2 distance between each clip's detected and projected features, against
the distance between different clips. Prints a table; writes ``bench-out/pose_joints_vs_detected.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def knn_acc(train_x, train_y, test_x, test_y, exclude=None) -> float:
    import numpy as np

    d = ((test_x[:, None] - train_x[None]) ** 2).sum(-1)
    if exclude is not None:
        d[np.arange(len(test_x)), exclude] = np.inf
    nn = np.argsort(d, axis=1, kind="stable")[:, :3]
    votes = train_y[nn]
    pred = []
    for row in votes:
        counts = np.bincount(row, minlength=int(train_y.max()) + 1)
        top = np.flatnonzero(counts == counts.max())
        pred.append(next(v for v in row if v in top))  # ties -> nearest neighbour's class among the tied
    return float(np.mean(np.array(pred) == test_y))


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from gesturebench.features.store import FeatureStore

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--features", type=Path, default=ROOT / "bench-out" / "pose-features" / "s0-syn20-tgt20-160px-48f")
    p.add_argument("--out", type=Path, default=ROOT / "bench-out")
    args = p.parse_args(argv)
    test = FeatureStore(args.features / "pose" / "synthetic").load()
    x, y = test.features, test.labels
    res = {"test": {"store": str(args.features / "pose" / "synthetic"), "clips": len(test),
                    "undetected": int((np.abs(x).sum(1) == 0).sum())}}
    res["detected (leave-one-out)"] = knn_acc(x, y, x, y, exclude=np.arange(len(x)))
    for d in sorted(args.features.glob("joints-*")):
        tr = FeatureStore(d).load()
        label = d.name.replace("joints-", "joints:").replace("-", ":")
        if d.name == "joints-same":
            twin = {v.split("/", 1)[1]: i for i, v in enumerate(tr.video_ids)}
            idx = np.array([twin[v.rsplit(".", 1)[0]] for v in test.video_ids])
            res[label + " (own twin left out)"] = knn_acc(tr.features, tr.labels, x, y, exclude=idx)
            same = np.linalg.norm(x - tr.features[idx], axis=1)
            other = np.linalg.norm(x - np.roll(tr.features[idx], 1, axis=0), axis=1)
            res["distance"] = {"median_same_clip": float(np.median(same)), "median_other_clip": float(np.median(other))}
        else:
            res[label] = knn_acc(tr.features, tr.labels, x, y)
    for k, v in res.items():
        if isinstance(v, float):
            print(f"{k:<36} {100 * v:5.1f}%")
    print(f"test: {res['test']}; detected vs projected L2, same clip {res['distance']['median_same_clip']:.3f} "
          f"vs other clip {res['distance']['median_other_clip']:.3f}")
    res["loadavg"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pose_joints_vs_detected.json").write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
