"""Study configs: validation errors name file, key path, value and what is allowed; env and --set."""

from __future__ import annotations

import pytest

from gesturebench.errors import ConfigError
from gesturebench.study.config import load_config

BASE = """
name: t
datasets:
  syn: {root: "${DATA}", lists: [annotations/syn_ground_train.txt]}
  test: {root: "${DATA}", lists: [annotations/tgt_ground_test.txt]}
encoders:
  pixels: {preset: pixels}
tasks:
  knn: {test: test, train: [[syn]], k: 3}
"""


def _write(tmp_path, text):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    return path


def test_env_and_set_overrides(tmp_path):
    path = _write(tmp_path, BASE)
    cfg = load_config(path, tmp_path / "out", ["tasks.knn.k=5", "encoders.pixels.options.seed=2"],
                      env={"DATA": str(tmp_path / "d")})
    (task,) = cfg.tasks
    assert task.kind == "knn" and task.params["k"] == 5 and task.params["train"] == [["syn"]]
    assert cfg.datasets["syn"].root == tmp_path / "d"
    assert cfg.datasets["syn"].lists == (tmp_path / "d" / "annotations" / "syn_ground_train.txt",)
    assert cfg.encoders["pixels"].options == {"seed": 2}


@pytest.mark.parametrize("edit, message", [
    (("k: 3", "k: three"), "tasks.knn[0].k: must be an integer; got 'three'"),
    (("k: 3", "metric: l1"), "tasks.knn[0].metric: must be one of l2, cosine; got 'l1'"),
    (("train: [[syn]]", "train: [[real]]"), "tasks.knn[0].train: names an unknown entry; got 'real'; allowed: syn, test"),
    (("k: 3", "k: 3, K: 1"), "tasks.knn[0].K: unknown key; allowed: bootstrap, encoders, k, metric, test, train"),
    (("knn:", "svm:"), "tasks.svm: unknown task; allowed: knn, zeroshot, probe, fewshot, unseen, bench"),
])
def test_errors_name_file_key_value_allowed(tmp_path, edit, message):
    path = _write(tmp_path, BASE.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_config(path, tmp_path, env={"DATA": "d"})
    assert str(err.value) == f"{path}: {message}"


def test_missing_env_variable(tmp_path):
    path = _write(tmp_path, BASE)
    with pytest.raises(ConfigError, match=r"datasets\.syn\.root: environment variable DATA is not set"):
        load_config(path, tmp_path, env={})


def test_bad_set_override(tmp_path):
    path = _write(tmp_path, BASE)
    with pytest.raises(ConfigError, match=r"^--set must be dotted.key=value; got 'tasks'$"):
        load_config(path, tmp_path, ["tasks"], env={"DATA": "d"})
