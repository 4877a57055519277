"""The ``serve`` web app: a camera page and ``POST /predict`` over a :class:`Recogniser`.

Routes::

    GET  /          the page (camera clips via getUserMedia + MediaRecorder, and an upload form)
    GET  /info      classes, encoder, k, unknown thresholds, upload limits (JSON)
    GET  /health    {"status": "ok"}
    POST /predict   a video as multipart field ``file`` (or as the raw body with a video/*
                    or application/octet-stream content type) -> {label, confidence, neighbours, ...}

Bad uploads get a 4xx with ``{"error": "<one line>"}``: 413 larger than ``max_bytes`` (cut
off while it streams in, never read whole), 415 not a video, 422 too long (frames or
seconds) or undecodable frames, 400 no file. 503 when ``workers + queue`` predictions are
already in progress. Decoding and encoding run in worker threads (PyAV, OpenCV and torch
release the GIL), at most ``workers`` at a time, so the event loop keeps answering.
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations
# (Request) at runtime, and they are imported inside create_app.
import logging
import tempfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DecodeError, GesturebenchError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .predict import Recogniser

log = logging.getLogger(__name__)

#: Suffixes kept on the temporary file (the demuxer does not need them; they help its guess).
_SUFFIXES = {".mp4", ".webm", ".mkv", ".mov", ".avi", ".y4m", ".ogv", ".m4v", ".gif"}


@dataclass(frozen=True)
class ServeLimits:
    """Upload limits and concurrency of the serve app."""

    max_bytes: int = 32 * 2**20
    max_seconds: float = 20.0
    max_frames: int = 1200
    workers: int = 2
    queue: int = 32

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_frames", "workers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be an integer >= 1; got {v!r}")
        if isinstance(self.queue, bool) or not isinstance(self.queue, int) or self.queue < 0:
            raise ConfigError(f"queue must be an integer >= 0; got {self.queue!r}")
        if not self.max_seconds > 0:
            raise ConfigError(f"max_seconds must be > 0; got {self.max_seconds!r}")


class UploadRejected(GesturebenchError):
    """An upload the app refuses; ``status`` is the HTTP code to answer with."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


class BodyLimit:
    """ASGI middleware: refuse a request body larger than ``max_bytes`` as it streams in
    (a Content-Length above it is refused before any byte is read)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_big = UploadRejected(413, f"upload is larger than the limit of {_mib(limit)}")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            too_big = UploadRejected(413, f"upload is {_mib(int(declared))}; the limit is {_mib(limit)}")
            raise_now = True
        else:
            raise_now = False
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            if raise_now:
                raise too_big
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_big
            return message

        await self.app(scope, limited, send)


def page_html() -> str:
    return resources.files("gesturebench.recognise").joinpath("static/index.html").read_text(encoding="utf-8")


def check_upload(path: Path, limits: ServeLimits) -> None:
    """415 if ``path`` is not a readable video, 422 if it is too long (frames or seconds)."""
    from ..data.decode import probe

    try:
        info = probe(path)
    except DecodeError as exc:
        raise UploadRejected(415, f"not a video this server can read: {exc.reason}") from None
    if info.num_frames > limits.max_frames:
        raise UploadRejected(422, f"video has {info.num_frames} frames; at most {limits.max_frames} are allowed")
    seconds = max(info.duration, info.num_frames / info.fps if info.fps > 0 else 0.0)
    if seconds > limits.max_seconds:
        raise UploadRejected(422, f"video is {seconds:.1f} s long; at most {limits.max_seconds:g} s are allowed")


def create_app(recogniser: "Recogniser", limits: "ServeLimits | None" = None) -> "FastAPI":
    """The FastAPI app serving ``recogniser`` (see module docstring)."""
    import anyio
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.datastructures import UploadFile

    limits = limits or ServeLimits()
    app = FastAPI(title="gesturebench recogniser", docs_url=None, redoc_url=None, openapi_url=None)
    # Headroom above the video itself for the multipart envelope.
    app.add_middleware(BodyLimit, max_bytes=limits.max_bytes + 64 * 1024)
    limiter = anyio.CapacityLimiter(limits.workers)
    state = {"pending": 0, "served": 0, "rejected": 0}
    info = {**recogniser.describe(), "limits": asdict(limits)}
    html = page_html()

    def reject(status: int, message: str) -> JSONResponse:
        state["rejected"] += 1
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(UploadRejected)
    async def _rejected(request: Request, exc: UploadRejected) -> JSONResponse:
        return reject(exc.status, str(exc))

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return HTMLResponse(html)

    @app.get("/info")
    async def get_info() -> dict[str, Any]:
        return info

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", **state}

    def work(data_path: Path) -> dict[str, Any]:
        check_upload(data_path, limits)
        try:
            pred = recogniser.predict_file(data_path)
        except DecodeError as exc:
            raise UploadRejected(422, f"the video's frames cannot be decoded: {exc.reason}") from None
        out = pred.to_dict()
        out.pop("video")
        return out

    @app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        ctype = request.headers.get("content-type", "")
        if state["pending"] >= limits.workers + limits.queue:
            return reject(503, f"busy: {state['pending']} predictions in progress; retry shortly")
        with tempfile.TemporaryDirectory(prefix="gb-serve-") as tmp:
            if ctype.startswith("multipart/form-data"):
                form = await request.form(max_files=1, max_fields=8)
                upload = form.get("file")
                if not isinstance(upload, UploadFile):
                    return reject(400, "send the video as the multipart form field 'file'")
                suffix = Path(upload.filename or "").suffix.lower()
                path = Path(tmp) / f"upload{suffix if suffix in _SUFFIXES else ''}"
                with open(path, "wb") as fh:
                    while chunk := await upload.read(1 << 20):
                        fh.write(chunk)
                await upload.close()
            elif ctype.startswith(("video/", "application/octet-stream")):
                path = Path(tmp) / "upload"
                with open(path, "wb") as fh:
                    async for chunk in request.stream():
                        fh.write(chunk)
            else:
                return reject(415, f"content type {ctype or 'none'!r} is not a video upload; "
                                   "send multipart/form-data with field 'file', or video/* bytes")
            if path.stat().st_size == 0:
                return reject(400, "the uploaded file is empty")
            if state["pending"] >= limits.workers + limits.queue:
                return reject(503, f"busy: {state['pending']} predictions in progress; retry shortly")
            state["pending"] += 1
            try:
                out = await anyio.to_thread.run_sync(work, path, limiter=limiter)
            finally:
                state["pending"] -= 1
        state["served"] += 1
        return JSONResponse(out)

    return app
