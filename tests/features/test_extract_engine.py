"""Extraction engine + store: exact values, order, bad videos, cache key, overwrite, locking."""

from __future__ import annotations

import re

import numpy as np
import pytest
from feature_fakes import (
    CLASSES,
    DECODE_CALLS,
    AnyFramesEncoder,
    MeanColourEncoder,
    expected_feature,
    fake_decode,
    make_dataset,
)

from gesturebench.data.sampling import SamplerConfig
from gesturebench.errors import ConfigError, DecodeError, StoreError
from gesturebench.features.extract import BadVideo, extract_features
from gesturebench.features.store import FeatureStore

S4 = SamplerConfig(num_frames=4)


def other_decode(path, sampler):
    return fake_decode(path, sampler)


def run(manifest, encoder, store, **kw):
    kw.setdefault("workers", 0)
    kw.setdefault("decode_fn", fake_decode)
    return extract_features(manifest, encoder, store, kw.pop("sampler", S4), **kw)


def test_features_exact_in_manifest_order_across_shards_and_batches(tmp_path):
    seeds = [5, 17, 2, 40, 11, 9, 33, 8, 21, 1]
    m = make_dataset(tmp_path / "data", seeds)
    enc = MeanColourEncoder()
    seen = []
    rep = run(m, enc, tmp_path / "st", batch_size=3, shard_size=4, progress=lambda d, t: seen.append((d, t)))
    # shards [0,4) [4,8) [8,10) with batches of 3: 3+1, 3+1, 2 -> 5 encoder calls
    assert enc.calls == 5 and enc.videos == 10
    assert (rep.total, rep.computed, rep.reused, rep.failed, rep.cached) == (10, 10, 0, 0, False)
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    fs = FeatureStore(tmp_path / "st").load()
    np.testing.assert_allclose(fs.features, np.stack([expected_feature(s) for s in seeds]), atol=1e-6)
    assert fs.features.dtype == np.float32
    assert fs.video_ids == tuple(f"clips/v{i:03d}.vid" for i in range(10))
    assert fs.labels.tolist() == [i % 3 for i in range(10)]
    assert fs.domains[:3] == ("synthetic", "target", "synthetic")
    assert fs.views[:3] == ("ground", "ground", "air")
    assert fs.class_names == CLASSES
    assert fs.key == rep.key and len(fs.key) == 64
    assert sorted(p.name for p in (tmp_path / "st").iterdir()) == [
        ".lock", "shard-00000.safetensors", "shard-00001.safetensors", "shard-00002.safetensors", "store.json",
    ]


def test_unchanged_rerun_is_a_cache_hit_doing_no_work(tmp_path):
    m = make_dataset(tmp_path / "data", [1, 2, 3], bad={1: "corrupt"})
    first = run(m, MeanColourEncoder(), tmp_path / "st")
    enc = MeanColourEncoder()
    DECODE_CALLS["n"] = 0
    again = run(m, enc, tmp_path / "st")
    assert enc.calls == 0 and DECODE_CALLS["n"] == 0
    assert again.cached and again.key == first.key
    assert (again.computed, again.reused, again.failed) == (0, 3, 1)
    assert again.bad == [BadVideo("clips/v001.vid", "bad: corrupt", 1)]


def test_bad_video_is_skipped_and_listed(tmp_path):
    m = make_dataset(tmp_path / "data", [1, 2, 3, 4], bad={2: "moov atom not found"}, missing=(0,))
    rep = run(m, MeanColourEncoder(), tmp_path / "st", batch_size=2)
    assert rep.bad == [
        BadVideo("clips/v000.vid", "file not found", 0),
        BadVideo("clips/v002.vid", "bad: moov atom not found", 2),
    ]
    assert (rep.computed, rep.extracted, rep.failed) == (2, 2, 2)
    fs = FeatureStore(tmp_path / "st").load()
    assert fs.video_ids == ("clips/v001.vid", "clips/v003.vid")
    np.testing.assert_allclose(fs.features, np.stack([expected_feature(2), expected_feature(4)]), atol=1e-6)
    info = FeatureStore(tmp_path / "st").info()
    assert (info["num_videos"], info["num_extracted"], info["num_bad"]) == (4, 2, 2)
    assert info["bad"][1] == {"video_id": "clips/v002.vid", "reason": "bad: moov atom not found", "row": 2}
    assert info["classes"] == {"Advance": 1, "Attention": 1, "Rally": 0}
    assert info["domains"] == {"target": 2}
    assert info["encoder"]["name"] == "test-mean-colour" and info["feature_dim"] == 12


def test_strict_fails_on_first_bad_video(tmp_path):
    m = make_dataset(tmp_path / "data", [1, 2, 3], bad={1: "truncated"})
    with pytest.raises(DecodeError) as exc:
        run(m, MeanColourEncoder(), tmp_path / "st", strict=True)
    assert str(exc.value) == f"cannot decode {tmp_path / 'data' / 'clips' / 'v001.vid'}: bad: truncated"
    assert not FeatureStore(tmp_path / "st").is_complete()


def test_nothing_extracted_raises(tmp_path):
    m = make_dataset(tmp_path / "data", [1, 2], bad={0: "x", 1: "y"})
    with pytest.raises(StoreError, match=re.escape(
        "nothing could be extracted: all 2 videos failed to decode (first: clips/v000.vid: bad: x)"
    )):
        run(m, MeanColourEncoder(), tmp_path / "st")


@pytest.mark.parametrize(
    "change, changed",
    [
        ("sampler", "sampler.name"),
        ("version", "encoder.version"),
        ("file", "files (video sizes or modification times)"),
        ("manifest", "manifest"),
        ("weights", "encoder.weights_sha256"),
        ("precision", "precision"),
        ("decoder", "decoder"),
    ],
)
def test_changed_setting_is_refused_then_overwritten(tmp_path, change, changed):
    m = make_dataset(tmp_path / "data", [1, 2, 3])
    first = run(m, MeanColourEncoder(), tmp_path / "st")
    enc, kw = MeanColourEncoder(), {}
    if change == "sampler":
        kw["sampler"] = SamplerConfig(name="uniform", num_frames=4)
    elif change == "version":
        enc.version = "2"
    elif change == "file":
        (tmp_path / "data" / "clips" / "v001.vid").write_text("77")  # regenerated video, same path
    elif change == "weights":
        enc.weights_sha256 = lambda: "f" * 64
    elif change == "precision":
        enc.precision = "bf16"
    elif change == "decoder":
        kw["decode_fn"] = other_decode
    else:
        m = m.subset(m.records[:2])
    with pytest.raises(StoreError) as exc:
        run(m, enc, tmp_path / "st", **kw)
    assert str(exc.value).startswith(
        f"feature store {tmp_path / 'st'} holds features made with other settings ({changed}"
    )
    assert str(exc.value).endswith("); rerun with --overwrite to replace them, or choose another --out")
    assert enc.calls == 0
    rep = run(m, enc, tmp_path / "st", overwrite=True, **kw)
    assert rep.key != first.key and rep.computed == len(m) and enc.videos == len(m)
    assert FeatureStore(tmp_path / "st").load().key == rep.key
    if change == "file":
        np.testing.assert_allclose(FeatureStore(tmp_path / "st").load().features[1], expected_feature(77), atol=1e-6)


def test_lock_held_by_another_writer_is_refused(tmp_path):
    m = make_dataset(tmp_path / "data", [1])
    with FeatureStore(tmp_path / "st").lock():
        with pytest.raises(StoreError, match=re.escape(
            f"feature store {tmp_path / 'st'} is being written by another run "
        f"(lock {tmp_path / 'st' / '.lock'} is held)"
        )):
            run(m, MeanColourEncoder(), tmp_path / "st")
    run(m, MeanColourEncoder(), tmp_path / "st")  # released: fine now


def test_refuses_foreign_folder_and_reading_incomplete_store(tmp_path):
    m = make_dataset(tmp_path / "data", [1])
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("x")
    with pytest.raises(StoreError, match=re.escape(
        f"{tmp_path / 'notes'} is not empty and is not a feature store (it holds thesis.tex)"
    )):
        run(m, MeanColourEncoder(), tmp_path / "notes")
    with pytest.raises(StoreError, match="is not a feature store: it has no store.json"):
        FeatureStore(tmp_path / "notes").load()
    m2 = make_dataset(tmp_path / "d2", [1, 2], bad={1: "x"})
    with pytest.raises(DecodeError):
        run(m2, MeanColourEncoder(), tmp_path / "half", strict=True, shard_size=1)
    with pytest.raises(StoreError, match="is incomplete .*rerun the same `gesturebench extract` command to resume"):
        FeatureStore(tmp_path / "half").load()


def test_frames_must_match_encoder_unless_it_accepts_any(tmp_path):
    m = make_dataset(tmp_path / "data", [3, 4])
    with pytest.raises(ConfigError) as exc:
        run(m, MeanColourEncoder(), tmp_path / "st", sampler=SamplerConfig(num_frames=8))
    assert str(exc.value) == (
        "--frames 8 does not fit encoder 'test-mean-colour', which takes 4 frames per clip (its input spec); "
        "use --frames 4"
    )
    # An encoder that takes any frame count, with two clips per video averaged.
    enc = AnyFramesEncoder(6)
    run(m, enc, tmp_path / "any", sampler=SamplerConfig(num_frames=6, num_clips=2))
    fs = FeatureStore(tmp_path / "any").load()
    want = (expected_feature(3, 6, 0) + expected_feature(3, 6, 1)) / 2
    np.testing.assert_allclose(fs.features[0], want, atol=1e-6)
    assert enc.videos == 4  # 2 videos x 2 clips


def test_workers_give_identical_features(tmp_path):
    seeds = list(range(20, 29))
    m = make_dataset(tmp_path / "data", seeds, bad={4: "broken"})
    a = run(m, MeanColourEncoder(), tmp_path / "w0", workers=0, batch_size=4, shard_size=5)
    b = run(m, MeanColourEncoder(), tmp_path / "w2", workers=2, batch_size=4, shard_size=5)
    assert a.key == b.key and b.workers == 2 and b.bad == a.bad
    fa, fb = FeatureStore(tmp_path / "w0").load(), FeatureStore(tmp_path / "w2").load()
    assert np.array_equal(fa.features, fb.features) and fa.video_ids == fb.video_ids


def test_load_refuses_duplicated_rows(tmp_path):
    m = make_dataset(tmp_path / "data", [1, 2, 3, 4])
    rep = run(m, MeanColourEncoder(), tmp_path / "st", shard_size=2)
    store = FeatureStore(tmp_path / "st")
    feats, rows, bad, _ = store.read_shard(0)
    store.write_shard(1, rep.key, 2, 4, feats, rows, bad)  # shard 1 now repeats rows 0-1
    with pytest.raises(StoreError, match="shard-00001.safetensors fails its SHA-256 check"):
        store.load()
    meta = store.read_meta()  # a writer that also recorded the new checksum: the row check still refuses
    meta["shards"] = store.checksums(2)
    store.write_meta(meta)
    with pytest.raises(StoreError, match=re.escape(
        f"feature store {tmp_path / 'st'} is corrupt: rows are duplicated or missing"
    )):
        store.load()
