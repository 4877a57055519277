"""Every figure of the reports (matplotlib's Agg canvas; no pyplot, no global state).

Each ``draw_*`` function draws on a given matplotlib ``Figure``; :func:`save_figure`
writes it as PNG (200 dpi) and SVG, atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..fileio import atomic_path

DPI = 200


def _figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path, fmt: str = "png") -> Path:
    with atomic_path(path, suffix=f".{fmt}") as tmp:
        fig.savefig(tmp, format=fmt, dpi=DPI)
    return path


def save_figure(draw: Callable[[Any], None], stem: Path, size: tuple[float, float]) -> tuple[Path, Path]:
    """``draw(fig)`` on a fresh figure of ``size`` inches; write ``stem.png`` (DPI) and ``stem.svg``."""
    fig = _figure(*size)
    draw(fig)
    fig.tight_layout()
    stem = Path(stem)
    png = _save(fig, stem.with_suffix(".png"), "png")
    svg = _save(fig, stem.with_suffix(".svg"), "svg")
    return png, svg


def confusion_size(n_classes: int) -> tuple[float, float]:
    side = 2.8 + 0.65 * n_classes
    return side + 1.2, side


def draw_confusion(fig, confusion: Sequence[Sequence[int]], class_names: Sequence[str], title: str = "") -> None:
    """Row-normalised confusion matrix (colour: share of the true class) with the counts written in."""
    import numpy as np
    cm = np.asarray(confusion, dtype=np.int64)
    c = len(class_names)
    support = cm.sum(1, keepdims=True)
    norm = np.divide(cm, support, out=np.zeros(cm.shape, float), where=support > 0)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("share of the true class's test videos")
    ax.set_xticks(range(c), labels=list(class_names), rotation=45, ha="right")
    ax.set_yticks(range(c), labels=list(class_names))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    for i in range(c):
        for j in range(c):
            ax.text(j, i, f"{cm[i, j]}\n{100 * norm[i, j]:.0f}%" if cm[i, j] else "0", ha="center", va="center",
                    fontsize=7, color="white" if norm[i, j] > 0.5 else "black")
    if title:
        ax.set_title(title, fontsize=8)


def draw_accuracy_bars(
    fig, rows: Sequence[str], columns: Sequence[str], values: dict[tuple[str, str], tuple[float, Any]],
    chance: float | None, title: str = "",
) -> None:
    """Grouped bars: one group per row (encoder), one bar per column (training source), CI whiskers, chance line."""
    import numpy as np

    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / max(1, len(columns))
    x = np.arange(len(rows))
    for i, col in enumerate(columns):
        accs, lo, hi = [], [], []
        for row in rows:
            acc, ci = values.get((row, col), (np.nan, None))
            accs.append(100 * acc)
            lo.append(100 * (acc - ci[0]) if ci else 0.0)
            hi.append(100 * (ci[1] - acc) if ci else 0.0)
        ax.bar(x + (i - (len(columns) - 1) / 2) * width, accs, width, yerr=[lo, hi], capsize=3, label=col)
    if chance is not None:
        ax.axhline(100 * chance, color="grey", linestyle="--", linewidth=1, label=f"chance {100 * chance:.1f}%")
    ax.set_xticks(x, labels=list(rows), rotation=20 if len(rows) > 3 else 0, ha="right" if len(rows) > 3 else "center")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, title="training source", title_fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)


def draw_fewshot(fig, docs: Sequence[dict[str, Any]], title: str = "") -> None:
    """Mean accuracy against shots per curve, with the Student-t 95% band over repeats."""
    ax = fig.add_subplot(1, 1, 1)
    for doc in docs:
        pts = doc["curve"]
        xs = [p["shots"] for p in pts]
        ys = [100 * p["mean_accuracy"] for p in pts]
        label = f"{doc['encoder']} {doc['method']}: {doc['base']['source'] or 'no base'} + {doc['pool']['source']} shots"
        (line,) = ax.plot(xs, ys, marker="o", label=label)
        lo = [100 * (p["ci"][0] if p.get("ci") else p["mean_accuracy"]) for p in pts]
        hi = [100 * (p["ci"][1] if p.get("ci") else p["mean_accuracy"]) for p in pts]
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
    if docs:
        ax.axhline(100 * docs[0]["chance"], color="grey", linestyle="--", linewidth=1,
                   label=f"chance {100 * docs[0]['chance']:.1f}%")
        ax.set_xlabel(f"labelled {docs[0]['pool']['source']} videos per class")
        ax.set_ylabel(f"top-1 accuracy on {docs[0]['test']['source']} (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)


def fewshot_curves(docs: Sequence[dict[str, Any]], path: Path) -> Path:
    """The few-shot CLI's PNG: every curve of ``docs`` on one plot."""
    fig = _figure(6.0, 4.0)
    n = docs[0]["settings"].get("repeats") if docs else "?"
    draw_fewshot(fig, docs, title=f"few-shot curves (band: 95% Student-t over {n} repeats)")
    fig.tight_layout()
    return _save(fig, Path(path))


def draw_bench(fig, doc: dict[str, Any], key: str) -> None:
    """``key`` (p50_ms with a p90 whisker, or clips_per_s) against batch size, log-log, per variant."""
    from matplotlib.ticker import FuncFormatter

    ax = fig.add_subplot(1, 1, 1)
    for v in doc["variants"]:
        rows = [r for r in doc["rows"] if r.get("variant") == v["label"] and r.get("status") == "ok"]
        if not rows:
            continue
        xs = [r["batch_size"] for r in rows]
        ys = [r[key] for r in rows]
        if key == "p50_ms":
            up = [max(0.0, (r.get("p90_ms") or r["p50_ms"]) - r["p50_ms"]) for r in rows]
            ax.errorbar(xs, ys, yerr=[[0] * len(up), up], marker="o", capsize=3, label=v["label"])
        else:
            ax.plot(xs, ys, marker="o", label=v["label"])
        for r in doc["rows"]:
            if r.get("variant") == v["label"] and r.get("status") == "oom":
                ax.axvline(r["batch_size"], color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda val, _pos: f"{val:g}"))
    ax.set_xlabel("batch size (clips; dotted: out of memory)")
    ax.set_ylabel("latency per batch, ms (p50; whisker to p90)" if key == "p50_ms" else "throughput, clips/s (from p50)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def draw_finetune(fig, docs: Sequence[tuple[str, list[dict[str, Any]]]]) -> None:
    """Train loss (left) and train/validation accuracy (right) per epoch, one line per run."""
    from matplotlib.ticker import MaxNLocator

    ax_loss = fig.add_subplot(1, 2, 1)
    ax_acc = fig.add_subplot(1, 2, 2)
    for label, epochs in docs:
        xs = [e.get("epoch", i + 1) for i, e in enumerate(epochs)]
        if any(e.get("train_loss") is not None for e in epochs):
            ax_loss.plot(xs, [e.get("train_loss") for e in epochs], marker="o", label=label)
        for key, style in (("train_accuracy", "-"), ("val_accuracy", "--")):
            vals = [e.get(key) for e in epochs]
            if any(v is not None for v in vals):
                ax_acc.plot(xs, [100 * v if v is not None else float("nan") for v in vals], style, marker="o",
                            label=f"{label} ({key.split('_')[0]})")
    for ax, ylabel in ((ax_loss, "training loss"), (ax_acc, "accuracy (%)")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=7)
    ax_acc.set_ylim(0, 100)
