"""`extract --engine ray` on a local 2-CPU Ray instance: the same store, bit for bit, as the
local engine; bad videos listed the same; an interrupted Ray run resumes (with either engine)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from feature_fakes import MeanColourEncoder, expected_feature, fake_decode, make_dataset, write_clip

from gesturebench.data.sampling import SamplerConfig
from gesturebench.errors import DecodeError, EncoderError
from gesturebench.features.extract import extract_features
from gesturebench.features.store import FeatureStore
from gesturebench.ray_cluster import RayEngine
from gesturebench.types import Manifest, VideoRecord

pytestmark = pytest.mark.xdist_group("ray")

SEEDS = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38, 46]
BAD = {2: "corrupt header", 6: "truncated"}  # rows 2 and 6: batches must span decode blocks


def same_featureset(a, b) -> None:
    assert np.array_equal(a.features, b.features)  # exact: same bits, not "close"
    assert a.features.dtype == b.features.dtype == np.float32
    assert np.array_equal(a.labels, b.labels)
    assert (a.video_ids, a.domains, a.views, a.class_names, a.key) == (b.video_ids, b.domains, b.views,
                                                                       b.class_names, b.key)
    assert a.meta["bad"] == b.meta["bad"]


@pytest.fixture(scope="module")
def tiny_videos(tmp_path_factory) -> Manifest:
    root = tmp_path_factory.mktemp("videos")
    classes = ("Advance", "Halt")
    records = []
    for i in range(7):
        name = f"v{i}.mp4"
        if i == 3:
            (root / name).write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
        else:
            write_clip(root / name, seed=i)
        records.append(VideoRecord(name, i % 2, classes[i % 2], domain="synthetic" if i % 2 else "target"))
    return Manifest(root, classes, tuple(records))


@pytest.mark.parametrize("encoder_name", ["test-tiny-vit"])
def test_real_videos_bit_identical_to_local_engine(ray_local, tiny_videos, tmp_path, encoder_name):
    from gesturebench.encoders.registry import create_encoder

    stores = {}
    for engine in ("local", "ray"):
        enc = create_encoder(encoder_name, device="cpu")
        rep = extract_features(tiny_videos, enc, tmp_path / engine, batch_size=2, workers=2, shard_size=3,
                               engine=engine)
        assert [b.video_id for b in rep.bad] == ["v3.mp4"], rep.bad
        assert (rep.computed, rep.device) == (6, "cpu")
        stores[engine] = FeatureStore(tmp_path / engine).load()
    same_featureset(stores["local"], stores["ray"])
    assert stores["ray"].features.shape == (6, create_encoder(encoder_name).feature_dim)
    assert stores["ray"].features.std() > 0  # not trivially equal (e.g. all zeros)


def test_fake_decoder_exact_values_two_clips_and_bad_rows(ray_local, tmp_path):
    m = make_dataset(tmp_path / "d", SEEDS, bad=BAD)
    sampler = SamplerConfig(num_frames=4, num_clips=2)
    rep = extract_features(m, MeanColourEncoder(), tmp_path / "ray", sampler, batch_size=3, shard_size=4,
                           decode_fn=fake_decode, engine="ray")
    assert [(b.row, b.reason) for b in rep.bad] == [(2, "bad: corrupt header"), (6, "bad: truncated")]
    fs = FeatureStore(tmp_path / "ray").load()
    good = [i for i in range(len(SEEDS)) if i not in BAD]
    want = np.stack([(expected_feature(SEEDS[i], clip=0) + expected_feature(SEEDS[i], clip=1)) / 2 for i in good])
    np.testing.assert_allclose(fs.features, want, rtol=0, atol=1e-6)
    assert fs.video_ids == tuple(f"clips/v{i:03d}.vid" for i in good)
    local = extract_features(m, MeanColourEncoder(), tmp_path / "local", sampler, batch_size=3, shard_size=4,
                             workers=0, decode_fn=fake_decode)
    assert local.key == rep.key
    same_featureset(FeatureStore(tmp_path / "local").load(), fs)


class Interrupt(Exception):
    pass


def test_interrupted_ray_run_resumes_from_completed_shards(ray_local, tmp_path):
    m = make_dataset(tmp_path / "d", SEEDS, bad=BAD)
    sampler = SamplerConfig(num_frames=4)
    store = tmp_path / "st"
    seen = []

    def stop_after_two_shards(done, total):
        seen.append(done)
        if len(list(store.glob("shard-*.safetensors"))) >= 2:
            raise Interrupt  # what Ctrl-C in the driver does, at an arbitrary point

    with pytest.raises(Interrupt):
        extract_features(m, MeanColourEncoder(), store, sampler, batch_size=2, shard_size=2,
                         decode_fn=fake_decode, engine="ray", progress=stop_after_two_shards)
    written = sorted(p.name for p in store.glob("shard-*.safetensors"))
    assert 2 <= len(written) < 6 and not FeatureStore(store).is_complete()
    st = FeatureStore(store)
    covered = {int(r) for n in written for r in st.read_shard(int(n[6:11]))[1]}
    covered |= {r for n in written for r, _ in st.read_shard(int(n[6:11]))[2]}

    again = extract_features(m, MeanColourEncoder(), store, sampler, batch_size=2, shard_size=2,
                             decode_fn=fake_decode, engine="ray")
    assert again.reused == len(covered)
    assert again.computed == len([r for r in range(len(SEEDS)) if r not in covered and r not in BAD])
    assert not again.cached
    assert [b.row for b in again.bad] == sorted(BAD)
    fresh = extract_features(m, MeanColourEncoder(), tmp_path / "fresh", sampler, batch_size=2, shard_size=2,
                             workers=0, decode_fn=fake_decode)
    same_featureset(FeatureStore(tmp_path / "fresh").load(), FeatureStore(store).load())
    assert fresh.key == again.key
    # A rerun is a cache hit whichever engine asks.
    assert extract_features(m, MeanColourEncoder(), store, sampler, shard_size=2, workers=0,
                            decode_fn=fake_decode).cached


def test_ray_resumes_a_store_the_local_engine_started(ray_local, tmp_path):
    m = make_dataset(tmp_path / "d", SEEDS)
    sampler = SamplerConfig(num_frames=4)
    store = tmp_path / "st"

    def stop(done, total):
        if done >= 5:  # rows 0-3 are stored (2 shards); row 4's shard is not yet
            raise Interrupt

    with pytest.raises(Interrupt):
        extract_features(m, MeanColourEncoder(), store, sampler, batch_size=1, shard_size=2, workers=0,
                         decode_fn=fake_decode, progress=stop)
    rep = extract_features(m, MeanColourEncoder(), store, sampler, batch_size=1, shard_size=2,
                           decode_fn=fake_decode, engine=RayEngine(encode_actors=2))
    assert rep.reused == 4 and rep.computed == len(SEEDS) - 4
    fs = FeatureStore(store).load()
    np.testing.assert_allclose(fs.features, np.stack([expected_feature(s) for s in SEEDS]), rtol=0, atol=1e-6)


def test_strict_fails_on_the_first_bad_video_like_local(ray_local, tmp_path):
    m = make_dataset(tmp_path / "d", SEEDS, bad=BAD)
    with pytest.raises(DecodeError, match=re.escape(f"cannot decode {m.abspath(m.records[2])}: bad: corrupt header")):
        extract_features(m, MeanColourEncoder(), tmp_path / "st", SamplerConfig(num_frames=4), strict=True,
                         decode_fn=fake_decode, engine="ray")


class WrongShapeEncoder(MeanColourEncoder):
    def encode(self, clips):
        return super().encode(clips)[:, :5]


def test_encoder_error_in_an_actor_is_the_library_error(ray_local, tmp_path):
    m = make_dataset(tmp_path / "d", SEEDS[:3])
    with pytest.raises(EncoderError) as info:
        extract_features(m, WrongShapeEncoder(), tmp_path / "st", SamplerConfig(num_frames=4), batch_size=3,
                         decode_fn=fake_decode, engine="ray")
    # Unwrapped: the one line the CLI prints, not a remote traceback.
    assert str(info.value) == "encoder 'test-mean-colour' returned shape (3, 5) for 3 clips; expected (3, 12)"
    assert type(info.value) is EncoderError


def test_cli_engine_ray_matches_local(ray_local, tiny_videos, tmp_path, capsys):
    import shutil

    from gesturebench.cli import main

    data = tmp_path / "data"  # folder per class, the layout the CLI detects without lists
    for r in tiny_videos.records:
        (data / r.class_name).mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny_videos.root / r.path, data / r.class_name / r.path)
    common = ["extract", "--data", str(data), "--encoder", "pixels", "--batch-size", "2", "--workers", "0"]
    assert main([*common, "--out", str(tmp_path / "l")]) == 0
    assert main([*common, "--out", str(tmp_path / "r"), "--engine", "ray"]) == 0
    out = capsys.readouterr()
    assert out.err.count("Halt/v3.mp4: not a readable video") == 2
    assert "extracted 6/7 videos with pixels" in out.out
    same_featureset(FeatureStore(tmp_path / "l").load(), FeatureStore(tmp_path / "r").load())


def test_growing_a_store_on_ray_equals_a_fresh_local_store(ray_local, tmp_path):
    from dataclasses import replace

    full = make_dataset(tmp_path / "d", SEEDS, bad=BAD)
    first = replace(full, records=full.records[:7])  # same files; the store then grows by rows 7..10
    sampler = SamplerConfig(num_frames=4)
    kw = dict(batch_size=3, shard_size=4, decode_fn=fake_decode)
    extract_features(first, MeanColourEncoder(), tmp_path / "st", sampler, workers=0, **kw)
    grown = extract_features(full, MeanColourEncoder(), tmp_path / "st", sampler, engine="ray", **kw)
    assert grown.action == "grow", (grown.action, grown.note)
    assert grown.computed == len([r for r in range(7, len(SEEDS)) if r not in BAD])
    extract_features(full, MeanColourEncoder(), tmp_path / "fresh", sampler, workers=0, **kw)
    same_featureset(FeatureStore(tmp_path / "fresh").load(), FeatureStore(tmp_path / "st").load())


def warning_decode(path, sampler):
    """fake_decode, plus a decoder warning for seed 92 (still usable, as with a corrupt unsampled frame)."""
    import logging

    frames = fake_decode(path, sampler)
    if Path(path).read_text().strip() == "92":
        logging.getLogger("gesturebench.data.decode").warning("frame 3 is corrupt (not sampled)")
    return frames


def test_decoder_warnings_are_reported_like_local(ray_local, tmp_path):
    m = make_dataset(tmp_path / "d", SEEDS, bad=BAD)
    reports = {e: extract_features(m, MeanColourEncoder(), tmp_path / e, SamplerConfig(num_frames=4), batch_size=3,
                                   workers=0, decode_fn=warning_decode, engine=e) for e in ("local", "ray")}
    assert len(reports["local"].warnings) == 1 and reports["local"].warnings[0].row == 3
    assert reports["ray"].warnings == reports["local"].warnings
    assert "frame 3 is corrupt" in reports["ray"].warnings[0].reason
    same_featureset(FeatureStore(tmp_path / "local").load(), FeatureStore(tmp_path / "ray").load())
