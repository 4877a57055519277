"""What BlazePose (the ``pose`` encoder's detector) does on our renders and on real clips, and what it costs.

1. **Renders by camera azimuth.** For each azimuth (0 = facing the camera) one
   video per gesture (default style, ground view, ``--size`` px, 48 frames) is
   rendered; its 24 TSN frames go through :func:`detect_track`. Per azimuth:
   the detection rate (frames with both shoulders and hips seen), the median
   wrist error against the renderer's ground-truth joints (torso lengths, on
   detected frames), the share of frames where left and right are swapped
   (the detected left shoulder is nearer the true right one), and the view
   verdicts of the clip report.
2. **Real clips** in ``--real-clips`` (default ``../shared/real-clips``):
   detection rate, view verdict, scale used, masked joints.
3. **Cost.** Detection ms per frame and the whole encoder per clip
   (24 frames, decode excluded); joints-only synthesis clips per second.

Usage::

    .venv/bin/python benchmarks/pose_detection.py [--azimuths 0 30 90 ...] [--real-clips DIR]

Prints tables and writes ``bench-out/pose_detection.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WRISTS = ("l_wrist", "r_wrist")


def renders_by_azimuth(azimuths: list[float], size: int, seed: int) -> dict:
    import numpy as np

    from gesturebench.data.sampling import tsn_indices
    from gesturebench.encoders.pose.encoder import detect_track
    from gesturebench.encoders.pose.features import pose_feature
    from gesturebench.synth.gestures import load_gestures
    from gesturebench.synth.randomize import sample_params
    from gesturebench.synth.render import render_clip
    from gesturebench.synth.skeleton import JOINT_INDEX as J

    specs = load_gestures(None)
    out = {}
    frame_ms = []
    for az in azimuths:
        det = frames = swapped = 0
        errors, views = [], {}
        for spec in specs:
            p = {**sample_params(seed, "default", "ground", spec, 0, size, 48), "camera_azimuth": float(az)}
            clip = render_clip(p, spec)
            idx = tsn_indices(len(clip.frames), 24)
            t0 = time.perf_counter()
            track = detect_track(clip.frames[idx])
            frame_ms.append(1e3 * (time.perf_counter() - t0) / len(idx))
            _, rep = pose_feature(track)
            views[rep.view] = views.get(rep.view, 0) + 1
            gt = clip.joints_2d[idx]
            torso = np.median(np.hypot(*(0.5 * (gt[:, J["l_shoulder"]] + gt[:, J["r_shoulder"]])
                                         - 0.5 * (gt[:, J["l_hip"]] + gt[:, J["r_hip"]])).T))
            core = (track.visibility[:, [11, 12, 23, 24]] >= 0.5).all(1)
            frames += len(idx)
            det += int(core.sum())
            if core.any():
                ls = track.xy[core, track.joints.index("l_shoulder")]
                swapped += int((np.hypot(*(ls - gt[core, J["r_shoulder"]]).T)
                                < np.hypot(*(ls - gt[core, J["l_shoulder"]]).T)).sum())
                for w in WRISTS:
                    e = np.hypot(*(track.xy[core, track.joints.index(w)] - gt[core, J[w]]).T) / torso
                    errors.extend(e.tolist())
        out[str(az)] = {"clips": len(specs), "detection_rate": det / frames,
                        "wrist_error_median": float(np.median(errors)) if errors else None,
                        "swapped_rate": swapped / det if det else None, "views": views}
    return {"by_azimuth": out, "detect_ms_per_frame": float(np.median(frame_ms))}


def real_clips(folder: Path) -> dict:
    from gesturebench.data.decode import decode_clip
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders.base import InputSpec
    from gesturebench.encoders.pose.encoder import detect_track
    from gesturebench.encoders.pose.features import pose_feature
    from gesturebench.encoders.preprocess import resize_crop

    out = {}
    spec = InputSpec(num_frames=24, size=256)
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".mp4", ".avi", ".gif", ".mov", ".webm"):
            continue
        try:
            frames = resize_crop(decode_clip(path, SamplerConfig(num_frames=24)), spec)
        except Exception as exc:  # a real clip we cannot decode is a row, not a crash
            out[path.name] = {"error": str(exc)}
            continue
        _, rep = pose_feature(detect_track(frames))
        out[path.name] = rep.to_dict()
    return out


def encoder_cost(clips: int = 6) -> dict:
    """The whole ``pose`` encoder per clip (fresh graph, 24 detections, feature), decode excluded."""
    import numpy as np
    import torch

    from gesturebench.data.sampling import tsn_indices
    from gesturebench.encoders import create_encoder
    from gesturebench.encoders.preprocess import normalize, resize_crop
    from gesturebench.synth.gestures import load_gestures
    from gesturebench.synth.randomize import sample_params
    from gesturebench.synth.render import render_clip

    torch.set_num_threads(1)
    enc = create_encoder("pose", device="cpu")
    specs = load_gestures(None)
    batch = []
    for i in range(clips):
        clip = render_clip(sample_params(9, "default", "ground", specs[i % 7], i, 224, 48), specs[i % 7])
        batch.append(resize_crop(clip.frames[tsn_indices(48, 24)], enc.spec))
    x = normalize(torch.from_numpy(np.stack(batch)), enc.spec)
    enc.encode(x[:1])
    t0, c0 = time.perf_counter(), time.process_time()
    enc.encode(x)
    return {"wall_ms_per_clip": 1e3 * (time.perf_counter() - t0) / clips,
            "cpu_ms_per_clip": 1e3 * (time.process_time() - c0) / clips, "clips": clips}


def joints_only_rate(tmp: Path, per_class: int) -> dict:
    from gesturebench.synth.joints_only import JointsOnlyConfig, synth_joints_only

    out = {}
    for workers in (0, 2):
        s = synth_joints_only(JointsOnlyConfig(per_class=per_class, size=160, frames=48), tmp / f"w{workers}",
                              workers=workers, overwrite=True)
        out[f"workers={workers}"] = {"clips": s.total, "seconds": s.seconds, "clips_per_s": s.total / s.seconds}
    return out


def main(argv: list[str] | None = None) -> int:
    import shutil
    import tempfile

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--azimuths", type=float, nargs="+", default=[0, 30, 60, 90, 150, 180, 210, 270, 330])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--real-clips", type=Path, default=ROOT.parent / "shared" / "real-clips")
    p.add_argument("--joints-per-class", type=int, default=300)
    p.add_argument("--out", type=Path, default=ROOT / "bench-out")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    res: dict = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                             "processor": platform.processor()}}
    res["renders"] = renders_by_azimuth(args.azimuths, args.size, args.seed)
    print(f"{'azimuth':>8} {'detected':>9} {'wrist err':>10} {'swapped':>8}  views")
    for az, r in res["renders"]["by_azimuth"].items():
        err = "-" if r["wrist_error_median"] is None else f"{r['wrist_error_median']:.3f}"
        sw = "-" if r["swapped_rate"] is None else f"{100 * r['swapped_rate']:.0f}%"
        print(f"{float(az):>8.0f} {100 * r['detection_rate']:>8.0f}% {err:>10} {sw:>8}  {r['views']}")
    print(f"detection: {res['renders']['detect_ms_per_frame']:.1f} ms/frame (median over clips, 1 process)")
    if args.real_clips.is_dir():
        res["real_clips"] = real_clips(args.real_clips)
        for name, r in res["real_clips"].items():
            if "error" in r:
                print(f"  {name}: {r['error']}")
            else:
                print(f"  {name:<46} detected {100 * r['detection_rate']:>4.0f}%  view {r['view']:<5} "
                      f"width {r['width_ratio']}  swapped {100 * r['swapped']:.0f}%  scale {r['scale']}  masked {r['masked']}")
    else:
        print(f"(no real clips: {args.real_clips} is absent)")
    res["encoder_cost"] = encoder_cost()
    print(f"pose encoder: {res['encoder_cost']['wall_ms_per_clip']:.0f} ms/clip wall, "
          f"{res['encoder_cost']['cpu_ms_per_clip']:.0f} ms/clip CPU (24 frames, decode excluded)")
    tmp = Path(tempfile.mkdtemp(prefix="pose-bench-"))
    try:
        res["joints_only"] = joints_only_rate(tmp, args.joints_per_class)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for k, r in res["joints_only"].items():
        print(f"joints-only {k}: {r['clips']} clips in {r['seconds']:.1f}s = {r['clips_per_s']:.0f} clips/s")
    try:
        res["loadavg"] = os.getloadavg()
    except OSError:
        res["loadavg"] = None
    res["seconds"] = time.perf_counter() - t0
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "pose_detection.json"
    path.write_text(json.dumps(res, indent=2))
    print(f"wrote {path} ({res['seconds']:.0f}s; load average {res['loadavg']}, {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
