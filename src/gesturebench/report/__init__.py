"""Reports built from result files: HTML, Markdown, CSV, LaTeX and figures (all plotting lives here)."""

from .build import write_report

__all__ = ["write_report"]
