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


EncoderOptsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--encoder-opt",
        metavar="KEY=VALUE",
        help="Option for the encoder's factory (repeatable), e.g. pooling=mean, seed=1, tokenizer=PATH; "
        "VALUE is read as int, float, true/false or null where it parses, else as text.",
    ),
]

#: a number in exponent notation without a dot (1e-3), which YAML 1.1 leaves as text
_EXPONENT = r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+"

#: keys that name a create_encoder argument, not a factory option -> the CLI option to use instead
_RESERVED_OPTS = {"name": "--encoder", "weights": "--weights", "device": "--device"}


def parse_encoder_opts(values: list[str] | None) -> dict:
    """``["pooling=mean", "seed=1"]`` -> ``{"pooling": "mean", "seed": 1}``.

    VALUE is parsed with YAML and kept as such when it is an int, float, bool or null
    (``1``, ``0.5``, ``true``, ``null``); anything else stays the text as given.
    Raises :class:`ConfigError` for an item without ``KEY=`` or an empty value, a
    repeated key, or a key that has its own CLI option (name, weights, device).
    """
    import re

    import yaml

    from ..errors import ConfigError

    out: dict = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier() or raw.strip() == "":
            raise ConfigError(f"--encoder-opt must be KEY=VALUE; got {item!r}")
        if key in _RESERVED_OPTS:
            raise ConfigError(f"--encoder-opt {key} is not an encoder option; use {_RESERVED_OPTS[key]}")
        if key in out:
            raise ConfigError(f"--encoder-opt {key} given more than once")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        if isinstance(value, str) and re.fullmatch(_EXPONENT, raw.strip()):
            value = float(raw)  # YAML 1.1 reads 1e-3 as text; take it as the number it is
        out[key] = value if value is None or isinstance(value, (bool, int, float)) else raw
    return out
