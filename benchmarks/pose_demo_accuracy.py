"""k-NN accuracy of ``pose`` beside ``motion`` on the demo protocol, and pose-space synthesis against rendering.

Data: the demo's (``benchmarks/motion_demo_accuracy.generate``): synthetic
default-style training videos, target-style videos (our synthetic stand-in for
real footage) split half/half into train and test, ground view, RoCoG
azimuths (30..330 in 60-degree steps, so a third of the test clips are seen
from the side and a third from behind).

1. ``motion`` and ``pose`` features through ``extract_features`` (TSN test
   sampling of each encoder's own frame count); k-NN K=3 L2 with training
   sources synthetic / target / synthetic+target, tested on the target test
   split; also split by the test clip's camera azimuth (front-oblique 30/330,
   side 90/270, back 150/210).
2. **Pose-space synthesis** (``synth --joints-only``), tested on the same
   detected target test features:
   - ``joints:same``: the very clips of the synthetic training set (same seed,
     count, size, frames), projected instead of rendered and detected;
   - ``joints:N``: N clips per class, RoCoG azimuths, noise 0.03;
   - ``joints:N:front``: N per class, azimuths 0/30/330;
   - ``joints:N:clean``: N per class, no noise.
   Plus, for the same clips, the L2 distance between the detected and the
   projected feature against the distance between different clips.

Usage::

    .venv/bin/python benchmarks/pose_demo_accuracy.py [--per-class-synthetic 20 --per-class-target 20]

Prints tables and writes ``bench-out/pose_demo_accuracy.json`` (``--json``). On a
busy machine, ``--encoders motion`` and ``--encoders pose`` can run as two processes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

SOURCES = ("synthetic", "target", "synthetic+target")
VIEW_GROUPS = {"front-oblique": (30, 330), "side": (90, 270), "back": (150, 210)}


def azimuth_group(az: float) -> str:
    nearest = min((30, 90, 150, 210, 270, 330), key=lambda a: abs((az - a + 180) % 360 - 180))
    return next(g for g, members in VIEW_GROUPS.items() if nearest in members)


def accuracy_by_group(train, test, groups: dict[str, str]) -> dict:
    import numpy as np

    from gesturebench.evaluators.knn import evaluate_knn

    # allow_overlap: clips where BlazePose finds nobody all get the same (zero) feature; the
    # overlap check would take them for leaked copies. They are counted in `undetected` instead.
    res = evaluate_knn(train, test, k=3, metric="l2", bootstrap=0, allow_overlap=True)
    out = {"all": res.accuracy}
    correct = {p["video_id"]: p["pred"] == p["label"] for p in res.predictions}
    for g in VIEW_GROUPS:
        hits = [correct[v] for v in test.video_ids if groups.get(v) == g]
        out[g] = float(np.mean(hits)) if hits else None
    return out


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from gesturebench.data.manifest import load_rocog
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders import create_encoder
    from gesturebench.features.extract import extract_features
    from gesturebench.features.store import FeatureStore
    from gesturebench.synth.joints_only import JointsOnlyConfig, synth_joints_only
    from motion_demo_accuracy import generate

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-class-synthetic", type=int, default=20)
    p.add_argument("--per-class-target", type=int, default=20)
    p.add_argument("--size", type=int, default=160)
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--joints-per-class", type=int, default=500)
    p.add_argument("--encoders", nargs="+", default=["motion", "pose"])
    p.add_argument("--out", type=Path, default=ROOT / "bench-out")
    p.add_argument("--json", default="pose_demo_accuracy.json", help="result file name under --out")
    args = p.parse_args(argv)
    t_all = time.perf_counter()

    data = args.out / "pose-data" / (f"s{args.seed}-syn{args.per_class_synthetic}-tgt{args.per_class_target}-"
                                     f"{args.size}px-{args.frames}f")
    generate(data, args.seed, args.per_class_synthetic, args.per_class_target, args.size, args.frames, args.workers)
    ann = data / "annotations"
    sets = {
        "synthetic": load_rocog(data, [ann / "syn_ground_train.txt"]),
        "target": load_rocog(data, [ann / "tgt_ground_train.txt"]),
        "target-test": load_rocog(data, [ann / "tgt_ground_test.txt"]),
    }
    groups = {}
    with open(data / "params" / "tgt_ground.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            groups[row["path"].rsplit(".", 1)[0]] = azimuth_group(float(row["camera_azimuth"]))
    results: dict = {"encoders": {}, "joints_only": {}}
    stores: dict = {}
    for name in args.encoders:
        enc = create_encoder(name, device="cpu")
        sampler = SamplerConfig(name="tsn", num_frames=enc.spec.num_frames, mode="test")
        stores[name], t0 = {}, time.perf_counter()
        for set_name, manifest in sets.items():
            path = args.out / "pose-features" / data.name / name / set_name
            # reruns reuse complete stores (a change of the feature bumps the encoder version/key)
            extract_features(manifest, enc, path, sampler=sampler, workers=args.workers, device="cpu")
            stores[name][set_name] = FeatureStore(path).load()
        seconds = time.perf_counter() - t0
        n = sum(len(m.records) for m in sets.values())
        test = stores[name]["target-test"]
        ids = {v: groups.get(v.rsplit(".", 1)[0], groups.get(v)) for v in test.video_ids}
        acc = {s: accuracy_by_group([stores[name][x] for x in s.split("+")], test, ids) for s in SOURCES}
        undetected = {k: int((np.abs(v.features).sum(1) == 0).sum()) for k, v in stores[name].items()}
        results["encoders"][name] = {"accuracy": acc, "extract_s": seconds, "videos": n, "s_per_video": seconds / n,
                                     "undetected": undetected}
        results["chance"] = 1.0 / len(test.class_names)
        results["n_test"] = len(test)

    if "pose" in stores:
        test = stores["pose"]["target-test"]
        ids = {v: groups.get(v.rsplit(".", 1)[0], groups.get(v)) for v in test.video_ids}
        jn = args.joints_per_class
        variants = {
            "joints:same": JointsOnlyConfig(per_class=args.per_class_synthetic, seed=args.seed, size=args.size,
                                            frames=args.frames),
            f"joints:{jn}": JointsOnlyConfig(per_class=jn, seed=100, size=args.size, frames=args.frames),
            f"joints:{jn}:front": JointsOnlyConfig(per_class=jn, seed=100, size=args.size, frames=args.frames,
                                                   azimuths="0,30,330"),
            f"joints:{jn}:clean": JointsOnlyConfig(per_class=jn, seed=100, size=args.size, frames=args.frames,
                                                   noise=0.0),
        }
        for label, cfg in variants.items():
            path = args.out / "pose-features" / data.name / label.replace(":", "-")
            s = synth_joints_only(cfg, path, workers=2, overwrite=True)
            train = FeatureStore(path).load()
            r = {"clips": s.total, "seconds": s.seconds, "accuracy": accuracy_by_group(train, test, ids),
                 "with_target": accuracy_by_group([train, stores["pose"]["target"]], test, ids)}
            results["joints_only"][label] = r
            if label == "joints:same":  # detected vs projected features of the very same clips
                det = stores["pose"]["synthetic"]
                jid = {v.split("/", 1)[1]: i for i, v in enumerate(train.video_ids)}  # jnt/<rendered path>
                pairs = [(i, jid[v.rsplit(".", 1)[0]]) for i, v in enumerate(det.video_ids) if v.rsplit(".", 1)[0] in jid]
                a = det.features[[i for i, _ in pairs]]
                b = train.features[[j for _, j in pairs]]
                same = np.linalg.norm(a - b, axis=1)
                other = np.linalg.norm(a - np.roll(b, 1, axis=0), axis=1)
                r["same_clip_distance"] = {"pairs": len(pairs), "median_same": float(np.median(same)),
                                           "median_other_clip": float(np.median(other))}

    cols = ("all",) + tuple(VIEW_GROUPS)
    print(f"demo protocol, seed {args.seed}: {args.per_class_synthetic} synthetic + {args.per_class_target} "
          f"target-style per class, {results.get('n_test')} target-style test videos; k-NN K=3 L2; "
          f"chance {100 * results.get('chance', 0):.1f}%")
    print(f"{'encoder':<8} {'train':<17} " + " ".join(f"{c:>13}" for c in cols))
    fmt = lambda v: "-" if v is None else f"{100 * v:.1f}"  # noqa: E731
    for name, e in results["encoders"].items():
        for s in SOURCES:
            print(f"{name:<8} {s:<17} " + " ".join(f"{fmt(e['accuracy'][s].get(c)):>13}" for c in cols))
        print(f"{'':<8} extraction {e['s_per_video']:.2f} s/video ({e['videos']} videos, decode+encode, this machine); "
              f"all-zero features (nobody found): {e['undetected']}")
    for label, r in results["joints_only"].items():
        for key, tag in (("accuracy", ""), ("with_target", "+target")):
            print(f"{'pose':<8} {label + tag:<17} " + " ".join(f"{fmt(r[key].get(c)):>13}" for c in cols))
        print(f"{'':<8} {r['clips']} clips in {r['seconds']:.1f}s")
        if "same_clip_distance" in r:
            d = r["same_clip_distance"]
            print(f"{'':<8} detected vs projected, same clip: median L2 {d['median_same']:.3f}; "
                  f"other clip: {d['median_other_clip']:.3f} ({d['pairs']} pairs)")
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    results.update(loadavg=load, cpu_count=os.cpu_count(), seconds=time.perf_counter() - t_all,
                   config=vars(args) | {"out": str(args.out)})
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / args.json
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {path} ({results['seconds']:.0f}s; load average {load}, {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
