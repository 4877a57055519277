"""Result files: templated names, provenance, atomic write, strict loading."""

from __future__ import annotations

import re

import json

import numpy as np
import pytest

from gesturebench.errors import ResultError
from gesturebench.evaluators.knn import KnnResult, evaluate_knn
from gesturebench.evaluators.results import SCHEMA, load_result, load_results, write_result
from gesturebench.types import FeatureSet


def _fs(x, y, domain, key):
    n = len(y)
    return FeatureSet(np.asarray(x, np.float32).reshape(n, -1), np.asarray(y), tuple(f"{key}{i}" for i in range(n)),
                      ("A", "B"), (domain,) * n, ("ground",) * n, key=key, meta={"encoder": {"name": "pixels"}})


@pytest.fixture(scope="module")
def result():
    return evaluate_knn([_fs([0, 1, 9, 10], [0, 0, 1, 1], "synthetic", "ks")], _fs([0.2, 9.5, 2], [0, 1, 1], "target", "kt"),
                        k=1, bootstrap=100)


def test_write_templated_name_and_contents(tmp_path, result):
    path = write_result(result, tmp_path / "res")
    assert re.fullmatch(r"knn__pixels__train-synthetic\.ks__test-target\.kt__k1-l2__s-[0-9a-f]{8}\.json", path.name)
    doc = json.loads(path.read_text())
    assert doc["schema"] == SCHEMA and doc["task"] == "knn"
    assert doc["train"]["keys"] == ["ks"] and doc["test"]["key"] == "kt"
    assert doc["metrics"]["accuracy"] == pytest.approx(2 / 3)
    assert set(doc["provenance"]) == {"git_revision", "versions", "machine"}
    assert doc["provenance"]["versions"]["gesturebench"]
    assert doc["settings"]["k"] == 1 and doc["settings"]["bootstrap"] == 100
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    assert KnnResult.from_dict(load_result(path)) == result


def test_explicit_json_path(tmp_path, result):
    assert write_result(result, tmp_path / "x.json") == tmp_path / "x.json"
    assert [p.name for p, _ in load_results(tmp_path)] == ["x.json"]


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(schema="other/9"), "schema must be 'gesturebench.result/1'; got 'other/9'"),
        (lambda d: d.update(task="regression"),
         "task must be one of knn, probe, zeroshot, fewshot, unseen, finetune, bench; got 'regression'"),
        (lambda d: d["metrics"].update(accuracy=1.5), "metrics.accuracy must be a number in [0, 1]; got 1.5"),
        (lambda d: d["metrics"].update(ci=[0.9, 0.1]), "metrics.ci must be null or [low, high]; got [0.9, 0.1]"),
        (lambda d: d.update(confusion=[[1, 0]]), "'confusion' must be a 2x2 matrix of counts"),
        (lambda d: d.pop("encoder"), "'encoder' is missing or not a str"),
        (lambda d: d["settings"].pop("k"), "settings.k is missing"),
    ],
)
def test_load_rejects_malformed(tmp_path, result, mutate, message):
    path = write_result(result, tmp_path / "r.json")
    doc = json.loads(path.read_text())
    mutate(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultError) as err:
        load_result(path)
    assert str(err.value) == f"{path}: {message}"


def test_load_errors_for_missing_and_broken(tmp_path):
    with pytest.raises(ResultError, match=r"^result file not found: "):
        load_result(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ResultError, match=r"bad\.json: not valid JSON \(.* at line 1\)$"):
        load_result(bad)
    with pytest.raises(ResultError, match=r"^no result files \(\*\.json\) in "):
        load_results(tmp_path / "empty") if (tmp_path / "empty").mkdir() is None else None
