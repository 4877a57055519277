"""k-NN accuracy of ``motion`` vs ``pixels`` on the demo's data (ground view).

Same protocol as ``gesturebench demo``: synthetic (default style) training
videos, target-style videos split into train and test; features from
:func:`~gesturebench.features.extract.extract_features` with TSN test-mode
sampling of each encoder's own frame count; k-NN (K=3, L2) with training
source synthetic / target / synthetic+target, tested on the target test split.

Usage::

    .venv/bin/python benchmarks/motion_demo_accuracy.py                    # seeds 0 1 2
    .venv/bin/python benchmarks/motion_demo_accuracy.py --data /tmp/demo/data --seeds 0

``--data`` reuses an already generated dataset root (one seed); otherwise each
seed's data is generated (and reused on reruns) under ``bench-out/motion-data/``.

Camera azimuths (issue #11): ``--azimuths`` sets those of the synthetic
training videos and ``--target-azimuths`` those of the target-style videos
(both default to RoCoG-v2's 30..330 in 60-degree steps), e.g. frontal-only
training against the default::

    .venv/bin/python benchmarks/motion_demo_accuracy.py --encoders motion --seeds 0 --azimuths 330,0,30
Prints a table and writes ``bench-out/motion_demo_accuracy.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SOURCES = ("synthetic", "target", "synthetic+target")


def generate(root: Path, seed: int, per_syn: int, per_tgt: int, size: int, frames: int, workers: int,
             azimuths: str | None = None, target_azimuths: str | None = None) -> None:
    """The demo's two generate_dataset calls (same seeds and splits as run_demo)."""
    from gesturebench.synth import generate_dataset

    generate_dataset(root, per_class=per_syn, views=("ground",), seed=seed, style="default",
                     size=size, frames=frames, workers=workers, splits={"train": 1.0}, azimuths=azimuths)
    generate_dataset(root, per_class=per_tgt, views=("ground",), seed=seed + 1, style="target",
                     size=size, frames=frames, workers=workers, splits={"train": 0.5, "test": 0.5},
                     azimuths=target_azimuths)


def evaluate(data: Path, feat_dir: Path, encoders: list[str], workers: int, options: dict) -> dict:
    import torch

    from gesturebench.data.manifest import load_rocog
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders import create_encoder
    from gesturebench.evaluators.knn import evaluate_knn
    from gesturebench.features.extract import extract_features
    from gesturebench.features.store import FeatureStore

    torch.set_num_threads(1)
    ann = data / "annotations"
    sets = {
        "synthetic": load_rocog(data, [ann / "syn_ground_train.txt"]),
        "target": load_rocog(data, [ann / "tgt_ground_train.txt"]),
        "target-test": load_rocog(data, [ann / "tgt_ground_test.txt"]),
    }
    out: dict = {}
    for name in encoders:
        enc = create_encoder(name, device="cpu", **(options if name == "motion" else {}))
        sampler = SamplerConfig(name="tsn", num_frames=enc.spec.num_frames, mode="test")
        stores, t0, n = {}, time.perf_counter(), 0
        for set_name, manifest in sets.items():
            path = feat_dir / name / set_name
            # overwrite: always measure the current code (a code change need not change the store key)
            extract_features(manifest, enc, path, sampler=sampler, workers=workers, device="cpu", overwrite=True)
            stores[set_name] = FeatureStore(path).load()
            n += len(manifest.records)
        acc = {}
        for source in SOURCES:
            train = [stores[s] for s in source.split("+")]
            acc[source] = evaluate_knn(train, stores["target-test"], k=3, metric="l2", bootstrap=0).accuracy
        out[name] = {"accuracy": acc, "extract_s": time.perf_counter() - t0, "videos": n,
                     "feature_dim": enc.feature_dim, "num_frames": enc.spec.num_frames,
                     "size": enc.spec.size, "chance": 1.0 / len(stores["target-test"].class_names)}
    return out


def encode_ms_per_clip(options: dict, clips: int = 16) -> dict:
    """Single-thread encode-only time of ``motion`` on random clips (no decode)."""
    import numpy as np
    import torch

    from gesturebench.encoders import create_encoder
    from gesturebench.encoders.preprocess import normalize

    torch.set_num_threads(1)
    enc = create_encoder("motion", device="cpu", **options)
    s, t = enc.spec.size, enc.spec.num_frames
    rng = np.random.default_rng(0)
    x = normalize(torch.from_numpy(rng.integers(0, 256, (clips, t, s, s, 3), dtype=np.uint8)), enc.spec)
    enc.encode(x[:2])
    t0, c0 = time.perf_counter(), time.process_time()
    enc.encode(x)
    return {"wall_ms": 1e3 * (time.perf_counter() - t0) / clips, "cpu_ms": 1e3 * (time.process_time() - c0) / clips}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="existing dataset root (RoCoG layout from the demo); one seed")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--per-class-synthetic", type=int, default=30)
    p.add_argument("--per-class-target", type=int, default=20)
    p.add_argument("--size", type=int, default=160)
    p.add_argument("--frames", type=int, default=48)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--encoders", nargs="+", default=["pixels", "motion"])
    p.add_argument("--motion-option", action="append", default=[], metavar="KEY=INT",
                   help="motion encoder option (num_frames, size, grid, ...); repeatable")
    p.add_argument("--azimuths", help="camera azimuths of the synthetic training videos (synth --azimuths syntax)")
    p.add_argument("--target-azimuths", help="camera azimuths of the target-style videos")
    p.add_argument("--out", type=Path, default=ROOT / "bench-out")
    args = p.parse_args(argv)
    options = {k: int(v) for k, v in (o.split("=", 1) for o in args.motion_option)}
    tag = "-".join(f"{k}{v}" for k, v in sorted(options.items())) or "default"

    cams = "".join(f"-{k}{v.replace(',', '_').replace(':', '~')}" for k, v in
                   (("az", args.azimuths), ("taz", args.target_azimuths)) if v)
    runs = []
    if args.data is not None:
        runs.append((args.seeds[0], args.data))
    else:
        for seed in args.seeds:
            root = args.out / "motion-data" / (
                f"s{seed}-syn{args.per_class_synthetic}-tgt{args.per_class_target}-{args.size}px-{args.frames}f{cams}")
            generate(root, seed, args.per_class_synthetic, args.per_class_target, args.size, args.frames, args.workers,
                     args.azimuths, args.target_azimuths)
            runs.append((seed, root))

    results = []
    for seed, root in runs:
        feat_dir = args.out / "motion-features" / f"{root.resolve().as_posix().replace('/', '_')}-{tag}"
        res = evaluate(root, feat_dir, args.encoders, args.workers, options)
        results.append({"seed": seed, "data": str(root), "encoders": res})

    timing = encode_ms_per_clip(options) if "motion" in args.encoders else {}
    print(f"{'seed':>4}  {'encoder':<8} {'dim':>5} {'T':>3}  " + "  ".join(f"{s:>16}" for s in SOURCES))
    for r in results:
        for name, e in r["encoders"].items():
            cells = "  ".join(f"{100 * e['accuracy'][s]:>15.1f}%" for s in SOURCES)
            print(f"{r['seed']:>4}  {name:<8} {e['feature_dim']:>5} {e['num_frames']:>3}  {cells}")
    if results:
        chance = next(iter(results[0]["encoders"].values()))["chance"]
        print(f"chance {100 * chance:.1f}%; motion options {options or 'preset'}; azimuths: synthetic "
              f"{args.azimuths or 'RoCoG default'}, target {args.target_azimuths or 'RoCoG default'}")
    if timing:
        print(f"motion encode-only: {timing['wall_ms']:.1f} ms/clip wall, {timing['cpu_ms']:.1f} ms/clip CPU (1 thread)")
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"motion_demo_accuracy{cams}.json"
    path.write_text(json.dumps({"options": options, "azimuths": args.azimuths, "target_azimuths": args.target_azimuths,
                                "runs": results, "motion_encode": timing,
                                "loadavg": load, "cpu_count": os.cpu_count()}, indent=2))
    print(f"wrote {path} (load average {load})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
