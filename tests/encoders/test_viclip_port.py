"""ViCLIP port: checkpoint key fixture, strict loading, and two independent functional checks.

1. ``OfficialViCLIP`` below mirrors the published architecture (OpenGVLab/InternVideo,
   Data/InternVid/viclip) with plain ``torch.nn`` parts: ``nn.MultiheadAttention`` in
   sequence-first layout, the official space-major token order, the official CLS handling
   and an additive causal mask. Its state dict defines the committed fixtures
   ``tests/fixtures/checkpoints/viclip-{b16,l14}.json`` (regenerate with
   ``python tests/encoders/test_viclip_port.py``) and its outputs are the reference for
   multi-frame clips.
2. With one frame and a zero temporal embedding our vision tower must equal
   ``transformers.CLIPVisionModelWithProjection`` and our text tower
   ``CLIPTextModelWithProjection`` after converting the weights.
"""

from __future__ import annotations

import gzip
import json
from collections import OrderedDict
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from gesturebench.encoders import create_encoder, get_entry  # noqa: E402
from gesturebench.encoders.viclip.model import VICLIP_B16, VICLIP_L14, ViCLIP, ViCLIPConfig  # noqa: E402
from gesturebench.encoders.viclip.tokenizer import bytes_to_unicode, vocab_from_bpe  # noqa: E402
from gesturebench.encoders.weights import compare_state_dicts  # noqa: E402
from gesturebench.errors import WeightsError  # noqa: E402
from gesturebench.fileio import sha256_file  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "checkpoints"
PRESET = "viclip-b16-internvid10m-flt"
MERGES = [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o</w>"), ("w", "o")]
TINY = dict(
    image_size=32, patch_size=16, num_frames=4, vision_width=32, vision_layers=2, vision_heads=2, embed_dim=16,
    text_width=32, text_layers=2, text_heads=2, context_length=8, vocab_size=512 + len(MERGES) + 2,
)
TOL = 1e-5


# --------------------------------------------------------------------------- official mirror


class _QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class _Block(nn.Module):
    def __init__(self, d: int, h: int, dropouts: bool):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, h)
        self.ln_1 = nn.LayerNorm(d)
        parts = [("c_fc", nn.Linear(d, 4 * d)), ("gelu", _QuickGELU())]
        parts += [("drop1", nn.Dropout(0.0))] if dropouts else []
        parts += [("c_proj", nn.Linear(4 * d, d))]
        parts += [("drop2", nn.Dropout(0.0))] if dropouts else []
        self.mlp = nn.Sequential(OrderedDict(parts))
        self.ln_2 = nn.LayerNorm(d)

    def forward(self, x, mask=None):  # x: (L, B, D), sequence first like the official code
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class _Resblocks(nn.Module):
    def __init__(self, d, layers, h, dropouts):
        super().__init__()
        self.resblocks = nn.ModuleList(_Block(d, h, dropouts) for _ in range(layers))


class OfficialVision(nn.Module):
    def __init__(self, c: ViCLIPConfig):
        super().__init__()
        w, p = c.vision_width, c.patch_size
        self.conv1 = nn.Conv3d(3, w, (1, p, p), (1, p, p), (0, 0, 0), bias=False)
        self.class_embedding = nn.Parameter(torch.randn(w) * w**-0.5)
        self.positional_embedding = nn.Parameter(torch.randn((c.image_size // p) ** 2 + 1, w) * w**-0.5)
        self.ln_pre = nn.LayerNorm(w)
        self.temporal_positional_embedding = nn.Parameter(torch.randn(1, c.num_frames, w) * 0.1)
        self.transformer = _Resblocks(w, c.vision_layers, c.vision_heads, dropouts=True)
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(torch.randn(w, c.embed_dim) * w**-0.5)

    def forward(self, video):  # video: (B, T, C, H, W) as official encode_vision receives it
        x = self.conv1(video.permute(0, 2, 1, 3, 4))  # (B, D, T, g, g)
        b, d, t, gh, gw = x.shape
        x = x.permute(0, 2, 3, 4, 1).reshape(b * t, gh * gw, d)
        cls = self.class_embedding + torch.zeros(b * t, 1, d)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        cls_tokens = x[:b, :1]
        x = x[:, 1:]
        n = x.shape[1]
        x = x.reshape(b, t, n, d).permute(0, 2, 1, 3).reshape(b * n, t, d)  # (b t) n m -> (b n) t m
        x = x + (self.temporal_positional_embedding.mean(1) if t == 1 else self.temporal_positional_embedding)
        x = x.reshape(b, n * t, d)  # (b n) t m -> b (n t) m: space-major order
        x = self.ln_pre(torch.cat([cls_tokens, x], dim=1)).permute(1, 0, 2)
        for blk in self.transformer.resblocks:
            x = blk(x)
        return self.ln_post(x)[0] @ self.proj


class OfficialText(nn.Module):
    def __init__(self, c: ViCLIPConfig):
        super().__init__()
        self.transformer = _Resblocks(c.text_width, c.text_layers, c.text_heads, dropouts=False)
        self.token_embedding = nn.Embedding(c.vocab_size, c.text_width)
        self.positional_embedding = nn.Parameter(torch.randn(c.context_length, c.text_width) * 0.01)
        self.ln_final = nn.LayerNorm(c.text_width)
        self.text_projection = nn.Parameter(torch.randn(c.text_width, c.embed_dim) * c.text_width**-0.5)
        self.context_length = c.context_length

    def forward(self, ids):  # ids: (N, context_length)
        mask = torch.full((self.context_length, self.context_length), float("-inf")).triu_(1)
        x = (self.token_embedding(ids) + self.positional_embedding).permute(1, 0, 2)
        for blk in self.transformer.resblocks:
            x = blk(x, mask)
        x = self.ln_final(x.permute(1, 0, 2))
        return x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ self.text_projection


class OfficialViCLIP(nn.Module):
    def __init__(self, c: ViCLIPConfig):
        super().__init__()
        self.vision_encoder = OfficialVision(c)
        self.text_encoder = OfficialText(c)
        self.temp = nn.Parameter(torch.ones([]) / 100.0)


def official_shapes(c: ViCLIPConfig) -> dict[str, list[int]]:
    with torch.device("meta"):
        m = OfficialViCLIP(c)
    return {k: list(v.shape) for k, v in m.state_dict().items()}


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _official_tiny(seed: int = 0) -> OfficialViCLIP:
    torch.manual_seed(seed)
    m = OfficialViCLIP(ViCLIPConfig(**TINY)).eval()
    with torch.no_grad():  # non-trivial norms and biases
        for name, p in m.named_parameters():
            if name.endswith("bias") or ".ln" in name or "ln_" in name:
                p.add_(0.1 * torch.randn_like(p))
    return m


def _save_official(m: nn.Module, path: Path) -> Path:
    torch.save({"model": m.state_dict(), "epoch": 9}, path)
    return path


# --------------------------------------------------------------------------- key fixtures


@pytest.mark.parametrize("name,cfg", [("viclip-b16", VICLIP_B16), ("viclip-l14", VICLIP_L14)])
def test_fixture_is_the_official_architecture(name, cfg):
    fx = _fixture(name)
    assert fx["keys"] == official_shapes(cfg)
    assert fx["wrapper"] == "model"


@pytest.mark.parametrize("name,cfg", [("viclip-b16", VICLIP_B16), ("viclip-l14", VICLIP_L14)])
def test_our_model_matches_checkpoint_keys_and_shapes(name, cfg):
    fx = _fixture(name)
    with torch.device("meta"):
        ours = ViCLIP(cfg)
    report = compare_state_dicts({k: tuple(v.shape) for k, v in ours.state_dict().items()}, fx["keys"])
    assert report.ok, report.summary()
    assert report.loaded == len(fx["keys"])
    n_params = sum(p.numel() for p in ours.parameters())
    assert round(n_params / 1e6, 1) == get_entry(f"{name}-internvid10m-flt").params_m
    assert fx["keys"]["text_encoder.positional_embedding"][0] == 32  # context length 32


# --------------------------------------------------------------------------- loading + function


def test_official_checkpoint_loads_strictly_and_matches_official_forward(tmp_path):
    ref = _official_tiny(1)
    path = _save_official(ref, tmp_path / "ViCLIP-B_InternVid-FLT-10M.pth")
    enc = create_encoder(PRESET, weights=path, device="cpu", config=TINY, normalize=False)
    assert enc.weights_sha256() == sha256_file(path)
    assert (enc.spec.num_frames, enc.spec.size, enc.spec.layout, enc.feature_dim) == (4, 32, "TCHW", 16)
    g = torch.Generator().manual_seed(0)
    clips = torch.randn(3, 4, 3, 32, 32, generator=g)
    with torch.no_grad():
        expected = ref.vision_encoder(clips)
    torch.testing.assert_close(enc.encode(clips), expected, atol=TOL, rtol=TOL)
    # default: L2-normalised like the official get_vid_features
    enc_n = create_encoder(PRESET, weights=path, device="cpu", config=TINY)
    torch.testing.assert_close(enc_n.encode(clips), torch.nn.functional.normalize(expected, dim=-1), atol=TOL, rtol=TOL)
    ids = torch.zeros(2, 8, dtype=torch.long)
    ids[0, :4] = torch.tensor([517, 515, 516, 518])
    ids[1, :3] = torch.tensor([517, 3, 518])
    with torch.no_grad():
        expected_t = ref.text_encoder(ids)
    torch.testing.assert_close(enc.encode_token_ids(ids), expected_t, atol=TOL, rtol=TOL)


def test_single_frame_uses_mean_temporal_embedding(tmp_path):
    ref = _official_tiny(2)
    path = _save_official(ref, tmp_path / "w.pth")
    enc = create_encoder(PRESET, weights=path, device="cpu", config=TINY, normalize=False)
    x = torch.randn(2, 1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(enc.encode(x), ref.vision_encoder(x), atol=TOL, rtol=TOL)


def _hf_vision_state(sd: dict, layers: int) -> dict:
    v = {k[len("vision_encoder.") :]: t for k, t in sd.items() if k.startswith("vision_encoder.")}
    out = {
        "vision_model.embeddings.class_embedding": v["class_embedding"],
        "vision_model.embeddings.patch_embedding.weight": v["conv1.weight"][:, :, 0],
        "vision_model.embeddings.position_embedding.weight": v["positional_embedding"],
        "vision_model.pre_layrnorm.weight": v["ln_pre.weight"],
        "vision_model.pre_layrnorm.bias": v["ln_pre.bias"],
        "vision_model.post_layernorm.weight": v["ln_post.weight"],
        "vision_model.post_layernorm.bias": v["ln_post.bias"],
        "visual_projection.weight": v["proj"].T,
    }
    out.update(_hf_layers(v, "vision_model.encoder.layers", layers))
    return out


def _hf_layers(v: dict, prefix: str, layers: int) -> dict:
    out = {}
    for i in range(layers):
        src, dst = f"transformer.resblocks.{i}", f"{prefix}.{i}"
        q, k, vv = v[f"{src}.attn.in_proj_weight"].chunk(3)
        qb, kb, vb = v[f"{src}.attn.in_proj_bias"].chunk(3)
        out.update({
            f"{dst}.self_attn.q_proj.weight": q, f"{dst}.self_attn.q_proj.bias": qb,
            f"{dst}.self_attn.k_proj.weight": k, f"{dst}.self_attn.k_proj.bias": kb,
            f"{dst}.self_attn.v_proj.weight": vv, f"{dst}.self_attn.v_proj.bias": vb,
            f"{dst}.self_attn.out_proj.weight": v[f"{src}.attn.out_proj.weight"],
            f"{dst}.self_attn.out_proj.bias": v[f"{src}.attn.out_proj.bias"],
            f"{dst}.layer_norm1.weight": v[f"{src}.ln_1.weight"], f"{dst}.layer_norm1.bias": v[f"{src}.ln_1.bias"],
            f"{dst}.layer_norm2.weight": v[f"{src}.ln_2.weight"], f"{dst}.layer_norm2.bias": v[f"{src}.ln_2.bias"],
            f"{dst}.mlp.fc1.weight": v[f"{src}.mlp.c_fc.weight"], f"{dst}.mlp.fc1.bias": v[f"{src}.mlp.c_fc.bias"],
            f"{dst}.mlp.fc2.weight": v[f"{src}.mlp.c_proj.weight"], f"{dst}.mlp.fc2.bias": v[f"{src}.mlp.c_proj.bias"],
        })
    return out


def test_vision_tower_equals_transformers_clip_for_one_frame_without_temporal_embedding(tmp_path):
    transformers = pytest.importorskip("transformers")
    ref = _official_tiny(3)
    with torch.no_grad():
        ref.vision_encoder.temporal_positional_embedding.zero_()
    path = _save_official(ref, tmp_path / "w.pth")
    enc = create_encoder(PRESET, weights=path, device="cpu", config=TINY, normalize=False)
    cfg = transformers.CLIPVisionConfig(
        hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        patch_size=16, projection_dim=16, hidden_act="quick_gelu", layer_norm_eps=1e-5,
    )
    hf = transformers.CLIPVisionModelWithProjection(cfg).eval()
    hf.load_state_dict(_hf_vision_state(enc.model.state_dict(), 2), strict=True)
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        expected = hf(pixel_values=images).image_embeds
    torch.testing.assert_close(enc.encode(images.unsqueeze(1)), expected, atol=TOL, rtol=TOL)


def test_text_tower_equals_transformers_clip_text(tmp_path):
    transformers = pytest.importorskip("transformers")
    path = _save_official(_official_tiny(4), tmp_path / "w.pth")
    enc = create_encoder(PRESET, weights=path, device="cpu", config=TINY, normalize=False)
    t = {k[len("text_encoder.") :]: v for k, v in enc.model.state_dict().items() if k.startswith("text_encoder.")}
    sd = {
        "text_model.embeddings.token_embedding.weight": t["token_embedding.weight"],
        "text_model.embeddings.position_embedding.weight": t["positional_embedding"],
        "text_model.final_layer_norm.weight": t["ln_final.weight"],
        "text_model.final_layer_norm.bias": t["ln_final.bias"],
        "text_projection.weight": t["text_projection"].T,
    }
    sd.update(_hf_layers(t, "text_model.encoder.layers", 2))
    cfg = transformers.CLIPTextConfig(
        vocab_size=TINY["vocab_size"], hidden_size=32, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=8, projection_dim=16, hidden_act="quick_gelu",
        layer_norm_eps=1e-5, eos_token_id=TINY["vocab_size"] - 1, bos_token_id=TINY["vocab_size"] - 2, pad_token_id=0,
    )
    hf = transformers.CLIPTextModelWithProjection(cfg).eval()
    missing, unexpected = hf.load_state_dict(sd, strict=False)
    assert not unexpected and all("position_ids" in k for k in missing)
    ids = torch.zeros(3, 8, dtype=torch.long)
    ids[0, :5] = torch.tensor([517, 515, 516, 40, 518])
    ids[1, :2] = torch.tensor([517, 518])
    ids[2, :] = torch.tensor([517, 1, 2, 3, 4, 5, 6, 518])
    with torch.no_grad():
        expected = hf(input_ids=ids).text_embeds
    torch.testing.assert_close(enc.encode_token_ids(ids), expected, atol=TOL, rtol=TOL)


# --------------------------------------------------------------------------- tokenizer


def _write_bpe(path: Path) -> Path:
    lines = ["\"bpe_simple_vocab_16e6.txt#version: 0.2"] + [" ".join(m) for m in MERGES]
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def test_bpe_vocabulary_layout_matches_clip():
    vocab, merges = vocab_from_bpe(["header", "h e", "he llo</w>"])
    symbols = list(bytes_to_unicode().values())
    assert len(vocab) == 512 + 2 + 2 and merges == [("h", "e"), ("he", "llo</w>")]
    assert vocab["!"] == 0 and vocab[symbols[255] + "</w>"] == 511
    assert vocab["he"] == 512 and vocab["hello</w>"] == 513
    assert vocab["<|startoftext|>"] == 514 and vocab["<|endoftext|>"] == 515
    assert bytes_to_unicode()[32] == "Ġ" and bytes_to_unicode()[ord("a")] == "a"
    assert vocab[chr(256)] == 188  # byte 0 follows the 188 printable bytes, as in CLIP's table
    # the real file: 48894 merges -> 49408 tokens
    big = ["h"] + [f"a{i} b{i}" for i in range(50000)]
    assert len(vocab_from_bpe(big)[0]) == 49408


def test_encode_text_with_official_bpe_file(tmp_path):
    ref = _official_tiny(5)
    path = _save_official(ref, tmp_path / "w.pth")
    _write_bpe(tmp_path / "bpe_simple_vocab_16e6.txt.gz")  # found beside the weights
    enc = create_encoder(PRESET, weights=path, device="cpu", config=TINY)
    expected_ids = torch.zeros(3, 8, dtype=torch.long)
    # printable bytes come first in CLIP's symbol order: "r" -> ord("r") - 33; "d</w>" -> 256 + ord("d") - 33
    expected_ids[0, :7] = torch.tensor([517, 515, 516, ord("r") - 33, ord("l") - 33, 256 + ord("d") - 33, 518])
    expected_ids[1, :3] = torch.tensor([517, 515, 518])
    # 9 tokens + sot/eot -> cut to 8 with eot last
    expected_ids[2, :] = torch.tensor([517] + [515] * 6 + [518])
    from gesturebench.encoders.viclip.tokenizer import tokenize

    got = tokenize(enc.tokenizer(), ["Hello  World", "hello", "hello " * 9], 8)
    assert got.tolist() == expected_ids.tolist()
    with torch.no_grad():
        ref_t = torch.nn.functional.normalize(ref.text_encoder(expected_ids), dim=-1)
    torch.testing.assert_close(enc.encode_text(["Hello  World", "hello", "hello " * 9]), ref_t, atol=TOL, rtol=TOL)


def test_missing_tokenizer_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path / "shared"))
    (tmp_path / "ckpt").mkdir()
    path = _save_official(_official_tiny(6), tmp_path / "ckpt" / "w.pth")
    enc = create_encoder(PRESET, weights=path, device="cpu", config=TINY)
    with pytest.raises(WeightsError) as err:
        enc.encode_text(["hello"])
    assert str(err.value) == (
        f"{PRESET}: no CLIP BPE vocabulary found; download bpe_simple_vocab_16e6.txt.gz "
        "(https://huggingface.co/OpenGVLab/ViCLIP-B-16-hf or https://github.com/openai/CLIP) and put it beside "
        "the weights or in $GESTUREBENCH_WEIGHTS, or pass tokenizer=PATH (the file, or a Hugging Face CLIP "
        "tokenizer folder)"
    )
    # the shared weights folder is the fallback
    (tmp_path / "shared").mkdir()
    _write_bpe(tmp_path / "shared" / "bpe_simple_vocab_16e6.txt.gz")
    enc_shared = create_encoder(PRESET, weights=path, device="cpu", config=TINY)
    assert enc_shared.encode_text(["hello"]).shape == (1, 16)
    enc2 = create_encoder(PRESET, weights=path, device="cpu", config=TINY, tokenizer=tmp_path / "nope.txt.gz")
    with pytest.raises(WeightsError, match=r"no CLIP BPE vocabulary at .*nope\.txt\.gz; download"):
        enc2.encode_text(["hello"])


# --------------------------------------------------------------------------- weights edge cases


def test_missing_weights_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path / "none"))
    with pytest.raises(WeightsError) as err:
        create_encoder(PRESET, device="cpu")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"weights for {PRESET} not found; download https://huggingface.co/OpenGVLab/ViCLIP-B-16-hf")
    assert msg.endswith("and pass --weights PATH (or put it in $GESTUREBENCH_WEIGHTS/ViCLIP-B_InternVid-FLT-10M.pth)")


def test_safetensors_and_hf_export_prefix(tmp_path):
    from safetensors.torch import save_file

    ref = _official_tiny(7)
    sd = {f"model.{k}": v.contiguous() for k, v in ref.state_dict().items() if k != "temp"}  # some exports drop temp
    save_file(sd, str(tmp_path / "model.safetensors"))
    enc = create_encoder(PRESET, weights=tmp_path, device="cpu", config=TINY, normalize=False)
    assert enc.weights_sha256() == sha256_file(tmp_path / "model.safetensors")
    x = torch.randn(1, 4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(enc.encode(x), ref.vision_encoder(x), atol=TOL, rtol=TOL)


def test_num_frames_follows_official_temporal_rule(tmp_path):
    ref = _official_tiny(8)
    path = _save_official(ref, tmp_path / "w.pth")
    te = ref.vision_encoder.temporal_positional_embedding.detach()
    enc2 = create_encoder(PRESET, weights=path, device="cpu", config=TINY, num_frames=2)
    assert enc2.spec.num_frames == 2
    torch.testing.assert_close(enc2.model.vision_encoder.temporal_positional_embedding.detach(), te[:, :2])
    enc7 = create_encoder(PRESET, weights=path, device="cpu", config=TINY, num_frames=7)
    got = enc7.model.vision_encoder.temporal_positional_embedding.detach()
    # linear, align_corners=False: new frame i samples old position (i + 0.5) * 4/7 - 0.5
    pos = (torch.arange(7) + 0.5) * 4 / 7 - 0.5
    lo = pos.floor().clamp(0, 3).long()
    hi = (lo + 1).clamp(max=3)
    w = (pos - lo).clamp(0, 1).view(1, 7, 1)
    expected = te[:, lo] * (1 - w) + te[:, hi] * w
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-6)


def test_resolution_mismatch_is_refused(tmp_path):
    path = _save_official(_official_tiny(9), tmp_path / "w.pth")
    with pytest.raises(WeightsError) as err:
        create_encoder(PRESET, weights=path, device="cpu", config={**TINY, "image_size": 48})
    msg = str(err.value)
    assert "\n" not in msg
    assert "1 shape mismatches (vision_encoder.positional_embedding model [10, 32] vs file [5, 32])" in msg
    # asked for explicitly, the resolution is adapted like the official loader (bicubic, CLS row kept)
    enc = create_encoder(PRESET, weights=path, device="cpu", config=TINY, image_size=48)
    assert enc.spec.size == 48
    pe = _official_tiny(9).vision_encoder.positional_embedding.detach()
    grid = pe[1:].reshape(1, 2, 2, 32).permute(0, 3, 1, 2)
    resized = torch.nn.functional.interpolate(grid, size=(3, 3), mode="bicubic", align_corners=False)
    expected = torch.cat([pe[:1], resized.permute(0, 2, 3, 1).reshape(9, 32)])
    torch.testing.assert_close(enc.model.vision_encoder.positional_embedding.detach(), expected)
    assert enc.encode(torch.randn(1, 4, 3, 48, 48)).shape == (1, 16)


def _fixture_text(preset: str, cfg: ViCLIPConfig) -> str:
    head = {
        "preset": preset,
        "written_from": (
            "OpenGVLab/InternVideo Data/InternVid/viclip (viclip.py, viclip_vision.py, viclip_text.py): "
            f"ViCLIP(size={'b' if cfg.patch_size == 16 else 'l'}) with the InternVideo1/Pretrain/ViCLIP model sizes, "
            "context length 32; key names/shapes only, no weights"
        ),
        "wrapper": "model",
    }
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items()]
    keys = [f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in official_shapes(cfg).items()]
    return "{\n" + ",\n".join(lines) + ',\n  "keys": {\n' + ",\n".join(keys) + "\n  }\n}\n"


if __name__ == "__main__":  # regenerate the committed fixtures
    for fname, c in (("viclip-b16", VICLIP_B16), ("viclip-l14", VICLIP_L14)):
        (FIXTURES / f"{fname}.json").write_text(_fixture_text(f"{fname}-internvid10m-flt", c))


def test_html_entities_tokenise_like_the_characters(tmp_path):
    from gesturebench.encoders.viclip.tokenizer import clean_text, load_clip_tokenizer, tokenize

    tok = load_clip_tokenizer(_write_bpe(tmp_path / "bpe_simple_vocab_16e6.txt.gz"))
    plain = tokenize(tok, ["hello & world"], 8)
    assert tokenize(tok, ["hello &amp; world"], 8).tolist() == plain.tolist()
    assert tokenize(tok, ["hello &amp;amp; world"], 8).tolist() == plain.tolist()  # unescaped twice, as basic_clean
    assert plain[0, 2].item() == ord("&") - 33 + 256  # "&</w>": one token, not the five of "&amp;"
    assert clean_text("  a &lt;b&gt;  ") == "a <b>"


def test_ftfy_is_applied_where_installed(tmp_path, monkeypatch):
    import sys
    import types

    from gesturebench.encoders.viclip.tokenizer import clean_text, load_clip_tokenizer, tokenize

    calls = []
    fake = types.SimpleNamespace(fix_text=lambda t: calls.append(t) or t.replace("wÃ¶", "wo"))
    monkeypatch.setitem(sys.modules, "ftfy", fake)
    tok = load_clip_tokenizer(_write_bpe(tmp_path / "bpe_simple_vocab_16e6.txt.gz"))
    assert tokenize(tok, ["hello wÃ¶"], 8).tolist() == tokenize(tok, ["hello wo"], 8).tolist()
    assert "hello wÃ¶" in calls
    monkeypatch.setitem(sys.modules, "ftfy", None)  # not installed: entities are still decoded
    assert clean_text("wÃ¶ &amp;") == "wÃ¶ &"
