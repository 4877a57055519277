"""`gesturebench extract`: encode every video of a dataset into a feature store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import DeviceOpt, EncoderOptsOpt, console, parse_encoder_opts, warn

#: how many skipped videos the warning lists before pointing at `features info`
SHOW_BAD = 20


def _speed_column() -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class VideosPerSecond(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- videos/s" if speed is None else f"{speed:.1f} videos/s", style="progress.data.speed")

    return VideosPerSecond()


def build_encoder(
    name: str, weights: Path | None, device: str, frames: int | None, options: dict[str, Any] | None = None
) -> Any:
    """Create ``name`` for ``--frames`` clips, with ``--encoder-opt`` ``options`` for its factory.

    Encoders that take any frame count (``accepts_any_num_frames``, e.g. V-JEPA 2) are used
    as created; otherwise a count other than the preset's asks the factory to rebuild for it
    (training-free encoders such as pixels and motion can), and a model with a fixed
    temporal size refuses, naming the count that works. An option the factory does not
    take is an :class:`EncoderError` naming it (see ``create_encoder``).
    """
    from ..encoders.registry import create_encoder, get_entry
    from ..errors import ConfigError, EncoderError, WeightsError

    opts = dict(options or {})
    entry = get_entry(name)
    if frames is not None and "num_frames" in opts:
        if opts["num_frames"] != frames:
            raise ConfigError(
                f"--frames {frames} and --encoder-opt num_frames={opts['num_frames']} disagree; give one of them"
            )
        frames = None  # the option asks the factory for it already
    if frames is None or frames == entry.spec.num_frames:
        return create_encoder(name, weights=weights, device=device, **opts)
    try:
        return create_encoder(name, weights=weights, device=device, **opts, num_frames=frames)
    except WeightsError:
        raise
    except (TypeError, ConfigError, EncoderError) as exc:
        enc = create_encoder(name, weights=weights, device=device, **opts)
        if getattr(enc, "accepts_any_num_frames", False):
            return enc
        raise ConfigError(
            f"encoder {name!r} takes {entry.spec.num_frames} frames per clip and cannot be built for "
            f"--frames {frames} ({exc}); use --frames {entry.spec.num_frames} or leave it out"
        ) from None


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
) -> None:
    """Extract one feature vector per video with a frozen encoder, into a resumable, cached store.

    Rerunning the same command is a cache hit; after an interruption it resumes.
    Videos that cannot be decoded are skipped and listed (exit 0) unless --strict.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..data.manifest import load_manifest
    from ..data.sampling import SamplerConfig
    from ..features.extract import extract_features
    from ..features.loader import resolve_workers

    options = parse_encoder_opts(encoder_opt)
    n_workers = resolve_workers(workers)
    manifest = load_manifest(data, list(lists) if lists else None)
    enc = build_encoder(encoder, weights, device, frames, options)
    sampler_cfg = SamplerConfig(name=sampler, num_frames=enc.spec.num_frames if frames is None else frames)

    columns = (
        TextColumn("extract {task.description}"), BarColumn(), MofNCompleteColumn(),
        _speed_column(), TextColumn("ETA"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(enc.name, total=len(manifest))
        report = extract_features(
            manifest, enc, out, sampler_cfg, batch_size=batch_size, workers=n_workers, strict=strict,
            overwrite=overwrite, progress=lambda done, total: bar.update(task, completed=done, total=total),
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
            f"({report.computed} encoded{resumed}; {report.seconds:.1f} s, {report.videos_per_s:.1f} videos/s, "
            f"device {report.device}, key {report.key[:12]})"
        )
    if report.bad:
        lines = [f"  {b.video_id}: {b.reason}" for b in report.bad[:SHOW_BAD]]
        if len(report.bad) > SHOW_BAD:
            lines.append(f"  ... and {len(report.bad) - SHOW_BAD} more (see `gesturebench features info {out}`)")
        warn(f"skipped {len(report.bad)} video(s) that could not be decoded:\n" + "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("extract")(extract)
