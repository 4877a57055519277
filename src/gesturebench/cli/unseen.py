"""`gesturebench unseen`: the unseen-class protocol (thin: parse, call api, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import DeviceOpt, EncoderOptsOpt, console, err_console, parse_encoder_opts


def unseen(
    data: Annotated[Path, typer.Option("--data", help="Dataset root folder.")],
    train_lists: Annotated[list[Path], typer.Option("--train-list", help="Training list (repeatable); the seen classes train on it.")],
    test_lists: Annotated[list[Path], typer.Option("--test-list", help="Test list (repeatable).")],
    encoder: Annotated[str, typer.Option("--encoder", help="Encoder preset.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (unseen.json, folds/, stores/).")],
    weights: Annotated[Path | None, typer.Option("--weights", help="Pre-trained weight file or folder.")] = None,
    method: Annotated[str, typer.Option("--method", help="head (MLP adapter on frozen features), partial or full (fine-tune the encoder).")] = "head",
    unseen_classes: Annotated[int, typer.Option("--unseen-classes", help="Classes held out per fold.")] = 3,
    folds: Annotated[int, typer.Option("--folds", help="Seeded random folds when there are more than 35 splits.")] = 5,
    split: Annotated[str | None, typer.Option("--split", help="Run one fold: its unseen classes NAME,NAME,...")] = None,
    support_lists: Annotated[list[Path] | None, typer.Option("--support-list", help="Support videos of the unseen classes (default: the training lists').")] = None,
    shots: Annotated[int | None, typer.Option("--shots", help="Support videos per unseen class (seeded).")] = None,
    epochs: Annotated[int, typer.Option("--epochs", help="Fine-tuning epochs (partial/full) or adapter epochs (head).")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Fine-tuning batch size (partial/full).")] = 8,
    unfreeze_blocks: Annotated[int, typer.Option("--unfreeze-blocks", help="Blocks that train with --method partial.")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of folds, shots, training.")] = 0,
    workers: Annotated[str, typer.Option("--workers", help="Decode worker processes: auto or a number.")] = "auto",
    encoder_opt: EncoderOptsOpt = None,
    device: DeviceOpt = "auto",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a run made with other settings.")] = False,
) -> None:
    """Train on the seen classes, then recognise the unseen ones by k-NN (K=3, L2): frozen vs trained embedding."""
    from rich.table import Table

    from ..api.unseen import run_unseen
    from ..report.format import pct
    from ..training.adapter import AdapterConfig
    from ..training.config import FinetuneConfig

    ft = ad = None
    if method in ("partial", "full"):
        ft = FinetuneConfig(mode=method, epochs=epochs or 30, batch_size=batch_size, unfreeze_blocks=unfreeze_blocks,
                            warmup_epochs=min(5.0, float(epochs or 30)), seed=seed)
    elif epochs:
        ad = AdapterConfig(epochs=epochs, seed=seed)

    def progress(kind: str, **info: Any) -> None:
        if kind == "fold":
            err_console.print(f"fold {info['index']}/{info['total']}: unseen {', '.join(info['unseen'])}", highlight=False)
        elif kind == "extract":
            err_console.print(f"features: {info['store']} ({info['n']} videos)", highlight=False)

    res = run_unseen(
        data, train_lists, test_lists, encoder, out, weights=weights, method=method, unseen_classes=unseen_classes,
        folds=folds, split=split.split(",") if split else None, support_lists=support_lists, shots=shots, seed=seed,
        finetune_cfg=ft, adapter_cfg=ad, device=device, workers=workers if not workers.isdigit() else int(workers),
        encoder_options=parse_encoder_opts(encoder_opt), overwrite=overwrite, progress=progress,
    )
    doc, s = res.document, res.document["summary"]
    console.print(f"{'cache hit: ' if res.cached else ''}unseen-class protocol, {doc['encoder']}: "
                  f"{doc['settings']['method_description']}", highlight=False, soft_wrap=True)
    table = Table(show_header=True, header_style="bold")
    for col in ("embedding", "unseen top-1 % (pooled)", "95% CI", "seen top-1 %"):
        table.add_column(col, justify="right")
    for side, label in (("frozen", "frozen"), ("finetuned", "trained on seen classes")):
        d = s[side]
        table.add_row(label, pct(d["unseen_accuracy"]), f"{pct(d['unseen_ci'][0])}–{pct(d['unseen_ci'][1])}",
                      pct(d["seen_accuracy"]) if d["seen_accuracy"] is not None else "–")
    console.print(table)
    diff = s["difference"]
    console.print(f"difference (trained − frozen, unseen): {100 * diff['mean']:+.1f} points, paired 95% CI "
                  f"[{100 * diff['ci'][0]:+.1f}, {100 * diff['ci'][1]:+.1f}]; {s['n_folds']} folds, "
                  f"{s['n_test_unseen_pooled']} unseen-class test predictions pooled; chance (unseen) "
                  f"{pct(s['chance_unseen'])}% -> {res.path}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("unseen")(unseen)
