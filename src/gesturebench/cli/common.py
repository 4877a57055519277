"""Shared CLI pieces: console, options reused across commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

DeviceOpt = Annotated[str, typer.Option("--device", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (results are deterministic per seed).")]
OutDirOpt = Annotated[Path, typer.Option("--out", help="Output folder.")]
WorkersOpt = Annotated[int, typer.Option("--workers", help="Worker processes (0: in the main process).")]


def warn(msg: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {msg}", highlight=False)
