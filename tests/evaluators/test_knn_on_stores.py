"""End to end on real feature stores: extract_features -> `gesturebench knn` -> `gesturebench report`.

Videos are faked (a decode function returning constant-colour frames), so the
stored features, and therefore every k-NN answer, are known in advance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesturebench.cli import main
from gesturebench.encoders.base import UNIT_MEAN, UNIT_STD, Encoder, InputSpec
from gesturebench.types import Manifest, VideoRecord

CLASSES = ("Advance", "Attention", "Rally")
SPEC = InputSpec(num_frames=8, size=8, mean=UNIT_MEAN, std=UNIT_STD, layout="TCHW")


def colour_decode(path, sampler):
    # file name "<class>_<brightness>": a constant frame of that brightness
    value = int(str(path).rsplit("_", 1)[1])
    return np.full((sampler.num_frames, 8, 8, 3), value, np.uint8)


class MeanEncoder(Encoder):
    name = "test-mean"
    version = "1"
    spec = SPEC
    feature_dim = 1

    def encode(self, clips):
        return clips.mean(dim=(1, 2, 3, 4)).reshape(-1, 1).float()


def _store(tmp_path, name, domain, items):
    from gesturebench.features.extract import extract_features

    records = tuple(
        VideoRecord(f"{name}/{label}_{v}", label, CLASSES[label], domain=domain) for label, v in items
    )
    manifest = Manifest(tmp_path / "data", CLASSES, records)
    path = tmp_path / name
    extract_features(manifest, MeanEncoder(), path, workers=0, device="cpu", decode_fn=colour_decode)
    return path


@pytest.mark.slow
def test_cli_on_extracted_stores(tmp_path, capsys):
    syn = _store(tmp_path, "syn", "synthetic", [(0, 10), (0, 20), (1, 100), (1, 110), (2, 200), (2, 210)])
    tgt = _store(tmp_path, "tgt", "target", [(0, 30), (1, 120), (2, 220)])
    test = _store(tmp_path, "test", "target", [(0, 15), (1, 105), (2, 150), (2, 230)])
    res = tmp_path / "results"
    for train in (["--train", str(syn)], ["--train", str(syn), "--train", str(tgt)]):
        assert main(["knn", *train, "--test", str(test), "-k", "1", "--out", str(res), "--bootstrap", "0"]) == 0
    capsys.readouterr()
    (path,) = [p for p in res.glob("knn__test-mean__train-synthetic.*__test-target.*__k1-l2__s-*.json")
               if "+" not in p.name]
    doc = json.loads(path.read_text())
    # 150 is nearer to class-1 brightness 110 (40) than to class-2 200 (50) -> wrong; the rest are right
    assert [p["pred"] for p in doc["predictions"]] == [0, 1, 1, 2]
    assert doc["metrics"]["accuracy"] == 0.75
    assert len(doc["test"]["key"]) > 0 and doc["train"]["n_per_domain"] == {"synthetic": 6}
    assert main(["report", str(res), "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| test-mean | 75.0 | 75.0 |" in md
