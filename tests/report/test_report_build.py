"""write_report: table cells come from the result JSONs; figures are real PNGs."""

from __future__ import annotations

import json

import pytest

from gesturebench.errors import ResultError
from gesturebench.evaluators.results import write_result
from gesturebench.report import write_report
from gesturebench.report.tables import study_tables

CLASSES = ["A", "B", "C"]


def doc(encoder, train_source, acc, ci, task="knn", test_source="target", k=3, metric="l2"):
    n_correct = round(acc * 4)
    conf = [[1, 0, 0], [0, 1, 0], [0, 0, 2]] if n_correct == 4 else [[1, 0, 0], [1, 0, 0], [0, 0, 2]]
    return {
        "task": task,
        "encoder": encoder,
        "settings": {"k": k, "metric": metric, "bootstrap": 100, "seed": 0} if task == "knn" else {"prompt_set": "p"},
        "class_names": CLASSES,
        "train": {"keys": [] if task != "knn" else ["key-" + train_source], "source": train_source, "n": 10,
                  "n_per_domain": {train_source: 10}},
        "test": {"key": "key-test", "source": test_source, "n": 4},
        "metrics": {"accuracy": acc, "mean_per_class_accuracy": acc, "per_class_accuracy": [1.0, 0.0, 1.0],
                    "ci": ci, "chance": 1 / 3},
        "confusion": conf,
        "predictions": [],
    }


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    write_result(doc("enc-a", "synthetic", 0.75, [0.5, 1.0]), d)
    write_result(doc("enc-a", "synthetic+target", 1.0, [1.0, 1.0]), d)
    write_result(doc("enc-b", "target", 0.75, None), d)
    write_result(doc("enc-b", "zero-shot", 0.75, [0.25, 1.0], task="zeroshot"), d)
    return d


def _table_rows(md: str, heading: str) -> list[list[str]]:
    block = md.split(heading, 1)[1].split("\n\n", 2)[1]
    return [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()]


def test_report_table_values_come_from_results(results_dir, tmp_path):
    path = write_report(results_dir, tmp_path / "rep")
    assert path == tmp_path / "rep" / "report.md"
    md = path.read_text()
    rows = _table_rows(md, "## Test set: target (k-NN k=3, l2)")
    assert rows[0] == ["encoder", "train: synthetic", "train: target", "train: synthetic+target", "zero-shot"]
    assert rows[2] == ["enc-a", "75.0 [50.0–100.0]", "–", "100.0 [100.0–100.0]", "–"]
    assert rows[3] == ["enc-b", "–", "75.0", "–", "75.0 [25.0–100.0]"]
    assert rows[4] == ["chance", "33.3", "33.3", "33.3", "33.3"]
    assert "synthetic stand-in" in md  # target domain is never presented as real
    pngs = sorted(p.name for p in path.parent.glob("*.png"))
    assert pngs[0] == "accuracy__01__test-target.png"
    assert len(pngs) == 5  # bar chart + one confusion matrix per run
    for name in pngs:
        assert (path.parent / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({name})" in md
    assert "| training store keys | `key-syntheti` |" in md


def test_tables_split_by_settings_and_test_source():
    docs = [doc("e", "synthetic", 0.5, None), doc("e", "synthetic", 0.25, None, k=5, metric="cosine"),
            doc("e", "real", 0.5, None, test_source="real")]
    tables = study_tables([{**d, "schema": "x"} for d in docs])
    assert [(t.test_source, t.settings) for t in tables] == [
        ("real", "k-NN k=3, l2"), ("target", "k-NN k=3, l2"), ("target", "k-NN k=5, cosine")]
    assert "| e | 25.0 |" in tables[2].to_markdown()


def test_malformed_result_is_named(results_dir, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "nope"}))
    with pytest.raises(ResultError, match=r"bad\.json: schema must be"):
        write_report([bad], tmp_path / "rep")


def test_report_from_result_objects(tmp_path):
    import numpy as np

    from gesturebench.evaluators.knn import evaluate_knn
    from gesturebench.types import FeatureSet

    def fs(x, y, dom):
        n = len(y)
        return FeatureSet(np.asarray(x, np.float32).reshape(n, 1), np.asarray(y), tuple(map(str, range(n))),
                          ("A", "B"), (dom,) * n, ("ground",) * n, key=dom, meta={"encoder": {"name": "m"}})

    r = evaluate_knn(fs([0, 1, 10, 11], [0, 0, 1, 1], "synthetic"), fs([0.5, 6, 10.5], [0, 0, 1], "target"),
                     k=1, bootstrap=0)
    md = write_report([r], tmp_path).read_text()
    assert "| m | 66.7 |" in md
    assert (tmp_path / "confusion__knn__m__train-synthetic__test-target__k1-l2.png").is_file()
