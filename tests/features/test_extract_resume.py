"""kill -9 in the middle of an extraction, then resume: no recomputation of finished
shards, no duplicates or gaps, identical result; a second writer is refused meanwhile."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from feature_fakes import MeanColourEncoder, fake_decode, make_dataset
from waiting import wait_for

from gesturebench.data.sampling import SamplerConfig
from gesturebench.errors import StoreError
from gesturebench.features.extract import extract_features
from gesturebench.features.store import FeatureStore

HERE = Path(__file__).resolve().parent
SEEDS = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46, 26, 43, 38, 32, 79]
SHARD = 2

CHILD = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {here!r})
    from pathlib import Path
    from feature_fakes import MeanColourEncoder, fake_decode, make_dataset
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.features.extract import extract_features

    m = make_dataset(Path({data!r}), {seeds!r}, bad={{5: "corrupt"}})
    extract_features(m, MeanColourEncoder(delay=0.25), {store!r}, SamplerConfig(num_frames=4),
                     batch_size=1, workers=0, shard_size={shard}, decode_fn=fake_decode)
    """
)



def test_kill9_then_resume_equals_uninterrupted_run(tmp_path):
    data, store = tmp_path / "data", tmp_path / "st"
    m = make_dataset(data, SEEDS, bad={5: "corrupt"})
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(here=str(HERE), data=str(data), seeds=SEEDS, store=str(store), shard=SHARD))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, str(script)], env=env, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: (store / "shard-00001.safetensors").exists(), 60, poll=0.02), "child wrote no shards"
        # While the child holds the lock, a second writer is refused and does no work.
        enc = MeanColourEncoder()
        with pytest.raises(StoreError, match=re.escape(f"feature store {store} is being written by another run")):
            extract_features(m, enc, store, SamplerConfig(num_frames=4), workers=0, shard_size=SHARD,
                             decode_fn=fake_decode)
        assert enc.calls == 0
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    done_shards = sorted(p.name for p in store.glob("shard-*.safetensors"))
    total_shards = len(SEEDS) // SHARD
    assert 2 <= len(done_shards) < total_shards, done_shards
    assert not FeatureStore(store).is_complete()
    # Simulate a torn write left by the kill: a temporary file must be ignored and removed.
    (store / ".tmp-shard-00099.safetensors.abc.safetensors").write_bytes(b"half")

    enc = MeanColourEncoder()
    rep = extract_features(m, enc, store, SamplerConfig(num_frames=4), batch_size=1, workers=0,
                           shard_size=SHARD, decode_fn=fake_decode)
    reused = SHARD * len(done_shards)
    bad_in_rest = 1 if 5 >= reused else 0
    assert rep.reused == reused and rep.computed == len(SEEDS) - reused - bad_in_rest
    assert enc.videos == rep.computed  # finished shards were not recomputed
    assert not list(store.glob(".tmp-*"))

    ref = extract_features(m, MeanColourEncoder(), tmp_path / "ref", SamplerConfig(num_frames=4), batch_size=3,
                           workers=0, shard_size=SHARD, decode_fn=fake_decode)
    a, b = FeatureStore(store).load(), FeatureStore(tmp_path / "ref").load()
    assert a.key == b.key == ref.key
    assert a.video_ids == b.video_ids == tuple(f"clips/v{i:03d}.vid" for i in range(len(SEEDS)) if i != 5)
    assert np.array_equal(a.features, b.features)
    assert [x.video_id for x in rep.bad] == ["clips/v005.vid"]


def test_damaged_shard_is_recomputed(tmp_path):
    m = make_dataset(tmp_path / "data", [1, 2, 3, 4])
    kw = dict(workers=0, shard_size=2, decode_fn=fake_decode)
    extract_features(m, MeanColourEncoder(), tmp_path / "st", SamplerConfig(num_frames=4), **kw)
    want = FeatureStore(tmp_path / "st").load().features
    # Mark the store partial and truncate shard 1, as if the disk had lost it.
    meta = FeatureStore(tmp_path / "st").read_meta()
    meta["status"] = "partial"
    FeatureStore(tmp_path / "st").write_meta(meta)
    shard = tmp_path / "st" / "shard-00001.safetensors"
    shard.write_bytes(shard.read_bytes()[:40])
    enc = MeanColourEncoder()
    rep = extract_features(m, enc, tmp_path / "st", SamplerConfig(num_frames=4), **kw)
    assert (rep.reused, rep.computed, enc.videos) == (2, 2, 2)
    assert np.array_equal(FeatureStore(tmp_path / "st").load().features, want)
