"""HF transformers encoders: tiny random checkpoints saved to disk, loaded through our presets,
compared with the transformers model's own output (1e-5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from gesturebench.encoders import create_encoder, get_entry, list_encoders  # noqa: E402
from gesturebench.encoders.hf.loading import cached_snapshot, files_sha256, spec_from_processor  # noqa: E402
from gesturebench.errors import ConfigError, WeightsError  # noqa: E402
from gesturebench.fileio import sha256_file  # noqa: E402

TOL = 1e-5
VIT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)


def _clips(b: int, t: int, s: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, t, 3, s, s, generator=g)


def _save(model, path: Path) -> Path:
    torch.manual_seed(0)
    model.save_pretrained(path)
    return path


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape
    assert a.dtype == torch.float32
    torch.testing.assert_close(a, b, atol=TOL, rtol=TOL)


def _bytes_to_unicode() -> list[str]:
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    out, extra = [], 0
    for x in range(256):
        if x in keep:
            out.append(chr(x))
        else:
            out.append(chr(256 + extra))
            extra += 1
    return out


def tiny_clip_tokenizer_files(d: Path) -> Path:
    """vocab.json + merges.txt of a 517-token CLIP-style byte-level BPE."""
    chars = _bytes_to_unicode()
    merges = [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o</w>"), ("w", "o")]
    vocab = chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    d.mkdir(parents=True, exist_ok=True)
    (d / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (d / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    return d


# --------------------------------------------------------------------------- per family


def test_videomae_finetuned_fc_norm_matches_classifier_input(tmp_path):
    cfg = transformers.VideoMAEConfig(
        image_size=32, patch_size=16, num_frames=4, tubelet_size=2, use_mean_pooling=True, num_labels=3, **VIT
    )
    torch.manual_seed(1)
    ref = transformers.VideoMAEForVideoClassification(cfg).eval()
    d = _save(ref, tmp_path / "vmae")
    enc = create_encoder("videomae-b16-k400-hf", weights=d, device="cpu")
    assert enc.pooling == "fc_norm" and enc.feature_dim == 32
    assert (enc.spec.num_frames, enc.spec.size, enc.spec.tubelet, enc.spec.layout) == (4, 32, 2, "TCHW")
    assert enc.weights_sha256() == sha256_file(d / "model.safetensors")
    x = _clips(2, 4, 32)
    ref.classifier = torch.nn.Identity()  # logits == the pooled feature the classifier reads
    with torch.no_grad():
        expected = ref(pixel_values=x).logits
    _close(enc.encode(x), expected)
    # mean pooling: same tokens, no fc_norm
    enc_mean = create_encoder("videomae-b16-k400-hf", weights=d, device="cpu", pooling="mean")
    with torch.no_grad():
        tokens = ref.videomae(pixel_values=x).last_hidden_state
    _close(enc_mean.encode(x), tokens.mean(1))
    assert enc_mean.identity()["pooling"] == "mean" and enc.identity()["pooling"] == "fc_norm"


def test_videomae_pretraining_checkpoint_uses_mean_after_layernorm(tmp_path):
    cfg = transformers.VideoMAEConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2, use_mean_pooling=False, **VIT)
    torch.manual_seed(2)
    ref = transformers.VideoMAEModel(cfg).eval()
    d = _save(ref, tmp_path / "vmae-pt")
    enc = create_encoder("videomae-b16-k400-pt-hf", weights=d, device="cpu")
    assert enc.pooling == "mean"
    x = _clips(2, 4, 32, seed=1)
    with torch.no_grad():
        expected = ref(pixel_values=x).last_hidden_state.mean(1)  # includes the final layernorm
    _close(enc.encode(x), expected)
    with pytest.raises(ConfigError) as err:
        create_encoder("videomae-b16-k400-pt-hf", weights=d, device="cpu", pooling="fc_norm")
    assert str(err.value) == (
        f"pooling fc_norm needs a fine-tuned VideoMAE checkpoint with fc_norm; {d} has none (use pooling=mean)"
    )


def test_xclip_video_and_text_match_transformers(tmp_path):
    cfg = transformers.XCLIPConfig(
        text_config=dict(vocab_size=520, max_position_embeddings=16, **VIT),
        vision_config=dict(image_size=32, patch_size=16, num_frames=3, mit_hidden_size=32,
                           mit_intermediate_size=64, mit_num_hidden_layers=1, mit_num_attention_heads=2, **VIT),
        projection_dim=32,
        prompt_layers=1,
        prompt_attention_heads=2,
        prompt_projection_dim=32,
    )
    torch.manual_seed(3)
    ref = transformers.XCLIPModel(cfg).eval()
    d = _save(ref, tmp_path / "xclip")
    tok = transformers.CLIPTokenizer(vocab=str(tiny_clip_tokenizer_files(tmp_path / "tok") / "vocab.json"),
                                     merges=str(tmp_path / "tok" / "merges.txt"))
    tok.save_pretrained(d)
    enc = create_encoder("xclip-b32-k400", weights=d, device="cpu")
    assert enc.supports_text and enc.feature_dim == 32 and enc.spec.num_frames == 3
    x = _clips(2, 3, 32, seed=2)
    with torch.no_grad():
        expected = ref.get_video_features(pixel_values=x).pooler_output
    _close(enc.encode(x), expected)
    texts = ["hello world", "hello"]
    batch = tok(texts, padding=True, return_tensors="pt")
    assert batch["input_ids"].tolist()[1][:3] == [517, 515, 518]  # sot, "hello</w>", eot: the tokenizer is real
    with torch.no_grad():
        expected_t = ref.get_text_features(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).pooler_output
    _close(enc.encode_text(texts), expected_t)


def test_xclip_without_tokenizer_files_is_one_line(tmp_path):
    cfg = transformers.XCLIPConfig(
        text_config=dict(vocab_size=64, max_position_embeddings=8, **VIT),
        vision_config=dict(image_size=32, patch_size=16, num_frames=2, mit_hidden_size=32, mit_intermediate_size=64,
                           mit_num_hidden_layers=1, mit_num_attention_heads=2, **VIT),
        projection_dim=32, prompt_layers=1, prompt_attention_heads=2, prompt_projection_dim=32,
    )
    d = _save(transformers.XCLIPModel(cfg), tmp_path / "xclip-notok")
    enc = create_encoder("xclip-b32-k400", weights=d, device="cpu")
    with pytest.raises(WeightsError) as err:
        enc.encode_text(["a"])
    assert str(err.value) == (
        f"xclip-b32-k400: no CLIP tokenizer files (tokenizer.json or vocab.json + merges.txt) in {d}; "
        "download them with the checkpoint (microsoft/xclip-base-patch32) or pass tokenizer=DIR"
    )


def test_vjepa2_mean_of_encoder_tokens(tmp_path):
    cfg = transformers.VJEPA2Config(
        patch_size=16, crop_size=32, frames_per_clip=4, tubelet_size=2, hidden_size=32, num_attention_heads=2,
        num_hidden_layers=2, mlp_ratio=2.0, pred_hidden_size=16, pred_num_attention_heads=2, pred_num_hidden_layers=1,
        num_pooler_layers=1,
    )
    torch.manual_seed(4)
    ref = transformers.VJEPA2Model(cfg).eval()
    d = _save(ref, tmp_path / "vjepa2")
    enc = create_encoder("vjepa2-vitl-fpc64-256", weights=d, device="cpu")
    assert (enc.spec.num_frames, enc.spec.size, enc.spec.tubelet) == (4, 32, 2)
    assert not any(n.startswith("predictor") for n, _ in enc.model.named_parameters())
    x = _clips(2, 4, 32, seed=3)
    with torch.no_grad():
        expected = ref(pixel_values_videos=x, skip_predictor=True).last_hidden_state.mean(1)
    _close(enc.encode(x), expected)
    enc6 = create_encoder("vjepa2-vitl-fpc64-256", weights=d, device="cpu", num_frames=6)
    assert enc6.spec.num_frames == 6 and enc6.accepts_any_num_frames
    with pytest.raises(ConfigError) as err:
        create_encoder("vjepa2-vitl-fpc64-256", weights=d, device="cpu", num_frames=5)
    assert str(err.value) == "num_frames for vjepa2-vitl-fpc64-256 must be a positive multiple of 2; got 5"


def test_timesformer_cls_and_mean_from_classification_checkpoint(tmp_path):
    cfg = transformers.TimesformerConfig(image_size=32, patch_size=16, num_frames=3, num_labels=5, **VIT)
    torch.manual_seed(5)
    ref = transformers.TimesformerForVideoClassification(cfg).eval()
    d = _save(ref, tmp_path / "tsf")
    enc = create_encoder("timesformer-b-k400", weights=d, device="cpu")
    assert enc.pooling == "cls"
    x = _clips(2, 3, 32, seed=4)
    ref.classifier = torch.nn.Identity()
    with torch.no_grad():
        expected = ref(pixel_values=x).logits
        tokens = ref.timesformer(pixel_values=x).last_hidden_state
    _close(enc.encode(x), expected)
    enc_mean = create_encoder("timesformer-b-k400", weights=d, device="cpu", pooling="mean")
    _close(enc_mean.encode(x), tokens[:, 1:].mean(1))
    # transformers' divided attention reshapes with config.num_frames: other counts are refused upstream
    assert not enc.accepts_any_num_frames


def test_vivit_cls_matches_classifier_input(tmp_path):
    cfg = transformers.VivitConfig(image_size=32, num_frames=4, tubelet_size=[2, 16, 16], num_labels=3, **VIT)
    torch.manual_seed(6)
    ref = transformers.VivitForVideoClassification(cfg).eval()
    d = _save(ref, tmp_path / "vivit")
    enc = create_encoder("vivit-b-k400", weights=d, device="cpu")
    assert (enc.spec.num_frames, enc.spec.tubelet) == (4, 2) and not enc.accepts_any_num_frames
    x = _clips(2, 4, 32, seed=5)
    ref.classifier = torch.nn.Identity()
    with torch.no_grad():
        expected = ref(pixel_values=x).logits
    _close(enc.encode(x), expected)


# --------------------------------------------------------------------------- errors, offline, specs


def test_missing_directory_is_one_line(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(WeightsError) as err:
        create_encoder("videomae-b16-ssv2-hf", weights=missing, device="cpu")
    assert str(err.value) == (
        f"weights for videomae-b16-ssv2-hf: directory {missing} does not exist; download it with "
        "`huggingface-cli download MCG-NJU/videomae-base-finetuned-ssv2 --local-dir DIR` "
        "(https://huggingface.co/MCG-NJU/videomae-base-finetuned-ssv2) and pass --weights DIR"
    )


def test_folder_without_config_or_weights(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsError, match=r"has no config\.json"):
        create_encoder("vivit-b-k400", weights=tmp_path / "empty", device="cpu")
    (tmp_path / "empty" / "config.json").write_text("{}")
    with pytest.raises(WeightsError, match=r"no model\*\.safetensors or pytorch_model\*\.bin in"):
        create_encoder("vivit-b-k400", weights=tmp_path / "empty", device="cpu")


def test_hf_hub_offline_uses_cache_only(tmp_path, monkeypatch):
    """With HF_HUB_OFFLINE=1 and an empty cache: one line, and the network is never tried."""
    import huggingface_hub

    calls = []
    real = huggingface_hub.snapshot_download

    def spy(*args, **kwargs):
        calls.append(kwargs.get("local_files_only"))
        return real(*args, **kwargs)

    import huggingface_hub.constants as hc

    monkeypatch.setattr(huggingface_hub, "snapshot_download", spy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))  # an empty cache, whatever this machine has
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path / "weights"))
    with pytest.raises(WeightsError) as err:
        create_encoder("timesformer-b-k400", device="cpu")
    assert calls == [True]
    assert str(err.value) == (
        "weights for timesformer-b-k400 (facebook/timesformer-base-finetuned-k400) not available: HF_HUB_OFFLINE=1 "
        "and it is not in the Hugging Face cache; download it with `huggingface-cli download "
        "facebook/timesformer-base-finetuned-k400 --local-dir DIR` "
        "(https://huggingface.co/facebook/timesformer-base-finetuned-k400) and pass --weights DIR"
    )


def test_hub_failure_online_is_one_line(tmp_path, monkeypatch):
    import huggingface_hub

    def boom(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'huggingface.co'\nsecond line")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", boom)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path / "weights"))
    with pytest.raises(WeightsError) as err:
        create_encoder("xclip-b32-k400", device="cpu")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(
        "weights for xclip-b32-k400 (microsoft/xclip-base-patch32) not available: the hub could not be reached "
        "or refused (ConnectionError: Failed to resolve 'huggingface.co'); download it with"
    )


def test_preset_folder_in_gesturebench_weights_is_found(tmp_path, monkeypatch):
    cfg = transformers.VivitConfig(image_size=32, num_frames=2, tubelet_size=[2, 16, 16], **VIT)
    _save(transformers.VivitModel(cfg, add_pooling_layer=False), tmp_path / "w" / "vivit-b-k400")
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path / "w"))
    enc = create_encoder("vivit-b-k400", device="cpu")
    assert enc.spec.num_frames == 2


def test_spec_from_processor_config(tmp_path):
    from gesturebench.encoders.base import InputSpec

    default = InputSpec(num_frames=8, size=224, layout="TCHW")
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({
        "image_mean": [0.5, 0.4, 0.3], "image_std": [0.2, 0.25, 0.5], "size": {"shortest_edge": 256},
        "crop_size": {"height": 224, "width": 224}, "rescale_factor": 1 / 255,
    }))
    spec = spec_from_processor(tmp_path, default, 16, 224, 2)
    assert spec.mean == pytest.approx((0.5, 0.4, 0.3)) and spec.std == pytest.approx((0.2, 0.25, 0.5))
    assert spec.crop_ratio == pytest.approx(224 / 256) and (spec.num_frames, spec.tubelet) == (16, 2)
    # ViViT: x / 127.5 - 1 then (. - 0.5) / 0.5  ==  (u - 0.75) / 0.25 for u = x / 255
    (tmp_path / "preprocessor_config.json").write_text(json.dumps({
        "image_mean": [0.5] * 3, "image_std": [0.5] * 3, "rescale_factor": 1 / 127.5, "offset": True,
    }))
    spec = spec_from_processor(tmp_path, default, 32, 224, 2)
    assert spec.mean == pytest.approx((0.75,) * 3) and spec.std == pytest.approx((0.25,) * 3)
    u = torch.rand(10)
    hf = ((u * 255) / 127.5 - 1 - 0.5) / 0.5
    torch.testing.assert_close((u - spec.mean[0]) / spec.std[0], hf)
    assert get_entry("vivit-b-k400").spec.mean == pytest.approx(spec.mean)


def test_sharded_checksum_is_over_file_hashes(tmp_path):
    a, b = tmp_path / "model-00001-of-00002.safetensors", tmp_path / "model-00002-of-00002.safetensors"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    import hashlib

    lines = f"{a.name} {hashlib.sha256(b'one').hexdigest()}\n{b.name} {hashlib.sha256(b'two').hexdigest()}\n"
    assert files_sha256([b, a]) == hashlib.sha256(lines.encode()).hexdigest()
    assert files_sha256([a]) == hashlib.sha256(b"one").hexdigest()


def test_catalog_presets_are_complete():
    names = {e.name for e in list_encoders("*") if e.target.endswith("create_hf_encoder")}
    assert {"videomae-b16-k400-hf", "videomae-b16-ssv2-hf", "xclip-b32-k400", "vjepa2-vitl-fpc64-256",
            "timesformer-b-k400", "vivit-b-k400"} <= names
    for n in names:
        e = get_entry(n)
        assert e.hub_id and e.license and e.params_m and e.gflops and e.pooling and e.spec.layout == "TCHW"
        assert e.source == f"https://huggingface.co/{e.hub_id}"


def test_bad_pooling_names_allowed_set(tmp_path):
    with pytest.raises(ConfigError) as err:
        create_encoder("timesformer-b-k400", weights=tmp_path, device="cpu", pooling="max")
    assert str(err.value) == "pooling for timesformer-b-k400 must be one of cls, mean; got 'max'"


def test_cached_snapshot_reads_the_hf_cache_layout(tmp_path, monkeypatch):
    import huggingface_hub.constants as hc

    cache = tmp_path / "hub"
    snap = cache / "models--facebook--timesformer-base-finetuned-k400" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    (cache / "models--facebook--timesformer-base-finetuned-k400" / "refs").mkdir()
    (cache / "models--facebook--timesformer-base-finetuned-k400" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(cache))
    assert cached_snapshot("facebook/timesformer-base-finetuned-k400") == snap
    assert cached_snapshot("google/vivit-b-16x2-kinetics400") is None
