"""`gesturebench probe` (linear probe on feature stores) and `gesturebench fewshot` (few-shot curves)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import AllowOverlapOpt, DeviceOpt, SeedOpt, console, print_classification


def _load_store(path: Path) -> Any:
    """Load one feature store (a seam the tests replace)."""
    from ..features.store import FeatureStore

    return FeatureStore(path).load()


def _print_probe(result: Any) -> None:
    from ..report.tables import pct

    counts = ", ".join(f"{d} {n}" for d, n in result.n_train_per_domain.items())
    s = result.settings
    print_classification(
        f"[bold]linear probe[/bold] wd={s['weight_decay']:g} | encoder [cyan]{result.encoder}[/cyan] | "
        f"train {result.train_source} ({counts}) | test {result.test_source} ({result.n_test})",
        result,
        extra_summary={
            "train %": pct(result.train_accuracy),
            "L-BFGS iters": f"{result.iterations}" + ("" if result.converged else " (cap)"),
        },
    )


def _check_wd(value: float) -> None:
    import math

    from ..errors import ConfigError

    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"--weight-decay must be a finite number >= 0; got {value!r}")


def probe(
    train: Annotated[list[Path], typer.Option("--train", help="Training feature store (repeat to combine stores).")],
    test: Annotated[Path, typer.Option("--test", help="Test feature store.")],
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="L2 penalty on the weights (sklearn C = 1/(n*wd)).")] = 1e-4,
    epochs: Annotated[int, typer.Option("--epochs", help="Maximum L-BFGS iterations.")] = 200,
    balanced: Annotated[bool, typer.Option("--balanced", help="Class-balanced loss weights.")] = False,
    out: Annotated[
        Path, typer.Option("--out", help="Result file (*.json) or folder (templated file name).")
    ] = Path("results"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for the 95% CI (0: none).")] = 1000,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    allow_overlap: AllowOverlapOpt = False,
) -> None:
    """Train a linear probe (logistic regression) on frozen features; print and save its test accuracy."""
    from ..errors import check_positive_int
    from ..evaluators.probe import evaluate_probe, write_probe_result

    _check_wd(weight_decay)
    check_positive_int("--epochs", epochs)
    train_sets = [_load_store(p) for p in train]
    test_set = _load_store(test)
    result = evaluate_probe(train_sets, test_set, weight_decay=weight_decay, epochs=epochs, class_balanced=balanced,
                            bootstrap=bootstrap, seed=seed, device=device, allow_overlap=allow_overlap)
    _print_probe(result)
    path = write_probe_result(result, out)
    console.print(f"wrote {path}", highlight=False, soft_wrap=True)


def _print_curve(result: Any) -> None:
    from rich.table import Table

    from ..report.tables import pct

    console.print(
        f"[bold]few-shot {result.method}[/bold] | encoder [cyan]{result.encoder}[/cyan] | "
        f"base {result.base_source or 'none'} ({result.n_base}) + {result.pool_source} shots | "
        f"test {result.test_source} ({result.n_test})",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(show_header=True, header_style="bold")
    for col in ("shots", "train", "top-1 %", "95% CI", "sd", "runs", "short classes"):
        table.add_column(col, justify="right")
    for p in result.points:
        ci = f"{pct(p.ci[0])}–{pct(p.ci[1])}" if p.ci else "–"
        n = result.n_base + round(sum(p.n_sampled) / len(p.n_sampled))
        short = "all" if len(p.short_classes) == len(result.class_names) else ", ".join(p.short_classes) or "–"
        table.add_row(str(p.shots), str(n), pct(p.mean), ci, pct(p.std), str(len(p.accuracies)), short)
    console.print(table)
    console.print(f"shots = labelled {result.pool_source} videos per class (short: classes with fewer, all used); "
                  f"top-1 = mean over runs; "
                  f"chance {pct(result.chance)}%", highlight=False, soft_wrap=True)


def fewshot(
    pool: Annotated[Path, typer.Option("--pool", help="Store of labelled target videos to sample shots from.")],
    test: Annotated[Path, typer.Option("--test", help="Test feature store (disjoint from the pool).")],
    base: Annotated[
        list[Path] | None, typer.Option("--base", help="Store always in the training set, e.g. synthetic (repeatable).")
    ] = None,
    shots: Annotated[str, typer.Option("--shots", help="Comma-separated videos per class, e.g. 1,2,5,10.")] = "1,2,5,10",
    repeats: Annotated[int, typer.Option("--repeats", help="Random samples per shot count.")] = 5,
    method: Annotated[str, typer.Option("--method", help="Classifier: knn or probe.")] = "knn",
    k: Annotated[int, typer.Option("-k", "--k", help="Neighbours (knn).")] = 3,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="L2 penalty (probe).")] = 1e-4,
    compare: Annotated[
        bool, typer.Option("--compare/--no-compare", help="With --base, also run the pool-only curve and plot both.")
    ] = True,
    out: Annotated[Path, typer.Option("--out", help="Output folder for the curve JSON and PNG.")] = Path("results/fewshot"),
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    allow_overlap: AllowOverlapOpt = False,
) -> None:
    """Accuracy against labelled target videos per class (with an optional base set always included)."""
    from rich.progress import Progress

    from ..errors import check_choice, check_positive_int
    from ..evaluators.fewshot import METHODS, curve_png, fewshot_curve, parse_shots, write_fewshot_result

    shot_list = parse_shots(shots, "--shots")
    check_choice("--method", method, METHODS)
    check_positive_int("--repeats", repeats)
    check_positive_int("-k", k)
    _check_wd(weight_decay)
    base_sets = [_load_store(p) for p in base or []]
    pool_set = _load_store(pool)
    test_set = _load_store(test)
    runs = [base_sets] + ([[]] if base_sets and compare else [])
    results = []
    with Progress(console=console, transient=True) as bar:
        for b in runs:
            task = bar.add_task(f"{method}, base {'+'.join(x.key[:8] for x in b) or 'none'}", total=None)
            results.append(fewshot_curve(
                pool_set, test_set, shots=shot_list, repeats=repeats, method=method, base=b, k=k,
                weight_decay=weight_decay, seed=seed, device=device, allow_overlap=allow_overlap,
                progress=lambda done, total, task=task: bar.update(task, completed=done, total=total),
            ))
    paths = []
    for res in results:
        _print_curve(res)
        paths.append(write_fewshot_result(res, out))
    png = paths[0].with_suffix(".png")
    curve_png(results[0], png, others=results[1:])
    for p in [*paths, png]:
        console.print(f"wrote {p}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach `probe` and `fewshot` to the root app."""
    app.command("probe")(probe)
    app.command("fewshot")(fewshot)
