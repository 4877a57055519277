"""`gesturebench run`: a tiny study end to end, no work on a rerun, resume after a real SIGKILL,
the dry-run plan, and the HTML report in headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gesturebench.api.run import run_study
from gesturebench.cli import main
from gesturebench.errors import ConfigError
from gesturebench.study.config import load_config

REPO = Path(__file__).resolve().parents[2]
TINY = """
name: tiny
seed: 0
workers: 0
synth:
  - {root: "${OUT}/data", style: default, per_class: 2, size: 48, frames: 16, seed: 0}
  - {root: "${OUT}/data", style: target, per_class: 2, size: 48, frames: 16, seed: 1, splits: {train: 0.5, test: 0.5}}
datasets:
  syn: {root: "${OUT}/data", lists: [annotations/syn_ground_train.txt]}
  tgt: {root: "${OUT}/data", lists: [annotations/tgt_ground_train.txt]}
  test: {root: "${OUT}/data", lists: [annotations/tgt_ground_test.txt]}
encoders:
  pixels: {preset: pixels}
tasks:
  knn: {test: test, train: [[syn], [syn, tgt]], k: 1, bootstrap: 50}
  probe: {test: test, train: [[syn]], C: 1.0, max_iter: 200, bootstrap: 0}
  unseen: {train: [syn], test: [test], unseen_classes: 2, split: [Advance, Attention]}
reference: {name: study, knn: {pixels: {synthetic: 14.3}}}
"""


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


def _results(out: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((out / "results").glob("*.json"))}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    cfg = load_config(_config(tmp), tmp / "out")
    return cfg, run_study(cfg)


def test_runs_every_task_and_writes_the_report(study):
    cfg, summary = study
    kinds = [label.split()[0] for label, _ in summary.status]
    assert kinds.count("extract") == 3 and kinds.count("knn") == 2 and kinds.count("probe") == 1
    unseen = [s for label, s in summary.status if label.startswith("unseen")]
    if not __import__("importlib").util.find_spec("gesturebench.api.unseen"):
        assert unseen == ["not available: gesturebench.api.unseen is missing in this version"]
    else:
        assert unseen == ["done"] and (cfg.out / "unseen" / "pixels" / "unseen.json").is_file()
        assert "## Unseen gesture classes" in (cfg.out / "report" / "report.md").read_text()
    docs = _results(cfg.out)
    assert sorted(d["task"] for d in docs.values()) == ["knn", "knn", "probe"]
    report = cfg.out / "report"
    md = (report / "report.md").read_text()
    assert "| pixels | " in md and "| study |" not in md.split("### Test set: target (k-NN k=1, l2)")[0]
    assert "study" in md.split("### Test set: target (k-NN k=1, l2)")[1].splitlines()[2]  # reference column
    for name in ("index.html", "tables.csv", "tables.tex"):
        assert (report / name).is_file()


def test_unchanged_rerun_does_no_work(study):
    cfg, _ = study
    before = {p: p.stat().st_mtime_ns for p in cfg.out.rglob("*") if p.is_file() and ".run" not in p.parts}
    again = run_study(cfg)
    assert {s for _, s in again.status} <= {"cached", "not available: gesturebench.api.unseen is missing in this version"}
    after = {p: p.stat().st_mtime_ns for p in cfg.out.rglob("*") if p.is_file() and ".run" not in p.parts}
    assert after == before


def test_dry_run_plan_and_problems(tmp_path, capsys):
    path = _config(tmp_path)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dataset syn: 14 videos (to be generated)" in out and "dataset test: 7 videos (to be generated)" in out
    assert "estimated cost: ~" in out and not (tmp_path / "o").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.replace('"${OUT}/data", lists: [annotations/syn', f'"{tmp_path}/nowhere", lists: [annotations/syn')
                   .replace("pixels: {preset: pixels}", "pixels: {preset: pixels}\n  umt: {preset: umt-b16-k710}"))
    with pytest.raises(ConfigError) as err:
        run_study(load_config(bad, tmp_path / "o"), dry_run=True)
    text = str(err.value)
    assert f"{bad}: datasets.syn.root: folder not found: {tmp_path}/nowhere" in text
    assert f"{bad}: encoders.umt: weights for umt-b16-k710 not found locally" in text


def test_resumes_after_sigkill(study, tmp_path):
    cfg, _ = study
    data = cfg.out / "data"  # the module's rendered videos; this config only extracts and evaluates
    path = tmp_path / "eval.yaml"
    path.write_text(TINY.split("synth:")[0] + TINY.split("splits: {train: 0.5, test: 0.5}}")[1]
                    .replace("${OUT}/data", str(data)).split("  probe:")[0] + "report: {figures: false}\n")
    ref_out, out = tmp_path / "ref", tmp_path / "out"
    run_study(load_config(path, ref_out))
    cmd = [sys.executable, "-m", "gesturebench", "run", str(path), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "features").glob("pixels/*/store.json")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # during the first extraction: a real kill -9
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "results").exists() or len(list((out / "results").glob("*.json"))) < 2
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    mine, ref = _results(out), _results(ref_out)
    assert sorted(mine) == sorted(ref) and len(ref) == 2  # same identities: no duplicates, nothing lost
    for name in ref:
        for key in ("metrics", "confusion", "predictions", "train", "test"):
            assert mine[name][key] == ref[name][key], (name, key)


def test_html_report_in_headless_chromium(study):
    from browser import dump_dom

    cfg, _ = study
    html = cfg.out / "report" / "index.html"
    # every <img> must have decoded (naturalWidth > 0); the script writes the verdict into the DOM
    probe = html.parent / "probe.html"
    probe.write_text(html.read_text().replace("</body>", """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const bad = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-broken', bad);
  document.body.setAttribute('data-tables', document.querySelectorAll('table.result-table').length);
});
</script></body>"""))
    dom = dump_dom(probe.as_uri(), extra_flags=["--allow-file-access-from-files"])
    probe.unlink()
    import re

    images = int(re.search(r'data-images="(\d+)"', dom).group(1))
    assert images >= 3 and 'data-broken="0"' in dom  # bar chart + confusion matrices, all decoded
    assert int(re.search(r'data-tables="(\d+)"', dom).group(1)) >= 3
    assert "k-NN on frozen features" in dom and "Linear probe on frozen features" in dom


def test_cli_prints_the_study_table_of_every_knn_result(study, capsys):
    """`gesturebench run` ends with the study-shaped k-NN table: each result's accuracy in its cell."""
    cfg, summary = study
    from gesturebench.cli.run import print_knn_tables
    from gesturebench.report.format import pct

    print_knn_tables(summary.outcomes)
    out = capsys.readouterr().out
    knn = [o.doc for o in summary.outcomes if o.doc["task"] == "knn"]
    assert len(knn) == 2 and "k-NN top-1 accuracy %" in out and "chance" in out
    for doc in knn:
        rows = [line for line in out.splitlines() if line.strip("│┃ ").startswith(doc["encoder"])]
        assert any(pct(doc["metrics"]["accuracy"]) in row for row in rows), (doc["encoder"], rows)
