"""UMT port: tiny forward passes, official checkpoint layout, strict loading, transformers equivalence."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch.utils.flop_counter import FlopCounterMode

from gesturebench.encoders import create_encoder, get_entry, list_encoders
from gesturebench.encoders.registry import EncoderEntry
from gesturebench.encoders.umt.model import umt_config
from gesturebench.encoders.vit3d import (
    IGNORED_OFFICIAL_KEYS,
    build_model,
    count_params,
    create_video_vit,
    gflops_per_clip,
    official_to_ours,
    to_transformers_videomae,
)
from gesturebench.encoders.weights import compare_state_dicts, interpolate_pos_embed, sinusoid_table
from gesturebench.errors import ConfigError, WeightsError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "checkpoints"
_spec = importlib.util.spec_from_file_location("official_layout", FIXTURES / "official_layout.py")
official_layout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(official_layout)

UMT_PRESETS = [e.name for e in list_encoders("umt-*", include_test=False)]


def test_preset_names_and_specs():
    assert UMT_PRESETS == [
        "umt-b16-k710",
        "umt-b16-k710-ft-k400",
        "umt-b16-k710-ft-k600",
        "umt-b16-k710-ft-k700",
        "umt-b16-k710-ft-k710",
        "umt-l16-k710",
        "umt-l16-k710-ft-k400",
        "umt-l16-k710-ft-k710",
    ]
    e = get_entry("umt-b16-k710-ft-k400")
    s = e.spec
    assert (s.num_frames, s.tubelet, s.size, s.layout, s.crop_ratio) == (8, 1, 224, "CTHW", 1.0)
    assert e.spec.mean == (0.485, 0.456, 0.406) and e.spec.std == (0.229, 0.224, 0.225)
    assert e.source.endswith("/umt/single_modality/b16_ptk710_ftk710_ftk400_f8_res224.pth")
    assert e.weights_file == "b16_ptk710_ftk710_ftk400_f8_res224.pth"
    assert get_entry("umt-b16-k710").kwargs["pooling"] == "norm_mean"


def _full_model(name: str):
    e = get_entry(name)
    with torch.device("meta"):
        return e, build_model(umt_config(e.kwargs["arch"], e.kwargs["pooling"]), seed=None)


@pytest.mark.parametrize("name", UMT_PRESETS)
def test_official_checkpoint_layout_loads_strictly(name):
    e, model = _full_model(name)
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    assert doc["preset"] == name
    official = doc["keys"]
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    remapped = official_to_ours(official)
    report = compare_state_dicts(ours, remapped, ignore=IGNORED_OFFICIAL_KEYS)
    assert report.ok, report.summary()
    assert report.loaded == len(ours)
    if "-ft-" not in name:  # pre-training: only encoder.* is kept; six CLIP decoders dropped, no head
        dropped = [k for k in official if not k.startswith("encoder.")]
        assert len(dropped) == 24 and all(k.startswith("clip_decoder.") for k in dropped)
        assert len(remapped) == len(official) - 24 and report.ignored == []
        assert "norm.weight" in ours and "fc_norm.weight" not in ours
    else:
        classes = int(name.rsplit("-k", 1)[1])
        assert report.ignored == ["head.bias", "head.weight"]
        assert official["head.weight"] == [classes, e.feature_dim]


@pytest.mark.parametrize("name", UMT_PRESETS)
def test_catalog_numbers_match_the_model(name):
    e, model = _full_model(name)
    cfg = model.cfg
    assert e.feature_dim == cfg.embed_dim
    assert e.params_m == round(sum(p.numel() for p in model.parameters()) / 1e6, 2)
    assert e.params_m == round(count_params(cfg) / 1e6, 2)
    assert e.gflops == round(gflops_per_clip(cfg), 2)
    assert cfg.num_tokens == 1568


def test_gflops_formula_matches_flop_counter():
    cfg = replace(umt_config("tiny"), img_size=32, num_frames=3, pos_base_grid=None)
    model = build_model(cfg).eval()
    model.set_attention(use_sdpa=False)  # fused SDPA is invisible to the counter
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(torch.zeros(1, 3, 3, 32, 32))
    # the counter reports 2 FLOPs per multiply-accumulate
    assert fc.get_total_flops() == pytest.approx(2e9 * gflops_per_clip(cfg), rel=1e-9)
    assert gflops_per_clip(umt_config("b16")) == pytest.approx(179.419742208)


def test_tiny_preset_encodes_end_to_end():
    enc = create_encoder("umt-test-tiny", device="cpu")
    assert enc.feature_dim == 32 and enc.spec.num_frames == 2 and enc.spec.tubelet == 1
    clips = torch.randn(3, 3, 2, 16, 16, generator=torch.Generator().manual_seed(0))
    out = enc.encode(clips)
    assert out.shape == (3, 32) and out.dtype == torch.float32 and torch.isfinite(out).all()
    # fc_norm with unit weight / zero bias: every feature vector has mean 0, variance 1
    assert torch.allclose(out.mean(1), torch.zeros(3), atol=1e-5)
    assert torch.allclose(create_encoder("umt-test-tiny", device="cpu").encode(clips), out)
    assert enc.identity()["weights_sha256"] == "random-init-seed0"
    assert enc.identity()["architecture"]["tubelet"] == 1
    bad_shape = r"^clips must be \(B, 3, 2, 16, 16\) laid out CTHW; got \(1, 3, 4, 16, 16\)$"
    with pytest.raises(ConfigError, match=bad_shape):
        enc.encode(torch.zeros(1, 3, 4, 16, 16))


def test_frame_override_interpolates_the_base_table_in_time():
    enc = create_encoder("umt-test-tiny", device="cpu", num_frames=4)
    assert enc.spec.num_frames == 4
    base = sinusoid_table(8, 32)  # tiny grid 2 x 2 x 2
    expected = interpolate_pos_embed(base, (2, 2, 2), (4, 2, 2))
    assert torch.allclose(enc.model.pos_embed, expected)
    assert not torch.allclose(enc.model.pos_embed, sinusoid_table(16, 32))
    assert enc.encode(torch.zeros(1, 3, 4, 16, 16)).shape == (1, 32)


def _tiny_entry() -> EncoderEntry:
    base = get_entry("umt-test-tiny")
    return replace(base, name="umt-tiny-official", test_only=False, weights_file="tiny.pth", kwargs={})


def _official_tensors(pretrain: bool) -> dict[str, torch.Tensor]:
    if pretrain:
        keys = official_layout.umt_pretrain_keys(32, 2, 8, clip_in=32, clip_out=16)
    else:
        keys = official_layout.finetune_keys(32, 2, 8, tubelet=1, num_classes=7)
    g = torch.Generator().manual_seed(3)
    return {k: torch.randn(*v, generator=g) * 0.1 for k, v in keys.items()}


def test_finetune_checkpoint_loads_strictly_with_module_wrapper(tmp_path):
    sd = _official_tensors(pretrain=False)
    f = tmp_path / "ft.pth"
    torch.save({"module": {f"module.{k}": v for k, v in sd.items()}, "epoch": 3}, f)
    enc = create_video_vit(_tiny_entry(), umt_config("tiny"), weights=f)
    import hashlib

    assert enc.weights_sha256() == hashlib.sha256(f.read_bytes()).hexdigest()
    got = enc.model.state_dict()
    assert torch.equal(got["blocks.1.attn.q_bias"], sd["blocks.1.attn.q_bias"])
    assert torch.equal(got["fc_norm.weight"], sd["fc_norm.weight"])
    assert torch.equal(enc.model.pos_embed, sinusoid_table(8, 32))  # fixed table restored after allocation
    x = torch.randn(2, 3, 2, 16, 16)
    tokens = enc.model.forward_tokens(x)
    expected = F.layer_norm(tokens.mean(1), (32,), sd["fc_norm.weight"], sd["fc_norm.bias"], 1e-6)
    assert torch.allclose(enc.encode(x), expected, atol=1e-6)


def test_pretrain_checkpoint_uses_encoder_and_final_norm(tmp_path):
    sd = _official_tensors(pretrain=True)
    f = tmp_path / "pt.safetensors"
    save_file(sd, str(f))
    enc = create_video_vit(_tiny_entry(), umt_config("tiny", "norm_mean"), weights=f)
    assert torch.equal(enc.model.norm.weight, sd["encoder.norm.weight"])
    x = torch.randn(2, 3, 2, 16, 16)
    tokens = enc.model.forward_tokens(x)
    expected = F.layer_norm(tokens, (32,), sd["encoder.norm.weight"], sd["encoder.norm.bias"], 1e-6).mean(1)
    assert torch.allclose(enc.encode(x), expected, atol=1e-6)


def test_wrong_checkpoint_is_refused_with_a_listing(tmp_path):
    sd = _official_tensors(pretrain=False)
    del sd["blocks.1.mlp.fc2.bias"]
    sd["blocks.0.attn.k_bias"] = torch.zeros(32)
    f = tmp_path / "bad.pth"
    torch.save({"model": sd}, f)
    with pytest.raises(WeightsError) as err:
        create_video_vit(_tiny_entry(), umt_config("tiny"), weights=f)
    assert str(err.value) == (
        f"checkpoint {f} does not fit VideoViT: 1 missing (blocks.1.mlp.fc2.bias); 1 unexpected (blocks.0.attn.k_bias)"
    )
    # a pre-training file offered to a fine-tuned preset: fc_norm missing, norm unexpected
    f2 = tmp_path / "pt.pth"
    torch.save({"model": _official_tensors(pretrain=True)}, f2)
    with pytest.raises(WeightsError) as err:
        create_video_vit(_tiny_entry(), umt_config("tiny"), weights=f2)
    assert str(err.value) == (
        f"checkpoint {f2} does not fit VideoViT: 2 missing (fc_norm.bias, fc_norm.weight); "
        "2 unexpected (norm.bias, norm.weight)"
    )


def test_learned_pos_embed_in_checkpoint_replaces_the_table(tmp_path):
    sd = _official_tensors(pretrain=False)
    sd["pos_embed"] = torch.randn(1, 8, 32)
    f = tmp_path / "pe.pth"
    torch.save(sd, f)
    enc = create_video_vit(_tiny_entry(), umt_config("tiny"), weights=f)
    assert torch.equal(enc.model.pos_embed, sd["pos_embed"][0])
    # a table learned for 4 frames (4 x 2 x 2) is resized in time to the model's 2 frames
    sd["pos_embed"] = torch.randn(1, 16, 32)
    torch.save(sd, f)
    enc = create_video_vit(_tiny_entry(), umt_config("tiny"), weights=f)
    expected = interpolate_pos_embed(sd["pos_embed"][0], (4, 2, 2), (2, 2, 2))
    assert torch.allclose(enc.model.pos_embed, expected)
    sd["pos_embed"] = torch.randn(1, 6, 32)
    torch.save(sd, f)
    with pytest.raises(WeightsError, match=r"pos_embed has 6 tokens, neither T x 2 x 2 nor 2 x S x S; refusing"):
        create_video_vit(_tiny_entry(), umt_config("tiny"), weights=f)


def test_missing_weights_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path))
    with pytest.raises(WeightsError) as err:
        create_encoder("umt-b16-k710-ft-k710", device="cpu")
    assert str(err.value) == (
        "weights for umt-b16-k710-ft-k710 not found; download "
        "https://pjlab-gvm-data.oss-cn-shanghai.aliyuncs.com/umt/single_modality/b16_ptk710_ftk710_f8_res224.pth "
        "and pass --weights PATH (or put it in $GESTUREBENCH_WEIGHTS/b16_ptk710_ftk710_f8_res224.pth)"
    )


@pytest.mark.parametrize("pooling", ["fc_norm", "norm_mean"])
def test_matches_transformers_videomae_with_tubelet_1(pooling):
    """UMT = VideoMAE encoder with tubelet 1: same weights, same outputs (transformers' implementation)."""
    cfg = replace(umt_config("tiny", pooling), img_size=32, num_frames=4)
    cfg = replace(cfg, pos_base_grid=cfg.grid)
    model = build_model(cfg, seed=1, init="randn").eval()
    hf = to_transformers_videomae(model)
    x = torch.randn(2, 3, 4, 32, 32, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ours = model(x)
        tokens = hf(pixel_values=x.permute(0, 2, 1, 3, 4)).last_hidden_state
    if pooling == "fc_norm":
        ref = F.layer_norm(tokens.mean(1), (cfg.embed_dim,), model.fc_norm.weight, model.fc_norm.bias, 1e-6)
    else:
        ref = tokens.mean(1)
    assert ours.abs().max() > 0.5  # not a trivial output
    assert torch.allclose(ours, ref, atol=1e-5, rtol=0)


def test_pretrain_load_logs_the_dropped_decoder_keys(tmp_path, caplog):
    import logging

    from gesturebench.encoders.vit3d import load_official

    sd = _official_tensors(pretrain=True)
    clip_keys = sorted(k for k in sd if k.startswith("clip_decoder."))
    assert clip_keys  # the hand-made pre-training file carries CLIP distillation heads
    f = tmp_path / "pt.pth"
    torch.save({"model": sd}, f)
    with torch.device("meta"):
        model = build_model(umt_config("tiny", "norm_mean"), seed=None)
    model = model.to_empty(device="cpu")
    report, _ = load_official(model, f)
    assert report.dropped == sorted(k for k in sd if not k.startswith("encoder."))
    assert set(clip_keys) <= set(report.dropped)
    assert f"tensors of the file not used: clip_decoder.* ({len(clip_keys)})" in report.summary()
    with caplog.at_level(logging.INFO, logger="gesturebench.encoders.vit3d"):
        create_video_vit(_tiny_entry(), umt_config("tiny", "norm_mean"), weights=f)
    assert "clip_decoder.*" in caplog.text and "tensors of the file not used" in caplog.text
