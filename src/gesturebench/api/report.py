"""``build_report``: result files -> ``report/`` (HTML, Markdown, CSV, LaTeX, figures)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def build_report(
    results: str | Path | Iterable[Any], out: str | Path, *, title: str = "gesturebench results",
    reference: Mapping[str, Any] | str | Path | None = None, figures: bool = True,
) -> Path:
    """Write the report of ``results`` (folder(s), files or result objects) into ``out``; returns report.md.

    ``reference``: the study's numbers to show beside ours (a mapping or a YAML file, see docs/evaluation.md).
    """
    from ..report import write_report
    from ..report.reference import load_reference

    ref = load_reference(reference) if reference is not None else None
    return write_report(results, out, title=title, reference=ref, figures=figures)
