"""write_report: a section per task, cells from the result files, nothing dropped, real figures."""

from __future__ import annotations

import csv
import io
import json

import pytest

from gesturebench.errors import ResultError
from gesturebench.evaluators.results import write_result
from gesturebench.report import write_report

from report_docs import bench_doc, finetune_doc, knn_doc, unseen_doc


def _table(md: str, heading: str) -> list[list[str]]:
    block = md.split(heading, 1)[1].split("\n\n", 2)[1]
    return [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    write_result(knn_doc("enc-a", "synthetic", [1, 1, 1, 0], ci=(0.5, 1.0)), d)
    write_result(knn_doc("enc-a", "synthetic+target", [1, 1, 1, 1], ci=(1.0, 1.0)), d)
    write_result(knn_doc("enc-b", "synthetic", [0, 0, 1, 0], ci=None), d)
    write_result(knn_doc("enc-b", "target", [1, 1, 1, 0], ci=None), d)
    write_result(knn_doc("enc-b", "zero-shot", [1, 0, 1, 1], task="zeroshot"), d)
    # same encoder, column and test set, another seed: must become a second row, not replace the first
    write_result(knn_doc("enc-a", "synthetic", [0, 1, 1, 0], seed=7), d)
    write_result(unseen_doc(), d)
    write_result(finetune_doc(), d)
    write_result(bench_doc(), d)
    out = tmp_path_factory.mktemp("report")
    ref = {"name": "study", "note": "approximate", "knn": {"enc-a": {"synthetic": 18.2}}}
    path = write_report(d, out, reference=ref, figures=False)  # tables only; figures: see below
    return path, path.read_text()


def test_study_table_cells_rows_and_reference(report):
    _, md = report
    rows = _table(md, "### Test set: target (k-NN k=3, l2)")
    assert rows[0] == ["encoder", "train: synthetic", "study", "train: target", "train: synthetic+target",
                       "zero-shot (set1)"]
    assert rows[2] == ["enc-a (seed 0)", "75.0 [50.0–100.0]", "18.2", "–", "100.0 [100.0–100.0]", "–"]
    assert rows[3] == ["enc-a (seed 7)", "50.0 [25.0–100.0]", "18.2", "–", "–", "–"]
    assert rows[4] == ["enc-b", "25.0", "–", "75.0", "–", "75.0 [25.0–100.0]"]
    assert rows[5][0] == "chance" and rows[5][1] == "33.3"
    assert "n = 4 test videos" in md and "percentile bootstrap interval over test videos (100 resamples)" in md
    assert "synthetic stand-in" in md


def test_paired_comparison_is_exact_mcnemar(report):
    _, md = report
    block = md.split("| training | A | B |", 1)[1].split("\n\n", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in block.splitlines()[2:]]
    syn = [r for r in rows if r[0] == "synthetic" and r[1] == "enc-a (seed 0)" and r[2] == "enc-b"][0]
    # A right on v0,v1,v2; B right on v2 only -> only A = 2, only B = 0, p = 2 * 0.5**2 = 0.5
    assert syn[3:] == ["4", "75.0", "25.0", syn[6], "2 / 0", "0.5"]
    assert syn[6].startswith("+50.0 [")


def test_task_sections_present(report):
    _, md = report
    for title in ("## k-NN on frozen features", "## Zero-shot from text descriptions", "## Unseen gesture classes",
                  "## Fine-tuning runs", "## Latency and throughput against batch size"):
        assert title in md
    unseen = _table(md, "## Unseen gesture classes")
    assert unseen[2] == ["motion", "head", "2", "41.7", "58.3", "+16.7 [-10.0–40.0]", "50.0", "75.0", "100.0"]
    ft = _table(md, "## Fine-tuning runs")
    assert ft[2][2:] == ["head", "3", "0.7000", "70.0", "45.0", "6"]
    assert "| pre-trained | 8 | oom: out of memory |" in md


def test_figures_png_200dpi_and_svg_and_no_stale(tmp_path):
    from PIL import Image

    figs = tmp_path / "rep" / "figures"
    figs.mkdir(parents=True)
    (figs / "old-figure.png").write_bytes(b"x")  # left by an earlier report: must go
    docs = [knn_doc("enc-a", "synthetic", [1, 1, 1, 0]), finetune_doc(), bench_doc()]
    path = write_report(docs, tmp_path / "rep")
    md = path.read_text()
    assert not (figs / "old-figure.png").exists()
    pngs = sorted(figs.glob("*.png"))
    # bar chart + confusion matrix (k-NN), loss/accuracy curves (finetune), latency + throughput (bench)
    assert len(pngs) == 5 and len(list(figs.glob("*.svg"))) == 5
    for p in pngs:
        assert f"(figures/{p.name})" in md
        with Image.open(p) as im:
            assert round(im.info["dpi"][0]) >= 200 and im.size[0] > 500
        assert p.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
    assert "Colour: share of the true class's videos" in md


def test_csv_and_tex(tmp_path):
    d = tmp_path / "r"
    write_result(knn_doc("enc_a", "synthetic", [1, 1, 1, 0]), d)
    out = write_report(d, tmp_path / "rep").parent
    rows = list(csv.DictReader(io.StringIO((out / "tables.csv").read_text())))
    cell = [r for r in rows if r["row"] == "enc_a" and r["column"] == "train: synthetic"][0]
    assert cell["value"] == "75.0 [25.0–100.0]"
    tex = (out / "tables.tex").read_text()
    assert "\\begin{tabular}" in tex and "enc\\_a & 75.0 [25.0--100.0]" in tex and "\\toprule" in tex
    html = (out / "index.html").read_text()
    assert "data:image/png;base64," in html and "<table" in html and 'src="figures' not in html


def test_malformed_result_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": "nope"}))
    with pytest.raises(ResultError, match=r"bad\.json: schema must be"):
        write_report([bad], tmp_path / "rep")
    doc = unseen_doc()
    doc["summary"]["difference"]["ci"] = [0.5, 0.1]
    bad.write_text(json.dumps(doc))
    with pytest.raises(ResultError, match=r"summary.difference.ci must be null or \[low, high\]"):
        write_report([bad], tmp_path / "rep")


def test_report_from_result_objects(tmp_path):
    import numpy as np

    from gesturebench.evaluators.knn import evaluate_knn
    from gesturebench.types import FeatureSet

    def fs(x, y, dom):
        n = len(y)
        return FeatureSet(np.asarray(x, np.float32).reshape(n, 1), np.asarray(y), tuple(map(str, range(n))),
                          ("A", "B"), (dom,) * n, ("ground",) * n, key=dom + "-key", meta={"encoder": {"name": "m"}})

    r = evaluate_knn(fs([0, 1, 10, 11], [0, 0, 1, 1], "synthetic"), fs([0.5, 6, 10.5], [0, 0, 1], "target"),
                     k=1, bootstrap=0)
    md = write_report([r], tmp_path).read_text()
    assert "| m | 66.7 | –" not in md and "| m | 66.7 |" in md
