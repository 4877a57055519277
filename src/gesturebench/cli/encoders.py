"""`gesturebench encoders` commands: list the registered presets."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import console


def _has_wildcard(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _weights_cell(entry) -> str:
    if not entry.needs_weights():
        return "not needed"
    path = entry.local_weights()
    return f"[green]local[/green] ({path})" if path else "[yellow]missing[/yellow]"


def _fold(text: str, width: int, indent: int) -> list[str]:
    """Break ``text`` at ``width`` columns, at spaces where possible, else anywhere (long URLs);
    continuation lines are indented by ``indent``. Joining the pieces gives back every character."""
    width = max(indent + 20, width)
    lines, rest = [], text
    while len(rest) > width:
        cut = rest.rfind(" ", indent + 1, width)
        cut = width if cut <= indent else cut + 1
        lines.append(rest[:cut].rstrip())
        rest = " " * indent + rest[cut:]
    return lines + [rest]


def _params_cell(entry) -> str:
    if entry.params_m is None:
        return "?"
    if entry.params_m == 0:
        return "0"
    return f"{entry.params_m:.2f}M" if entry.params_m < 10 else f"{entry.params_m:.0f}M"


def entry_json(entry) -> dict:
    """Everything ``encoders list`` knows about a preset, as JSON (full source URL, local weights)."""
    local = entry.local_weights() if entry.needs_weights() else None
    return {
        "name": entry.name, "family": entry.family, "feature_dim": entry.feature_dim, "input": entry.spec.describe(),
        "num_frames": entry.spec.num_frames, "pooling": entry.pooling or None, "params_m": entry.params_m,
        "gflops": entry.gflops, "supports_text": entry.supports_text, "test_only": entry.test_only,
        "source": entry.source or None, "hub_id": entry.hub_id, "license": entry.license or None,
        "weights": {"needed": entry.needs_weights(), "file": entry.weights_file,
                    "local": str(local) if local else None},
    }


def list_command(
    pattern: Annotated[
        str, typer.Argument(help="Shell-style wildcard (e.g. 'umt*'); a plain word matches as a substring.")
    ] = "*",
    all_: Annotated[bool, typer.Option("--all", help="Also show tiny test-only encoders.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one object per preset) instead of text.")] = False,
) -> None:
    """List encoder presets: dimension, input spec, pooling, size, full weight source, local weights."""
    import json

    from rich.text import Text

    from ..encoders import list_encoders
    from ..errors import EncoderError

    glob = pattern if _has_wildcard(pattern) else f"*{pattern}*"
    entries = list_encoders(glob, include_test=all_)
    if not entries:
        hidden = [e.name for e in list_encoders(glob, include_test=True) if e.test_only]
        hint = f" ({len(hidden)} test-only encoder(s) match: add --all)" if hidden else ""
        raise EncoderError(f"no encoder matches {pattern!r}{hint}; see `gesturebench encoders list --all`")
    if as_json:
        typer.echo(json.dumps([entry_json(e) for e in entries], indent=2))
        return
    # One block per preset instead of a wide table: readable at 80 columns, nothing truncated.
    # The name line never wraps (names are what users type); the source URL folds onto more lines.
    console.print(f"{len(entries)} encoder(s)", style="bold", highlight=False)
    for e in entries:
        tags = (" (test)" if e.test_only else "") + (" +text" if e.supports_text else "")
        head = Text(e.name, style="bold")
        head.append(tags, style="cyan")
        head.append(f"  dim {e.feature_dim}, {_params_cell(e)} params, {e.spec.describe()}")
        console.print(head, highlight=False, overflow="fold")
        if e.pooling:
            console.print(Text(f"    pooling: {e.pooling}"), highlight=False, overflow="fold")
        src = e.hub_id if e.hub_id and not e.source else (e.source or "-")
        for line in _fold(f"    source:  {src}", console.width, indent=13):
            console.print(Text(line), highlight=False, no_wrap=True)
        console.print(Text.from_markup(f"    weights: {_weights_cell(e)}"), highlight=False, overflow="fold")


def register(app: typer.Typer) -> None:
    """Attach ``gesturebench encoders ...`` to the root app."""
    sub = typer.Typer(help="Registered video encoders.", no_args_is_help=True)
    sub.command("list")(list_command)
    app.add_typer(sub, name="encoders")
