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
    print_status(summary)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
