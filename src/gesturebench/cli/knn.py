"""`gesturebench knn` (k-NN evaluation of feature stores) and `gesturebench report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import AllowOverlapOpt, DeviceOpt, OverwriteOpt, SeedOpt, console, print_classification, print_written


def _print_result(doc: dict[str, Any]) -> None:
    counts = ", ".join(f"{d} {n}" for d, n in doc["train"]["n_per_domain"].items())
    s = doc["settings"]
    print_classification(
        f"[bold]k-NN[/bold] k={s['k']} {s['metric']} | encoder [cyan]{doc['encoder']}[/cyan] | "
        f"train {doc['train']['source']} ({counts}) | test {doc['test']['source']} ({doc['test']['n']})",
        doc,
    )


def knn(
    train: Annotated[list[Path], typer.Option("--train", help="Training feature store (repeat to combine stores).")],
    test: Annotated[Path, typer.Option("--test", help="Test feature store.")],
    k: Annotated[int, typer.Option("-k", "--k", help="Number of neighbours.")] = 3,
    metric: Annotated[str, typer.Option("--metric", help="Distance: l2 or cosine.")] = "l2",
    out: Annotated[
        Path, typer.Option("--out", help="Result file (*.json) or folder (file named by the result's identity).")
    ] = Path("results"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for the 95% CI (0: none).")] = 1000,
    seed: SeedOpt = 0,
    overwrite: OverwriteOpt = False,
    device: DeviceOpt = "auto",
    allow_overlap: AllowOverlapOpt = False,
) -> None:
    """Classify every test video by its k nearest training videos; print and save the accuracy."""
    from ..api.knn import run_knn
    from ..errors import check_choice, check_positive_int
    from ..evaluators.knn import METRICS

    check_positive_int("-k", k)
    check_choice("--metric", metric, METRICS)
    from ..evaluators.metrics import check_bootstrap

    check_bootstrap(bootstrap)
    from ..errors import ConfigError
    from ..fileio import output_problem

    problem = output_problem(out, "file" if out.suffix == ".json" else "folder")
    if problem:
        raise ConfigError(f"--out {problem}")
    outcome = run_knn(train, test, k=k, metric=metric, bootstrap=bootstrap, seed=seed, device=device, out=out,
                      overwrite=overwrite, allow_overlap=allow_overlap)
    _print_result(outcome.doc)
    print_written(outcome)


def report(
    results: Annotated[list[Path], typer.Argument(help="Folder(s) of result JSON files, or result files.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder: index.html, report.md, tables.csv, tables.tex, figures/.")] = Path("report"),
    reference: Annotated[
        Path | None, typer.Option("--reference", help="YAML of the study's reference numbers to show beside ours.")
    ] = None,
    title: Annotated[str, typer.Option("--title", help="Report title.")] = "gesturebench results",
) -> None:
    """Build the report (HTML, Markdown, CSV, LaTeX; a section per task present) from result files."""
    from ..api.report import build_report

    path = build_report(results[0] if len(results) == 1 and results[0].is_dir() else results, out,
                        title=title, reference=reference)
    console.print(f"wrote {path.parent / 'index.html'} and {path}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach `knn` and `report` to the root app."""
    app.command("knn")(knn)
    app.command("report")(report)
