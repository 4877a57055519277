"""`gesturebench demo`: the offline end-to-end job, a run of configs/demo.yaml (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, warn
from .progress import stage_progress


def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder (data, features, results, report).")] = Path(
        "demo-out"
    ),
    per_class_synthetic: Annotated[int, typer.Option(help="Synthetic training videos per class.")] = 30,
    per_class_target: Annotated[int, typer.Option(help="Target-style videos per class (split train/test).")] = 30,
    size: Annotated[int, typer.Option(help="Rendered frame size in pixels.")] = 160,
    frames: Annotated[int, typer.Option(help="Frames per rendered video.")] = 48,
    encoders: Annotated[str, typer.Option(help="Comma-separated encoder names.")] = "pixels,motion",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 2,
) -> None:
    """Generate a small synthetic set and a target-style set, extract features, run k-NN, write a report.

    Offline, no downloads: the same as `gesturebench run configs/demo.yaml --out DIR`.
    The 'target' domain is our generator's --style target: a synthetic stand-in for
    real camera footage, not real video.
    """
    from rich.table import Table

    from ..api.demo import DEMO_TRAIN_SOURCES, DemoConfig, demo_table_rows, run_demo
    from ..encoders.registry import get_entry

    cfg = DemoConfig(
        out=out, per_class_synthetic=per_class_synthetic, per_class_target=per_class_target, size=size,
        frames=frames, seed=seed, encoders=tuple(e.strip() for e in encoders.split(",") if e.strip()), workers=workers,
    )
    for name in cfg.encoders:  # before rendering anything (DemoConfig refuses an empty list)
        get_entry(name)
    with stage_progress(unit="items") as progress:
        summary = run_demo(cfg, progress=progress)

    table = Table(title="k-NN top-1 accuracy (%) on the target-style test set [95% bootstrap CI]")
    table.add_column("encoder")
    for source in DEMO_TRAIN_SOURCES:
        table.add_column(f"train: {source} (n={summary.n_train.get(source, 0)})", justify="right")
    for row in demo_table_rows(summary):
        table.add_row(*row)
    table.add_row("chance", *[f"{100 * summary.chance:.1f}"] * len(DEMO_TRAIN_SOURCES), style="dim")
    console.print(table)
    console.print(
        f"test videos: {summary.n_test} (target style = synthetic stand-in for real footage); "
        f"k={cfg.k}, metric={cfg.metric}; total {summary.seconds.get('total', 0):.0f} s"
    )
    if summary.skipped:
        warn(f"{len(summary.skipped)} video(s) skipped: " + "; ".join(f"{p} ({r})" for p, r in summary.skipped[:5]))
    console.print(f"results: {out / 'results'}   report: {summary.report.parent / 'index.html'}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
