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


def test_shipped_configs_parse(tmp_path):
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    paper = load_config(repo / "configs" / "rocog-v2-paper.yaml", tmp_path, env={"ROCOG_ROOT": "/data/RoCoG-v2"})
    knn = [t for t in paper.tasks if t.kind == "knn"][0]
    assert knn.params["train"] == [["synthetic"], ["real"], ["synthetic", "real"]]
    assert (knn.params["k"], knn.params["metric"]) == (3, "l2") and paper.extract["sampler"] == "tsn"
    assert paper.datasets["real-test"].lists == (Path("/data/RoCoG-v2/annotations/real_ground_test.txt"),)
    zs = [t for t in paper.tasks if t.kind == "zeroshot"][0]
    assert zs.params["encoders"] == ["viclip-b16"] and len(zs.params["prompts"]) == 3
    assert paper.reference["knn"]["videomae-l16-hybrid-ssv2"] == {"synthetic": 64.6, "real": 71.7}
    # configs/demo.yaml is the packaged demo config, and what `make demo` runs
    demo = repo / "configs" / "demo.yaml"
    assert demo.resolve() == (repo / "src" / "gesturebench" / "configs" / "demo.yaml").resolve()
    assert "gesturebench run configs/demo.yaml --out demo-out" in (repo / "Makefile").read_text()
    cfg = load_config(demo, tmp_path)
    assert [s.per_class for s in cfg.synth] == [30, 30] and set(cfg.encoders) == {"pixels", "motion"}


def test_out_variable_is_relative_to_the_working_directory_not_the_config(tmp_path, monkeypatch):
    """`gesturebench run configs/demo.yaml --out demo-out` renders into ./demo-out/data, never
    beside the config file (relative *paths in the config* are relative to its folder; ${OUT} is not)."""
    configs = tmp_path / "configs"
    configs.mkdir()
    path = configs / "study.yaml"
    path.write_text(BASE.replace('"${DATA}"', '"${OUT}/data"'))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    cfg = load_config(path, "demo-out", [])
    assert cfg.datasets["syn"].root == work / "demo-out" / "data"
    assert cfg.datasets["syn"].lists == (work / "demo-out" / "data" / "annotations" / "syn_ground_train.txt",)


def test_demo_renders_under_its_out_folder(tmp_path, monkeypatch):
    """The demo's filled-in config puts its data under ./OUT/data, not beside the packaged config."""
    from gesturebench.api.demo import DemoConfig, demo_study_config

    monkeypatch.chdir(tmp_path)
    cfg = demo_study_config(DemoConfig(out="demo-out"))
    assert {s.root for s in cfg.synth} == {tmp_path / "demo-out" / "data"}
    assert {d.root for d in cfg.datasets.values()} == {tmp_path / "demo-out" / "data"}


def test_invalid_yaml_is_one_line_with_its_position(tmp_path):
    path = _write(tmp_path, "name: [1\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, tmp_path / "out")
    assert str(err.value) == f"{path}: not valid YAML at line 2, column 1: expected ',' or ']', but got '<stream end>'"
    assert "\n" not in str(err.value)
