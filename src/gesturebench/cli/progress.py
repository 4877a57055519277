"""Progress bars on stderr whose rate is the one the summary line reports.

Rich's own speed column is a moving estimate; ours is ``(done - done at start) /
elapsed`` of this run, so a resumed job's reused items do not inflate it and the
bar's last value is the summary's number.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .common import err_console


def rate_column(unit: str) -> Any:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            origin = task.fields.get("origin")
            if origin is None:
                return Text(f"-- {unit}/s", style="progress.data.speed")
            t0, done0 = origin
            dt = time.perf_counter() - t0 if not task.finished else (task.fields.get("end", time.perf_counter()) - t0)
            rate = (task.completed - done0) / dt if dt > 0 else 0.0
            return Text(f"{rate:.1f} {unit}/s", style="progress.data.speed")

    return Rate()


@contextmanager
def stage_progress(unit: str = "items") -> Iterator[Callable[[str, int, int | None], None]]:
    """A ``progress(stage, done, total)`` callback drawing one bar per stage on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(), rate_column(unit),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=False, disable=not err_console.is_terminal) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total, origin=(time.perf_counter(), done))
            tid = tasks[stage]
            bar.update(tid, completed=done, total=total)
            if total is not None and done >= total:
                bar.update(tid, end=time.perf_counter())

        yield progress
