"""`gesturebench probe` (linear probe on feature stores) and `gesturebench fewshot` (few-shot curves)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import AllowOverlapOpt, DeviceOpt, OverwriteOpt, SeedOpt, console, print_classification, print_written
from .progress import stage_progress


def _print_probe(doc: dict[str, Any]) -> None:
    from ..report.format import pct

    counts = ", ".join(f"{d} {n}" for d, n in doc["train"]["n_per_domain"].items())
    s, m = doc["settings"], doc["metrics"]
    print_classification(
        f"[bold]linear probe[/bold] {_reg_label(s)} | encoder [cyan]{doc['encoder']}[/cyan] | "
        f"train {doc['train']['source']} ({counts}) | test {doc['test']['source']} ({doc['test']['n']})",
        doc,
        extra_summary={
            "train %": pct(m.get("train_accuracy")),
            "L-BFGS iters": f"{m.get('iterations')}" + ("" if m.get("converged", True) else " (--max-iter cap)"),
        },
    )


def _reg_label(s: dict[str, Any]) -> str:
    if "C_chosen" in s:
        return f"C={s['C_chosen']:g} ({str(s.get('C_source', 'given')).split(':')[0]})"
    return f"wd={s['weight_decay']:g}"  # a cached result of the torch probe


COpt = Annotated[str, typer.Option(
    "--C", help="Inverse L2 strength (scikit-learn's C), or auto: chosen on a validation split, then refit.")]
WeightDecayOpt = Annotated[float | None, typer.Option(
    "--weight-decay", help="Fixed L2 penalty per training row instead of --C (C = 1/(n*wd)).")]


def probe(
    train: Annotated[list[Path], typer.Option("--train", help="Training feature store (repeat to combine stores).")],
    test: Annotated[Path, typer.Option("--test", help="Test feature store.")],
    c: COpt = "auto",
    weight_decay: WeightDecayOpt = None,
    max_iter: Annotated[int, typer.Option("--max-iter", help="Maximum L-BFGS iterations per fit.")] = 1000,
    epochs: Annotated[int | None, typer.Option("--epochs", hidden=True, help="Deprecated: --max-iter.")] = None,
    balanced: Annotated[bool, typer.Option("--balanced", help="Class-balanced loss weights.")] = False,
    out: Annotated[
        Path, typer.Option("--out", help="Result file (*.json) or folder (file named by the result's identity).")
    ] = Path("results"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for the 95% CI (0: none).")] = 1000,
    seed: SeedOpt = 0,
    overwrite: OverwriteOpt = False,
    device: DeviceOpt = "auto",
    allow_overlap: AllowOverlapOpt = False,
) -> None:
    """Train a linear probe (logistic regression) on frozen features; print and save its test accuracy."""
    from ..api.probe import run_probe

    with console.status("fitting the linear probe (scikit-learn L-BFGS)", spinner="dots"):
        outcome = run_probe(train, test, C=c, weight_decay=weight_decay, max_iter=max_iter, epochs=epochs,
                            balanced=balanced,
                            bootstrap=bootstrap, seed=seed, device=device, out=out, overwrite=overwrite,
                            allow_overlap=allow_overlap)
    _print_probe(outcome.doc)
    print_written(outcome)


def _print_curve(doc: dict[str, Any]) -> None:
    from rich.table import Table

    from ..report.format import pct

    base, pool, test = doc["base"], doc["pool"], doc["test"]
    console.print(
        f"[bold]few-shot {doc['method']}[/bold] | encoder [cyan]{doc['encoder']}[/cyan] | "
        f"base {base['source'] or 'none'} ({base['n']}) + {pool['source']} shots | "
        f"test {test['source']} ({test['n']})",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(show_header=True, header_style="bold")
    for col in ("shots", "train", "top-1 %", "95% CI", "sd", "runs", "short classes"):
        table.add_column(col, justify="right")
    for p in doc["curve"]:
        ci = f"{pct(p['ci'][0])}–{pct(p['ci'][1])}" if p.get("ci") else "–"
        n = base["n"] + round(sum(p["n_sampled"]) / len(p["n_sampled"]))
        short = "all" if len(p["short_classes"]) == len(doc["class_names"]) else ", ".join(p["short_classes"]) or "–"
        table.add_row(str(p["shots"]), str(n), pct(p["mean_accuracy"]), ci, pct(p["std"]), str(len(p["accuracies"])), short)
    console.print(table)
    console.print(f"shots = labelled {pool['source']} videos per class (short: classes with fewer, all used); "
                  f"top-1 = mean over runs; 95% CI: Student-t over runs; "
                  f"chance {pct(doc['chance'])}% (classes in the test set)", highlight=False, soft_wrap=True)


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
    c: COpt = "auto",
    weight_decay: WeightDecayOpt = None,
    compare: Annotated[
        bool, typer.Option("--compare/--no-compare", help="With --base, also run the pool-only curve and plot both.")
    ] = True,
    out: Annotated[Path, typer.Option("--out", help="Output folder for the curve JSON and PNG.")] = Path("results/fewshot"),
    seed: SeedOpt = 0,
    overwrite: OverwriteOpt = False,
    device: DeviceOpt = "auto",
    allow_overlap: AllowOverlapOpt = False,
) -> None:
    """Accuracy against labelled target videos per class (with an optional base set always included)."""
    from ..api.fewshot import curve_figure, run_fewshot

    with stage_progress(unit="fits") as progress:
        outcomes = run_fewshot(
            pool, test, base=base or [], shots=shots, repeats=repeats, method=method, k=k, C=c, weight_decay=weight_decay,
            compare=compare, seed=seed, device=device, out=out, overwrite=overwrite, progress=progress,
            allow_overlap=allow_overlap,
        )
    for o in outcomes:
        _print_curve(o.doc)
        print_written(o)
    png = curve_figure(outcomes, outcomes[0].path.with_suffix(".png"))
    console.print(f"wrote {png}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach `probe` and `fewshot` to the root app."""
    app.command("probe")(probe)
    app.command("fewshot")(fewshot)
