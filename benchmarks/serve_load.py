"""Bounded load test of `gesturebench serve` against 127.0.0.1: N concurrent clients.

Target (issue 11): 8 concurrent clients without errors.

Starts the real CLI (`gesturebench serve MODEL --port P`) as a subprocess, waits for
/health, then runs ``--clients`` threads that each POST the query clip ``--requests``
times (multipart upload, as the page does) with a per-request timeout. Every answer that
is not HTTP 200 with a label, and every timeout or connection error, counts as an error.
Prints latency percentiles (client-side, upload to answer), throughput, the error count,
the machine and the load average; stops the server; writes bench-out/serve_load.json.

The model and the 3-second 640x480 query clip are the ones benchmarks/recogniser_latency.py
makes (built here if missing).

    .venv/bin/python benchmarks/serve_load.py [--clients 8] [--requests 5] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

import recogniser_latency as setup  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=5, help="requests per client")
    ap.add_argument("--workers", type=int, default=2, help="the server's --workers")
    ap.add_argument("--encoder", default="motion")
    ap.add_argument("--per-class", type=int, default=20, help="training videos per gesture in the model")
    ap.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    ap.add_argument("--work", type=Path, default=ROOT / "bench-out" / "recogniser")
    args = ap.parse_args()

    import httpx
    import numpy as np

    from gesturebench.provenance import machine_info

    args.work.mkdir(parents=True, exist_ok=True)
    query = setup.make_query_clip(args.work / "query-640x480-3s.mp4")
    model = setup.make_model(args.work, args.encoder, args.per_class)
    data = query.read_bytes()
    port = free_port()
    exe = Path(sys.executable).parent / "gesturebench"
    cmd = [str(exe), "serve", str(model), "--port", str(port), "--workers", str(args.workers)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print("error: the server did not start:", server.stderr.read().decode()[-2000:], file=sys.stderr)
                return 1
            time.sleep(0.2)
        load_before = setup.load_average()
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(i: int) -> None:
            with httpx.Client(timeout=args.timeout) as http:
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    try:
                        r = http.post(base + "/predict", files={"file": (query.name, data, "video/mp4")})
                        ok = r.status_code == 200 and "label" in r.json()
                        err = None if ok else f"HTTP {r.status_code}: {r.text[:200]}"
                    except httpx.HTTPError as exc:
                        err = f"{type(exc).__name__}: {exc}"
                    dt = time.perf_counter() - t0
                    with lock:
                        (errors.append(err) if err else latencies.append(dt))

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        health = httpx.get(base + "/health", timeout=5).json()
    finally:
        server.terminate()
        server.wait(20)
    lat = np.asarray(latencies)
    total = args.clients * args.requests
    result = {
        "machine": machine_info(), "clients": args.clients, "requests": total, "server_workers": args.workers,
        "encoder": args.encoder, "ok": len(latencies), "errors": len(errors), "error_samples": errors[:5],
        "wall_s": wall, "throughput_per_s": len(latencies) / wall if wall > 0 else 0.0,
        "latency_s": {q: float(np.percentile(lat, int(q[1:]))) for q in ("p50", "p90", "p99")} if lat.size else {},
        "latency_max_s": float(lat.max()) if lat.size else None,
        "server_health": health, "load_average": {"before": load_before, "after": setup.load_average()},
    }
    m = result["machine"]
    print(f"machine: {m['processor']}, {m['cpu_count']} cores; load average {load_before:.2f} before, "
          f"{result['load_average']['after']:.2f} after")
    print(f"{args.clients} clients x {args.requests} requests of a 3 s 640x480 clip ({args.encoder}, server "
          f"--workers {args.workers}): {len(latencies)} ok, {len(errors)} errors in {wall:.1f} s "
          f"({result['throughput_per_s']:.2f} predictions/s)")
    if lat.size:
        ls = result["latency_s"]
        print(f"latency per request: p50 {ls['p50']:.2f} s, p90 {ls['p90']:.2f} s, p99 {ls['p99']:.2f} s, "
              f"max {result['latency_max_s']:.2f} s")
    for e in errors[:5]:
        print(f"  error: {e}")
    out = ROOT / "bench-out" / "serve_load.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
