"""Latency of one recogniser prediction (decode + encode + k-NN) for a 3-second 640x480 clip.

Targets (issue 11): <= 0.5 s with ``motion``, <= 1 s with ``pose``, on 2 CPU cores.

What it does:

1. renders the seven built-in gestures (``--per-class`` videos each, 160 px, ground view),
   extracts them with each encoder and fits a recogniser (the index the query searches);
2. renders one more clip at 480x480, 90 frames, pads it to 640x480 and writes it as H.264
   at 30 fps (3.0 s): the query;
3. loads the recogniser as ``predict``/``serve`` do and times ``predict_file`` on the query
   ``--repeats`` times after 2 warm-up calls; prints the median and 90th percentile of each
   stage, the machine and the load average. ``--index-rows`` adds a k-NN-only timing against
   a planted index of that many rows (the size of RoCoG-v2's synthetic set is 44.5K).

An encoder that is not registered here (``pose`` before the pose helper's work lands) is
reported as such, not timed. Writes ``bench-out/recogniser_latency.json``.

    .venv/bin/python benchmarks/recogniser_latency.py [--encoders motion,pose] [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGETS = {"motion": 0.5, "pose": 1.0}


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def make_query_clip(path: Path, seed: int = 7) -> Path:
    """A 3.0 s, 640x480, 30 fps H.264 clip of a rendered gesture (padded from 480x480)."""
    import numpy as np

    from gesturebench.synth.writer import encode_mp4, generate_dataset

    if path.exists():
        return path
    src = path.parent / "query-src"
    generate_dataset(src, 1, ["ground"], seed, size=480, frames=90, workers=0, splits="train=1.0")
    video = sorted((src / "syn" / "ground" / "Rally").glob("*.mp4"))[0]
    from gesturebench.data.decode import probe, read_frames

    frames = read_frames(video, range(probe(video).num_frames))[:90]
    padded = np.pad(frames, ((0, 0), (0, 0), (80, 80), (0, 0)), mode="edge")
    encode_mp4(path, padded, 30, 23)
    return path


def make_model(work: Path, encoder: str, per_class: int, frames: int | None = None) -> Path:
    """Render (once), extract with ``encoder`` and fit; returns the model folder."""
    from gesturebench.api.recognise import fit_recogniser
    from gesturebench.data.manifest import load_manifest
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders.registry import create_encoder
    from gesturebench.features.extract import extract_features
    from gesturebench.synth.writer import generate_dataset

    data = work / f"train-data-{per_class}"
    generate_dataset(data, per_class, ["ground"], 0, size=160, frames=48, workers=0, splits="train=1.0")
    tag = f"{encoder}-{per_class}" + (f"-f{frames}" if frames else "")
    store, model = work / f"store-{tag}", work / f"model-{tag}"
    enc = create_encoder(encoder, device="cpu", **({"num_frames": frames} if frames else {}))
    extract_features(load_manifest(data), enc, store, SamplerConfig(num_frames=enc.spec.num_frames), workers=0)
    if not (model / "recogniser.json").exists():
        fit_recogniser([store], model)
    return model


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values), q))


def time_encoder(model: Path, query: Path, repeats: int) -> dict:
    from gesturebench.api.recognise import load_recogniser

    rec = load_recogniser(model)
    for _ in range(2):
        rec.predict_file(query)
    runs = [rec.predict_file(query).timings for _ in range(repeats)]
    out = {}
    for stage in ("decode_s", "encode_s", "knn_s", "total_s"):
        vals = [r[stage] for r in runs]
        out[stage] = {"median": percentile(vals, 50), "p90": percentile(vals, 90)}
    out["index_rows"] = len(rec.model)
    out["label"] = rec.predict_file(query).label
    return out


def time_knn_only(rows: int, dim: int, repeats: int) -> dict:
    """k-NN of one query against a planted index of ``rows`` x ``dim`` (the index part only)."""
    import numpy as np

    from gesturebench.evaluators.knn import knn_neighbors, majority_vote

    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, dim)).astype(np.float32)
    y = rng.integers(0, 7, rows)
    q = rng.standard_normal((1, dim)).astype(np.float32)
    times = []
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        idx, _ = knn_neighbors(x, q, k=3, device="cpu")
        majority_vote(y[idx], 7)
        times.append(time.perf_counter() - t0)
    times = times[2:]
    return {"rows": rows, "dim": dim, "median": percentile(times, 50), "p90": percentile(times, 90)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoders", default="motion,pose")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2, help="torch and OpenCV threads (the target is 2 cores)")
    ap.add_argument("--index-rows", type=int, default=44500)
    ap.add_argument("--frames", type=int, default=None, help="frames per clip (default: each encoder's own)")
    ap.add_argument("--work", type=Path, default=ROOT / "bench-out" / "recogniser")
    args = ap.parse_args()

    import cv2
    import torch

    from gesturebench.encoders.registry import list_encoders
    from gesturebench.provenance import machine_info

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    query = make_query_clip(args.work / "query-640x480-3s.mp4")
    registered = {e.name for e in list_encoders()}
    results: dict = {"machine": machine_info(), "threads": args.threads, "query": str(query), "encoders": {}}
    print(f"machine: {results['machine']['processor']}, {results['machine']['cpu_count']} cores, "
          f"{args.threads} threads; load average {load_before:.2f} before")
    print(f"query: {query.name} (640x480, 90 frames at 30 fps = 3.0 s)")
    for name in [e.strip() for e in args.encoders.split(",") if e.strip()]:
        if name not in registered:
            print(f"{name}: not registered in this checkout (not measured)")
            results["encoders"][name] = {"status": "not registered"}
            continue
        t0 = time.perf_counter()
        model = make_model(args.work, name, args.per_class, args.frames)
        setup = time.perf_counter() - t0
        r = time_encoder(model, query, args.repeats)
        r["target_s"] = TARGETS.get(name)
        r["frames"] = args.frames
        results["encoders"][name] = r
        verdict = "" if r["target_s"] is None else (
            f"  target <= {r['target_s']} s: {'met' if r['total_s']['median'] <= r['target_s'] else 'MISSED'}")
        print(f"{name}: total median {r['total_s']['median']:.3f} s (p90 {r['total_s']['p90']:.3f}) = decode "
              f"{r['decode_s']['median']:.3f} + encode {r['encode_s']['median']:.3f} + k-NN "
              f"{r['knn_s']['median'] * 1000:.1f} ms; index {r['index_rows']} videos; answer {r['label']}; "
              f"setup {setup:.0f} s{verdict}")
    if args.index_rows:
        dim = 1120
        k = time_knn_only(args.index_rows, dim, args.repeats)
        results["knn_only"] = k
        print(f"k-NN alone against {k['rows']} x {dim} planted rows: median {k['median'] * 1000:.1f} ms "
              f"(p90 {k['p90'] * 1000:.1f})")
    results["load_average"] = {"before": load_before, "after": load_average()}
    print(f"load average after: {results['load_average']['after']:.2f}")
    out = ROOT / "bench-out" / "recogniser_latency.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
