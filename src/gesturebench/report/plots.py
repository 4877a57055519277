"""PNG figures for reports (matplotlib's Agg canvas; no pyplot, no global state)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..fileio import atomic_path


def _figure(w: float, h: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return path


def confusion_png(confusion: Sequence[Sequence[int]], class_names: Sequence[str], path: str | Path, title: str = "") -> Path:
    """Counts with class names on both axes (rows = true, columns = predicted)."""
    import numpy as np

    cm = np.asarray(confusion, dtype=np.int64)
    c = len(class_names)
    side = 2.5 + 0.6 * c
    fig = _figure(side + 1.0, side)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=max(int(cm.max()), 1))
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(c), labels=list(class_names), rotation=45, ha="right")
    ax.set_yticks(range(c), labels=list(class_names))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    half = cm.max() / 2 if cm.size else 0
    for i in range(c):
        for j in range(c):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > half else "black")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, Path(path))


def accuracy_bars_png(
    encoders: Sequence[str],
    sources: Sequence[str],
    values: dict[tuple[str, str], tuple[float, Any]],
    chance: float | None,
    path: str | Path,
    title: str = "",
) -> Path:
    """Grouped bars: one group per encoder, one bar per training source, CI whiskers, chance line."""
    import numpy as np

    fig = _figure(max(5.0, 1.2 + 1.1 * len(encoders) * max(1, len(sources)) * 0.6), 4.0)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / max(1, len(sources))
    x = np.arange(len(encoders))
    for i, src in enumerate(sources):
        accs, lo, hi = [], [], []
        for enc in encoders:
            acc, ci = values.get((enc, src), (np.nan, None))
            accs.append(100 * acc)
            lo.append(100 * (acc - ci[0]) if ci else 0.0)
            hi.append(100 * (ci[1] - acc) if ci else 0.0)
        ax.bar(x + (i - (len(sources) - 1) / 2) * width, accs, width, yerr=[lo, hi], capsize=3, label=src)
    if chance is not None:
        ax.axhline(100 * chance, color="grey", linestyle="--", linewidth=1, label=f"chance {100 * chance:.1f}%")
    ax.set_xticks(x, labels=list(encoders))
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, title="training source", title_fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, Path(path))
