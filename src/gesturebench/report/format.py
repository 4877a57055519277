"""Number formatting shared by the report, its tables and the CLI."""

from __future__ import annotations

from typing import Any


def pct(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{100.0 * v:.{digits}f}"


def ci_text(ci: Any, digits: int = 1) -> str:
    return f"[{pct(ci[0], digits)}–{pct(ci[1], digits)}]" if ci else ""


def cell_text(doc: dict[str, Any]) -> str:
    """``43.4 [38.0–49.0]``: top-1 % with its bootstrap interval when there is one."""
    m = doc["metrics"]
    ci = m.get("ci")
    return pct(m["accuracy"]) + (f" {ci_text(ci)}" if ci else "")
