"""kill -9 in the middle of epoch 3, rerun the same command: the final weights are bit-identical to an
uninterrupted run's (CPU, same seed), with drop-path active so the restored RNG state matters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from safetensors.torch import load_file
from waiting import wait_for

HERE = Path(__file__).resolve().parent

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import torch
    sys.path.insert(0, {here!r})
    from gesturebench.api.finetune import finetune
    from gesturebench.training.config import FinetuneConfig

    out = Path(sys.argv[1])
    state = {{}}

    def progress(kind, **info):
        if kind == "epoch_start":
            state["epoch"] = info["epoch"]
        if kind == "batch" and state["epoch"] == 3:
            (out / "in-epoch-3").write_text("x")
            time.sleep(120)  # the parent kills us here

    cfg = FinetuneConfig(epochs=4, batch_size=3, accumulate=2, warmup_epochs=1, lr=0.5, drop_path=0.3, seed=7)
    torch.set_num_threads(1)
    finetune({root!r}, [{train!r}], "umt-test-tiny", out, cfg, device="cpu", workers=0, progress=progress)
    """
)


def _child(script: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), str(out), "pause"], env=env, stderr=subprocess.PIPE)



def test_sigkill_then_resume_is_bit_identical(rocog, tmp_path):
    root, lists = rocog
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(here=str(HERE), root=str(root), train=str(lists["syn_ground_train"])))
    ref, run = tmp_path / "ref", tmp_path / "run"
    run.mkdir()
    child = _child(script, run)
    try:
        assert wait_for(lambda: (run / "in-epoch-3").exists() or child.poll() is not None, 120), "child never reached epoch 3"
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not (run / "model.safetensors").exists() and (run / "checkpoint.pt").is_file()
    assert torch.load(run / "checkpoint.pt", weights_only=True)["epoch"] == 2
    # the same call again, here (one torch thread, like the child), and an uninterrupted reference
    from gesturebench.api.finetune import finetune
    from gesturebench.training.config import FinetuneConfig

    cfg = FinetuneConfig(epochs=4, batch_size=3, accumulate=2, warmup_epochs=1, lr=0.5, drop_path=0.3, seed=7)
    for out in (run, ref):
        finetune(root, [lists["syn_ground_train"]], "umt-test-tiny", out, cfg, device="cpu", workers=0)
    a, b = load_file(run / "model.safetensors"), load_file(ref / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ha, hb = load_file(run / "head.safetensors"), load_file(ref / "head.safetensors")
    assert all(torch.equal(ha[k], hb[k]) for k in ha)
    da, db = (json.loads((d / "training.json").read_text()) for d in (run, ref))
    assert da["resumed_from_epoch"] == 2 and db["resumed_from_epoch"] == 0
    assert [h["train_loss"] for h in da["history"]] == [h["train_loss"] for h in db["history"]]
    assert not (run / "checkpoint.pt").exists()
    # and the weights did move: resuming from scratch by mistake would not give the same file
    base = create_pretrained()
    assert not all(torch.equal(a[k], base[k]) for k in base)


def create_pretrained():
    from gesturebench.encoders import create_encoder

    return create_encoder("umt-test-tiny", device="cpu").model.state_dict()
