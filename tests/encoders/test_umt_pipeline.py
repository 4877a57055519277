"""Tiny UMT and VideoMAE ports through the whole path: decode -> extract -> store -> k-NN."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import torch

from gesturebench.data.sampling import SamplerConfig
from gesturebench.encoders import create_encoder
from gesturebench.evaluators.knn import evaluate_knn
from gesturebench.features.extract import extract_features
from gesturebench.features.store import FeatureStore
from gesturebench.types import Manifest, VideoRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "checkpoints"
_spec = importlib.util.spec_from_file_location("official_layout", FIXTURES / "official_layout.py")
official_layout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(official_layout)

CLASSES = ("Advance", "Attention", "Rally")


def npy_decode(path: str, sampler) -> np.ndarray:
    frames = np.load(path)
    return frames[sampler.indices(len(frames))]


def make_split(root: Path, domain: str, seed: int, copy_of: int | None = None) -> Manifest:
    """Two 16-frame 48x64 videos per class; ``copy_of`` makes each video a copy of training video ``copy_of``."""
    rng = np.random.default_rng(seed)
    (root / domain).mkdir(parents=True, exist_ok=True)
    records = []
    for label, name in enumerate(CLASSES):
        for i in range(2):
            rel = f"{domain}/{name}_{i}.npy"
            if copy_of is not None:
                frames = np.load(root / "synthetic" / f"{name}_{copy_of}.npy")
            else:
                base = np.zeros((16, 48, 64, 3), np.float32)
                base[..., label] = 180.0
                base[:, :, : 10 * (label + 1)] += 60.0
                frames = np.clip(base + rng.normal(0, 15, base.shape), 0, 255).astype(np.uint8)
            np.save(root / rel, frames)
            records.append(VideoRecord(rel, label, name, domain=domain))
    return Manifest(root, CLASSES, tuple(records))


def tiny_official_file(path: Path, tubelet: int) -> Path:
    keys = official_layout.finetune_keys(32, 2, 8, tubelet=tubelet, num_classes=3)
    g = torch.Generator().manual_seed(11)
    torch.save({"model": {k: torch.randn(*v, generator=g) * 0.2 for k, v in keys.items()}}, path)
    return path


def run(name: str, tubelet: int, tmp_path: Path) -> None:
    weights = tiny_official_file(tmp_path / "tiny.pth", tubelet)
    enc = create_encoder(name, weights=weights, device="cpu")
    train = make_split(tmp_path / "videos", "synthetic", seed=0)
    test = make_split(tmp_path / "videos", "real", seed=1, copy_of=1)
    sampler = SamplerConfig(name="tsn", num_frames=enc.spec.num_frames)
    for man, out in ((train, "train"), (test, "test")):
        rep = extract_features(man, enc, tmp_path / out, sampler, batch_size=4, workers=0, decode_fn=npy_decode)
        assert rep.total == 6 and not rep.bad
    fs_train, fs_test = FeatureStore(tmp_path / "train").load(), FeatureStore(tmp_path / "test").load()
    assert fs_train.features.shape == (6, 32) and np.isfinite(fs_train.features).all()
    result = evaluate_knn(fs_train, fs_test, k=1, bootstrap=0, allow_overlap=True)  # test videos are copies on purpose
    assert result.accuracy == 1.0  # every real video is an exact copy of a synthetic one of its class
    identity = fs_train.meta["settings"]["encoder"]
    assert identity["name"] == name
    assert identity["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()


def test_umt_tiny_extract_to_knn(tmp_path):
    run("umt-test-tiny", 1, tmp_path)
