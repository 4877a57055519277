"""`gesturebench features info` and `gesturebench extract` through the CLI entry point."""

from __future__ import annotations

import json

import pytest
from feature_fakes import MeanColourEncoder, fake_decode, make_dataset, write_clip

from gesturebench.cli import main
from gesturebench.data.sampling import SamplerConfig
from gesturebench.features.extract import extract_features
from gesturebench.features.store import FeatureStore


def test_features_info_shows_what_the_store_holds(tmp_path, capsys):
    m = make_dataset(tmp_path / "data", [1, 2, 3, 4, 5], bad={3: "moov atom not found"})
    rep = extract_features(m, MeanColourEncoder(), tmp_path / "st", SamplerConfig(num_frames=4), workers=0,
                           decode_fn=fake_decode)
    assert main(["features", "info", str(tmp_path / "st")]) == 0
    out = capsys.readouterr().out
    for line in (
        f"key             {rep.key}",
        "encoder         test-mean-colour v1 (feature_fakes.MeanColourEncoder)",
        "weights sha256  none (training-free)",
        "sampler         tsn test, 4 frames",
        "features        4 of 5 videos x 12 dims, float32, precision fp32",
        "classes         Advance 1, Attention 2, Rally 1",
        "domains         synthetic 3, target 1",
        "bad videos      1",
        "  clips/v003.vid: bad: moov atom not found",
    ):
        assert line in out, (line, out)
    assert main(["features", "info", str(tmp_path / "st"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["key"] == rep.key and info["num_extracted"] == 4 and info["views"] == {"air": 1, "ground": 3}


def test_features_info_on_missing_store_is_one_line_error(tmp_path, capsys):
    assert main(["features", "info", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: {tmp_path / 'nope'} is not a feature store: it does not exist "
        "(create one with `gesturebench extract`)\n"
    )


# ---- gesturebench extract on a tiny RoCoG-v2-layout dataset -------------------------------------


@pytest.fixture(scope="module")
def rocog_root(tmp_path_factory):
    """class_dict.json, annotations/syn_ground_train.txt, 3 H.264 clips and one broken file."""
    root = tmp_path_factory.mktemp("rocog")
    (root / "class_dict.json").write_text(json.dumps({"0": "Advance", "1": "Attention"}))
    lines = []
    for i, (cls, label) in enumerate([("Advance", 0), ("Attention", 1), ("Advance", 0), ("Attention", 1)]):
        rel = f"syn/ground/{cls}/v{i}.mp4"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if i == 3:
            (root / rel).write_bytes(b"not a video at all")
        else:
            write_clip(root / rel, seed=i)
        lines.append(f"{rel} {label}")
    (root / "annotations").mkdir()
    (root / "annotations" / "syn_ground_train.txt").write_text("\n".join(lines) + "\n")
    return root


def _extract(root, out, *extra):
    return main(["extract", "--data", str(root), "--list", "syn_ground_train.txt", "--encoder", "pixels",
                 "--out", str(out), "--workers", "0", *extra])


def test_extract_cli_skips_bad_video_then_cache_hit_then_refuses_changed_settings(rocog_root, tmp_path, capsys):
    out = tmp_path / "st"
    assert _extract(rocog_root, out) == 0
    cap = capsys.readouterr()
    assert f"extracted 3/4 videos with pixels -> {out} (3 encoded;" in " ".join(cap.out.split())
    err = " ".join(cap.err.split())
    assert "warning: skipped 1 video(s) that could not be decoded: syn/ground/Attention/v3.mp4: " in err
    fs = FeatureStore(out).load()
    assert fs.video_ids == ("syn/ground/Advance/v0.mp4", "syn/ground/Attention/v1.mp4", "syn/ground/Advance/v2.mp4")
    assert fs.labels.tolist() == [0, 1, 0] and fs.dim == 8 * 3 * 16 * 16
    assert fs.meta["settings"]["sampler"] == {"name": "tsn", "num_frames": 8, "mode": "test", "stride": 4,
                                              "num_clips": 1, "seed": 0}

    assert _extract(rocog_root, out) == 0
    assert "cache hit: " in capsys.readouterr().out

    assert _extract(rocog_root, out, "--frames", "4") == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: feature store {out} holds features made with other settings (encoder.feature_dim, "
        "encoder.spec.num_frames, sampler.num_frames changed); rerun with --overwrite to replace them, "
        "or choose another --out\n"
    )
    assert _extract(rocog_root, out, "--frames", "4", "--overwrite") == 0
    capsys.readouterr()
    assert FeatureStore(out).load().dim == 4 * 3 * 16 * 16


def test_extract_cli_strict_and_nothing_extracted_exit_1(rocog_root, tmp_path, capsys):
    assert _extract(rocog_root, tmp_path / "strict", "--strict") == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot decode {rocog_root / 'syn/ground/Attention/v3.mp4'}: ")
    bad_only = tmp_path / "bad.txt"
    bad_only.write_text("syn/ground/Attention/v3.mp4 1\n")
    code = main(["extract", "--data", str(rocog_root), "--list", str(bad_only), "--encoder", "pixels",
                 "--out", str(tmp_path / "none"), "--workers", "0"])
    assert code == 1
    assert capsys.readouterr().err.startswith(
        "error: nothing could be extracted: all 1 videos failed to decode (first: syn/ground/Attention/v3.mp4: "
    )


def test_extract_cli_frames_refused_for_fixed_size_model(rocog_root, tmp_path, capsys):
    code = main(["extract", "--data", str(rocog_root), "--list", "syn_ground_train.txt", "--encoder",
                 "test-tiny-vit", "--out", str(tmp_path / "st"), "--frames", "4", "--workers", "0"])
    assert code == 1
    assert capsys.readouterr().err.startswith(
        "error: encoder 'test-tiny-vit' takes 8 frames per clip and cannot be built for --frames 4 ("
    )
