"""pixels and the tiny test encoders through create_encoder: shapes, preprocessing, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gesturebench.encoders import create_encoder, get_entry
from gesturebench.encoders.basic.tiny import byte_tokenize, state_dict_sha256
from gesturebench.encoders.preprocess import normalize, resize_crop
from gesturebench.errors import EncoderError, WeightsError

BASIC = ("pixels", "motion", "test-tiny-vit", "test-tiny-clip")


def raw_batch(n: int = 2, seed: int = 0, t: int = 8, h: int = 48, w: int = 64) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, t, h, w, 3), dtype=np.uint8)


def encode_raw(enc, raw: np.ndarray) -> torch.Tensor:
    """The path extraction takes: resize_crop per clip (from the spec), stack, normalize, encode."""
    batch = torch.from_numpy(np.stack([resize_crop(c, enc.spec) for c in raw]))
    return enc.encode(normalize(batch, enc.spec))


@pytest.mark.parametrize("name", BASIC)
def test_create_encoder_output_contract(name):
    entry = get_entry(name)
    enc = create_encoder(name, device="cpu")
    assert enc.name == name and enc.spec == entry.spec and enc.feature_dim == entry.feature_dim
    raw = raw_batch(3, t=entry.spec.num_frames)
    out = encode_raw(enc, raw)
    assert out.shape == (3, entry.feature_dim) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    again = encode_raw(create_encoder(name, device="cpu"), raw)
    torch.testing.assert_close(out, again, rtol=0, atol=0)  # deterministic across instances
    ident = enc.identity()
    assert ident["name"] == name and ident["feature_dim"] == entry.feature_dim


def test_pixels_is_exactly_centred_normalised_intensities():
    enc = create_encoder("pixels", device="cpu")
    raw = raw_batch(2, seed=5)
    small = np.stack([resize_crop(c, enc.spec) for c in raw])  # (2, 8, 16, 16, 3)
    expected = small.transpose(0, 1, 4, 2, 3).reshape(2, -1).astype(np.float64) / 255.0  # T, C, H, W order
    expected -= expected.mean(1, keepdims=True)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    out = enc.encode(normalize(torch.from_numpy(small), enc.spec)).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_pixels_constant_clip_is_zero_not_nan():
    enc = create_encoder("pixels", device="cpu")
    out = enc.encode(normalize(torch.full((1, 8, 16, 16, 3), 77, dtype=torch.uint8), enc.spec))
    assert torch.equal(out, torch.zeros(1, 6144))


def test_pixels_grey_and_size_overrides():
    enc = create_encoder("pixels", device="cpu", grey=True, size=8)
    assert enc.feature_dim == 8 * 8 * 8 and enc.spec.size == 8
    assert encode_raw(enc, raw_batch(1)).shape == (1, 512)


def test_wrong_clip_shape_names_expected_layout():
    enc = create_encoder("pixels", device="cpu")
    with pytest.raises(EncoderError) as info:
        enc.encode(torch.zeros(2, 3, 8, 16, 16))
    assert str(info.value) == "encoder 'pixels' expects clips (B, 8, 3, 16, 16) (TCHW); got (2, 3, 8, 16, 16)"


def test_training_free_encoders_refuse_weights(tmp_path):
    with pytest.raises(WeightsError, match=r"^encoder 'motion' is training-free and takes no weights; got "):
        create_encoder("motion", weights=tmp_path / "w.pt", device="cpu")


def test_tiny_vit_weights_hash_is_stable_and_seed_dependent():
    a = create_encoder("test-tiny-vit", device="cpu")
    b = create_encoder("test-tiny-vit", device="cpu")
    c = create_encoder("test-tiny-vit", device="cpu", seed=1)
    assert a.weights_sha256() == b.weights_sha256() == state_dict_sha256(a.model)
    assert len(a.weights_sha256()) == 64 and c.weights_sha256() != a.weights_sha256()
    # Init draws from a private generator: the global RNG is untouched.
    torch.manual_seed(123)
    x = torch.rand(1)
    torch.manual_seed(123)
    create_encoder("test-tiny-vit", device="cpu")
    assert torch.equal(torch.rand(1), x)


def test_tiny_vit_loads_weight_files(tmp_path):
    from safetensors.torch import save_file

    from gesturebench.fileio import sha256_file

    other = create_encoder("test-tiny-vit", device="cpu", seed=7)
    st, pt = tmp_path / "ft.safetensors", tmp_path / "ft.pt"
    save_file({k: v.contiguous() for k, v in other.model.state_dict().items()}, str(st))
    torch.save(other.model.state_dict(), pt)
    raw = raw_batch(2)
    for path in (st, pt):
        enc = create_encoder("test-tiny-vit", weights=path, device="cpu")
        assert enc.weights_sha256() == sha256_file(path)
        torch.testing.assert_close(encode_raw(enc, raw), encode_raw(other, raw))
    wrapped = tmp_path / "ckpt.pt"
    torch.save({"model": other.model.state_dict(), "epoch": 3}, wrapped)
    torch.testing.assert_close(encode_raw(create_encoder("test-tiny-vit", weights=wrapped, device="cpu"), raw),
                               encode_raw(other, raw))
    bad = tmp_path / "bad.pt"
    torch.save({"patch_embed.weight": torch.zeros(1)}, bad)
    with pytest.raises(WeightsError, match=r"^weights .*bad\.pt do not fit 'test-tiny-vit': "):
        create_encoder("test-tiny-vit", weights=bad, device="cpu")
    with pytest.raises(WeightsError, match=r"^weights file for 'test-tiny-vit' not found: "):
        create_encoder("test-tiny-vit", weights=tmp_path / "missing.pt", device="cpu")


def test_tiny_clip_text_tower():
    enc = create_encoder("test-tiny-clip", device="cpu")
    assert enc.supports_text
    t = enc.encode_text(["Advance", "advance ", "halt", ""])
    assert t.shape == (4, 32) and t.dtype == torch.float32
    torch.testing.assert_close(t[0], t[1])  # tokenizer lower-cases and strips
    assert not torch.allclose(t[0], t[2])
    ids, mask = byte_tokenize(["ab", ""], context=4)
    assert ids.tolist() == [[98, 99, 0, 0], [0, 0, 0, 0]]
    assert mask.tolist() == [[True, True, False, False], [True, False, False, False]]
    vit = create_encoder("test-tiny-vit", device="cpu")
    with pytest.raises(EncoderError, match="has no text tower"):
        vit.encode_text(["x"])


def test_tiny_vit_bf16_precision_runs_on_cpu():
    enc = create_encoder("test-tiny-vit", device="cpu")
    ref = encode_raw(enc, raw_batch(2))
    enc.precision = "bf16"
    out = encode_raw(enc, raw_batch(2))
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, ref, atol=0.1, rtol=0.1)
