"""§3 of issue 8 end to end on a tiny preset: fine-tune on synthetic and on target-style lists, then
`bench --weights <pre-trained> --weights RUN_syn/model.safetensors --weights RUN_tgt/model.safetensors`
gives a latency ratio with a CI and a verdict per batch size for each fine-tuned checkpoint."""

from __future__ import annotations

import json

from gesturebench.cli import main


def test_finetune_syn_and_tgt_then_bench_the_checkpoints(rocog, tmp_path, capsys):
    root, lists = rocog
    for name, lst in (("run_syn", "syn_ground_train"), ("run_tgt", "tgt_ground_train")):
        assert main(["finetune", "--data", str(root), "--list", str(lists[lst]), "--encoder", "videomae-test-tiny",
                     "--epochs", "1", "--batch-size", "4", "--lr", "0.5", "--device", "cpu", "--workers", "0",
                     "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    rc = main(["bench", "--encoder", "videomae-test-tiny", "--weights", "default",
               "--weights", str(tmp_path / "run_syn" / "model.safetensors"),
               "--weights", str(tmp_path / "run_tgt" / "model.safetensors"),
               "--batch-sizes", "1,2", "--budget", "0.2", "--min-reps", "5", "--max-reps", "20", "--warmup", "1",
               "--device", "cpu", "--no-plots", "--out", str(tmp_path / "bench")])
    out = capsys.readouterr().out
    assert rc == 0
    doc = json.loads((tmp_path / "bench" / "bench.json").read_text())
    labels = [v["label"] for v in doc["variants"]]
    assert labels == ["videomae-test-tiny@default", "videomae-test-tiny@run_syn/model", "videomae-test-tiny@run_tgt/model"]
    comps = doc["comparisons"]
    assert sorted((c["other"], c["batch_size"]) for c in comps) == [
        (labels[1], 1), (labels[1], 2), (labels[2], 1), (labels[2], 2)]
    for c in comps:
        assert c["baseline"] == labels[0] and c["ci_low"] <= c["ratio"] <= c["ci_high"]
        assert c["sentence"].startswith(f"batch {c['batch_size']}: {c['other']} / {labels[0]} median latency = ")
    assert len(doc["summary"]) == 2 and all(line.startswith("videomae-test-tiny@run_") for line in doc["summary"])
    assert "run_syn/model vs videomae-test-tiny@default" in out.replace("\n", " ")
