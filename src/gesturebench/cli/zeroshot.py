"""`gesturebench zeroshot`: classify a feature store from text descriptions of the gestures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import (
    DeviceOpt,
    EncoderOptsOpt,
    OverwriteOpt,
    SeedOpt,
    console,
    parse_encoder_opts,
    print_classification,
    print_written,
)


def _print_result(doc: dict[str, Any]) -> None:
    s = doc["settings"]
    print_classification(
        f"[bold]zero-shot[/bold] | encoder [cyan]{doc['encoder']}[/cyan] | prompt set [cyan]{s['prompt_set']}[/cyan] "
        f"({sum(s['prompts_per_class'])} prompts) | test {doc['test']['source']} ({doc['test']['n']})",
        doc,
        extra_class_columns={"prompts": [str(n) for n in s["prompts_per_class"]]},
    )


def zeroshot(
    test: Annotated[Path, typer.Option("--test", help="Test feature store (extracted with a video-text encoder).")],
    encoder: Annotated[
        str | None, typer.Option("--encoder", help="Encoder preset; default and only allowed: the store's own.")
    ] = None,
    weights: Annotated[
        Path | None, typer.Option("--weights", help="Weights file of the store's encoder (must match its SHA-256).")
    ] = None,
    prompts: Annotated[
        Path | None, typer.Option("--prompts", help="Prompt YAML: name, then classes mapping each class to a list of prompts; default: RoCoG-v2 set.")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Result file (*.json) or folder (templated file name).")
    ] = Path("results"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples for the 95% CI (0: none).")] = 1000,
    seed: SeedOpt = 0,
    encoder_opt: EncoderOptsOpt = None,
    overwrite: OverwriteOpt = False,
    device: DeviceOpt = "auto",
) -> None:
    """Classify every test video by the class whose text descriptions it is most similar to."""
    from ..api.zeroshot import run_zero_shot
    from ..errors import ConfigError

    if bootstrap < 0:
        raise ConfigError(f"--bootstrap must be >= 0; got {bootstrap}")
    options = parse_encoder_opts(encoder_opt)
    with console.status("embedding prompts and classifying", spinner="dots"):
        outcome = run_zero_shot(
            test, encoder_name=encoder, weights=weights, prompts=prompts, device=device,
            bootstrap=bootstrap, seed=seed, out=out, encoder_options=options, overwrite=overwrite,
        )
    _print_result(outcome.doc)
    print_written(outcome)


def register(app: typer.Typer) -> None:
    """Attach `zeroshot` to the root app."""
    app.command("zeroshot")(zeroshot)
