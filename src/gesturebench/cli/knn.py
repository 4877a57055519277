"""`gesturebench knn` (k-NN evaluation of feature stores) and `gesturebench report`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .common import AllowOverlapOpt, DeviceOpt, SeedOpt, console, print_classification

if TYPE_CHECKING:
    from ..types import FeatureSet


def _load_store(path: Path) -> FeatureSet:
    """Load one feature store (a seam the tests replace)."""
    from ..features.store import FeatureStore

    return FeatureStore(path).load()


def _print_result(result: Any) -> None:
    counts = ", ".join(f"{d} {n}" for d, n in result.n_train_per_domain.items())
    print_classification(
        f"[bold]k-NN[/bold] k={result.settings['k']} {result.settings['metric']} | encoder [cyan]{result.encoder}[/cyan] | "
        f"train {result.train_source} ({counts}) | test {result.test_source} ({result.n_test})",
        result,
    )


def knn(
    train: Annotated[list[Path], typer.Option("--train", help="Training feature store (repeat to combine stores).")],
    test: Annotated[Path, typer.Option("--test", help="Test feature store.")],
    k: Annotated[int, typer.Option("-k", "--k", help="Number of neighbours.")] = 3,
    metric: Annotated[str, typer.Option("--metric", help="Distance: l2 or cosine.")] = "l2",
    out: Annotated[
        Path, typer.Option("--out", help="Result file (*.json) or folder (templated file name).")
    ] = Path("results"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for the 95% CI (0: none).")] = 1000,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    allow_overlap: AllowOverlapOpt = False,
) -> None:
    """Classify every test video by its k nearest training videos; print and save the accuracy."""
    from ..errors import check_choice, check_positive_int
    from ..evaluators.knn import METRICS, evaluate_knn
    from ..evaluators.results import write_result

    check_positive_int("-k", k)
    check_choice("--metric", metric, METRICS)
    from ..evaluators.metrics import check_bootstrap

    check_bootstrap(bootstrap)
    train_sets = [_load_store(p) for p in train]
    test_set = _load_store(test)
    result = evaluate_knn(train_sets, test_set, k=k, metric=metric, bootstrap=bootstrap, seed=seed, device=device,
                          allow_overlap=allow_overlap)
    _print_result(result)
    path = write_result(result, out)
    console.print(f"wrote {path}", highlight=False, soft_wrap=True)


def report(
    results: Annotated[Path, typer.Argument(help="Folder of result JSON files.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for report.md and figures.")] = Path("report"),
) -> None:
    """Build a Markdown report (study table, confusion matrices, bar chart) from result files."""
    from ..report import write_report

    path = write_report(results, out)
    console.print(f"wrote {path}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach `knn` and `report` to the root app."""
    app.command("knn")(knn)
    app.command("report")(report)
