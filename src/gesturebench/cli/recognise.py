"""`gesturebench fit`, `predict` and `serve`: a recogniser from feature stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .common import EncoderOptsOpt, console, parse_encoder_opts, warn

WeightsOpt = Annotated[
    Path | None, typer.Option("--weights", help="Encoder weight file (default: the one recorded by fit).")
]
CpuDeviceOpt = Annotated[str, typer.Option("--device", help="cpu (default), auto, cuda, cuda:N")]


def fit(
    train: Annotated[list[Path], typer.Option("--train", help="Training feature store (repeat to combine stores).")],
    out: Annotated[Path, typer.Option("--out", help="Model folder to write.")],
    weights: Annotated[
        Path | None, typer.Option("--weights", help="The weight file the stores were extracted with.")
    ] = None,
    encoder_opt: EncoderOptsOpt = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Number of neighbours that vote.")] = 3,
    unknown_quantile: Annotated[
        float, typer.Option("--unknown-quantile", help="Quantile of each class's leave-one-out distances beyond "
                            "which a query is 'unknown' (see docs/recogniser.md).")
    ] = 0.95,
    no_unknown: Annotated[bool, typer.Option("--no-unknown", help="Never answer 'unknown'.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing model folder.")] = False,
) -> None:
    """Make a recogniser: the k-NN index of the training features plus its encoder recipe."""
    from ..api.recognise import fit_recogniser

    summary = fit_recogniser(
        list(train), out, weights=weights, encoder_options=parse_encoder_opts(encoder_opt), k=k,
        quantile=None if no_unknown else unknown_quantile, overwrite=overwrite,
    )
    counts = ", ".join(f"{name} {n}" for name, n in summary.per_class.items())
    console.print(f"wrote {summary.path}: {summary.encoder}, {summary.videos} training videos ({counts})",
                  highlight=False, soft_wrap=True)
    if summary.thresholds is None:
        console.print("unknown rule: off", highlight=False)
    else:
        thr = ", ".join(f"{name} {t:.3f}" if t is not None else f"{name} -"
                        for name, t in zip(summary.per_class, summary.thresholds))
        console.print(f"unknown beyond the {summary.quantile:g} quantile of leave-one-out distances: {thr}",
                      highlight=False, soft_wrap=True)


def predict(
    model: Annotated[Path, typer.Argument(help="Model folder made by `gesturebench fit`.")],
    videos: Annotated[list[Path], typer.Argument(help="Video files.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    weights: WeightsOpt = None,
    device: CpuDeviceOpt = "cpu",
) -> None:
    """Predict the gesture of each video: label, vote share, nearest training videos."""
    from ..api.recognise import predict_videos

    preds, bad = predict_videos(model, list(videos), device=device, weights=weights)
    if as_json:
        doc = {"predictions": [p.to_dict() for p in preds], "bad": [{"video": b.video, "reason": b.reason} for b in bad]}
        typer.echo(json.dumps(doc, indent=2))
    else:
        for p in preds:
            label = f"[bold]{p.label}[/bold]" if not p.unknown else f"[yellow]unknown[/yellow] (voted {p.voted})"
            thr = "" if p.threshold is None else f" / threshold {p.threshold:.3f}"
            votes = round(p.confidence * len(p.neighbours))
            console.print(
                f"{p.video}: {label}, {votes}/{len(p.neighbours)} votes ({p.confidence:.0%}), "
                f"distance {p.distance:.3f}{thr}, {p.timings.get('total_s', 0) * 1000:.0f} ms",
                highlight=False, soft_wrap=True,
            )
            for n in p.neighbours:
                console.print(f"    {n.label:<14} {n.distance:.3f}  {n.video_id}", highlight=False, soft_wrap=True)
    if bad:
        warn(f"could not read {len(bad)} video(s):\n" + "\n".join(f"  {b.video}: {b.reason}" for b in bad))
    if not preds:
        raise typer.Exit(1)


def serve(
    model: Annotated[Path, typer.Argument(help="Model folder made by `gesturebench fit`.")],
    host: Annotated[str, typer.Option("--host", help="Address to bind (default: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Predictions computed at once.")] = 2,
    max_mb: Annotated[float, typer.Option("--max-mb", help="Largest upload in MiB.")] = 32.0,
    max_seconds: Annotated[float, typer.Option("--max-seconds", help="Longest video accepted.")] = 20.0,
    weights: WeightsOpt = None,
    device: CpuDeviceOpt = "cpu",
) -> None:
    """Serve the recogniser: a camera page at / and POST /predict (JSON) for robots."""
    from ..api.recognise import check_serve_extra, serve as run_serve

    check_serve_extra()
    from ..recognise.app import ServeLimits

    limits = ServeLimits(max_bytes=max(1, int(max_mb * 2**20)), max_seconds=max_seconds, workers=workers)
    run_serve(model, host, port, device=device, weights=weights, limits=limits, on_ready=lambda: console.print(
        f"serving {model} on http://{host}:{port}/ (Ctrl-C stops)", highlight=False))


def register(app: typer.Typer) -> None:
    app.command("fit")(fit)
    app.command("predict")(predict)
    app.command("serve")(serve)
