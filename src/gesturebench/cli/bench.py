"""`gesturebench bench`: inference latency and throughput across batch sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import DeviceOpt, EncoderOptsOpt, console, err_console, parse_encoder_opts


def bench(
    encoder: Annotated[
        list[str], typer.Option("--encoder", help="Encoder preset (repeatable; the first is the baseline).")
    ],
    weights: Annotated[
        list[str] | None,
        typer.Option(
            "--weights",
            help="Weight file (repeatable). With one --encoder: one variant per file (checkpoint comparison); "
            "'default' = the preset's own weights.",
        ),
    ] = None,
    batch_sizes: Annotated[
        str | None, typer.Option("--batch-sizes", help="Comma-separated batch sizes (default 1,2,4,8,16).")
    ] = None,
    max_batch: Annotated[
        str | None,
        typer.Option("--max-batch", help="'auto': find the largest batch that fits; N: powers of two up to N."),
    ] = None,
    auto_limit: Annotated[int, typer.Option("--auto-limit", help="Largest batch --max-batch auto tries.")] = 256,
    dtype: Annotated[str, typer.Option("--dtype", help="auto (bf16 on CUDA, fp32 on CPU), fp32, bf16, fp16.")] = "auto",
    compile_: Annotated[bool, typer.Option("--compile", help="torch.compile the model first.")] = False,
    device: DeviceOpt = "auto",
    encoder_opt: EncoderOptsOpt = None,
    end_to_end: Annotated[
        bool, typer.Option("--end-to-end", help="Time decode + sample + preprocess + encode from video files.")
    ] = False,
    data: Annotated[Path | None, typer.Option("--data", help="Dataset root (with --end-to-end).")] = None,
    lists: Annotated[list[Path] | None, typer.Option("--list", help="Annotation list(s) under --data.")] = None,
    videos: Annotated[int, typer.Option("--videos", min=1, help="End-to-end: how many videos to cycle through.")] = 32,
    budget: Annotated[float, typer.Option("--budget", help="Seconds of timed calls per batch size.")] = 5.0,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Untimed calls per variant and batch.")] = 2,
    min_reps: Annotated[int, typer.Option("--min-reps", min=1, help="Fewest timed calls per variant and batch.")] = 10,
    max_reps: Annotated[int, typer.Option("--max-reps", min=1, help="Most timed calls per variant and batch.")] = 200,
    rel_ci: Annotated[
        float, typer.Option("--rel-ci", help="Stop once the median's 95% CI is within this fraction.")
    ] = 0.01,
    memory_cap_mb: Annotated[
        float | None, typer.Option("--memory-cap-mb", help="Treat a batch whose peak memory exceeds this as OOM.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("bench-out"),
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")] = False,
) -> None:
    """Time encoders over batch sizes; compare checkpoints; write JSON, CSV, plots and a summary."""
    from ..bench import BenchConfig, TimerConfig, parse_batch_sizes
    from ..errors import ConfigError

    if batch_sizes is not None and max_batch is not None:
        raise ConfigError("use either --batch-sizes or --max-batch, not both")
    if (data is not None or lists) and not end_to_end:
        raise ConfigError("--data/--list only apply with --end-to-end")
    paths: list[str] = []
    if end_to_end:
        if data is None:
            raise ConfigError("--end-to-end needs --data ROOT (and usually --list FILE)")
        from ..data.manifest import load_manifest

        manifest = load_manifest(data, lists=list(lists) if lists else None)
        paths = [str(manifest.abspath(r)) for r in manifest.records[:videos]]
    cfg = BenchConfig(
        encoders=tuple(encoder),
        weights=tuple(weights or ()),
        batch_sizes=parse_batch_sizes(batch_sizes) if batch_sizes is not None else (1, 2, 4, 8, 16),
        max_batch=max_batch,
        auto_limit=auto_limit,
        dtype=dtype,
        compile=compile_,
        device=device,
        end_to_end=end_to_end,
        videos=tuple(paths),
        timer=TimerConfig(warmup=warmup, min_reps=min_reps, max_reps=max_reps, budget_s=budget, rel_ci=rel_ci),
        memory_cap_mb=memory_cap_mb,
        options=parse_encoder_opts(encoder_opt),
    )
    from ..bench.output import write_outputs
    from ..bench.runner import run_bench

    with err_console.status("benchmarking ...") as status:
        result = run_bench(cfg, progress=lambda msg: status.update(f"benchmarking: {msg}"))
    files = write_outputs(result, out, plots=not no_plots)
    _print(result)
    console.print(f"wrote {', '.join(str(p) for p in files.values())}", highlight=False)


def _print(result) -> None:
    from rich import box
    from rich.table import Table

    e2e = result.config["mode"] == "end-to-end"
    env = result.environment
    table = Table(
        title=f"{result.config['mode']} latency per batch in ms, {env['device']} {env['dtype']}",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    width = min(32, max(len(v["label"]) for v in result.variants))
    table.add_column("variant", min_width=width, overflow="fold")
    for col in ("batch", "p50", "p90", "p99", "ms/clip", "clips/s", "peak MB", "reps"):
        table.add_column(col, justify="right")
    if e2e:
        table.add_column("decode/prep/encode", justify="right")
    for r in result.rows:
        if r["status"] != "ok":
            cells = [r["variant"], str(r["batch_size"]), f"[red]{r['status']}[/red]"] + [""] * 6
        else:
            cells = [
                r["variant"], str(r["batch_size"]), f"{r['p50_ms']:.2f}", f"{r['p90_ms']:.2f}", f"{r['p99_ms']:.2f}",
                f"{r['per_clip_ms']:.3f}", f"{r['clips_per_s']:.1f}", f"{r.get('peak_mem_mb', 0):.0f}", str(r["reps"]),
            ]  # fmt: skip
        if e2e:
            cells.append(
                "/".join(f"{r[f'{s}_share'] * 100:.0f}%" for s in ("decode", "preprocess", "encode"))
                if r["status"] == "ok"
                else ""
            )
        table.add_row(*cells)
    console.print(table)
    for line in result.summary:
        console.print(line, highlight=False)
    for note in result.notes:
        console.print(f"[dim]note:[/dim] {note}", highlight=False)


def register(app: typer.Typer) -> None:
    """Attach ``gesturebench bench`` to the root app."""
    app.command("bench")(bench)
