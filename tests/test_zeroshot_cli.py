"""`gesturebench zeroshot` end to end: generated videos -> test-tiny-clip store -> prompts -> result file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gesturebench.api.zeroshot import run_zero_shot
from gesturebench.cli import main
from gesturebench.encoders import create_encoder
from gesturebench.encoders.registry import list_encoders
from gesturebench.errors import ConfigError
from gesturebench.evaluators.zeroshot import load_prompts, zero_shot_classify
from gesturebench.features.store import FeatureStore
from gesturebench.types import ROCOG_CLASSES, FeatureSet

SAME = "features and text embeddings must come from the same model"


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """7 tiny generated videos (one per class) extracted with test-tiny-clip and with pixels."""
    from gesturebench.data.manifest import load_manifest
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.features.extract import extract_features
    from gesturebench.synth import generate_dataset

    root = tmp_path_factory.mktemp("zs")
    generate_dataset(root / "data", per_class=1, size=64, frames=16, splits={"test": 1.0})
    manifest = load_manifest(root / "data")
    out = {}
    for name in ("test-tiny-clip", "pixels"):
        enc = create_encoder(name, device="cpu")
        extract_features(manifest, enc, root / name, sampler=SamplerConfig(num_frames=enc.spec.num_frames), workers=0)
        out[name] = root / name
    return out


@pytest.fixture(scope="module")
def tiny_clip():
    return create_encoder("test-tiny-clip", device="cpu")


def _manual_predictions(features, text_emb, sizes):
    """Independent recomputation: mean of unit prompt vectors per class, re-normalised, cosine argmax."""
    unit = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    t = unit(np.asarray(text_emb, np.float64))
    bounds = np.cumsum([0, *sizes])
    protos = unit(np.stack([t[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])]))
    return (unit(np.asarray(features, np.float64)) @ protos.T).argmax(1)


def test_cli_result_matches_direct_classification(stores, tiny_clip, tmp_path, capsys):
    out = tmp_path / "zs.json"
    rc = main(["zeroshot", "--test", str(stores["test-tiny-clip"]), "--out", str(out), "--bootstrap", "50",
               "--device", "cpu"])
    printed = capsys.readouterr().out
    assert rc == 0
    doc = json.loads(out.read_text())

    fs = FeatureStore(stores["test-tiny-clip"]).load()
    set_name, prompts = load_prompts()
    texts = [p for c in fs.class_names for p in prompts[c]]
    sizes = [len(prompts[c]) for c in fs.class_names]
    text_emb = tiny_clip.encode_text(texts).numpy()
    direct = zero_shot_classify(fs.features, text_emb, fs.labels, fs.class_names, group_sizes=sizes,
                                bootstrap=50, seed=0)
    manual = _manual_predictions(fs.features, text_emb, sizes)

    assert doc["task"] == "zeroshot" and doc["encoder"] == "test-tiny-clip"
    assert doc["metrics"]["accuracy"] == direct.accuracy == float(np.mean(manual == fs.labels))
    assert doc["metrics"]["ci"] == list(direct.ci)
    assert [p["pred"] for p in doc["predictions"]] == manual.tolist()
    assert [p["video_id"] for p in doc["predictions"]] == list(fs.video_ids)
    assert doc["metrics"]["chance"] == pytest.approx(1 / 7)
    assert doc["settings"]["prompt_set"] == set_name == "rocog-fm21-60-v1"
    assert doc["settings"]["prompts_per_class"] == sizes == [3] * 7
    assert doc["settings"]["encoder_weights_sha256"] == tiny_clip.weights_sha256()
    assert doc["test"] == {"key": fs.key, "source": "synthetic", "n": 7}
    assert f"wrote {out}" in printed
    assert "rocog-fm21-60-v1" in printed and "14.3" in printed and "MoveInReverse" in printed


def test_cli_default_out_is_templated(stores, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["zeroshot", "--test", str(stores["test-tiny-clip"]), "--bootstrap", "0", "--device", "cpu"]) == 0
    (path,) = Path("results").glob("zeroshot__test-tiny-clip@*__test-synthetic.*__rocog-fm21-60-v1__s-*.json")
    assert json.loads(path.read_text())["metrics"]["ci"] is None
    assert f"wrote {path}" in capsys.readouterr().out


def test_prompt_file_order_does_not_matter(stores, tmp_path, capsys):
    # Distinct one-prompt classes, written in reverse class order: classes are matched by name.
    texts = {c: f"{c.lower()} gesture number {i}" for i, c in enumerate(ROCOG_CLASSES)}
    yml = tmp_path / "p.yaml"
    yml.write_text("name: reversed\nclasses:\n" + "".join(f"  {c}: [{texts[c]}]\n" for c in reversed(ROCOG_CLASSES)))
    out = tmp_path / "r.json"
    assert main(["zeroshot", "--test", str(stores["test-tiny-clip"]), "--prompts", str(yml), "--out", str(out),
                 "--bootstrap", "0", "--device", "cpu"]) == 0
    doc = json.loads(out.read_text())
    fs = FeatureStore(stores["test-tiny-clip"]).load()
    emb = create_encoder("test-tiny-clip", device="cpu").encode_text([texts[c] for c in fs.class_names]).numpy()
    assert [p["pred"] for p in doc["predictions"]] == _manual_predictions(fs.features, emb, [1] * 7).tolist()
    assert doc["settings"]["prompt_set"] == "reversed"
    assert doc["settings"]["prompts"]["Halt"] == [texts["Halt"]]
    assert "reversed" in capsys.readouterr().out


def test_planted_store_of_text_embeddings(tiny_clip):
    """Video features planted at class prototypes: the answer is known exactly."""
    prompts = {c: [f"{c} one", f"a person doing {c}"] for c in ROCOG_CLASSES}
    emb = tiny_clip.encode_text([p for c in ROCOG_CLASSES for p in prompts[c]]).numpy().astype(np.float64)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    protos = unit.reshape(7, 2, -1).mean(1)
    # 14 videos, two per class; the second Halt and FollowMe videos sit on the MoveInReverse prototype.
    labels = np.repeat(np.arange(7), 2)
    where = labels.copy()
    where[[9, 11]] = 6
    feats = (protos[where] * 3.0).astype(np.float32)  # scale must not matter (cosine)
    fs = FeatureSet(feats, labels, tuple(f"v{i}" for i in range(14)), ROCOG_CLASSES, ("target",) * 14,
                    ("ground",) * 14, key="planted",
                    meta={"settings": {"encoder": {"name": "test-tiny-clip",
                                                   "weights_sha256": tiny_clip.weights_sha256()}}})
    outcome = run_zero_shot(fs, prompts=prompts, bootstrap=0, device="cpu")
    result = outcome.result
    assert outcome.path is None and not outcome.cached
    assert [p["pred"] for p in result.predictions] == where.tolist()
    assert result.accuracy == pytest.approx(12 / 14)
    assert result.per_class_accuracy[4] == 0.5 and result.per_class_accuracy[5] == 0.5
    assert result.confusion[4] == (0, 0, 0, 0, 1, 0, 1)
    assert result.test_source == "target" and result.settings["prompt_set"] == "custom"


def _text_presets():
    entries = [e for e in list_encoders() if e.supports_text]
    names = ", ".join(e.name for e in entries if not e.test_only)
    tests = ", ".join(e.name for e in entries if e.test_only)
    return f"{names} (tests: {tests})"


def test_encoder_without_text_tower(stores, tmp_path, capsys):
    assert main(["zeroshot", "--test", str(stores["pixels"]), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"error: encoder pixels has no text tower; zero-shot needs a video-text encoder: {_text_presets()}"
    for name in ("xclip-b32-k400", "viclip-b16-internvid10m-flt", "test-tiny-clip"):
        assert name in err
    assert not list(tmp_path.iterdir())


def test_encoder_mismatch(stores, tmp_path, capsys):
    store = stores["test-tiny-clip"]
    assert main(["zeroshot", "--test", str(store), "--encoder", "xclip-b32-k400", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: --encoder xclip-b32-k400 does not match the encoder that extracted {store} (test-tiny-clip); {SAME}"
    )
    pix = stores["pixels"]
    assert main(["zeroshot", "--test", str(pix), "--encoder", "test-tiny-clip", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: --encoder test-tiny-clip does not match the encoder that extracted {pix} (pixels); {SAME}"
    )
    # the same name is fine
    assert main(["zeroshot", "--test", str(store), "--encoder", "test-tiny-clip", "--out", str(tmp_path),
                 "--bootstrap", "0", "--device", "cpu"]) == 0
    capsys.readouterr()


def test_weights_mismatch(stores, tiny_clip, tmp_path, capsys):
    from safetensors.torch import save_file

    from gesturebench.fileio import sha256_file

    other = create_encoder("test-tiny-clip", device="cpu", seed=1)
    wfile = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in other.model.state_dict().items()}, str(wfile))
    store = stores["test-tiny-clip"]
    assert main(["zeroshot", "--test", str(store), "--weights", str(wfile), "--out", str(tmp_path),
                 "--device", "cpu"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"error: --weights {wfile} (sha256 {sha256_file(wfile)[:12]}) differ from the weights that extracted "
        f"{store} (sha256 {tiny_clip.weights_sha256()[:12]}); {SAME}"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]


def test_prompt_file_missing_a_class(stores, tmp_path, capsys):
    yml = tmp_path / "p.yaml"
    yml.write_text("name: partial\nclasses:\n  Advance: [a person advancing]\n  Halt: [a person halting]\n")
    assert main(["zeroshot", "--test", str(stores["test-tiny-clip"]), "--prompts", str(yml)]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: no prompts for classes ['Attention', 'Rally', 'MoveForward', 'FollowMe', 'MoveInReverse']; "
        "prompts cover ['Advance', 'Halt']"
    )


def test_store_without_encoder_and_bad_bootstrap(stores, capsys):
    fs = FeatureSet(np.ones((1, 4), np.float32), np.zeros(1, np.int64), ("v",), ("A",), ("synthetic",),
                    ("ground",), key="k", meta={})
    with pytest.raises(ConfigError, match=r"^feature store k does not record its encoder; pass --encoder$"):
        run_zero_shot(fs)
    assert main(["zeroshot", "--test", str(stores["test-tiny-clip"]), "--bootstrap", "-1"]) == 1
    assert capsys.readouterr().err.strip() == "error: --bootstrap must be >= 0; got -1"
