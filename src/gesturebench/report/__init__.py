"""Reports built from result files: Markdown tables and PNG figures."""

from .build import write_report

__all__ = ["write_report"]
