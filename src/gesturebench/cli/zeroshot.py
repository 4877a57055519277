"""`gesturebench zeroshot` command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach this module's command(s) to the root app. (Not yet implemented.)"""
