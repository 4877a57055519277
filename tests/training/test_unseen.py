"""The unseen-class protocol: folds, planted k-NN scores, paired bootstrap, the workflow, resume, errors."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from gesturebench.api.unseen import describe_method, run_unseen
from gesturebench.cli import main
from gesturebench.errors import ConfigError
from gesturebench.evaluators.results import validate_document
from gesturebench.evaluators.unseen import FoldScore, make_folds, paired_bootstrap, score_fold, summarize
from gesturebench.training.adapter import AdapterConfig

SEVEN = ("Advance", "Attention", "Rally", "MoveForward", "Halt", "FollowMe", "MoveInReverse")


def test_folds_all_35_splits_of_seven_else_seeded():
    folds = make_folds(SEVEN, 3)
    assert len(folds) == 35 == math.comb(7, 3)
    assert [u for u, _ in folds] == list(itertools.combinations(SEVEN, 3))
    assert folds[0] == (("Advance", "Attention", "Rally"), ("MoveForward", "Halt", "FollowMe", "MoveInReverse"))
    eight = SEVEN + ("Salute",)
    a, b = make_folds(eight, 3, folds=5, seed=1), make_folds(eight, 3, folds=5, seed=1)
    assert a == b and len(a) == 5 and len(set(a)) == 5 and a != make_folds(eight, 3, folds=5, seed=2)
    assert make_folds(SEVEN, 3, split=["Halt", "Advance"]) == [(("Advance", "Halt"), tuple(
        c for c in SEVEN if c not in ("Advance", "Halt")))]
    for bad in (0, 7, 9):
        with pytest.raises(ConfigError, match=rf"--unseen-classes must be at least 1 and below the number of classes \(7\); got {bad}"):
            make_folds(SEVEN, bad)
    with pytest.raises(ConfigError, match=r"unknown class 'Salute' in --split; allowed: Advance, "):
        make_folds(SEVEN, 3, split=["Salute"])


def test_score_fold_on_planted_features():
    # two unseen classes (2, 3) far apart; seen classes 0, 1; test row 5 is a class-3 video planted near class 2
    support = np.array([[10, 0], [10, 1], [10, -1], [-10, 0], [-10, 1], [-10, -1]], float)
    ys = np.array([2, 2, 2, 3, 3, 3])
    train = np.array([[0, 10], [1, 10], [0, -10], [1, -10]], float)
    yt = np.array([0, 0, 1, 1])
    test = np.array([[9, 0], [-9, 0], [0, 9], [0, -9], [-11, 0.5], [9.5, 0.2]], float)
    ytest = np.array([2, 3, 0, 1, 3, 3])
    s = score_fold(support, ys, train, yt, test, ytest, {2, 3})
    assert s.unseen_correct.tolist() == [True, True, True, False] and s.unseen_accuracy == 0.75
    assert s.seen_correct.tolist() == [True, True] and s.seen_accuracy == 1.0


def test_paired_bootstrap_and_summary_exact():
    a = np.array([1, 0, 0, 1, 0, 0, 1, 0], bool)
    b = np.array([1, 1, 0, 1, 1, 0, 1, 1], bool)
    mean, (lo, hi) = paired_bootstrap(a, b, seed=0)
    assert mean == 3 / 8 and 0.0 <= lo < mean < hi <= 0.75
    same = paired_bootstrap(a, a)
    assert same == (0.0, (0.0, 0.0))
    f = [FoldScore(a[:4], np.array([True])), FoldScore(a[4:], np.array([False]))]
    t = [FoldScore(b[:4], np.array([True])), FoldScore(b[4:], np.array([True]))]
    s = summarize(f, t, unseen_per_fold=3)
    assert s["frozen"]["unseen_accuracy"] == 3 / 8 and s["finetuned"]["unseen_accuracy"] == 6 / 8
    assert s["difference"]["mean"] == 3 / 8 and s["difference"]["ci"] == [lo, hi]
    assert s["chance_unseen"] == pytest.approx(1 / 3) and s["frozen"]["seen_accuracy"] == 0.5
    assert s["seen_difference"]["mean"] == 0.5


def test_method_names_say_what_they_are():
    assert describe_method("head", "motion", True) == (
        "MLP adapter on motion features: an adapter on training-free features, not a fine-tuned foundation model")
    assert "not fine-tuned" in describe_method("head", "umt-b16-k710", False)
    assert describe_method("full", "umt-b16-k710", False) == "umt-b16-k710 fine-tuned (full) on the seen classes"


def _args(rocog, out, **kw):
    root, lists = rocog
    base = dict(unseen_classes=2, device="cpu", workers=0, adapter_cfg=AdapterConfig(epochs=30))
    return (root, [lists["syn_ground_train"]], [lists["tgt_ground_test"]], kw.pop("encoder", "test-tiny-vit"), out), {**base, **kw}


def test_head_workflow_schema_resume_and_cache(rocog, tmp_path):
    args, kw = _args(rocog, tmp_path / "u")
    res = run_unseen(*args, **kw)
    doc = json.loads((tmp_path / "u" / "unseen.json").read_text())
    assert doc["task"] == "unseen" and doc["encoder"] == "test-tiny-vit"
    assert validate_document(doc) is None  # the study's task type for "unseen" accepts it
    assert {"encoder", "settings", "provenance", "created", "folds", "summary"} <= set(doc)
    assert len(doc["folds"]) == 6
    f0 = doc["folds"][0]
    assert set(f0) >= {"unseen", "seen", "n_test_unseen", "n_test_seen", "frozen", "finetuned"}
    assert f0["unseen"] == ["Advance", "Attention"] and f0["seen"] == ["Rally", "Halt"]
    assert (f0["n_test_unseen"], f0["n_test_seen"]) == (4, 4)
    assert set(f0["frozen"]) == set(f0["finetuned"]) == {"unseen_accuracy", "seen_accuracy"}
    s = doc["summary"]
    assert set(s) >= {"frozen", "finetuned", "difference", "chance_unseen"} and s["chance_unseen"] == 0.5
    assert set(s["difference"]) == {"mean", "ci"} and len(s["difference"]["ci"]) == 2
    pooled = np.mean([f["frozen"]["unseen_accuracy"] for f in doc["folds"]])  # equal fold sizes: mean == pooled
    assert s["frozen"]["unseen_accuracy"] == pytest.approx(pooled)
    # resume fold by fold: drop the final file and one fold; only that fold is recomputed, same numbers
    (tmp_path / "u" / "unseen.json").unlink()
    (tmp_path / "u" / "folds" / "unseen-Rally+Halt.json").unlink()
    again = run_unseen(*args, **kw)
    assert again.folds_reused == 5 and again.document["summary"] == res.document["summary"]
    assert run_unseen(*args, **kw).cached


def test_errors(rocog, tmp_path):
    root, lists = rocog
    args, kw = _args(rocog, tmp_path / "e")
    with pytest.raises(ConfigError, match=r"--unseen-classes must be at least 1 and below the number of classes \(4\); got 4"):
        run_unseen(*args, **{**kw, "unseen_classes": 4})
    with pytest.raises(ConfigError, match=r"--shots 3 is more than the 2 support videos of unseen class 'Advance'"):
        run_unseen(*args, **{**kw, "shots": 3})
    short = root / "annotations" / "tgt_ground_test_short.txt"
    short.write_text("".join(line for line in lists["tgt_ground_test"].read_text().splitlines(True) if " 3" not in line))
    with pytest.raises(ConfigError, match=r"unseen class 'Halt' has no test videos in the test lists"):
        run_unseen(root, [lists["syn_ground_train"]], [short], "test-tiny-vit", tmp_path / "e2", **kw)
    with pytest.raises(ConfigError, match=r"8 test video\(s\) are also in the training lists"):
        run_unseen(root, [lists["syn_ground_train"]], [lists["syn_ground_train"]], "test-tiny-vit", tmp_path / "e3", **kw)
    with pytest.raises(ConfigError, match=r"encoder 'motion' is training-free: nothing to train"):
        run_unseen(*args[:3], "motion", tmp_path / "e4", **{**kw, "method": "full"})


def test_partial_on_a_tiny_vit_one_split_with_shots(rocog, tmp_path, capsys):
    root, lists = rocog
    rc = main(["unseen", "--data", str(root), "--train-list", str(lists["syn_ground_train"]), "--test-list",
               str(lists["tgt_ground_test"]), "--encoder", "umt-test-tiny", "--method", "partial", "--unfreeze-blocks",
               "1", "--split", "Halt,Rally", "--shots", "1", "--epochs", "1", "--batch-size", "4", "--workers", "0",
               "--device", "cpu", "--out", str(tmp_path / "p")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "umt-test-tiny fine-tuned (partial) on the seen classes" in out and "paired 95% CI" in out
    doc = json.loads((tmp_path / "p" / "unseen.json").read_text())
    (fold,) = doc["folds"]
    assert fold["unseen"] == ["Rally", "Halt"] and fold["n_support"] == 2 and fold["n_test_unseen"] == 4
    run = tmp_path / "p" / "folds" / "unseen-Rally+Halt" / "run"
    tdoc = json.loads((run / "training.json").read_text())
    assert tdoc["class_names"] == ["Advance", "Attention"] and tdoc["settings"]["mode"] == "partial"
    assert (run / "model.safetensors").is_file()
