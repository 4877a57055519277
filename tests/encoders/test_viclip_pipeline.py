"""A tiny ViCLIP checkpoint (official layout) through extract -> store -> k-NN, plus zero-shot scores."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gesturebench.data.sampling import SamplerConfig  # noqa: E402
from gesturebench.encoders import create_encoder  # noqa: E402
from gesturebench.encoders.viclip.model import ViCLIP, ViCLIPConfig  # noqa: E402
from gesturebench.evaluators.knn import evaluate_knn  # noqa: E402
from gesturebench.features.extract import extract_features  # noqa: E402
from gesturebench.features.store import FeatureStore  # noqa: E402
from gesturebench.types import Manifest, VideoRecord  # noqa: E402

CLASSES = ("Advance", "Attention", "Rally")
TINY = dict(
    image_size=32, patch_size=16, num_frames=4, vision_width=32, vision_layers=2, vision_heads=2, embed_dim=16,
    text_width=32, text_layers=2, text_heads=2, context_length=8, vocab_size=519,
)


def npy_decode(path: str, sampler) -> np.ndarray:
    frames = np.load(path)
    return frames[sampler.indices(len(frames))]


def _split(root: Path, domain: str, per_class: int, seed: int) -> Manifest:
    rng = np.random.default_rng(seed)
    records = []
    (root / domain).mkdir(parents=True, exist_ok=True)
    for label, name in enumerate(CLASSES):
        for i in range(per_class):
            rel = f"{domain}/{name}_{i}.npy"
            if domain == "real":  # planted: an exact copy of the first synthetic video of the class
                frames = np.load(root / "synthetic" / f"{name}_0.npy")
            else:
                base = np.zeros((12, 40, 56, 3), np.float32)
                base[..., label] = 180.0
                frames = np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
            np.save(root / rel, frames)
            records.append(VideoRecord(rel, label, name, domain=domain))
    return Manifest(root, CLASSES, tuple(records))


def test_tiny_viclip_extract_to_knn_and_zero_shot(tmp_path):
    torch.manual_seed(0)
    model = ViCLIP(ViCLIPConfig(**TINY))
    torch.save({"model": model.state_dict()}, tmp_path / "viclip.pth")
    merges = ["#version: 0.2", "h e", "l l", "he ll", "hell o</w>", "w o"]
    with gzip.open(tmp_path / "bpe_simple_vocab_16e6.txt.gz", "wt") as f:
        f.write("\n".join(merges) + "\n")
    enc = create_encoder("viclip-b16-internvid10m-flt", weights=tmp_path / "viclip.pth", device="cpu", config=TINY)
    train = _split(tmp_path / "v", "synthetic", 2, seed=0)
    test = _split(tmp_path / "v", "real", 1, seed=1)
    sampler = SamplerConfig(name="tsn", num_frames=4)
    for man, out in ((train, "train"), (test, "test")):
        rep = extract_features(man, enc, tmp_path / out, sampler, batch_size=4, workers=0, decode_fn=npy_decode)
        assert not rep.bad
    fs_train, fs_test = FeatureStore(tmp_path / "train").load(), FeatureStore(tmp_path / "test").load()
    np.testing.assert_allclose(np.linalg.norm(fs_train.features, axis=1), 1.0, rtol=1e-5)  # L2-normalised
    result = evaluate_knn(fs_train, fs_test, k=1, bootstrap=0, allow_overlap=True)  # test videos are copies on purpose
    assert result.accuracy == 1.0
    # zero-shot: text embeddings in the same (unit-norm) space; scores are dot products
    text = enc.encode_text(["hello", "hello world", "world"])
    assert text.shape == (3, 16)
    torch.testing.assert_close(text.norm(dim=-1), torch.ones(3))
    scores = torch.from_numpy(fs_test.features) @ text.T
    assert scores.shape == (3, 3) and bool((scores.abs() <= 1.0 + 1e-5).all())
