"""Polling for the tests that drive a child process (SIGKILL-and-resume tests)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(pred: Callable[[], bool], timeout: float, poll: float = 0.05) -> bool:
    """True as soon as ``pred()`` holds, False once ``timeout`` seconds have passed without it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(poll)
    return False
