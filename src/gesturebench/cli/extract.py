"""`gesturebench extract`: encode every video of a dataset into a feature store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import (
    DeviceOpt, EncoderOptsOpt, EngineOpt, FollowLinksOpt, RayAddressOpt, console, err_console, parse_encoder_opts,
    warn,
)

#: how many skipped videos the warning lists before pointing at `features info`
SHOW_BAD = 20


def build_encoder(*args: Any, **kwargs: Any) -> Any:
    """Moved to :func:`gesturebench.api.extract.build_encoder` (kept for old imports)."""
    from ..api.extract import build_encoder as build

    return build(*args, **kwargs)


def extract(
    data: Annotated[Path, typer.Option("--data", help="Dataset root folder.")],
    encoder: Annotated[str, typer.Option("--encoder", help="Encoder preset (see `gesturebench encoders list`).")],
    out: Annotated[Path, typer.Option("--out", help="Feature store folder to create or resume.")],
    lists: Annotated[
        list[Path] | None,
        typer.Option("--list", help="Annotation list (repeatable); default: detect the dataset layout."),
    ] = None,
    weights: Annotated[Path | None, typer.Option("--weights", help="Local weight file or folder.")] = None,
    frames: Annotated[
        int | None, typer.Option("--frames", min=1, help="Frames per clip (default: the encoder's own count).")
    ] = None,
    sampler: Annotated[str, typer.Option("--sampler", help="Frame sampler: tsn, tsn-suite (Video_Benchmark_Suite), uniform or dense.")] = "tsn",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Videos per encoder batch.")] = 8,
    workers: Annotated[
        str, typer.Option("--workers", help="Decode worker processes: auto (one per core) or a number; 0 = none.")
    ] = "auto",
    encoder_opt: EncoderOptsOpt = None,
    device: DeviceOpt = "auto",
    strict: Annotated[bool, typer.Option("--strict", help="Fail on the first video that cannot be decoded.")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Rebuild the store from nothing (other settings, or a damaged store).")
    ] = False,
    follow_links: FollowLinksOpt = False,
    engine: EngineOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Extract one feature vector per video with a frozen encoder, into a resumable, cached store.

    Rerunning the same command is a cache hit; after an interruption it resumes.
    Videos that cannot be decoded are skipped and listed (exit 0) unless --strict.
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..api.extract import build_encoder, run_extract
    from ..data.manifest import load_manifest
    from ..ray_cluster import engine_from_cli
    from .progress import rate_column

    options = parse_encoder_opts(encoder_opt)
    run_on = engine_from_cli(engine, ray_address)
    manifest = load_manifest(data, list(lists) if lists else None, follow_links=follow_links)
    # On Ray the encoder is built here on CPU and placed on --device by the encoder actors.
    enc = build_encoder(encoder, weights, "cpu" if run_on != "local" else device, frames, options)

    columns = (
        TextColumn("extract {task.description}"), BarColumn(), MofNCompleteColumn(),
        rate_column("videos"), TextColumn("ETA"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=False, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(enc.name, total=len(manifest))

        def progress(done: int, total: int) -> None:
            if "origin" not in bar.tasks[task].fields:
                bar.update(task, origin=(time.perf_counter(), done))
            bar.update(task, completed=done, total=total)
            if done >= total:
                bar.update(task, end=time.perf_counter())

        report = run_extract(
            data, enc, out, frames=frames, sampler=sampler, batch_size=batch_size, workers=workers, device=device,
            strict=strict, overwrite=overwrite, manifest=manifest, progress=progress, engine=run_on,
        )

    if report.note:
        console.print(f"{out}: {report.note}", highlight=False, soft_wrap=True)
    if report.cached:
        console.print(
            f"cache hit: {out} already holds {report.extracted} {enc.name} feature vectors "
            f"(key {report.key[:12]}); nothing to do"
        )
    else:
        resumed = f", {report.reused} reused from an earlier run" if report.reused else ""
        console.print(
            f"extracted {report.extracted}/{report.total} videos with {enc.name} -> {out} "
            f"({report.computed} encoded{resumed}; {report.seconds:.1f} s, {report.videos_per_s:.1f} videos/s encoded, "
            f"device {report.device}, key {report.key[:12]})"
        )
    if report.warnings:
        lines = [f"  {w.video_id}: {w.reason}" for w in report.warnings[:SHOW_BAD]]
        warn(f"used {len(report.warnings)} video(s) despite decoder warnings:\n" + "\n".join(lines))
    if report.bad:
        lines = [f"  {b.video_id}: {b.reason}" for b in report.bad[:SHOW_BAD]]
        if len(report.bad) > SHOW_BAD:
            lines.append(f"  ... and {len(report.bad) - SHOW_BAD} more (see `gesturebench features info {out}`)")
        warn(f"skipped {len(report.bad)} video(s) that could not be decoded:\n" + "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
