"""Study-shaped Markdown tables from result documents (plain dicts; no plotting)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..types import DOMAINS

log = logging.getLogger(__name__)

ZERO_SHOT = "zero-shot"


def pct(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{100.0 * v:.{digits}f}"


def cell_text(doc: dict[str, Any]) -> str:
    """``43.4 [38.0–49.0]``: top-1 % with its bootstrap interval when there is one."""
    m = doc["metrics"]
    ci = m.get("ci")
    return pct(m["accuracy"]) + (f" [{pct(ci[0])}–{pct(ci[1])}]" if ci else "")


def source_order(source: str) -> tuple:
    """Order columns: single domains (DOMAINS order), then mixes by size, zero-shot last."""
    if source == ZERO_SHOT:
        return (99,)
    parts = source.split("+")
    return (len(parts), [DOMAINS.index(p) if p in DOMAINS else len(DOMAINS) for p in parts], source)


def settings_label(doc: dict[str, Any]) -> str:
    s = doc.get("settings", {})
    if doc.get("task") == "probe":
        return f"linear probe, weight decay {s.get('weight_decay'):g}"
    if doc.get("task") == "zeroshot":
        return "zero-shot"
    return f"k-NN k={s.get('k')}, {s.get('metric')}"


@dataclass
class StudyTable:
    """Accuracy of every encoder (rows) per training source (columns) on one test source."""

    test_source: str
    settings: str
    columns: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # encoder -> column -> doc
    chance: float | None = None

    def add(self, doc: dict[str, Any]) -> None:
        col = ZERO_SHOT if doc["task"] == "zeroshot" else doc["train"]["source"]
        if col not in self.columns:
            self.columns.append(col)
            self.columns.sort(key=source_order)
        row = self.rows.setdefault(doc["encoder"], {})
        if col in row:
            log.warning("two results for %s / %s / test %s: keeping the later file", doc["encoder"], col, self.test_source)
        row[col] = doc  # later files win
        self.chance = doc["metrics"]["chance"] if self.chance is None else self.chance

    def to_markdown(self) -> str:
        head = ["encoder"] + [f"train: {c}" if c != ZERO_SHOT else c for c in self.columns]
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * len(self.columns)) + "|"]
        for enc in sorted(self.rows):
            cells = [cell_text(self.rows[enc][c]) if c in self.rows[enc] else "–" for c in self.columns]
            lines.append("| " + " | ".join([enc, *cells]) + " |")
        lines.append("| " + " | ".join(["chance"] + [pct(self.chance)] * len(self.columns)) + " |")
        return "\n".join(lines)


def study_tables(docs: Sequence[dict[str, Any]]) -> list[StudyTable]:
    """One table per (test source, method and settings); zero-shot runs join every table of their test source."""
    tables: dict[tuple[str, str], StudyTable] = {}
    for doc in docs:
        if doc["task"] in ("knn", "probe"):
            key = (doc["test"]["source"], settings_label(doc))
            tables.setdefault(key, StudyTable(*key)).add(doc)
    for doc in docs:
        if doc["task"] == "zeroshot":
            targets = [t for (src, _), t in tables.items() if src == doc["test"]["source"]]
            if not targets:
                key = (doc["test"]["source"], "zero-shot")
                targets = [tables.setdefault(key, StudyTable(*key))]
            for t in targets:
                t.add(doc)
    return [tables[k] for k in sorted(tables)]


def per_class_table(doc: dict[str, Any]) -> str:
    names = doc["class_names"]
    accs = doc["metrics"].get("per_class_accuracy") or [None] * len(names)
    support = [sum(r) for r in doc["confusion"]]
    lines = ["| class | test videos | accuracy % |", "|---|---:|---:|"]
    lines += [f"| {n} | {s} | {pct(a)} |" for n, s, a in zip(names, support, accs)]
    return "\n".join(lines)
