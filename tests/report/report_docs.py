"""Hand-made result documents of every task type, for report tests."""

from __future__ import annotations

CLASSES = ["A", "B", "C"]


def knn_doc(encoder, train_source, correct, *, task="knn", test_source="target", k=3, metric="l2", seed=0,
            weights=None, train_keys=None, test_key="testkey0", ci=(0.25, 1.0), bootstrap=100):
    """A classification document over 4 test videos v0..v3 (labels A, B, C, C); ``correct``: which are right."""
    labels = [0, 1, 2, 2]
    preds = [lab if ok else (lab + 1) % 3 for lab, ok in zip(labels, correct)]
    conf = [[0] * 3 for _ in range(3)]
    for t, p in zip(labels, preds):
        conf[t][p] += 1
    acc = sum(correct) / 4
    per_class = [sum(1 for t, p in zip(labels, preds) if t == c and p == c) / labels.count(c) for c in range(3)]
    settings = {"k": k, "metric": metric, "bootstrap": bootstrap, "seed": seed, "confidence": 0.95,
                "encoder_weights_sha256": weights} if task == "knn" else {
        "prompt_set": "set1", "prompts": {c: [c.lower()] for c in CLASSES}, "bootstrap": bootstrap, "seed": seed,
        "encoder_weights_sha256": weights}
    keys = train_keys if train_keys is not None else ([f"{train_source}key0"] if task == "knn" else [])
    return {
        "task": task, "encoder": encoder, "settings": settings, "class_names": CLASSES,
        "train": {"keys": keys, "source": train_source if task == "knn" else "zero-shot", "n": 10,
                  "n_per_domain": {train_source: 10}},
        "test": {"key": test_key, "source": test_source, "n": 4},
        "metrics": {"accuracy": acc, "mean_per_class_accuracy": sum(per_class) / 3, "per_class_accuracy": per_class,
                    "ci": list(ci) if ci else None, "chance": 1 / 3},
        "confusion": conf,
        "predictions": [{"video_id": f"v{i}", "label": t, "pred": p} for i, (t, p) in enumerate(zip(labels, preds))],
    }


def unseen_doc():
    """The fine-tuning issue's unseen.json schema (section 2), two folds."""
    fold = lambda u, s, fz, ft: {  # noqa: E731
        "unseen": u, "seen": s, "n_test_unseen": 6, "n_test_seen": 8,
        "frozen": {"unseen_accuracy": fz, "seen_accuracy": 0.5}, "finetuned": {"unseen_accuracy": ft, "seen_accuracy": 0.75}}
    return {
        "schema": "gesturebench.result/1", "task": "unseen", "encoder": "motion",
        "settings": {"method": "head", "unseen_classes": 1, "seed": 0},
        "folds": [fold(["A"], ["B", "C"], 0.5, 2 / 3), fold(["B"], ["A", "C"], 1 / 3, 0.5)],
        "summary": {"frozen": {"unseen_accuracy": 5 / 12, "seen_accuracy": 0.5},
                    "finetuned": {"unseen_accuracy": 7 / 12, "seen_accuracy": 0.75},
                    "difference": {"mean": 1 / 6, "ci": [-0.1, 0.4]}, "chance_unseen": 1.0},
        "provenance": {}, "created": "2026-12-01T00:00:00+00:00",
    }


def finetune_doc(mode="head"):
    return {
        "schema": "gesturebench.result/1", "task": "finetune", "encoder": "test-tiny-vit",
        "settings": {"mode": mode, "epochs": 3, "lr": 1e-3, "batch_size": 4},
        "history": [{"epoch": i + 1, "train_loss": 1.5 - 0.4 * i, "train_accuracy": 0.3 + 0.2 * i,
                    "val_accuracy": 0.25 + 0.1 * i, "seconds": 2.0} for i in range(3)],
        "wall_seconds": 6.5, "provenance": {}, "created": "2026-12-01T00:00:00+00:00",
    }


def bench_doc():
    rows = []
    for label in ("pre-trained", "fine-tuned"):
        for b, p50 in ((1, 10.0), (2, 18.0), (4, 33.0)):
            rows.append({"variant": label, "batch_size": b, "status": "ok", "p50_ms": p50, "p90_ms": p50 * 1.1,
                         "per_clip_ms": p50 / b, "clips_per_s": 1000 * b / p50, "reps": 20,
                         "ci_low_ms": p50 * 0.98, "ci_high_ms": p50 * 1.02})
        rows.append({"variant": label, "batch_size": 8, "status": "oom", "error": "out of memory"})
    return {
        "schema": "gesturebench.result/1", "task": "bench", "encoder": "test-tiny-vit",
        "settings": {"mode": "model"}, "config": {"mode": "model", "timer": {"rel_ci": 0.05, "budget_s": 2}},
        "environment": {"device": "cpu", "dtype": "fp32", "load_average_start": [0.5, 0.4, 0.3]},
        "variants": [{"label": "pre-trained", "encoder": "test-tiny-vit"}, {"label": "fine-tuned", "encoder": "test-tiny-vit"}],
        "rows": rows, "comparisons": [], "summary": ["fine-tuned / pre-trained: 1.00x"],
        "provenance": {}, "created": "2026-12-01T00:00:00+00:00",
    }
