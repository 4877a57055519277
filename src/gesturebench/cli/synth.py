"""`gesturebench synth` and `gesturebench contact-sheet`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import OutDirOpt, SeedOpt, WorkersOpt, console


def _synth(
    out: OutDirOpt,
    per_class: Annotated[int, typer.Option("--per-class", help="Videos per gesture and view.")] = 10,
    views: Annotated[str, typer.Option("--views", help="Comma-separated: ground, air.")] = "ground",
    seed: SeedOpt = 0,
    style: Annotated[str, typer.Option("--style", help="default (syn/) or target (tgt/, a synthetic stand-in domain).")] = "default",
    size: Annotated[int, typer.Option("--size", help="Frame width and height in pixels (even, >= 32).")] = 224,
    frames: Annotated[int, typer.Option("--frames", help="Frames per video.")] = 64,
    workers: WorkersOpt = 0,
    splits: Annotated[str, typer.Option("--splits", help="Split fractions, e.g. train=0.8,val=0.2[,test=0.1].")] = "train=0.8,val=0.2",
    gestures: Annotated[Path | None, typer.Option("--gestures", help="Folder of gesture YAML files (default: built-in seven).")] = None,
) -> None:
    """Render a synthetic gesture dataset in the RoCoG-v2 layout."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Table

    from ..synth.writer import generate_dataset, parse_splits, validate_args

    view_list = validate_args(per_class, views, seed, style, size, frames, workers)
    parse_splits(splits)
    with Progress(TextColumn("[bold]synth[/bold] {task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False) as bar:
        task = bar.add_task(f"{style} {','.join(view_list)}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = generate_dataset(out, per_class, view_list, seed, style=style, size=size, frames=frames,
                                   workers=workers, splits=splits, progress=progress, gesture_dir=gestures)
    split_names = sorted({k[2] for k in summary.counts}, key=["train", "val", "test"].index)
    table = Table(title=f"{summary.root} ({style})")
    table.add_column("class")
    for view in summary.views:
        for sp in split_names:
            table.add_column(f"{view}/{sp}", justify="right")
    for name in summary.class_names:
        table.add_row(name, *[str(summary.counts.get((v, name, sp), 0)) for v in summary.views for sp in split_names])
    console.print(table)
    rate = f", {summary.videos_per_second:.1f} videos/s" if summary.generated else ""
    console.print(f"{summary.generated} rendered, {summary.skipped} kept from an earlier run in "
                  f"{summary.seconds:.1f}s{rate}")
    for path in summary.lists + summary.tables:
        console.print(f"  {path}", highlight=False)


def _contact_sheet(
    out: Annotated[Path, typer.Option("--out", help="PNG file to write.")],
    style: Annotated[str, typer.Option("--style", help="default or target.")] = "default",
    size: Annotated[int, typer.Option("--size", help="Tile size in pixels (even, >= 32).")] = 224,
    seed: SeedOpt = 0,
    gestures: Annotated[Path | None, typer.Option("--gestures", help="Folder of gesture YAML files.")] = None,
) -> None:
    """Render one mid-gesture frame per gesture and view into one labelled PNG."""
    from ..synth.contact import render_contact_sheet

    path = render_contact_sheet(out, style=style, size=size, seed=seed, gesture_dir=gestures)
    console.print(f"wrote {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach `synth` and `contact-sheet` to the root app."""
    app.command("synth")(_synth)
    app.command("contact-sheet")(_contact_sheet)
