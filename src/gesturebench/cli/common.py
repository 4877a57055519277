"""Shared CLI pieces: console, options reused across commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

DeviceOpt = Annotated[str, typer.Option("--device", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (results are deterministic per seed).")]
OutDirOpt = Annotated[Path, typer.Option("--out", help="Output folder.")]
FollowLinksOpt = Annotated[
    bool,
    typer.Option("--follow-links", help="Accept videos that are symbolic links to files outside the data root."),
]
AllowOverlapOpt = Annotated[
    bool,
    typer.Option("--allow-overlap", help="Evaluate even when test videos are also training videos (refused by default)."),
]
WorkersOpt = Annotated[int, typer.Option("--workers", help="Worker processes (0: in the main process).")]
EngineOpt = Annotated[
    str, typer.Option("--engine", help="local (this machine) or ray (a Ray cluster; needs gesturebench[ray]).")
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option("--ray-address", help="Ray cluster to join (HOST:PORT or auto); default: start a local Ray."),
]


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


OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Evaluate again even when the same evaluation's result file exists.")
]


def print_classification(
    header: str,
    doc: dict[str, Any],
    extra_summary: dict[str, str] | None = None,
    extra_class_columns: dict[str, list[str]] | None = None,
) -> None:
    """Print a classification result document (k-NN, zero-shot, probe): a header line, a summary
    table (top-1, CI, mean per-class, chance, extras) and a per-class table."""
    from rich.table import Table

    from ..report.format import pct

    m = doc["metrics"]
    console.print(header, highlight=False, soft_wrap=True)
    summary_cells = {
        "top-1 %": pct(m["accuracy"]),
        "95% CI": f"{pct(m['ci'][0])}–{pct(m['ci'][1])}" if m.get("ci") else "–",
        "mean per-class %": pct(m["mean_per_class_accuracy"]),
        "chance %": pct(m["chance"]),
        **(extra_summary or {}),
    }
    summary = Table(show_header=True, header_style="bold")
    for col in summary_cells:
        summary.add_column(col, justify="right")
    summary.add_row(*summary_cells.values())
    console.print(summary)
    extra = extra_class_columns or {}
    per_class = Table(show_header=True, header_style="bold")
    per_class.add_column("class")
    for col in (*extra, "test videos", "accuracy %"):
        per_class.add_column(col, justify="right")
    for i, (name, row, acc) in enumerate(zip(doc["class_names"], doc["confusion"], m["per_class_accuracy"])):
        per_class.add_row(name, *(values[i] for values in extra.values()), str(sum(row)), pct(acc))
    console.print(per_class)


def print_written(outcome: Any) -> None:
    """``wrote PATH`` or ``cache hit: PATH`` for an evaluation outcome."""
    if outcome.path is None:
        return
    what = "cache hit (same evaluation; --overwrite to redo):" if outcome.cached else "wrote"
    console.print(f"{what} {outcome.path}", highlight=False, soft_wrap=True)
