"""Safe, strict checkpoint loading (gesturebench.encoders.weights)."""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from gesturebench.encoders.base import InputSpec
from gesturebench.encoders.registry import EncoderEntry
from gesturebench.encoders.weights import (
    LoadReport,
    find_weight_file,
    interpolate_pos_embed,
    load_into,
    load_state_dict,
    remap_keys,
    resolve_weights,
    select_prefix,
    sinusoid_table,
    strip_prefix,
)
from gesturebench.errors import WeightsError


def _sd() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {"a.weight": torch.randn(3, 4, generator=g), "a.bias": torch.randn(3, generator=g)}


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_safetensors_round_trip_and_sha(tmp_path):
    sd = _sd()
    f = tmp_path / "w.safetensors"
    save_file(sd, str(f))
    got, digest = load_state_dict(f)
    assert set(got) == {"a.weight", "a.bias"}
    assert torch.equal(got["a.weight"], sd["a.weight"])
    assert digest == _sha(f)


def test_pth_round_trip_unwraps_model_and_module_prefix(tmp_path):
    sd = _sd()
    f = tmp_path / "ckpt.pth"
    wrapped = {"model": {f"module.{k}": v for k, v in sd.items()}, "epoch": 7, "args": argparse.Namespace(lr=0.1)}
    torch.save(wrapped, f)
    got, digest = load_state_dict(f)
    assert sorted(got) == ["a.bias", "a.weight"]
    assert torch.equal(got["a.bias"], sd["a.bias"])
    assert digest == _sha(f)


@pytest.mark.parametrize("outer", ["module", "state_dict", "model_state"])
def test_nested_wrappers(tmp_path, outer):
    sd = _sd()
    f = tmp_path / "ckpt.bin"
    torch.save({outer: {"model": sd}, "optimizer": {"lr": 1.0}}, f)
    got, _ = load_state_dict(f)
    assert sorted(got) == ["a.bias", "a.weight"]


def test_folder_with_hf_file_name(tmp_path):
    save_file(_sd(), str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text("{}")
    assert find_weight_file(tmp_path) == tmp_path / "model.safetensors"
    got, _ = load_state_dict(tmp_path)
    assert len(got) == 2


def test_folder_with_two_candidates_is_refused(tmp_path):
    torch.save(_sd(), tmp_path / "a.pth")
    torch.save(_sd(), tmp_path / "b.pth")
    with pytest.raises(WeightsError, match=r"holds 2 weight files \(a.pth, b.pth\)"):
        find_weight_file(tmp_path)


class _Evil:
    """Unpickling this would create a directory: proof of code execution."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_malicious_pickle_is_refused_and_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    f = tmp_path / "evil.pth"
    torch.save({"model": _sd(), "payload": _Evil(marker)}, f)
    assert not marker.exists()
    with pytest.raises(WeightsError) as err:
        load_state_dict(f)
    msg = str(err.value)
    assert msg == (
        f"refusing to load {f}: the pickle needs the global {os.mkdir.__module__}.mkdir, and arbitrary pickles "
        "are never executed (convert it to .safetensors in a trusted environment)"
    )
    assert not marker.exists()


def test_corrupt_file_is_one_line_error(tmp_path):
    f = tmp_path / "bad.safetensors"
    f.write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match=r"^cannot read safetensors file .*bad.safetensors"):
        load_state_dict(f)


def test_strip_select_remap():
    sd = {"encoder.blocks.0.w": 1, "encoder.norm.w": 2, "decoder.x": 3}
    assert select_prefix(sd, "encoder.") == {"blocks.0.w": 1, "norm.w": 2}
    assert strip_prefix(sd, "encoder.") == {"blocks.0.w": 1, "norm.w": 2, "decoder.x": 3}
    assert remap_keys({"blocks.0.mlp.fc1.w": 1, "head.w": 2}, [(r"^head\..*", ""), (r"\.fc1\.", ".up.")]) == {
        "blocks.0.mlp.up.w": 1
    }
    with pytest.raises(WeightsError, match="two keys to 'x'"):
        remap_keys({"a": 1, "b": 2}, [(r"^[ab]$", "x")])


def _tiny() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))


def test_load_into_exact_match_copies_values():
    m = _tiny()
    src = {k: torch.full_like(v, 0.5) for k, v in _tiny().state_dict().items()}
    rep = load_into(m, src)
    assert rep.ok and rep.loaded == 4 and rep.summary() == "all 4 tensors matched"
    assert torch.equal(m[0].weight, torch.full((3, 4), 0.5))


def test_load_into_strict_reports_missing_unexpected_and_shapes():
    m = _tiny()
    src = dict(_tiny().state_dict())
    del src["1.bias"]
    src["0.weight"] = torch.zeros(5, 4)
    src["head.weight"] = torch.zeros(2)
    with pytest.raises(WeightsError) as err:
        load_into(m, src, what="ckpt.pth")
    assert str(err.value) == (
        "ckpt.pth does not fit Sequential: 1 missing (1.bias); 1 unexpected (head.weight); "
        "1 shape mismatches (0.weight model [3, 4] vs file [5, 4])"
    )


def test_load_into_listing_is_bounded():
    m = _tiny()
    src = dict(_tiny().state_dict())
    for i in range(8):
        src[f"extra.{i}"] = torch.zeros(1)
    with pytest.raises(WeightsError, match=r"8 unexpected \(extra.0, extra.1, extra.2, extra.3, extra.4, ... \(\+3 more\)\)$"):
        load_into(m, src)


def test_load_into_ignore_and_non_strict():
    m = _tiny()
    src = dict(_tiny().state_dict())
    src["head.weight"] = torch.zeros(2)
    rep = load_into(m, src, ignore=[r"head\..*"])
    assert rep.ok and rep.ignored == ["head.weight"]
    del src["1.bias"]
    rep = load_into(m, src, strict=False, ignore=[r"head\..*"])
    assert isinstance(rep, LoadReport) and rep.missing == ["1.bias"] and not rep.ok


def test_sinusoid_table_values():
    t = sinusoid_table(3, 4)
    # position 2, channel 2 (sin, freq 10000**(-2/4)=0.01), channel 3 (cos, same freq)
    assert t.shape == (3, 4)
    assert t[2, 2].item() == pytest.approx(torch.sin(torch.tensor(0.02)).item(), abs=1e-7)
    assert t[2, 3].item() == pytest.approx(torch.cos(torch.tensor(0.02)).item(), abs=1e-7)
    assert t[1, 0].item() == pytest.approx(0.8414709848, abs=1e-7)


def test_interpolate_learned_pos_embed_keeps_cls_and_constant_fields():
    d = 3
    cls = torch.arange(d, dtype=torch.float32).view(1, d)
    grid = torch.full((2 * 2 * 2, d), 7.0)
    pe = torch.cat([cls, grid]).unsqueeze(0)
    out = interpolate_pos_embed(pe, (2, 2, 2), (4, 3, 3), num_extra_tokens=1)
    assert out.shape == (1, 1 + 4 * 9, d)
    assert torch.equal(out[0, 0], cls[0])
    assert torch.allclose(out[0, 1:], torch.full((36, d), 7.0), atol=1e-5)


def test_interpolate_sinusoid_regenerates_and_refuses_bad_layouts():
    pe = sinusoid_table(8, 6)
    out = interpolate_pos_embed(pe, (2, 2, 2), (1, 3, 3), kind="sinusoid")
    assert torch.equal(out, sinusoid_table(9, 6))
    with pytest.raises(WeightsError, match=r"has 8 rows but grid \(3, 2, 2\) \+ 0 extra tokens needs 12"):
        interpolate_pos_embed(pe, (3, 2, 2), (1, 2, 2))
    with pytest.raises(WeightsError, match="kind must be one of learned, sinusoid; got 'rope'"):
        interpolate_pos_embed(pe, (2, 2, 2), (1, 2, 2), kind="rope")


def _entry(**kw) -> EncoderEntry:
    base = dict(
        name="umt-b16-k710",
        target="x:y",
        spec=InputSpec(),
        feature_dim=768,
        family="umt",
        source="https://example.org/b16_ptk710.pth",
        weights_file="b16_ptk710.pth",
    )
    base.update(kw)
    return EncoderEntry(**base)


def test_resolve_weights_missing_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path))
    with pytest.raises(WeightsError) as err:
        resolve_weights(_entry(), None)
    assert str(err.value) == (
        "weights for umt-b16-k710 not found; download https://example.org/b16_ptk710.pth and pass --weights PATH "
        "(or put it in $GESTUREBENCH_WEIGHTS/b16_ptk710.pth)"
    )
    with pytest.raises(WeightsError, match=r"^weights for umt-b16-k710: .*nope.pth does not exist \(given with --weights\)$"):
        resolve_weights(_entry(), tmp_path / "nope.pth")


def test_resolve_weights_finds_local_and_explicit(tmp_path, monkeypatch):
    monkeypatch.setenv("GESTUREBENCH_WEIGHTS", str(tmp_path))
    (tmp_path / "b16_ptk710.pth").write_bytes(b"x")
    assert resolve_weights(_entry(), None) == tmp_path / "b16_ptk710.pth"
    other = tmp_path / "other.safetensors"
    other.write_bytes(b"y")
    assert resolve_weights(_entry(), other) == other


def test_interpolate_temporal_only_is_linear_with_edge_clamping():
    # a 1-D temporal embedding (ViCLIP style) is a (t, 1, 1) grid; values ramp 0 -> 1 in time
    pe = torch.tensor([[0.0, 10.0], [1.0, 20.0]])
    out = interpolate_pos_embed(pe, (2, 1, 1), (4, 1, 1))
    assert torch.allclose(out[:, 0], torch.tensor([0.0, 0.25, 0.75, 1.0]))
    assert torch.allclose(out[:, 1], torch.tensor([10.0, 12.5, 17.5, 20.0]))


def test_torch_compile_prefix_is_removed_at_the_start_and_inside(tmp_path, caplog):
    import logging

    sd = _sd()
    f = tmp_path / "compiled.pth"
    # torch.compile(model) -> "_orig_mod.a.weight"; DDP around it -> "module._orig_mod..."; a compiled
    # submodule -> "encoder._orig_mod.a.bias"
    torch.save({"model": {"module._orig_mod.a.weight": sd["a.weight"], "module.enc._orig_mod.a.bias": sd["a.bias"]}}, f)
    with caplog.at_level(logging.INFO, logger="gesturebench.encoders.weights"):
        got, _ = load_state_dict(f)
    assert sorted(got) == ["a.weight", "enc.a.bias"]
    assert torch.equal(got["a.weight"], sd["a.weight"]) and torch.equal(got["enc.a.bias"], sd["a.bias"])
    assert "removed the torch.compile prefix '_orig_mod.' from 2 keys" in caplog.text
    f2 = tmp_path / "plain.safetensors"
    save_file({"_orig_mod.a.weight": sd["a.weight"], "_orig_mod.a.bias": sd["a.bias"]}, str(f2))
    assert sorted(load_state_dict(f2)[0]) == ["a.bias", "a.weight"]


def test_summary_names_the_tensors_of_the_file_that_were_not_used():
    rep = LoadReport(loaded=10, ignored=["head.bias", "head.weight"],
                     dropped=["clip_decoder.0.head.weight", "clip_decoder.1.norm.bias", "mask_token"])
    assert rep.ok
    assert rep.summary() == (
        "all 10 tensors matched; 5 tensors of the file not used: clip_decoder.* (2), head.* (2), mask_token (1)"
    )
    assert rep.to_dict()["dropped"] == ["clip_decoder.0.head.weight", "clip_decoder.1.norm.bias", "mask_token"]
