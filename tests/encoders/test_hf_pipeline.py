"""A tiny HF VideoMAE checkpoint through the whole path: decode -> extract -> store -> k-NN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from gesturebench.data.sampling import SamplerConfig  # noqa: E402
from gesturebench.encoders import create_encoder  # noqa: E402
from gesturebench.evaluators.knn import evaluate_knn  # noqa: E402
from gesturebench.features.extract import extract_features  # noqa: E402
from gesturebench.features.store import FeatureStore  # noqa: E402
from gesturebench.types import Manifest, VideoRecord  # noqa: E402

CLASSES = ("Advance", "Attention", "Rally")


def npy_decode(path: str, sampler) -> np.ndarray:
    frames = np.load(path)
    return frames[sampler.indices(len(frames))]


def make_split(root: Path, domain: str, per_class: int, seed: int, copy_from: Path | None = None) -> Manifest:
    """Videos of 16 frames, 48x64: a class colour plus per-video noise; ``copy_from`` reuses
    the first training video of each class (a planted exact match for k=1)."""
    rng = np.random.default_rng(seed)
    records = []
    for label, name in enumerate(CLASSES):
        for i in range(per_class):
            rel = f"{domain}/{name}_{i}.npy"
            (root / domain).mkdir(parents=True, exist_ok=True)
            if copy_from is not None:
                frames = np.load(copy_from / "synthetic" / f"{name}_0.npy")
            else:
                base = np.zeros((16, 48, 64, 3), np.float32)
                base[..., label] = 200.0
                base[:, :, : 8 * (label + 1)] += 40.0  # a class-specific bar
                frames = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
            np.save(root / rel, frames)
            records.append(VideoRecord(rel, label, name, domain=domain))
    return Manifest(root, CLASSES, tuple(records))


def run_pipeline(encoder, tmp_path: Path):
    train = make_split(tmp_path / "videos", "synthetic", 2, seed=0)
    test = make_split(tmp_path / "videos", "real", 1, seed=1, copy_from=tmp_path / "videos")
    sampler = SamplerConfig(name="tsn", num_frames=encoder.spec.num_frames)
    for man, out in ((train, "train"), (test, "test")):
        rep = extract_features(man, encoder, tmp_path / out, sampler, batch_size=4, workers=0, decode_fn=npy_decode)
        assert rep.total == len(man) and not rep.bad
    fs_train, fs_test = FeatureStore(tmp_path / "train").load(), FeatureStore(tmp_path / "test").load()
    assert fs_train.features.shape == (6, encoder.feature_dim) and np.isfinite(fs_train.features).all()
    # planted: each real video is an exact copy of a synthetic one of its class
    for i, vid in enumerate(fs_test.video_ids):
        j = fs_train.video_ids.index(vid.replace("real/", "synthetic/").replace("_0.npy", "_0.npy"))
        np.testing.assert_allclose(fs_test.features[i], fs_train.features[j], rtol=1e-5, atol=1e-5)
    return evaluate_knn(fs_train, fs_test, k=1, bootstrap=0, allow_overlap=True)  # test videos are copies on purpose


def test_tiny_videomae_extract_to_knn(tmp_path):
    cfg = transformers.VideoMAEConfig(
        image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, use_mean_pooling=True, num_labels=3,
    )
    torch.manual_seed(0)
    transformers.VideoMAEForVideoClassification(cfg).save_pretrained(tmp_path / "ckpt")
    enc = create_encoder("videomae-b16-k400-hf", weights=tmp_path / "ckpt", device="cpu")
    result = run_pipeline(enc, tmp_path)
    assert result.accuracy == 1.0
    identity = FeatureStore(tmp_path / "train").load().meta["settings"]["encoder"]
    assert identity["name"] == "videomae-b16-k400-hf" and identity["pooling"] == "fc_norm"
    assert identity["weights_sha256"] == enc.weights_sha256()
