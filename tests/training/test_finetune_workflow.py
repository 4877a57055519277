"""`finetune` end to end on tiny presets: outputs, loading as --weights, modes, cache hit, refusals, errors."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from gesturebench.api.finetune import finetune
from gesturebench.cli import main
from gesturebench.encoders import create_encoder
from gesturebench.errors import ConfigError, TrainingError
from gesturebench.evaluators.results import validate_document
from gesturebench.features.store import FeatureStore
from gesturebench.training.config import FinetuneConfig

FAST = dict(epochs=2, batch_size=4, warmup_epochs=1, lr=0.5)


def _run(rocog, out, encoder="test-tiny-vit", **kw):
    root, lists = rocog
    cfg = FinetuneConfig(**{**FAST, **kw.pop("cfg", {})})
    return finetune(root, [lists["syn_ground_train"]], encoder, out, cfg, device="cpu",
                    val_lists=[lists["tgt_ground_test"]], **kw)


def test_outputs_and_extract_with_the_checkpoint_reproduces_val_accuracy(rocog, tmp_path):
    root, lists = rocog
    res = _run(rocog, tmp_path / "run", encoder="umt-test-tiny")
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == ["curves.png", "head.safetensors", "model.safetensors",
                                                     "run.json", "training.json"]
    doc = json.loads((run / "training.json").read_text())
    assert doc["task"] == "finetune" and doc["schema"] == "gesturebench.result/1" and doc["encoder"] == "umt-test-tiny"
    assert [h["epoch"] for h in doc["history"]] == [1, 2] and doc["settings"]["mode"] == "full"
    assert set(doc["provenance"]) == {"git_revision", "versions", "machine"} and doc["created"]
    assert validate_document(doc) is None  # the study's task type for "finetune" accepts it
    assert doc["class_names"] == ["Advance", "Attention", "Rally", "Halt"] and doc["train"]["n"] == 8
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the checkpoint is what `extract --weights` loads; the head on the extracted features scores the
    # validation list exactly as the last epoch's validation did (same test-mode clips)
    rc = main(["extract", "--data", str(root), "--list", str(lists["tgt_ground_test"]), "--encoder", "umt-test-tiny",
               "--weights", str(run / "model.safetensors"), "--out", str(tmp_path / "st"), "--workers", "0",
               "--device", "cpu"])
    assert rc == 0
    fs = FeatureStore(tmp_path / "st").load()
    head = load_file(run / "head.safetensors")
    pred = (torch.from_numpy(np.asarray(fs.features)) @ head["weight"].T + head["bias"]).argmax(1).numpy()
    truth = np.asarray(fs.labels)
    assert (pred == truth).mean() == pytest.approx(res.history[-1]["val_accuracy"])
    with safe_open(run / "head.safetensors", "pt") as f:
        assert json.loads(f.metadata()["class_names"]) == doc["class_names"]
    # and the pre-trained (random-init test preset) encoder gives other features
    pre = create_encoder("umt-test-tiny", device="cpu")
    tuned = create_encoder("umt-test-tiny", weights=run / "model.safetensors", device="cpu")
    x = torch.randn(2, 3, *[pre.spec.num_frames, pre.spec.size, pre.spec.size])
    assert not torch.allclose(pre.encode(x), tuned.encode(x))
    assert tuned.weights_sha256() == doc["outputs"]["model.safetensors"]


def test_head_mode_leaves_the_encoder_untouched_and_partial_only_the_last_blocks(rocog, tmp_path):
    base = {k: v for k, v in create_encoder("test-tiny-vit", device="cpu").model.state_dict().items()}
    _run(rocog, tmp_path / "head", cfg={"mode": "head"})
    sd = load_file(tmp_path / "head" / "model.safetensors")
    assert sd.keys() == base.keys() and all(torch.equal(sd[k], base[k]) for k in base)
    assert load_file(tmp_path / "head" / "head.safetensors")["weight"].abs().sum() > 0
    _run(rocog, tmp_path / "partial", cfg={"mode": "partial", "unfreeze_blocks": 1})
    sd = load_file(tmp_path / "partial" / "model.safetensors")
    same = {k for k in base if torch.equal(sd[k], base[k])}
    assert same == {k for k in base if not k.startswith(("blocks.1.", "norm."))}
    doc = json.loads((tmp_path / "partial" / "training.json").read_text())
    assert doc["parameters"]["trainable"] == sum(v.numel() for k, v in base.items() if k not in same) + 4 * 32 + 4


def test_cache_hit_refusal_and_overwrite(rocog, tmp_path):
    out = tmp_path / "run"
    first = _run(rocog, out, encoder="videomae-test-tiny")
    again = _run(rocog, out, encoder="videomae-test-tiny")
    assert again.cached and not first.cached and again.document["run_key"] == first.document["run_key"]
    with pytest.raises(TrainingError, match=re.escape(f"{out} holds a fine-tuning run with other settings (changed: config.lr)")):
        _run(rocog, out, encoder="videomae-test-tiny", cfg={"lr": 0.1})
    redo = _run(rocog, out, encoder="videomae-test-tiny", cfg={"lr": 0.1}, overwrite=True)
    assert not redo.cached and redo.document["settings"]["lr"] == 0.1


def test_one_line_errors(rocog, tmp_path, capsys):
    root, lists = rocog
    base = ["finetune", "--data", str(root), "--list", str(lists["syn_ground_train"]), "--out", str(tmp_path / "r"),
            "--device", "cpu", "--workers", "0", "--epochs", "1"]
    cases = [
        (["--encoder", "test-tiny-vit", "--classes", "Advance,Salute"],
         "error: unknown class 'Salute' in --classes; allowed: Advance, Attention, Rally, Halt"),
        (["--encoder", "test-tiny-vit", "--classes", " , "], "error: --classes is empty; give class names separated by commas"),
        (["--encoder", "motion"], "error: encoder 'motion' is training-free: nothing to train (for an adapter on its "
                                  "features, see `gesturebench unseen --method head`)"),
        (["--encoder", "test-tiny-vit", "--mode", "partial", "--unfreeze-blocks", "5"],
         "error: --unfreeze-blocks 5 is more than the encoder's 2 blocks"),
    ]
    for extra, line in cases:
        assert main(base + extra) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1] == line
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["finetune", "--data", str(root), "--list", str(empty), "--encoder", "test-tiny-vit", "--out",
                 str(tmp_path / "r2")]) == 1
    assert "empty manifest: no videos listed" in capsys.readouterr().err


def test_cli_trains_then_reports_a_cache_hit(rocog, tmp_path, capsys):
    root, lists = rocog
    argv = ["finetune", "--data", str(root), "--list", str(lists["syn_ground_train"]), "--encoder", "test-tiny-clip",
            "--out", str(tmp_path / "run"), "--epochs", "1", "--batch-size", "4", "--device", "cpu", "--workers", "0",
            "--mode", "partial", "--unfreeze-blocks", "1", "--classes", "Rally,Advance"]
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "fine-tuned test-tiny-clip (partial" in out.out and "epoch 1/1" in out.err and "clips/s" in out.err
    doc = json.loads((tmp_path / "run" / "training.json").read_text())
    assert doc["class_names"] == ["Rally", "Advance"] and doc["train"]["n"] == 4
    assert main(argv) == 0
    assert "cache hit" in capsys.readouterr().out
    with pytest.raises(ConfigError):
        FinetuneConfig(warmup_epochs=3, epochs=1)


def test_transformers_videomae_wrapper_round_trips_as_a_from_pretrained_folder(rocog, tmp_path):
    transformers = pytest.importorskip("transformers")
    root, lists = rocog
    cfg = transformers.VideoMAEConfig(
        image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, use_mean_pooling=True, num_labels=3,
    )
    torch.manual_seed(0)
    transformers.VideoMAEForVideoClassification(cfg).save_pretrained(tmp_path / "ckpt")
    res = _run(rocog, tmp_path / "run", encoder="videomae-b16-k400-hf", weights=tmp_path / "ckpt")
    run = tmp_path / "run"
    conf = json.loads((run / "config.json").read_text())
    assert conf["architectures"] == ["VideoMAEForVideoClassification"]
    assert conf["id2label"] == {"0": "Advance", "1": "Attention", "2": "Rally", "3": "Halt"}
    rc = main(["extract", "--data", str(root), "--list", str(lists["tgt_ground_test"]), "--encoder",
               "videomae-b16-k400-hf", "--weights", str(run / "model.safetensors"), "--out", str(tmp_path / "st"),
               "--workers", "0", "--device", "cpu"])
    assert rc == 0
    fs = FeatureStore(tmp_path / "st").load()
    head = load_file(run / "head.safetensors")
    pred = (torch.from_numpy(np.asarray(fs.features)) @ head["weight"].T + head["bias"]).argmax(1).numpy()
    assert (pred == np.asarray(fs.labels)).mean() == pytest.approx(res.history[-1]["val_accuracy"])
    before = create_encoder("videomae-b16-k400-hf", weights=tmp_path / "ckpt", device="cpu")
    after = create_encoder("videomae-b16-k400-hf", weights=run / "model.safetensors", device="cpu")
    assert after.spec == before.spec and after.weights_sha256() == res.document["outputs"]["model.safetensors"]
    # the classifier of the saved folder is the trained head
    sd = load_file(run / "model.safetensors")
    assert torch.equal(sd["classifier.weight"], head["weight"])
