"""`gesturebench finetune`: fine-tune an encoder + linear head on annotation lists (thin: parse, call api, print)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .common import DeviceOpt, EncoderOptsOpt, console, err_console, parse_encoder_opts, warn

ListOpt = Annotated[list[Path], typer.Option("--list", help="Training annotation list (repeatable).")]


def finetune(
    data: Annotated[Path, typer.Option("--data", help="Dataset root folder.")],
    lists: ListOpt,
    encoder: Annotated[str, typer.Option("--encoder", help="Encoder preset (see `gesturebench encoders list --all`).")],
    out: Annotated[Path, typer.Option("--out", help="Run folder (created, resumed, or a cache hit).")],
    weights: Annotated[Path | None, typer.Option("--weights", help="Pre-trained weight file or folder.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="full (everything), partial (last N blocks + head), head (linear head on the frozen encoder).")] = "full",
    unfreeze_blocks: Annotated[int, typer.Option("--unfreeze-blocks", help="Blocks that train in --mode partial.")] = 2,
    epochs: Annotated[int, typer.Option("--epochs", help="Training epochs.")] = 30,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Clips per forward/backward pass.")] = 8,
    accumulate: Annotated[int, typer.Option("--accumulate", help="Batches per optimiser step (gradient accumulation).")] = 1,
    lr: Annotated[float, typer.Option("--lr", help="Base learning rate for a total batch of 256 (scaled linearly).")] = 1e-3,
    layer_decay: Annotated[float, typer.Option("--layer-decay", help="Layer-wise lr decay.")] = 0.75,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="AdamW weight decay (not on norms, biases, position tables).")] = 0.05,
    warmup_epochs: Annotated[float, typer.Option("--warmup-epochs", help="Linear warm-up, then cosine.")] = 5.0,
    drop_path: Annotated[float, typer.Option("--drop-path", help="Stochastic depth at the last block (ViT ports).")] = 0.1,
    label_smoothing: Annotated[float, typer.Option("--label-smoothing", help="Label smoothing of the cross-entropy.")] = 0.1,
    clip_grad: Annotated[float | None, typer.Option("--clip-grad", help="Clip the gradient norm to this value.")] = None,
    flip: Annotated[bool, typer.Option("--flip/--no-flip", help="Random horizontal flip (off: some signals depend on which arm moves).")] = False,
    classes: Annotated[str | None, typer.Option("--classes", help="Train on these classes only: NAME,NAME,...")] = None,
    val_lists: Annotated[list[Path] | None, typer.Option("--val-list", help="Validation list (repeatable), scored each epoch.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice (init, order, frames, crops, drop-path).")] = 0,
    precision: Annotated[str, typer.Option("--precision", help="auto (bf16 autocast on CUDA, fp32 elsewhere), fp32, bf16.")] = "auto",
    compile_: Annotated[bool, typer.Option("--compile", help="torch.compile the encoder forward.")] = False,
    workers: Annotated[str, typer.Option("--workers", help="Decode worker processes: auto or a number (0: in this process).")] = "auto",
    encoder_opt: EncoderOptsOpt = None,
    device: DeviceOpt = "auto",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a run made with other settings.")] = False,
) -> None:
    """Fine-tune an encoder with the official VideoMAE/UMT recipe; RUN/model.safetensors loads as --weights.

    Rerunning the same command resumes after an interruption and is a cache hit once finished.
    """
    from ..api.finetune import finetune as run
    from ..training.config import FinetuneConfig

    cfg = FinetuneConfig(
        mode=mode, unfreeze_blocks=unfreeze_blocks, epochs=epochs, batch_size=batch_size, accumulate=accumulate,
        lr=lr, layer_decay=layer_decay, weight_decay=weight_decay, warmup_epochs=min(warmup_epochs, float(epochs)),
        drop_path=drop_path, label_smoothing=label_smoothing, clip_grad=clip_grad, flip=flip, seed=seed,
        precision=precision, compile=compile_,
    )
    class_list = classes.split(",") if classes is not None else None
    with _bar() as progress:
        result = run(
            data, lists, encoder, out, cfg, weights=weights, classes=class_list, val_lists=val_lists, device=device,
            workers=workers if not workers.isdigit() else int(workers), encoder_options=parse_encoder_opts(encoder_opt),
            overwrite=overwrite, progress=progress,
        )
    doc = result.document
    last = doc["final"] or {}
    if result.cached:
        console.print(f"cache hit: {out} already holds a finished {doc['encoder']} run ({len(doc['history'])} epochs); nothing to do")
    else:
        val = last.get("val_accuracy")
        console.print(
            f"fine-tuned {doc['encoder']} ({cfg.mode}, {doc['parameters']['trainable']:,} trainable parameters) "
            f"for {len(doc['history'])} epochs in {doc['wall_seconds']:.1f} s -> {out}/model.safetensors; "
            f"last epoch: loss {last.get('train_loss', 0):.3f}, train acc {100 * last.get('train_accuracy', 0):.1f}%"
            + (f", val acc {100 * val:.1f}%" if val is not None else ""),
            highlight=False, soft_wrap=True,
        )
    if result.bad:
        warn(f"skipped {len(result.bad)} video(s) that could not be decoded: "
             + "; ".join(f"{k}: {v}" for k, v in sorted(result.bad.items())[:10]))


class _bar:
    """A rich progress bar on stderr fed by the training loop's events (loss, accuracy, clips/s)."""

    def __enter__(self) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]} acc {task.fields[acc]} {task.fields[speed]}"), TimeElapsedColumn(),
            console=err_console, transient=False,
        )
        self.bar.__enter__()
        self.task = None
        return self.event

    def event(self, kind: str, **info: Any) -> None:
        if kind == "epoch_start":
            desc = f"epoch {info['epoch']}/{info['epochs']}"
            if self.task is None:
                self.task = self.bar.add_task(desc, total=info["total"], loss="-", acc="-", speed="")
            else:
                self.bar.update(self.task, description=desc, completed=0, total=info["total"])
        elif kind == "batch" and self.task is not None:
            self.bar.update(self.task, completed=info["done"], loss=f"{info['loss']:.3f}",
                            acc=f"{100 * info['accuracy']:.1f}%", speed=f"{info['clips_per_s']:.1f} clips/s")

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)


def register(app: typer.Typer) -> None:
    app.command("finetune")(finetune)
