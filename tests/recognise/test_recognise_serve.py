"""The serve app for real: uvicorn on a free port, hit with httpx."""

from __future__ import annotations

import concurrent.futures as cf

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the [serve] extra is not installed (make test installs it)")
httpx = pytest.importorskip("httpx", reason="httpx is not installed (make test installs it)")

from server import running_server  # noqa: E402  (tests/recognise/server.py)

from gesturebench.api.recognise import load_recogniser  # noqa: E402
from gesturebench.recognise.app import ServeLimits, create_app  # noqa: E402


def _write_long_video(path, frames: int, rate: int = 30) -> None:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=rate)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(frames):
            img = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode())


@pytest.fixture(scope="module")
def server(world):
    app = create_app(load_recogniser(world.model), ServeLimits(max_bytes=1 << 20, max_frames=100, workers=2))
    with running_server(app) as url:
        yield url


def test_page_and_info(server):
    page = httpx.get(server + "/", timeout=10)
    assert page.status_code == 200 and "getUserMedia" in page.text and 'id="upload-form"' in page.text
    info = httpx.get(server + "/info", timeout=10).json()
    assert info["classes"] == ["WaveBoth", "SwingLow"] and info["encoder"] == "motion" and info["k"] == 3
    assert info["limits"]["max_frames"] == 100


def test_predict_upload(world, server):
    clip = world.held_out["WaveBoth"][0]
    r = httpx.post(server + "/predict", files={"file": (clip.name, clip.read_bytes(), "video/mp4")}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["label"], body["confidence"]) == ("WaveBoth", 1.0)
    assert [n["label"] for n in body["neighbours"]] == ["WaveBoth"] * 3
    # raw bytes work too (robots: curl --data-binary)
    raw = httpx.post(server + "/predict", content=world.held_out["SwingLow"][0].read_bytes(),
                     headers={"content-type": "video/mp4"}, timeout=60)
    assert raw.status_code == 200 and raw.json()["label"] == "SwingLow"


def test_bad_uploads_get_4xx_and_server_keeps_serving(world, server, tmp_path):
    def post(data: bytes, name: str = "x.mp4"):
        return httpx.post(server + "/predict", files={"file": (name, data, "video/mp4")}, timeout=60)

    r = post(b"hello, I am not a video")
    assert r.status_code == 415
    assert r.json() == {"error": "not a video this server can read: not a readable video "
                                 "(invalid data: corrupt, truncated or not a video file)"}
    r = post(b"\0" * (2 << 20))
    assert r.status_code == 413 and r.json()["error"].startswith("upload is 2.0 MiB; the limit is 1.1 MiB")
    long_video = tmp_path / "long.mp4"
    _write_long_video(long_video, 150)
    r = post(long_video.read_bytes())
    assert r.status_code == 422 and r.json() == {"error": "video has 150 frames; at most 100 are allowed"}
    slow_video = tmp_path / "slow.mp4"
    _write_long_video(slow_video, 50, rate=2)  # 50 frames, 25 s
    r = post(slow_video.read_bytes())
    assert r.status_code == 422 and r.json() == {"error": "video is 25.0 s long; at most 20 s are allowed"}
    r = httpx.post(server + "/predict", files={"other": ("a.mp4", b"123", "video/mp4")}, timeout=10)
    assert r.status_code == 400 and r.json() == {"error": "send the video as the multipart form field 'file'"}
    r = httpx.post(server + "/predict", content=b"{}", headers={"content-type": "application/json"}, timeout=10)
    assert r.status_code == 415 and "is not a video upload" in r.json()["error"]
    r = post(b"")
    assert r.status_code == 400 and r.json() == {"error": "the uploaded file is empty"}
    # still serving
    ok = post(world.held_out["SwingLow"][1].read_bytes())
    assert ok.status_code == 200 and ok.json()["label"] == "SwingLow"
    health = httpx.get(server + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["pending"] == 0 and health["rejected"] >= 7


def test_eight_concurrent_clients(world, server):
    clips = [world.held_out[name][i % 2] for i in range(8) for name in ("WaveBoth", "SwingLow")][:8]

    def one(path):
        r = httpx.post(server + "/predict", files={"file": (path.name, path.read_bytes(), "video/mp4")}, timeout=120)
        return r.status_code, r.json().get("label"), path.parent.name

    with cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, clips))
    assert [(code, label) for code, label, _ in results] == [(200, cls) for _, _, cls in results]
