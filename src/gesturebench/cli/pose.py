"""`gesturebench pose check VIDEO...`: detection rate and view verdict per video."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import console

pose_app = typer.Typer(help="The pose encoder's detector (MediaPipe BlazePose; needs gesturebench[pose]).",
                       no_args_is_help=True)


@pose_app.command("check")
def check(
    videos: Annotated[list[Path], typer.Argument(help="Video files.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per video, for machines.")] = False,
) -> None:
    """Say, per video, how often a person is found and whether it is seen from the front, side or behind."""
    from rich.table import Table

    from ..api.pose import check_pose_videos

    results = check_pose_videos(videos)
    if as_json:
        for r in results:
            typer.echo(json.dumps(r.to_dict()))
        return
    table = Table(title="pose check (24 TSN frames per video, BlazePose full)")
    for col in ("video", "detected", "view", "shoulders/torso", "swapped", "masked", "note"):
        table.add_column(col, justify="right" if col in ("detected", "shoulders/torso", "swapped") else "left")
    for r in results:
        if r.error:
            table.add_row(r.path.name, "-", "-", "-", "-", "-", f"error: {r.error}")
            continue
        rep = r.report
        width = "-" if rep.width_ratio != rep.width_ratio else f"{rep.width_ratio:.2f}"
        table.add_row(r.path.name, f"{100 * rep.detection_rate:.0f}%", rep.view, width, f"{100 * rep.swapped:.0f}%",
                      ", ".join(rep.masked) or "-", rep.warning() or "")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(pose_app, name="pose")
