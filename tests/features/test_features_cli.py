"""`gesturebench features info` and `gesturebench extract` through the CLI entry point."""

from __future__ import annotations

import json

from feature_fakes import MeanColourEncoder, fake_decode, make_dataset

from gesturebench.cli import main
from gesturebench.data.sampling import SamplerConfig
from gesturebench.features.extract import extract_features


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
