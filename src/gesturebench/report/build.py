"""``write_report``: result files -> ``index.html`` (self-contained), ``report.md``,
``tables.csv``, ``tables.tex`` and ``figures/`` (PNG at 200 dpi + SVG).

Each task present gets the section its task type builds (:mod:`gesturebench.tasks`);
figures left from an earlier report in the same folder are removed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ResultError
from ..evaluators.results import load_results, result_document, result_filename, validate_document
from ..fileio import atomic_write_text
from .model import ReportContext, Section
from .render import to_csv, to_html, to_latex, to_markdown

log = logging.getLogger(__name__)

TARGET_NOTE = (
    "`target` = videos rendered by gesturebench's generator in its `target` style: a synthetic "
    "stand-in for a real target domain, not real camera footage."
)


def gather(results: Any) -> list[tuple[Path, dict[str, Any]]]:
    """Folder, or list of folders / result files / result objects / result dicts -> validated documents."""
    if isinstance(results, (str, Path)):
        return load_results(results)
    out = []
    for item in results:
        if isinstance(item, (str, Path)):
            out.extend(load_results(item if Path(item).is_dir() else [item]))
            continue
        doc = result_document(item)
        problem = validate_document(doc)
        if problem:
            raise ResultError(f"result for {doc.get('encoder', '?')}: {problem}")
        out.append((Path(result_filename(doc)), doc))
    return out


def build_sections(loaded: list[tuple[Path, dict[str, Any]]], ctx: ReportContext) -> list[Section]:
    from ..tasks import all_tasks

    sections = []
    for task in all_tasks():
        entries = [(p, d) for p, d in loaded if d["task"] == task.name]
        sec = task.section(entries, ctx) if entries else None
        if sec is not None:
            sections.append(sec)
    return sections


def _remove_stale(ctx: ReportContext) -> None:
    keep = {p.resolve() for p in ctx.written}
    if ctx.figures_dir.is_dir():
        for p in ctx.figures_dir.iterdir():
            if p.is_file() and p.suffix in (".png", ".svg") and p.resolve() not in keep:
                p.unlink()
    for p in ctx.out.glob("*.png"):  # the flat layout of earlier versions
        p.unlink()


def write_report(
    results: str | Path | Iterable[Any], out_dir: str | Path, title: str = "gesturebench results",
    reference: Mapping[str, Any] | None = None,
    figures: bool = True,
) -> Path:
    """Build the report of ``results`` in ``out_dir``; returns the path of ``report.md``.

    ``results``: a folder of result JSONs, or a list of folders, result files, result
    dataclasses or their ``to_dict()`` dicts. ``reference``: see :mod:`.reference`.
    ``figures=False`` writes the tables only.
    """
    loaded = gather(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = ReportContext(out=out, entries=loaded, reference=reference, figures=figures)
    sections = build_sections(loaded, ctx)
    tasks = sorted({d["task"] for _, d in loaded})
    intro = [f"{len(loaded)} result file(s) ({', '.join(tasks)}); generated "
             f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}."]
    sources = {d.get("test", {}).get("source", "") for _, d in loaded} | {
        str(d.get("train", {}).get("source", "")) for _, d in loaded} | {
        str(d.get("pool", {}).get("source", "")) for _, d in loaded}
    if any("target" in s.split("+") for s in sources):
        intro.append(TARGET_NOTE)
    if reference and reference.get("note"):
        intro.append(f"Reference numbers ({reference.get('name')}): {reference['note']}")
    _remove_stale(ctx)
    atomic_write_text(out / "index.html", to_html(title, intro, sections))
    atomic_write_text(out / "tables.csv", to_csv(sections))
    atomic_write_text(out / "tables.tex", to_latex(sections))
    report = out / "report.md"
    atomic_write_text(report, to_markdown(title, intro, sections, out))
    log.info("wrote %s from %d result files", report, len(loaded))
    return report
