"""`--encoder-opt KEY=VALUE`: parsing, errors, and that options reach the feature store's cache key."""

from __future__ import annotations

import pytest

from gesturebench.cli import main
from gesturebench.cli.common import parse_encoder_opts
from gesturebench.data.sampling import SamplerConfig
from gesturebench.encoders.registry import create_encoder
from gesturebench.errors import ConfigError, EncoderError
from gesturebench.features.store import FeatureStore


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """7 tiny generated videos, one per class."""
    from gesturebench.synth import generate_dataset

    root = tmp_path_factory.mktemp("opts") / "data"
    generate_dataset(root, per_class=1, size=64, frames=16)
    return root


def _extract(data, out, encoder, *extra):
    return main(["extract", "--data", str(data), "--encoder", encoder, "--out", str(out), "--workers", "0",
                 "--device", "cpu", *extra])


# --------------------------------------------------------------------------- parser


def test_values_are_typed_by_yaml_else_kept_as_text():
    got = parse_encoder_opts([
        "a=1", "b=0.5", "c=true", "d=False", "e=null", "f=~", "g=mean", "h=/x/tok.bpe.gz", "i=a=b",
        "j=[1, 2]", "k=-3", "m=1e-3", "n=2.5E+2", "p= spaced ", "q=007x",
    ])
    assert got == {
        "a": 1, "b": 0.5, "c": True, "d": False, "e": None, "f": None, "g": "mean", "h": "/x/tok.bpe.gz",
        "i": "a=b", "j": "[1, 2]", "k": -3, "m": 0.001, "n": 250.0, "p": " spaced ", "q": "007x",
    }
    assert type(got["a"]) is int and type(got["b"]) is float
    assert parse_encoder_opts([]) == {} and parse_encoder_opts(None) == {}


@pytest.mark.parametrize("item", ["x", "=1", "a=", "a= ", "a b=1", "1a=2", ""])
def test_malformed_item(item):
    with pytest.raises(ConfigError) as err:
        parse_encoder_opts(["ok=1", item])
    assert str(err.value) == f"--encoder-opt must be KEY=VALUE; got {item!r}"


def test_repeated_and_reserved_keys():
    with pytest.raises(ConfigError) as err:
        parse_encoder_opts(["seed=1", "seed=2"])
    assert str(err.value) == "--encoder-opt seed given more than once"
    for key, use in (("weights", "--weights"), ("device", "--device"), ("name", "--encoder")):
        with pytest.raises(ConfigError) as err:
            parse_encoder_opts([f"{key}=x"])
        assert str(err.value) == f"--encoder-opt {key} is not an encoder option; use {use}"


def test_registry_names_an_option_the_factory_does_not_take():
    with pytest.raises(EncoderError) as err:
        create_encoder("test-tiny-vit", device="cpu", pooling="mean", zzz=1)
    assert str(err.value) == "encoder 'test-tiny-vit' does not accept option(s) pooling, zzz; allowed: kind, dim, seed"
    # factories with **kwargs: the entry parameter is still refused; the rest they check themselves
    with pytest.raises(EncoderError) as err:
        create_encoder("pixels", device="cpu", entry=1)
    assert str(err.value) == "encoder 'pixels' does not accept option(s) entry; allowed: grey, ..."


# --------------------------------------------------------------------------- extract


def test_option_changes_the_store_key_and_features(data, tmp_path, capsys):
    plain, seeded = tmp_path / "plain", tmp_path / "seeded"
    assert _extract(data, plain, "test-tiny-vit") == 0
    assert _extract(data, seeded, "test-tiny-vit", "--encoder-opt", "seed=1") == 0
    capsys.readouterr()
    a, b = FeatureStore(plain).load(), FeatureStore(seeded).load()
    assert len(a.video_ids) == 7 and a.video_ids == b.video_ids
    assert a.key != b.key
    sha = {s: create_encoder("test-tiny-vit", device="cpu", seed=s).weights_sha256() for s in (0, 1)}
    assert sha[0] != sha[1]
    assert a.meta["settings"]["encoder"]["weights_sha256"] == sha[0]
    assert b.meta["settings"]["encoder"]["weights_sha256"] == sha[1]
    assert not (a.features == b.features).all()
    # the same option again is a cache hit; another option on that store is a settings change
    assert _extract(data, seeded, "test-tiny-vit", "--encoder-opt", "seed=1") == 0
    assert "cache hit: " in capsys.readouterr().out
    assert _extract(data, seeded, "test-tiny-vit", "--encoder-opt", "seed=2") == 1
    assert capsys.readouterr().err == (
        f"error: feature store {seeded} holds features made with other settings (encoder.weights_sha256 changed); "
        "rerun with --overwrite to replace them, or choose another --out\n"
    )


def test_training_free_options_and_frames(data, tmp_path, capsys):
    out = tmp_path / "grey"
    assert _extract(data, out, "pixels", "--encoder-opt", "grey=true", "--encoder-opt", "num_frames=4") == 0
    capsys.readouterr()
    fs = FeatureStore(out).load()
    enc = fs.meta["settings"]["encoder"]
    assert enc["grey"] is True and enc["spec"]["num_frames"] == 4
    assert fs.meta["settings"]["sampler"]["num_frames"] == 4
    assert _extract(data, tmp_path / "x", "pixels", "--frames", "8", "--encoder-opt", "num_frames=4") == 1
    assert capsys.readouterr().err == (
        "error: --frames 8 and --encoder-opt num_frames=4 disagree; give one of them\n"
    )


def test_unknown_and_malformed_options_exit_1(data, tmp_path, capsys):
    assert _extract(data, tmp_path / "u", "test-tiny-vit", "--encoder-opt", "pooling=mean") == 1
    assert capsys.readouterr().err == (
        "error: encoder 'test-tiny-vit' does not accept option(s) pooling; allowed: kind, dim, seed\n"
    )
    # with --frames too, the unknown option is what gets reported
    assert _extract(data, tmp_path / "u", "test-tiny-vit", "--frames", "4", "--encoder-opt", "pooling=mean") == 1
    assert capsys.readouterr().err == (
        "error: encoder 'test-tiny-vit' does not accept option(s) pooling; allowed: kind, dim, seed\n"
    )
    assert _extract(data, tmp_path / "m", "test-tiny-vit", "--encoder-opt", "pooling") == 1
    assert capsys.readouterr().err == "error: --encoder-opt must be KEY=VALUE; got 'pooling'\n"
    assert not (tmp_path / "u").exists() and not (tmp_path / "m").exists()


def test_hf_pooling_reaches_the_key(data):
    """HF encoders put ``pooling`` in identity(), which the store's settings (and key) hash.

    Built directly around a stand-in module so this stays fast (the end-to-end load of a
    tiny transformers checkpoint with pooling=mean is in tests/encoders/test_hf_encoders.py).
    """
    torch = pytest.importorskip("torch")
    from gesturebench.data.decode import decode_clip
    from gesturebench.data.manifest import load_manifest
    from gesturebench.encoders.base import InputSpec
    from gesturebench.encoders.hf.models import TokenPoolEncoder
    from gesturebench.features.extract import extraction_settings
    from gesturebench.features.store import cache_key

    manifest = load_manifest(data)
    sampler = SamplerConfig(num_frames=8)
    keys, settings = [], []
    for pooling in ("cls", "mean"):
        enc = TokenPoolEncoder(torch.nn.Identity(), spec=InputSpec(layout="TCHW"), feature_dim=4, pooling=pooling,
                               weights_sha256="0" * 64)
        enc.name = "timesformer-b-k400"
        settings.append(extraction_settings(manifest, enc, sampler, decode_clip))
        keys.append(cache_key(settings[-1]))
    assert [s["encoder"]["pooling"] for s in settings] == ["cls", "mean"]
    assert keys[0] != keys[1]


# --------------------------------------------------------------------------- zeroshot


def test_zeroshot_rebuilds_the_model_with_the_store_options(data, tmp_path, capsys):
    store = tmp_path / "clip1"
    assert _extract(data, store, "test-tiny-clip", "--encoder-opt", "seed=1") == 0
    capsys.readouterr()
    base = ["zeroshot", "--test", str(store), "--out", str(tmp_path / "res"), "--bootstrap", "0", "--device", "cpu"]
    assert main(base) == 1  # default seed: other weights than the store's
    assert "differ from the weights that extracted" in capsys.readouterr().err
    assert main([*base, "--encoder-opt", "seed=1"]) == 0
    capsys.readouterr()
    assert main([*base, "--encoder-opt", "pooling=cls"]) == 1
    assert capsys.readouterr().err == (
        "error: encoder 'test-tiny-clip' does not accept option(s) pooling; allowed: kind, dim, seed\n"
    )
