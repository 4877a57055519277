"""What verifying a feature store costs at load time (issue 10): SHA-256 of every shard and the
row-table checksums, against reading the same shards without them.

Builds a store the size of RoCoG-v2's synthetic training set (44.5K videos x 768 float32 dims,
~137 MB in 174 shards) through the real writer, then times ``FeatureStore.load()`` (verified)
and a plain read of the same shards (``safetensors.numpy.load_file``), medians of 5 runs each.
Prints the machine and load average. Usage: ``python benchmarks/store_verify.py [N] [D]``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    from safetensors.numpy import load_file

    from gesturebench.features.meta import rows_checksums
    from gesturebench.features.store import FORMAT_NAME, FORMAT_VERSION, FeatureStore, cache_key
    from gesturebench.types import ROCOG_CLASSES, Manifest, VideoRecord

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 44_500
    dim = int(sys.argv[2]) if len(sys.argv) > 2 else 768
    size = 256
    rng = np.random.default_rng(0)
    records = [VideoRecord(f"syn/ground/{ROCOG_CLASSES[i % 7]}/v{i:06d}.mp4", i % 7, ROCOG_CLASSES[i % 7])
               for i in range(n)]
    manifest = Manifest("/data", ROCOG_CLASSES, tuple(records))
    settings = {"encoder": {"name": "bench"}, "manifest": manifest.content_hash()}
    key = cache_key(settings)
    with tempfile.TemporaryDirectory() as tmp:
        store = FeatureStore(Path(tmp) / "st")
        store.path.mkdir()
        shards = (n + size - 1) // size
        for i in range(shards):
            a, b = i * size, min(n, (i + 1) * size)
            store.write_shard(i, key, a, b, rng.standard_normal((b - a, dim), dtype=np.float32),
                              np.arange(a, b), [])
        rows = {"video_ids": [r.path for r in records], "labels": [r.label for r in records],
                "domains": [r.domain for r in records], "views": [r.view for r in records],
                "splits": [r.split for r in records]}
        store.write_meta({
            "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "status": "complete", "key": key,
            "settings": settings, "dtype": "float32", "feature_dim": dim, "num_videos": n, "shard_size": size,
            "num_shards": shards, "class_names": list(ROCOG_CLASSES),
            "manifest": {"root": "/data", "sources": [], "content_hash": settings["manifest"]},
            "rows": rows, "rows_sha256": rows_checksums(rows), "bad": [], "shards": store.checksums(shards),
        })
        mb = sum(p.stat().st_size for p in store.shard_files()) / 1e6

        def timed(fn) -> float:
            out = []
            for _ in range(5):
                t = time.perf_counter()
                fn()
                out.append(time.perf_counter() - t)
            return statistics.median(out)

        verified = timed(lambda: FeatureStore(store.path).load())
        plain = timed(lambda: [load_file(str(p)) for p in store.shard_files()])
        # the same load() with the checks switched off: what verification itself adds
        import gesturebench.features.store as store_mod

        real = store_mod.verify_rows, FeatureStore._read_shard_bytes
        store_mod.verify_rows = lambda meta, where: None
        FeatureStore._read_shard_bytes = lambda self, i, expect=None: self.shard_path(i).read_bytes()
        try:
            unverified = timed(lambda: FeatureStore(store.path).load())
        finally:
            store_mod.verify_rows, FeatureStore._read_shard_bytes = real
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"store: {n} videos x {dim} dims, {shards} shards, {mb:.0f} MB")
    print(f"load() verified (SHA-256 of shards + row checksums + metadata): {verified:.2f} s (median of 5)")
    print(f"load() with row checks and shard hashing switched off:           {unverified:.2f} s (median of 5)")
    print(f"plain read of the same shards (safetensors load_file):          {plain:.2f} s (median of 5)")


if __name__ == "__main__":
    main()
