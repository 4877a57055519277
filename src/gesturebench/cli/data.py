"""`gesturebench data`: check a dataset's manifest, probe videos."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import FollowLinksOpt, console

if TYPE_CHECKING:
    from ..types import Manifest

data_app = typer.Typer(
    name="data",
    help="Dataset tools: validate manifests (RoCoG-v2 lists, folder per class, CSV/JSONL), probe videos.",
    no_args_is_help=True,
)

RootArg = Annotated[Path, typer.Argument(help="Dataset root folder (or a .csv/.jsonl manifest).", show_default=False)]
ListOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--list",
        "-l",
        help="RoCoG-v2 annotation list (e.g. annotations/syn_ground_train.txt); repeat for several. "
        "Found as given, under ROOT, or under ROOT/annotations.",
    ),
]
TableOpt = Annotated[
    Path | None, typer.Option("--table", help="CSV or JSONL manifest with path,label[,domain,view,split].")
]


def _counts_table(manifest: Manifest, title: str):
    from rich.table import Table

    from ..types import DIR_OF_DOMAIN, DOMAINS, VIEWS

    counts = manifest.counts()
    present = {(d, v) for _, d, v in counts}
    cols = [(d, v) for d in DOMAINS for v in VIEWS if (d, v) in present]
    table = Table(title=title, title_justify="left")
    table.add_column("class", style="bold")
    for d, v in cols:
        table.add_column(f"{DIR_OF_DOMAIN[d]}/{v}", justify="right")
    table.add_column("total", justify="right", style="bold")
    for name in manifest.class_names:
        row = [counts.get((name, d, v), 0) for d, v in cols]
        table.add_row(name, *map(str, row), str(sum(row)))
    col_totals = [sum(counts.get((c, d, v), 0) for c in manifest.class_names) for d, v in cols]
    table.add_section()
    table.add_row("total", *map(str, col_totals), str(len(manifest)), style="bold")
    return table


@data_app.command("check")
def check(root: RootArg, lists: ListOpt = None, table: TableOpt = None, follow_links: FollowLinksOpt = False) -> None:
    """Validate a manifest and print video counts per class x domain/view.

    Forms: ROOT --list FILE [--list FILE ...] (RoCoG-v2 lists); ROOT alone
    (folder per class, or every list in ROOT/annotations); ROOT --table FILE
    (CSV/JSONL). Every problem is printed as file:line: message; exit 1 on any.
    """
    from collections import Counter

    from ..data.manifest import load_manifest, load_table
    from ..errors import ConfigError, ManifestError

    if lists and table is not None:
        raise ConfigError("use either --list or --table, not both")
    try:
        if table is not None:
            manifest = load_table(table, root, follow_links=follow_links)
        else:
            manifest = load_manifest(root, lists or None, follow_links=follow_links)
    except ManifestError as exc:
        if len(exc.problems) == 1:  # one problem: one line, like every other CLI error
            typer.echo(f"error: {exc.problems[0]}", err=True)
            raise typer.Exit(1) from None
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"error: {len(exc.problems)} problems in the manifest of {root}", err=True)
        raise typer.Exit(1) from None
    sources = ", ".join(manifest.sources) or str(root)
    title = f"{root}: {len(manifest)} videos, {manifest.num_classes} classes ({sources})"
    console.print(_counts_table(manifest, title))
    splits = Counter(r.split for r in manifest.records)
    console.print("splits: " + ", ".join(f"{s} {n}" for s, n in sorted(splits.items())), highlight=False)
    console.print("[green]ok[/green]: no problems found", highlight=False)


@data_app.command("probe")
def probe_cmd(
    videos: Annotated[list[Path], typer.Argument(help="Video files to inspect.", show_default=False)],
) -> None:
    """Print frame count (counted from packets), size after rotation, rate, codec of videos."""
    from rich.table import Table

    from ..data.decode import probe
    from ..errors import DecodeError

    table = Table()
    for col in ("video", "frames", "size", "fps", "seconds", "rotation", "codec", "pix_fmt", "keyframes"):
        table.add_column(col, justify="left" if col in ("video", "codec", "pix_fmt") else "right")
    failed = []
    for path in videos:
        try:
            i = probe(path)
        except DecodeError as exc:
            failed.append(exc)
            continue
        table.add_row(
            path.name, str(i.num_frames), f"{i.width}x{i.height}", f"{i.fps:.2f}", f"{i.duration:.2f}",
            str(i.rotation), i.codec, i.pix_fmt, str(i.num_keyframes),
        )
    if table.row_count:
        console.print(table)
    for exc in failed:
        typer.echo(f"error: {exc}", err=True)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach ``gesturebench data ...`` to the root app."""
    app.add_typer(data_app, name="data")
