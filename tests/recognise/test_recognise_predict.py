"""fit + predict on rendered videos of two new gestures (real decode, real `motion` encoder)."""

from __future__ import annotations

import json

import pytest

from gesturebench.api.recognise import fit_recogniser, load_recogniser, predict_videos
from gesturebench.cli import main
from gesturebench.errors import RecogniserError


def test_fit_records_encoder_and_training(world):
    meta = json.loads((world.model / "recogniser.json").read_text())
    assert meta["encoder"]["name"] == "motion" and meta["encoder"]["weights"] is None
    assert meta["encoder"]["identity"]["options"]["mirror"] is True  # motion reports its options
    assert meta["sampler"]["num_frames"] == 16 and meta["class_names"] == ["WaveBoth", "SwingLow"]
    assert meta["training"]["per_class"] == {"WaveBoth": 10, "SwingLow": 10}
    assert len(meta["videos"]) == 20 and meta["unknown"]["quantile"] == 0.95


def test_predict_held_out_clips(world):
    videos = world.held_out["WaveBoth"] + world.held_out["SwingLow"]
    preds, bad = predict_videos(world.model, videos)
    assert bad == []
    assert [p.label for p in preds] == ["WaveBoth", "WaveBoth", "SwingLow", "SwingLow"]
    for p in preds:
        assert p.confidence == 1.0 and len(p.neighbours) == 3
        assert all(n.label == p.label and n.video_id.startswith(f"syn/ground/{p.label}/") for n in p.neighbours)
        assert p.distance == p.neighbours[0].distance <= p.threshold
        assert set(p.timings) == {"decode_s", "encode_s", "knn_s", "total_s"}


def test_predict_matches_extraction(world):
    """A training video predicted from its file has distance 0 to its own stored feature."""
    rec = load_recogniser(world.model)
    train_video = world.root / "train" / "syn" / "ground" / "SwingLow" / "syn_SwingLow_ground_s0_00003.mp4"
    p = rec.predict_file(train_video)
    assert p.neighbours[0].video_id == "syn/ground/SwingLow/syn_SwingLow_ground_s0_00003.mp4"
    assert p.neighbours[0].distance == pytest.approx(0.0, abs=1e-6)


def test_predict_cli_json_lists_bad_files(world, tmp_path, capsys):
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video")
    good = world.held_out["SwingLow"][0]
    assert main(["predict", str(world.model), str(good), str(junk), str(tmp_path / "missing.webm"), "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert [p["label"] for p in doc["predictions"]] == ["SwingLow"]
    assert [(b["video"], b["reason"]) for b in doc["bad"]] == [
        (str(junk), "not a readable video (invalid data: corrupt, truncated or not a video file)"),
        (str(tmp_path / "missing.webm"), "file not found"),
    ]
    assert "could not read 2 video(s)" in captured.err
    # nothing readable at all: exit 1
    assert main(["predict", str(world.model), str(junk)]) == 1


def test_fit_refuses_other_encoder_options(world, tmp_path):
    with pytest.raises(RecogniserError, match=r"encoder 'motion' built here differs from the one the training "
                                              r"stores were extracted with \(feature_dim, options.grid differ\); "
                                              r"pass the --encoder-opt values"):
        fit_recogniser([world.train_store], tmp_path / "m", encoder_options={"grid": 3})


def test_fit_cli(world, tmp_path, capsys):
    out = tmp_path / "m"
    assert main(["fit", "--train", str(world.train_store), "--out", str(out), "--no-unknown"]) == 0
    assert "unknown rule: off" in capsys.readouterr().out
    assert json.loads((out / "recogniser.json").read_text())["unknown"]["thresholds"] is None
    assert main(["fit", "--train", str(world.train_store), "--out", str(out)]) == 1
    assert "already holds a recogniser; pass --overwrite to replace it" in capsys.readouterr().err


def test_serve_without_the_extra_names_it(world, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main(["serve", str(world.model)]) == 1
    assert capsys.readouterr().err == (
        "error: serve needs the [serve] extra (uvicorn missing): pip install 'gesturebench[serve]'\n")


def test_serve_refuses_a_missing_model_before_announcing_an_address(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "nope")]) == 1
    captured = capsys.readouterr()
    assert "serving" not in captured.out
    assert captured.err == (f"error: {tmp_path / 'nope'} is not a recogniser model: it does not exist "
                            "(make one with `gesturebench fit`)\n")
