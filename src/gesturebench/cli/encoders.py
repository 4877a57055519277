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


def _source_cell(entry) -> str:
    """Hub id, or the host of a URL, or the plain text (full URLs do not fit a table)."""
    from urllib.parse import urlparse

    if entry.hub_id:
        return entry.hub_id
    url = urlparse(entry.source or "")
    return url.netloc if url.scheme in ("http", "https") and url.netloc else (entry.source or "-")


def _params_cell(entry) -> str:
    if entry.params_m is None:
        return "?"
    if entry.params_m == 0:
        return "0"
    return f"{entry.params_m:.2f}M" if entry.params_m < 10 else f"{entry.params_m:.0f}M"


def list_command(
    pattern: Annotated[
        str, typer.Argument(help="Shell-style wildcard (e.g. 'umt*'); a plain word matches as a substring.")
    ] = "*",
    all_: Annotated[bool, typer.Option("--all", help="Also show tiny test-only encoders.")] = False,
) -> None:
    """List encoder presets: dimension, input spec, pooling, size, source, local weights."""
    from rich.table import Table

    from ..encoders import list_encoders
    from ..errors import EncoderError

    glob = pattern if _has_wildcard(pattern) else f"*{pattern}*"
    entries = list_encoders(glob, include_test=all_)
    if not entries:
        hidden = [e.name for e in list_encoders(glob, include_test=True) if e.test_only]
        hint = f" ({len(hidden)} test-only encoder(s) match: add --all)" if hidden else ""
        raise EncoderError(f"no encoder matches {pattern!r}{hint}; see `gesturebench encoders list --all`")
    table = Table(title=f"{len(entries)} encoder(s)", title_justify="left")
    longest = max(len(e.name) for e in entries)
    for col, kw in (
        # names are what users type: never truncate them; other columns wrap
        ("name", {"style": "bold", "no_wrap": True, "min_width": longest}),
        ("dim", {"justify": "right"}),
        ("input", {"ratio": 2}),
        ("pooling", {"ratio": 3}),
        ("params", {"justify": "right"}),
        ("source", {"ratio": 3}),
        ("weights", {"ratio": 1}),
    ):
        table.add_column(col, **kw)
    for e in entries:
        name = e.name + (" [dim](test)[/dim]" if e.test_only else "") + (" [cyan]+text[/cyan]" if e.supports_text else "")
        table.add_row(
            name, str(e.feature_dim), e.spec.describe(), e.pooling or "-", _params_cell(e), _source_cell(e), _weights_cell(e)
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``gesturebench encoders ...`` to the root app."""
    sub = typer.Typer(help="Registered video encoders.", no_args_is_help=True)
    sub.command("list")(list_command)
    app.add_typer(sub, name="encoders")
