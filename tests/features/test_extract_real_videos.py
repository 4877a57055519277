"""Integration with the real decoder and registry encoders on tiny generated H.264 clips."""

from __future__ import annotations


import numpy as np
import pytest
from feature_fakes import write_clip

from gesturebench.types import Manifest, VideoRecord

CLASSES = ("Advance", "Halt")


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory) -> Manifest:
    root = tmp_path_factory.mktemp("videos")
    records = []
    for i in range(5):
        name = f"v{i}.mp4"
        if i == 2:
            (root / name).write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
        else:
            write_clip(root / name, seed=i)
        records.append(VideoRecord(name, i % 2, CLASSES[i % 2], domain="real" if i else "synthetic"))
    return Manifest(root, CLASSES, tuple(records))


@pytest.mark.parametrize("encoder_name, workers", [("test-tiny-vit", 0), ("pixels", 2)])
def test_store_matches_direct_decode_and_encode(tiny_dataset, tmp_path, encoder_name, workers):
    import torch

    from gesturebench.data.decode import decode_clip
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders.preprocess import normalize, resize_crop
    from gesturebench.encoders.registry import create_encoder
    from gesturebench.features.extract import extract_features
    from gesturebench.features.store import FeatureStore

    enc = create_encoder(encoder_name, device="cpu")
    rep = extract_features(tiny_dataset, enc, tmp_path / "st", batch_size=3, workers=workers)
    assert [b.video_id for b in rep.bad] == ["v2.mp4"] and rep.bad[0].reason
    fs = FeatureStore(tmp_path / "st").load()
    assert fs.video_ids == ("v0.mp4", "v1.mp4", "v3.mp4", "v4.mp4")
    assert fs.domains == ("synthetic", "real", "real", "real")
    assert fs.features.shape == (4, enc.feature_dim)
    sampler = SamplerConfig()  # the default: 8-frame TSN, test mode
    clips = np.stack([resize_crop(decode_clip(tiny_dataset.root / v, sampler), enc.spec) for v in fs.video_ids])
    with torch.inference_mode():
        want = enc.encode(normalize(torch.from_numpy(clips), enc.spec)).numpy()
    np.testing.assert_allclose(fs.features, want, rtol=1e-5, atol=1e-5)
    assert FeatureStore(tmp_path / "st").info()["encoder"]["weights_sha256"] == enc.weights_sha256()
