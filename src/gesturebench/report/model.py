"""What a report is made of: sections holding tables, figures and paragraphs.

Task types (:mod:`gesturebench.tasks`) build :class:`Section` objects; the
renderers (:mod:`.render`) turn the same sections into HTML, Markdown, CSV and
LaTeX, so the four outputs never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: figure resolution (the issue asks for >= 200 dpi)
DPI = 200


def anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


@dataclass
class Table:
    id: str
    title: str
    header: list[str]
    rows: list[list[str]]
    #: under the table: n and how the interval was computed
    caption: str
    #: per column "l" or "r" (default: first left, others right)
    align: list[str] | None = None

    def aligns(self) -> list[str]:
        return self.align or (["l"] + ["r"] * (len(self.header) - 1))


@dataclass
class Figure:
    id: str
    caption: str
    png: Path
    svg: Path
    alt: str = ""


@dataclass
class Paragraph:
    text: str


@dataclass
class Heading:
    text: str


Block = Table | Figure | Paragraph | Heading


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.blocks = [b for b in self.blocks if b is not None]

    def add(self, *blocks: Block | None) -> None:
        self.blocks += [b for b in blocks if b is not None]

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


@dataclass
class ReportContext:
    """What sections need beyond their own entries: the output folder, the reference numbers,
    every entry of the report (for cross-task columns), and a figure writer that records
    what it wrote so stale figures from earlier runs can be removed."""

    out: Path
    entries: list[tuple[Path, dict[str, Any]]]
    reference: Mapping[str, Any] | None = None
    #: False: tables only (no figures drawn)
    figures: bool = True
    written: list[Path] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)

    @property
    def figures_dir(self) -> Path:
        return self.out / "figures"

    def unique_id(self, base: str) -> str:
        ident, n = anchor(base), 2
        while ident in self._ids:
            ident = f"{anchor(base)}-{n}"
            n += 1
        self._ids.add(ident)
        return ident

    def figure(
        self, stem: str, draw: Callable[[Any], None], caption: str, size: tuple[float, float], alt: str = ""
    ) -> Figure | None:
        """Draw with ``draw(fig)`` on a fresh matplotlib figure; save PNG (``DPI``) and SVG (None: figures off)."""
        from .plots import save_figure

        if not self.figures:
            return None
        ident = self.unique_id(stem)
        png, svg = save_figure(draw, self.figures_dir / ident, size)
        self.written += [png, svg]
        return Figure(id=ident, caption=caption, png=png, svg=svg, alt=alt or caption)
