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


def write_y4m(frames, path, fps: int = 30) -> None:
    """Write uint8 RGB frames (T, H, W, 3) as a YUV4MPEG2 (I420) file, the format Chromium's
    ``--use-file-for-fake-video-capture`` camera plays (in a loop)."""
    import cv2
    import numpy as np

    frames = np.asarray(frames, dtype=np.uint8)
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"y4m I420 needs even frame sizes; got {w}x{h}")
    with open(path, "wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            fh.write(b"FRAME\n")
            fh.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())


class DevToolsBrowser:
    """Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``):
    no port, no extra package. Unlike ``--dump-dom``, it waits for real network and media I/O.

    Use as a context manager; :meth:`open` loads a page and returns its session id,
    :meth:`wait_for` polls a JavaScript expression until it is truthy.
    """

    def __init__(self, extra_flags: Sequence[str] = (), timeout: float = 60.0):
        import fcntl
        import os

        self.timeout = timeout
        binary = chromium_or_skip()
        self._profile = tempfile.TemporaryDirectory(prefix="gb-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_pipe() -> None:  # in the child: the protocol reads fd 3 and writes fd 4
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        cmd = [binary, *BASE_FLAGS, f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe",
               *extra_flags, "about:blank"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=wire_pipe, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next_id = 0

    def __enter__(self) -> DevToolsBrowser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        import os

        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._profile.cleanup()

    def _read_message(self, deadline: float) -> dict:
        import json
        import os
        import select
        import time

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium over the DevTools pipe")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.poll() is not None else ""
                    raise AssertionError(f"chromium closed the DevTools pipe: {err}")
                self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and return its result (events that arrive meanwhile are dropped)."""
        import json
        import os
        import time

        self._next_id += 1
        msg: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open(self, url: str) -> str:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.navigate", {"url": url}, session)
        return session

    def evaluate(self, session: str, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, session: str, expression: str, timeout: float, poll: float = 0.25):
        """Poll ``expression`` until it is truthy; return its value (AssertionError on timeout)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(session, expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {expression}")
            time.sleep(poll)
