"""Fine-tuning throughput on CPU: clips/s of a full training step (forward + backward + AdamW), and peak RSS.

Run:  .venv/bin/python benchmarks/finetune_throughput.py [--encoders test-tiny-vit,umt-b16-k710-ft-k400]
          [--batch-size 2] [--steps 3] [--threads 2]

Each encoder runs in a fresh subprocess (so its peak RSS is its own): the
ViT-B/16 preset is built with random weights (``random_init``; the cost does
not depend on the values) at its own input size (8 x 224^2 for UMT-B/16).
Clips are random tensors already normalised: this times the model step of
``gesturebench finetune --mode full`` (the same trainable view, optimiser
groups, label-smoothed loss), not decoding. One untimed warm-up step, then
``--steps`` timed steps. Prints the machine, thread count and load average;
quote the numbers with them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import torch
from torch.nn import functional as F
from gesturebench.encoders import create_encoder
from gesturebench.training.config import FinetuneConfig
from gesturebench.training.loop import make_head
from gesturebench.training.optim import make_optimizer, parameter_groups, set_lr
from gesturebench.training.trainable import select_trainable, trainable_view

name, batch, steps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
opts = {} if name.startswith("test-") else {"random_init": True}
enc = create_encoder(name, device="cpu", **opts)
view = trainable_view(enc)
cfg = FinetuneConfig(mode="full", batch_size=batch)
params = select_trainable(view, "full", 1)
head = make_head(enc.feature_dim, 7, cfg)
opt = make_optimizer(parameter_groups(view, params, head, cfg), cfg)
if view.set_drop_path:
    view.set_drop_path(cfg.drop_path)
view.module.train()
s = enc.spec
shape = (batch, 3, s.num_frames, s.size, s.size) if s.layout == "CTHW" else (batch, s.num_frames, 3, s.size, s.size)
x = torch.randn(shape)
y = torch.randint(0, 7, (batch,))
def step():
    set_lr(opt, 1e-4)
    loss = F.cross_entropy(head(view.forward(x)), y, label_smoothing=0.1)
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
step()
times = []
for _ in range(steps):
    t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
n_params = sum(p.numel() for p in view.module.parameters())
print(json.dumps({"encoder": name, "batch": batch, "steps": steps, "threads": threads, "params": n_params,
                  "spec": s.describe(), "step_s": times, "clips_per_s": batch * steps / sum(times),
                  "peak_rss_mib": rss}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--encoders", default="test-tiny-vit,umt-b16-k710-ft-k400")
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO / "src"))
    from gesturebench.provenance import machine_info

    print(f"machine: {json.dumps(machine_info())}")
    print(f"load average before: {os.getloadavg()}")
    rows = []
    for name in args.encoders.split(","):
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": str(REPO / "src")}
        out = subprocess.run([sys.executable, "-c", CHILD, name, str(args.batch_size), str(args.steps), str(args.threads)],
                             env=env, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{name:24s} {row['spec']:18s} params {row['params'] / 1e6:7.2f}M  batch {row['batch']}  "
              f"step {min(row['step_s']):8.3f}-{max(row['step_s']):8.3f} s  "
              f"{row['clips_per_s']:9.3f} clips/s (fwd+bwd+AdamW)  peak RSS {row['peak_rss_mib']:7.0f} MiB")
    print(f"load average after: {os.getloadavg()}")
    Path("bench-out").mkdir(exist_ok=True)
    Path("bench-out/finetune_throughput.json").write_text(json.dumps({"rows": rows, "load": os.getloadavg()}, indent=2))


if __name__ == "__main__":
    main()
