"""fit: planted features with known neighbours, the unknown rule, refusals, save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesturebench.errors import ConfigError, RecogniserError
from gesturebench.recognise.model import (
    class_thresholds, fit_model, load_model, loo_same_class_distances, save_model,
)
from gesturebench.types import FeatureSet

SETTINGS = {
    "encoder": {"name": "motion", "weights_sha256": None, "spec": {"num_frames": 16}},
    "sampler": {"name": "tsn", "num_frames": 16, "mode": "test", "stride": 4, "num_clips": 1, "seed": 0},
    "decoder": "gesturebench.data.decode.decode_clip",
    "preprocess": {"version": 1},
    "precision": "fp32",
    "manifest": "m1",
    "files": "f1",
}
RECIPE = {"name": "motion", "options": {}, "weights": None, "weights_sha256": None}

# class 0 around the origin (leave-one-out distances 1, 1, 1); class 1 far away (2, 2, 3)
X0 = [[0, 0], [1, 0], [0, 1]]
X1 = [[10, 0], [12, 0], [10, 3]]


def planted(x, y, prefix="v", settings=None, classes=("A", "B")) -> FeatureSet:
    n = len(y)
    return FeatureSet(
        features=np.asarray(x, np.float32), labels=np.asarray(y), video_ids=tuple(f"{prefix}{i}" for i in range(n)),
        class_names=classes, domains=("synthetic",) * n, views=("ground",) * n, key=f"key-{prefix}",
        meta={"settings": settings or SETTINGS},
    )


def test_loo_distances_exact_and_duplicates():
    x = np.asarray(X0 + X1, np.float32)
    y = np.asarray([0, 0, 0, 1, 1, 1])
    assert loo_same_class_distances(x, y, 2).tolist() == [1.0, 1.0, 1.0, 2.0, 2.0, 3.0]
    # an exact duplicate is the row's nearest *other* video at distance 0, never itself
    d = loo_same_class_distances(np.asarray([[0, 0], [0, 0], [5, 0]], np.float32), np.asarray([0, 0, 0]), 1)
    assert d.tolist() == [0.0, 0.0, 5.0]
    # a class of one video has no leave-one-out distance
    assert loo_same_class_distances(np.asarray([[0, 0], [3, 4]], np.float32), np.asarray([0, 1]), 2).tolist() == [
        np.inf, np.inf]


def test_class_thresholds_quantiles_and_fallback():
    nearest = np.asarray([1.0, 1.0, 1.0, 2.0, 2.0, 3.0, np.inf])
    labels = np.asarray([0, 0, 0, 1, 1, 1, 2])
    # class 2 has one video: it takes the quantile over all finite distances; class 3 has none
    assert class_thresholds(nearest, labels, 4, 0.5) == [1.0, 2.0, 1.5, None]
    assert class_thresholds(nearest, labels, 4, 1.0) == [1.0, 3.0, 3.0, None]


def _recogniser(model):
    from gesturebench.encoders.registry import create_encoder
    from gesturebench.recognise.predict import Recogniser

    return Recogniser(model, create_encoder("motion", device="cpu"))


def test_planted_unknown_rule():
    model = fit_model([("a", planted(X0 + X1, [0, 0, 0, 1, 1, 1]))], RECIPE, quantile=0.5)
    assert model.thresholds == [1.0, 2.0]
    rec = _recogniser(model)
    near = rec.classify(np.asarray([0.5, 0.5], np.float32))
    assert (near.label, near.voted, near.confidence) == ("A", "A", 1.0)
    assert near.distance == pytest.approx(np.sqrt(0.5))
    assert [n.video_id for n in near.neighbours] == ["v0", "v1", "v2"]
    # all three votes go to A, but the nearest A video is 2.0 away, beyond A's threshold 1.0
    far = rec.classify(np.asarray([0, 3], np.float32))
    assert (far.label, far.voted, far.unknown, far.distance, far.threshold) == ("unknown", "A", True, 2.0, 1.0)
    # B is looser: 1.5 from its nearest video is within its threshold 2.0
    b = rec.classify(np.asarray([11.5, 1.5], np.float32))
    assert (b.label, b.confidence) == ("B", 1.0)
    # rule off: the vote stands
    off = _recogniser(fit_model([("a", planted(X0 + X1, [0, 0, 0, 1, 1, 1]))], RECIPE, quantile=None))
    assert off.classify(np.asarray([0, 3], np.float32)).label == "A"


def test_vote_share_and_tie():
    model = fit_model([("a", planted([[0, 0], [1, 0], [2, 0], [10, 0]], [0, 1, 1, 0]))], RECIPE, quantile=None)
    p = _recogniser(model).classify(np.asarray([0.2, 0], np.float32))
    assert (p.label, p.confidence) == ("B", pytest.approx(2 / 3))


def test_refuses_mixing_and_overlap():
    a = planted(X0, [0, 0, 0], "a")
    other = {**SETTINGS, "encoder": {**SETTINGS["encoder"], "weights_sha256": "abc"}}
    with pytest.raises(RecogniserError, match=r"--train a and --train b were extracted with different settings "
                                              r"\(encoder.weights_sha256; encoder.weights_sha256: None vs 'abc'\)"):
        fit_model([("a", a), ("b", planted(X1, [1, 1, 1], "b", other))], RECIPE)
    with pytest.raises(RecogniserError, match=r"--train b has classes \['A', 'C'\]"):
        fit_model([("a", a), ("b", planted(X1, [1, 1, 1], "b", classes=("A", "C")))], RECIPE)
    with pytest.raises(RecogniserError, match=r"--train a and --train b share 1 video\(s\) \(e.g. b2\)"):
        fit_model([("a", a), ("b", planted(X1[:2] + X0[2:], [1, 1, 0], "b"))], RECIPE)
    # stores of other videos (manifest, files) with the same extraction settings merge
    same = {**SETTINGS, "manifest": "m2", "files": "f2"}
    model = fit_model([("a", a), ("b", planted(X1, [1, 1, 1], "b", same))], RECIPE)
    assert len(model) == 6 and model.meta["training"]["per_class"] == {"A": 3, "B": 3}
    with pytest.raises(ConfigError, match=r"--unknown-quantile must be a number in \(0, 1\]; got 1.5"):
        fit_model([("a", a)], RECIPE, quantile=1.5)


def test_save_load_roundtrip_and_damage(tmp_path):
    model = fit_model([("a", planted(X0 + X1, [0, 0, 0, 1, 1, 1]))], RECIPE)
    out = save_model(model, tmp_path / "m")
    assert sorted(p.name for p in out.iterdir()) == ["index.safetensors", "recogniser.json"]
    back = load_model(out)
    assert np.array_equal(back.features, model.features) and back.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert back.thresholds == model.thresholds
    meta = json.loads((out / "recogniser.json").read_text())
    assert meta["knn"] == {"k": 3, "metric": "l2", "vote": meta["knn"]["vote"]} and meta["index"]["rows"] == 6
    with pytest.raises(ConfigError, match="already holds a recogniser; pass --overwrite"):
        save_model(model, out)
    raw = bytearray((out / "index.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (out / "index.safetensors").write_bytes(bytes(raw))
    with pytest.raises(RecogniserError, match="does not match its checksum"):
        load_model(out)
    with pytest.raises(RecogniserError, match="is not a recogniser model: it does not exist"):
        load_model(tmp_path / "nope")
