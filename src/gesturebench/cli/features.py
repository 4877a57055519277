"""`gesturebench features info STORE`: what a feature store holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import console

features_app = typer.Typer(help="Inspect feature stores written by `gesturebench extract`.", no_args_is_help=True)

SHOW_BAD = 20


def _counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "-"


def render_info(info: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, value) rows for the info table."""
    enc, spec, smp = info["encoder"], info.get("spec") or {}, info.get("sampler") or {}
    manifest = info.get("manifest") or {}
    weights = enc.get("weights_sha256") or "none (training-free)"
    extracted = info["num_extracted"]
    count = f"{extracted} of {info['num_videos']}" if extracted is not None else f"? of {info['num_videos']}"
    rows = [
        ("store", info["path"]),
        ("status", str(info["status"]) + ("" if info["status"] == "complete" else " (rerun extract to resume)")),
        ("key", str(info["key"])),
        ("encoder", f"{enc.get('name')} v{enc.get('version')} ({enc.get('class')})"),
        ("weights sha256", weights),
        ("input", f"{spec.get('num_frames')} frames x {spec.get('size')} px, tubelet {spec.get('tubelet')}, "
                  f"{spec.get('layout')}"),
        ("sampler", f"{smp.get('name')} {smp.get('mode')}, {smp.get('num_frames')} frames"
                    + (f" x {smp.get('num_clips')} clips" if smp.get("num_clips", 1) != 1 else "")),
        ("features", f"{count} videos x {info['feature_dim']} dims, {info['dtype']}, precision {info['precision']}"),
        ("classes", _counts(info["classes"])),
        ("domains", _counts(info["domains"])),
        ("views", _counts(info["views"])),
        ("manifest", f"{manifest.get('root')} (hash {str(manifest.get('content_hash', ''))[:12]})"),
        ("shards", f"{info['num_shards']} x {info['shard_size']} videos"),
        ("created", f"{info.get('created')} by gesturebench {info.get('package_version')}"),
        ("bad videos", str(info["num_bad"])),
    ]
    return rows


@features_app.command("info")
def info(
    store: Annotated[Path, typer.Argument(help="Feature store folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full summary as JSON.")] = False,
) -> None:
    """Show what a feature store holds: encoder, dims, count, classes, domains, key, bad videos."""
    from rich.table import Table

    from ..features.store import FeatureStore

    summary = FeatureStore(store).info()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in render_info(summary):
        table.add_row(name, value)
    console.print(table)
    for b in summary["bad"][:SHOW_BAD]:
        console.print(f"  {b['video_id']}: {b['reason']}", highlight=False, markup=False)
    if summary["num_bad"] > SHOW_BAD:
        console.print(f"  ... and {summary['num_bad'] - SHOW_BAD} more (use --json for all)")


def register(app: typer.Typer) -> None:
    app.add_typer(features_app, name="features")
