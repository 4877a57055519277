"""`gesturebench run CONFIG.yaml --out DIR`: the whole study in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import OverwriteOpt, console, warn
from .progress import stage_progress


def print_status(summary: Any) -> None:
    from collections import Counter

    counts = Counter(s.split(":")[0] for _, s in summary.status)
    for label, status in summary.status:
        if status.startswith("not available"):
            warn(f"{label}: {status}")
    console.print(
        f"{len(summary.status)} steps: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        + f"; {summary.seconds:.1f} s", highlight=False, soft_wrap=True)
    if summary.skipped:
        warn(f"{len(summary.skipped)} video(s) skipped: " + "; ".join(f"{v} ({r})" for v, r in summary.skipped[:5]))
    if summary.report is not None:
        console.print(f"report: {summary.report.parent / 'index.html'} (and report.md, tables.csv, tables.tex)",
                      highlight=False, soft_wrap=True)


def print_knn_tables(outcomes: list[Any]) -> None:
    """The study-shaped table of every k-NN result: one per (test set, k, metric); encoders as rows,
    training sets as columns; top-1 % with its bootstrap interval. Nothing is dropped: a second
    result for one cell (another weights file, say) gets a row of its own, named by its file."""
    from rich.table import Table

    from ..report.format import pct

    groups: dict[tuple[str, Any, Any], dict[str, dict[str, Any]]] = {}
    for o in outcomes:
        doc = getattr(o, "doc", None)
        if not doc or doc.get("task") != "knn":
            continue
        s = doc.get("settings", {})
        rows = groups.setdefault((doc["test"]["source"], s.get("k"), s.get("metric")), {})
        row, col = doc["encoder"], doc["train"]["source"]
        if col in rows.get(row, {}):
            row = f"{doc['encoder']} ({Path(str(o.path)).stem[-10:]})"
        rows.setdefault(row, {})[col] = doc
    for (test, k, metric), rows in groups.items():
        cols = sorted({c for r in rows.values() for c in r}, key=lambda c: (c.count("+"), c))
        table = Table(title=f"k-NN top-1 accuracy % (k={k}, {metric}) on test set {test} [95% bootstrap CI]")
        table.add_column("encoder")
        for c in cols:
            n = next(r[c]["train"].get("n", "?") for r in rows.values() if c in r)
            table.add_column(f"train: {c} (n={n})", justify="right")
        chance = None
        for name, cells in rows.items():
            out = []
            for c in cols:
                doc = cells.get(c)
                if doc is None:
                    out.append("-")
                    continue
                m = doc["metrics"]
                chance = m.get("chance", chance)
                ci = m.get("ci")
                out.append(pct(m["accuracy"]) + (f" [{pct(ci[0], 0)}-{pct(ci[1], 0)}]" if ci else ""))
            table.add_row(name, *out)
        if chance is not None:
            table.add_row("chance", *[pct(chance)] * len(cols), style="dim")
        console.print(table)


def run(
    config: Annotated[Path, typer.Argument(help="Study config (YAML): datasets, encoders, tasks; see configs/.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: features/, results/, report/.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate everything and print the plan with counts and cost; run nothing.")
    ] = False,
    set_: Annotated[
        list[str] | None, typer.Option("--set", metavar="DOTTED.KEY=VALUE", help="Override a config value (repeatable).")
    ] = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run a study config end to end: extract each (encoder, dataset) once, run every task, write the report.

    Every step is cached and atomic: an unchanged rerun does no work, an interrupted one resumes.
    """
    from ..api.run import run_study
    from ..study.config import load_config

    cfg = load_config(config, out, overrides=set_ or [])
    if dry_run:
        summary = run_study(cfg, dry_run=True)
        for line in summary.plan():
            console.print(line, highlight=False, soft_wrap=True)
        return
    with stage_progress(unit="items") as progress:
        summary = run_study(cfg, overwrite=overwrite, progress=progress)
    print_knn_tables(summary.outcomes)
    print_status(summary)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
