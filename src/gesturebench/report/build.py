"""``write_report``: a folder of result JSONs -> ``report.md`` + PNG figures."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ResultError
from ..evaluators.results import (
    load_results,
    result_document,
    result_filename,
    validate_document,
)
from ..fileio import atomic_write_text
from . import plots
from .tables import ZERO_SHOT, cell_text, pct, per_class_table, settings_label, study_tables

log = logging.getLogger(__name__)

TARGET_NOTE = (
    "`target` = videos rendered by gesturebench's generator in its `target` style: a synthetic "
    "stand-in for a real target domain, not real camera footage."
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-")


def _gather(results: Any) -> list[tuple[Path, dict[str, Any]]]:
    """Folder, or list of result files / result objects / result dicts -> validated documents."""
    if isinstance(results, (str, Path)):
        return load_results(results)
    out = []
    for item in results:
        if isinstance(item, (str, Path)):
            out.extend(load_results([item]))
            continue
        doc = result_document(item)
        problem = validate_document(doc)
        if problem:
            raise ResultError(f"result for {doc.get('encoder', '?')}: {problem}")
        out.append((Path(result_filename(doc)), doc))
    return out


def write_report(
    results: str | Path | Iterable[Any], out_dir: str | Path, title: str = "gesturebench results"
) -> Path:
    """Build ``out_dir/report.md`` (study tables, per-run details) with its PNG figures; return its path.

    ``results``: a folder of result JSONs, or a list of result files, result
    dataclasses (``KnnResult``, ``ZeroShotResult``) or their ``to_dict()`` dicts.
    """
    loaded = _gather(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    docs = [doc for _, doc in loaded]
    tables = study_tables(docs)

    md: list[str] = [f"# {title}", ""]
    md.append(
        f"{len(docs)} result file(s); generated {datetime.now(timezone.utc).isoformat(timespec='seconds')}. "
        "Cells: top-1 accuracy % on the test set, with the 95% bootstrap interval in brackets."
    )
    md.append("")
    sources = {d["test"]["source"] for d in docs} | {d["train"]["source"] for d in docs}
    if any("target" in s.split("+") for s in sources):
        md += [f"> {TARGET_NOTE}", ""]

    for i, table in enumerate(tables, start=1):
        md += [f"## Test set: {table.test_source} ({table.settings})", "", table.to_markdown(), ""]
        encoders = sorted(table.rows)
        values = {
            (enc, col): (doc["metrics"]["accuracy"], doc["metrics"].get("ci"))
            for enc, cols in table.rows.items()
            for col, doc in cols.items()
        }
        png = f"accuracy__{i:02d}__test-{_slug(table.test_source)}.png"
        plots.accuracy_bars_png(encoders, table.columns, values, table.chance, out / png,
                                title=f"test: {table.test_source} ({table.settings})")
        md += [f"![accuracy, test set {table.test_source}]({png})", ""]

    md += ["## Runs", ""]
    for path, doc in loaded:
        md += _run_section(path, doc, out)
    report = out / "report.md"
    atomic_write_text(report, "\n".join(md).rstrip() + "\n")
    log.info("wrote %s from %d result files", report, len(docs))
    return report


def _run_section(path: Path, doc: dict[str, Any], out: Path) -> list[str]:
    m = doc["metrics"]
    train = doc["train"]
    what = settings_label(doc)
    src = ZERO_SHOT if doc["task"] == "zeroshot" else train["source"]
    png = f"confusion__{_slug(path.stem)}.png"
    plots.confusion_png(doc["confusion"], doc["class_names"], out / png,
                        title=f"{doc['encoder']} | train {src} | test {doc['test']['source']}")
    prov = doc.get("provenance", {})
    rows = [
        ("result file", f"`{path.name}`"),
        ("encoder", doc["encoder"]),
        ("method", what),
        ("training source", src),
        ("training videos", ", ".join(f"{k}: {v}" for k, v in train.get("n_per_domain", {}).items()) or "–"),
        ("test videos", f"{doc['test'].get('n', '?')} ({doc['test']['source']})"),
        ("top-1 accuracy %", cell_text(doc)),
        ("mean per-class accuracy %", pct(m["mean_per_class_accuracy"])),
        ("chance %", pct(m["chance"])),
        ("vote ties (decided by the tie-break)", str(m.get("vote_ties", "–")) if doc["task"] == "knn" else "–"),
        ("training store keys", ", ".join(f"`{k[:12]}`" for k in train.get("keys", [])) or "–"),
        ("test store key", f"`{doc['test'].get('key', '')[:12]}`"),
        ("git revision", f"`{prov.get('git_revision')}`"),
    ]
    lines = [f"### {doc['encoder']} — train {src} — test {doc['test']['source']}", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += ["", per_class_table(doc), "", f"![confusion matrix]({png})", ""]
    return lines
