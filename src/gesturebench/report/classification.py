"""The report section of a classification task (k-NN, probe, zero-shot).

One study-shaped table per (test source, method): a row per encoder, a column
per training source (zero-shot runs join as extra columns). No result is ever
dropped: when two results land in one cell, the second starts another row, and
the rows of one encoder are labelled by what differs between them (weights,
test store, training stores, a setting). Under every table: n and the interval
method. Then the study's reference numbers (when declared), paired comparisons
of encoders on the same test videos, a bar chart and normalised confusion matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..tasks.base import SHORT
from .format import cell_text, ci_text, pct
from .model import Heading, ReportContext, Section, Table
from .paired import correct_by_video, paired_comparison
from .plots import confusion_size, draw_accuracy_bars, draw_confusion
from .reference import reference_value

#: study-table column order: single domains first, then mixes, zero-shot last
_DOMAIN_ORDER = ("synthetic", "real", "target")


def column_order(col: str) -> tuple:
    if col.startswith("zero-shot"):
        return (99, col)
    parts = col.split("+")
    return (len(parts), [_DOMAIN_ORDER.index(p) if p in _DOMAIN_ORDER else 9 for p in parts], col)


@dataclass
class Row:
    encoder: str
    key: tuple[str, str | None, str]  # (encoder, weights, test key)
    cells: dict[str, tuple[Path, dict[str, Any]]] = field(default_factory=dict)
    label: str = ""


def _task_of(doc: dict[str, Any]):
    from ..tasks import get_task

    return get_task(doc["task"])


def _row_key(doc: dict[str, Any]) -> tuple[str, str | None, str]:
    from ..tasks.base import weights_of

    return (doc["encoder"], weights_of(doc), str(doc["test"].get("key", "")))


def build_rows(cells: list[tuple[str, Path, dict[str, Any]]]) -> list[Row]:
    """Place ``(column, path, doc)`` into rows; a taken cell opens another row. Rows get labels."""
    rows: list[Row] = []
    for col, path, doc in cells:
        key = _row_key(doc)
        row = next((r for r in rows if r.key == key and col not in r.cells), None)
        if row is None:
            row = Row(encoder=doc["encoder"], key=key)
            rows.append(row)
        row.cells[col] = (path, doc)
    _label_rows(rows)
    return rows


def _label_rows(rows: list[Row]) -> None:
    by_encoder: dict[str, list[Row]] = {}
    for r in rows:
        by_encoder.setdefault(r.encoder, []).append(r)
    for enc, group in by_encoder.items():
        if len(group) == 1:
            group[0].label = enc
            continue
        differs: list[str] = []
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.key[1] != b.key[1]:
                    differs.append("weights")
                if a.key[2] != b.key[2]:
                    differs.append("test stores")
                for col in set(a.cells) & set(b.cells):
                    ia, ib = (_task_of(x[1]).identity(x[1]) for x in (a.cells[col], b.cells[col]))
                    differs += [d for d in ia.differences(ib) if d not in ("encoder",)]
        differs = list(dict.fromkeys(differs))
        for r in group:
            parts = [_describe(r, what) for what in differs]
            parts = [p for p in parts if p]
            if not parts:  # identical evaluations in two files: name the files
                parts = ["file " + ", ".join(p.name for p, _ in r.cells.values())]
            r.label = f"{enc} ({'; '.join(parts)})"


def _describe(row: Row, what: str) -> str:
    docs = [d for _, d in row.cells.values()]
    if what == "weights":
        return f"weights {row.key[1][:SHORT]}" if row.key[1] else "no weights"
    if what == "test stores":
        return f"test store {row.key[2][:SHORT]}"
    if what == "train stores":
        keys = sorted({"+".join(k[:SHORT] for k in d["train"].get("keys", [])) for d in docs} - {""})
        return f"train stores {', '.join(keys)}" if keys else ""
    vals = sorted({str(d["settings"].get(what)) for d in docs if what in d["settings"]})
    return f"{what} {', '.join(vals)}" if vals else ""


def _caption(docs: list[dict[str, Any]], chance: set[float]) -> str:
    ns = sorted({int(d["test"].get("n") or sum(map(sum, d["confusion"]))) for d in docs})
    boots = sorted({d["settings"].get("bootstrap") for d in docs if d["metrics"].get("ci")} - {None})
    interval = (f"95% percentile bootstrap interval over test videos ({', '.join(map(str, boots))} resamples)"
                if boots else "no interval (bootstrap off)")
    ch = ", ".join(pct(c) for c in sorted(chance))
    return (f"n = {', '.join(map(str, ns))} test videos. Cells: top-1 accuracy % [{interval}]. "
            f"Chance {ch}% = 1 / (classes present in the test set).")


def classification_section(task: Any, entries: list[tuple[Path, dict[str, Any]]], ctx: ReportContext) -> Section | None:
    from ..tasks import all_tasks

    if not entries:
        return None
    section = Section(id=ctx.unique_id(task.name), title=task.title)
    joiners = [t for t in all_tasks() if t.study_column and t.name != task.name]
    extra = [(p, d) for p, d in ctx.entries if any(d["task"] == t.name for t in joiners)]
    groups: dict[tuple[str, str], list[tuple[str, Path, dict[str, Any]]]] = {}
    for path, doc in entries:
        groups.setdefault((doc["test"]["source"], task.method_label(doc["settings"])), []).append(
            (task.column(doc), path, doc))
    for (test_source, method), cells in sorted(groups.items()):
        for path, doc in extra:
            if doc["test"]["source"] == test_source:
                cells.append((_task_of(doc).column(doc), path, doc))
        section.blocks += _study_table(task, test_source, method, cells, ctx)
    section.blocks += _runs_table(task, entries, ctx)
    return section


def _study_table(task: Any, test_source: str, method: str, cells: list, ctx: ReportContext) -> list:
    rows = build_rows(cells)
    rows.sort(key=lambda r: r.label)
    columns = sorted({c for c, _, _ in cells}, key=column_order)
    ref_task = {c: _task_of(next(d for cc, _, d in cells if cc == c)).name for c in columns}
    ref_cols = {c for c in columns for r in rows
                if reference_value(ctx.reference, ref_task[c], r.encoder, _ref_column(c)) is not None}
    header = ["encoder"]
    for c in columns:
        header.append(c if c.startswith("zero-shot") else f"train: {c}")
        if c in ref_cols:
            header.append(f"{ctx.reference.get('name', 'study')}")
    body = []
    for r in rows:
        line = [r.label]
        for c in columns:
            line.append(cell_text(r.cells[c][1]) if c in r.cells else "–")
            if c in ref_cols:
                v = reference_value(ctx.reference, ref_task[c], r.encoder, _ref_column(c))
                line.append("–" if v is None else f"{v:.1f}")
        body.append(line)
    docs = [d for _, _, d in cells]
    chance = {d["metrics"]["chance"] for d in docs}
    body.append(["chance"] + [pct(min(chance))] * (len(header) - 1))
    title = f"Test set: {test_source} ({method})"
    caption = _caption(docs, chance)
    if ref_cols:
        note = ctx.reference.get("note")
        caption += (f" Columns '{ctx.reference.get('name')}': top-1 % reported by the study for the same encoder "
                    f"and training source{'; ' + note if note else ''}. Their test set is not ours unless the "
                    f"test source is the study's.")
    tid = ctx.unique_id(f"{task.name}-{test_source}-{method}")
    blocks: list = [Heading(title), Table(tid, title, header, body, caption)]
    blocks += _paired_table(task, tid, columns, rows, ctx)
    values = {(r.label, c): (r.cells[c][1]["metrics"]["accuracy"], r.cells[c][1]["metrics"].get("ci"))
              for r in rows for c in r.cells}
    labels = [r.label for r in rows]
    fig = ctx.figure(
        f"{tid}-bars",
        lambda f: draw_accuracy_bars(f, labels, columns, values, min(chance), title=f"test: {test_source} ({method})"),
        f"Top-1 accuracy on the {test_source} test set ({method}); whiskers: the 95% percentile bootstrap "
        f"interval over test videos (none when bootstrap was off); dashed: chance. n as in the table above.",
        size=(max(5.5, 1.5 + 0.9 * len(labels) * max(1, len(columns)) * 0.55), 4.0),
    )
    blocks.append(fig)
    return blocks


def _ref_column(col: str) -> str:
    return col


def _paired_table(task: Any, tid: str, columns: list[str], rows: list[Row], ctx: ReportContext) -> list:
    lines = []
    for c in columns:
        have = [r for r in rows if c in r.cells]
        for i, a in enumerate(have):
            for b in have[i + 1:]:
                ca, cb = correct_by_video(a.cells[c][1]), correct_by_video(b.cells[c][1])
                if ca is None or cb is None:
                    continue
                cmp = paired_comparison(ca, cb)
                if cmp is None:
                    continue
                lines.append([c, a.label, b.label, str(cmp.n), pct(cmp.accuracy_a), pct(cmp.accuracy_b),
                              f"{100 * cmp.difference:+.1f} {ci_text(cmp.ci)}".strip(),
                              f"{cmp.only_a} / {cmp.only_b}", f"{cmp.p_value:.3g}"])
    if not lines:
        return []
    caption = ("Paired comparison on the test videos both rows were tested on (matched by video id; n = that count). "
               "Difference: top-1 of A minus B, percentage points, with a 95% paired percentile bootstrap interval "
               "(2000 resamples of test videos, seed 0). Only A / only B: videos exactly one of the two gets right. "
               "p: exact two-sided McNemar test (binomial test of only-A among the discordant videos, p = 1/2).")
    header = ["training", "A", "B", "n", "A %", "B %", "A − B (pp) [95% CI]", "only A / only B", "McNemar p"]
    return [Table(ctx.unique_id(f"{tid}-paired"), "Paired comparison of encoders", header, lines, caption,
                  align=["l", "l", "l"] + ["r"] * 6)]


def _runs_table(task: Any, entries: list[tuple[Path, dict[str, Any]]], ctx: ReportContext) -> list:
    header = ["result file", "encoder", "training", "test", "top-1 %", "mean per-class %", "chance %",
              "train keys", "test key"]
    body, figs = [], []
    for path, doc in entries:
        m = doc["metrics"]
        body.append([
            Path(path).name, doc["encoder"], task.column(doc), f"{doc['test']['source']} (n={doc['test'].get('n')})",
            cell_text(doc), pct(m["mean_per_class_accuracy"]), pct(m["chance"]),
            ", ".join(k[:SHORT] for k in doc["train"].get("keys", [])) or "–", str(doc["test"].get("key", ""))[:SHORT],
        ])
        n = sum(map(sum, doc["confusion"]))
        title = f"{doc['encoder']} | {task.column(doc)} | test {doc['test']['source']}"
        figs.append(ctx.figure(
            f"confusion-{Path(path).stem}",
            lambda f, doc=doc, title=title: draw_confusion(f, doc["confusion"], doc["class_names"], title),
            f"Confusion matrix, {title} ({task.method_label(doc['settings'])}); n = {n} test videos. Colour: share "
            "of the true class's videos given each prediction (rows sum to 100%); numbers: counts and that share.",
            size=confusion_size(len(doc["class_names"])),
        ))
    caption = "Every result file of this task. Keys: the first 8 hex digits of the feature stores' cache keys."
    return [Heading("Runs"), Table(ctx.unique_id(f"{task.name}-runs"), f"{task.title}: runs", header, body, caption,
                                   align=["l"] * 4 + ["r"] * 3 + ["l"] * 2), *figs]


__all__ = ["classification_section", "build_rows", "column_order"]
