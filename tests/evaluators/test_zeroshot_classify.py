"""Zero-shot: prompt ensembling of normalised embeddings, cosine argmax, default prompts."""

from __future__ import annotations

import numpy as np
import pytest

from gesturebench.errors import ConfigError, EvaluationError
from gesturebench.evaluators.zeroshot import (
    class_prototypes,
    flatten_prompts,
    load_prompts,
    zero_shot_classify,
)
from gesturebench.types import ROCOG_CLASSES


def test_ensemble_uses_normalised_prompts():
    # class 0 prompts: a huge vector along x and a small one along y. Raw mean points
    # almost along x; the mean of *normalised* prompts is the diagonal.
    groups = [np.array([[100.0, 0.0], [0.0, 1.0]]), np.array([[-1.0, 0.0]])]
    protos = class_prototypes(groups, num_classes=2)
    np.testing.assert_allclose(protos[0], [np.sqrt(0.5), np.sqrt(0.5)])
    np.testing.assert_allclose(protos[1], [-1.0, 0.0])


def test_planted_classification_exact():
    text = np.array([[1, 0, 0], [1, 0.1, 0], [0, 1, 0], [0, 1, 0.1], [0, 0, 1], [0.1, 0, 1]], float)
    videos = np.array([[5, 0.2, 0], [0.1, 3, 0], [0, 0.2, 9], [0, 2, 0.1], [1, 0, 0.9]])
    labels = [0, 1, 2, 2, 0]
    r = zero_shot_classify(videos, text, labels, ["a", "b", "c"], video_ids=list("vwxyz"), bootstrap=50)
    assert [p["pred"] for p in r.predictions] == [0, 1, 2, 1, 0]
    assert r.accuracy == 0.8
    assert r.confusion == ((2, 0, 0), (0, 1, 0), (0, 1, 1))
    assert r.settings["prompts_per_class"] == [2, 2, 2]
    assert r.predictions[1]["video_id"] == "w"
    assert r.to_dict()["train"]["source"] == "zero-shot"
    # the same prompts as groups give the same scores
    r2 = zero_shot_classify(videos, [text[0:2], text[2:4], text[4:6]], labels, ["a", "b", "c"], bootstrap=50)
    assert [p["scores"] for p in r2.predictions] == [p["scores"] for p in r.predictions]


def test_uneven_groups_need_sizes():
    text = np.eye(3)
    with pytest.raises(EvaluationError, match=r"^3 text embeddings cannot be split evenly into 2 classes; pass group_sizes$"):
        zero_shot_classify(np.eye(3)[:2], text, [0, 1], ["a", "b"])
    r = zero_shot_classify(np.eye(3)[[0, 2]], text, [0, 1], ["a", "b"], group_sizes=[1, 2], bootstrap=0)
    assert [p["pred"] for p in r.predictions] == [0, 1]
    with pytest.raises(EvaluationError, match=r"^video embedding dimension 4 differs from text dimension 3$"):
        zero_shot_classify(np.ones((1, 4)), text, [0], ["a", "b", "c"])


def test_default_prompts_cover_rocog_classes():
    name, prompts = load_prompts()
    assert name == "rocog-fm21-60-v1"
    assert tuple(prompts) == ROCOG_CLASSES
    assert all(len(p) >= 3 for p in prompts.values())
    assert any("circle above the head" in p for p in prompts["Rally"])
    texts, sizes = flatten_prompts(prompts, ROCOG_CLASSES)
    assert len(texts) == sum(sizes) and texts[0] == prompts["Advance"][0]
    with pytest.raises(ConfigError, match=r"^no prompts for classes \['Wave'\]"):
        flatten_prompts(prompts, ["Halt", "Wave"])


def test_prompt_file_validation(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("classes:\n  Halt: []\n")
    with pytest.raises(ConfigError, match=r"class 'Halt' needs a non-empty list of prompt strings$"):
        load_prompts(p)
    p.write_text("name: mine\nclasses:\n  Halt: stop sign with the hand\n")
    assert load_prompts(p) == ("mine", {"Halt": ["stop sign with the hand"]})
