"""Headless Chromium for the tests that open pages (the HTML report, the serve page).

`make test` installs Debian's ``chromium``; where it is absent these tests skip with that reason.
The flags are the ones this closed network needs (no background networking, no first run).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence

import pytest

BASE_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium_or_skip() -> str:
    """Path of the chromium binary, or skip the test saying why."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium is not installed (make test installs Debian's `chromium` with apt-get)")


def dump_dom(url: str, extra_flags: Sequence[str] = (), budget_ms: int = 5000, timeout: float = 60.0) -> str:
    """The DOM of ``url`` after its scripts ran for ``budget_ms`` of virtual time (``--dump-dom``)."""
    binary = chromium_or_skip()
    with tempfile.TemporaryDirectory(prefix="gb-chromium-") as profile:
        cmd = [binary, *BASE_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
               *extra_flags, "--dump-dom", url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout
