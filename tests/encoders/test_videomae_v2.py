"""VideoMAE (V2 and UnlabeledHybrid) port: tiny passes, official layout fixtures, transformers equivalence."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from gesturebench.encoders import create_encoder, get_entry, list_encoders
from gesturebench.encoders.videomae_v2.model import videomae_config
from gesturebench.encoders.vit3d import (
    IGNORED_OFFICIAL_KEYS,
    build_model,
    count_params,
    create_video_vit,
    gflops_per_clip,
    official_to_ours,
    to_transformers_videomae,
)
from gesturebench.encoders.weights import compare_state_dicts, sinusoid_table
from gesturebench.errors import ConfigError, WeightsError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "checkpoints"
_spec = importlib.util.spec_from_file_location("official_layout", FIXTURES / "official_layout.py")
official_layout = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(official_layout)

PRESETS = [e.name for e in list_encoders("videomae*", include_test=False) if e.family == "videomae_v2"]


def test_preset_names_and_specs():
    assert PRESETS == [
        "videomae-b16-hybrid-k400",
        "videomae-b16-hybrid-k710",
        "videomae-b16-hybrid-ssv2",
        "videomae-l16-hybrid-k400",
        "videomae-l16-hybrid-k700",
        "videomae-l16-hybrid-ssv2",
        "videomaev2-b16-k710-distill",
        "videomaev2-s16-k710-distill",
    ]
    e = get_entry("videomae-l16-hybrid-ssv2")
    s = e.spec
    assert (s.num_frames, s.tubelet, s.size, s.layout, s.crop_ratio) == (16, 2, 224, "CTHW", 1.0)
    assert e.spec.mean == (0.485, 0.456, 0.406) and e.spec.std == (0.229, 0.224, 0.225)
    assert e.source == (
        "https://pjlab-gvm-data.oss-cn-shanghai.aliyuncs.com/internvideo/pretrain/videomae/vit_l_hybrid_pt_800e_ssv2_ft.pth"
    )
    assert get_entry("videomaev2-b16-k710-distill").source == (
        "https://huggingface.co/OpenGVLab/VideoMAE2/resolve/main/distill/vit_b_k710_dl_from_giant.pth"
    )


def _full_model(name: str):
    e = get_entry(name)
    with torch.device("meta"):
        return e, build_model(videomae_config(e.kwargs["arch"]), seed=None)


@pytest.mark.parametrize("name", PRESETS)
def test_official_checkpoint_layout_loads_strictly(name):
    e, model = _full_model(name)
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    assert doc["preset"] == name
    official = doc["keys"]
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert official_to_ours(official) == official  # fine-tuned checkpoints need no renaming
    report = compare_state_dicts(ours, official, ignore=IGNORED_OFFICIAL_KEYS)
    assert report.ok, report.summary()
    assert report.loaded == len(ours) == len(official) - 2
    assert report.ignored == ["head.bias", "head.weight"]
    assert official["patch_embed.proj.weight"] == [e.feature_dim, 3, 2, 16, 16]


@pytest.mark.parametrize("name", PRESETS)
def test_catalog_numbers_match_the_model(name):
    e, model = _full_model(name)
    assert e.feature_dim == model.cfg.embed_dim
    assert e.params_m == round(sum(p.numel() for p in model.parameters()) / 1e6, 2)
    assert e.params_m == round(count_params(model.cfg) / 1e6, 2)
    assert e.gflops == round(gflops_per_clip(model.cfg), 2)
    assert model.cfg.num_tokens == 1568


def test_tiny_preset_encodes_end_to_end():
    enc = create_encoder("videomae-test-tiny", device="cpu")
    assert enc.feature_dim == 32 and enc.spec.num_frames == 4 and enc.spec.tubelet == 2
    clips = torch.randn(2, 3, 4, 16, 16, generator=torch.Generator().manual_seed(0))
    out = enc.encode(clips)
    assert out.shape == (2, 32) and out.dtype == torch.float32
    assert torch.allclose(out.var(1, unbiased=False), torch.ones(2), atol=1e-3)  # fc_norm output
    assert torch.equal(enc.model.pos_embed, sinusoid_table(8, 32))  # 2 x 2 x 2 tokens
    # the tubelet mixes frame pairs: swapping frames 0 and 1 changes the first tubelet's token
    swapped = clips[:, :, [1, 0, 2, 3]]
    assert not torch.allclose(enc.encode(swapped), out)


def test_frame_override_regenerates_the_table():
    enc = create_encoder("videomae-test-tiny", device="cpu", num_frames=8)
    assert enc.spec.num_frames == 8 and enc.spec.tubelet == 2
    assert torch.equal(enc.model.pos_embed, sinusoid_table(16, 32))
    with pytest.raises(ConfigError, match=r"^num_frames \(5\) must be a multiple of tubelet \(2\)$"):
        create_encoder("videomae-test-tiny", device="cpu", num_frames=5)


def test_unknown_option_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        create_encoder("videomae-test-tiny", device="cpu", img_size=32)
    assert str(err.value) == (
        "encoder 'videomae-test-tiny' got unknown option(s) img_size; allowed: num_frames, random_init, seed"
    )


def test_official_file_loads_and_records_sha(tmp_path):
    keys = official_layout.finetune_keys(32, 2, 8, tubelet=2, num_classes=174)
    g = torch.Generator().manual_seed(1)
    sd = {k: torch.randn(*v, generator=g) * 0.1 for k, v in keys.items()}
    f = tmp_path / "vit_tiny_ssv2_ft.pth"
    torch.save({"module": sd}, f)
    entry = replace(get_entry("videomae-test-tiny"), name="videomae-tiny-official", test_only=False, kwargs={})
    enc = create_video_vit(entry, videomae_config("tiny"), weights=f)
    assert enc.weights_sha256() == hashlib.sha256(f.read_bytes()).hexdigest()
    assert torch.equal(enc.model.blocks[0].attn.qkv.weight, sd["blocks.0.attn.qkv.weight"])
    assert torch.equal(enc.model.pos_embed, sinusoid_table(8, 32))
    x = torch.randn(1, 3, 4, 16, 16)
    expected = F.layer_norm(enc.model.forward_tokens(x).mean(1), (32,), sd["fc_norm.weight"], sd["fc_norm.bias"], 1e-6)
    assert torch.allclose(enc.encode(x), expected, atol=1e-6)


def test_missing_weights_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path))
    with pytest.raises(WeightsError) as err:
        create_encoder("videomae-b16-hybrid-ssv2", device="cpu")
    assert str(err.value) == (
        "weights for videomae-b16-hybrid-ssv2 not found; download "
        "https://pjlab-gvm-data.oss-cn-shanghai.aliyuncs.com/internvideo/pretrain/videomae/"
        "vit_b_hybrid_pt_800e_ssv2_ft.pth "
        "and pass --weights PATH (or put it in $GESTUREBENCH_WEIGHTS/vit_b_hybrid_pt_800e_ssv2_ft.pth)"
    )
    with pytest.raises(WeightsError, match=r"^weights for videomae-b16-hybrid-ssv2: .*nope.pth does not exist"):
        create_encoder("videomae-b16-hybrid-ssv2", weights=tmp_path / "nope.pth", device="cpu")


def test_matches_transformers_videomae_model():
    """Same weights in transformers' VideoMAEModel (use_mean_pooling) give the same features."""
    cfg = replace(videomae_config("tiny"), img_size=32, num_frames=6)
    model = build_model(cfg, seed=2, init="randn").eval()
    hf = to_transformers_videomae(model)
    assert hf.config.tubelet_size == 2 and hf.config.use_mean_pooling
    x = torch.randn(3, 3, 6, 32, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        ours_tokens = model.forward_tokens(x)
        ours = model(x)
        tokens = hf(pixel_values=x.permute(0, 2, 1, 3, 4)).last_hidden_state
    assert tokens.shape == (3, 3 * 4 * 4, 32)
    assert torch.allclose(ours_tokens, tokens, atol=1e-5, rtol=0)
    ref = F.layer_norm(tokens.mean(1), (32,), model.fc_norm.weight, model.fc_norm.bias, 1e-6)
    assert ours.abs().max() > 0.5
    assert torch.allclose(ours, ref, atol=1e-5, rtol=0)
