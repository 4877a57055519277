"""Choosing and reaching the Ray engine: names, options, a missing extra, a dead address,
and where encoder actors go. None of these start Ray."""

from __future__ import annotations

import socket
import sys

import pytest

from gesturebench.errors import ConfigError
from gesturebench.features.ray_engine import _actor_device
from gesturebench.ray_cluster import RayEngine, _check_reachable, engine_from_cli, resolve_engine


def test_engine_names():
    assert resolve_engine("local") is None
    assert resolve_engine("ray") == RayEngine()
    cfg = RayEngine(address="10.0.0.1:6379", encode_actors=4)
    assert resolve_engine(cfg) is cfg
    with pytest.raises(ConfigError, match=r"^engine must be one of local, ray; got 'spark'$"):
        resolve_engine("spark")
    with pytest.raises(ConfigError, match=r"^RayEngine.window must be None or an integer >= 1; got 0$"):
        RayEngine(window=0)


def test_ray_address_needs_engine_ray():
    with pytest.raises(ConfigError, match=r"^--ray-address auto needs --engine ray \(got --engine local\)$"):
        engine_from_cli("local", "auto")
    assert engine_from_cli("local", None) == "local"


def test_missing_ray_is_one_line_naming_the_extra(monkeypatch, tmp_path, capsys):
    from gesturebench.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # importlib.util.find_spec("ray") -> None, as when absent
    want = "error: --engine ray needs Ray, which is not installed: pip install 'gesturebench[ray]'\n"
    assert main(["synth", "--out", str(tmp_path / "s"), "--per-class", "1", "--engine", "ray"]) == 1
    assert capsys.readouterr().err == want
    (tmp_path / "d" / "Advance").mkdir(parents=True)
    (tmp_path / "d" / "Advance" / "a.mp4").write_bytes(b"x")
    args = ["extract", "--data", str(tmp_path / "d"), "--encoder", "pixels", "--out", str(tmp_path / "st")]
    assert main([*args, "--engine", "ray"]) == 1
    assert capsys.readouterr().err == want
    assert not (tmp_path / "s").exists() and not (tmp_path / "st").exists()  # refused before any work


def test_unreachable_address_fails_fast_with_one_line():
    with socket.socket() as s:  # a loopback port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # connect() runs this check before ray.init, which would retry such an address for minutes.
    with pytest.raises(ConfigError) as info:
        _check_reachable(f"127.0.0.1:{port}")
    assert str(info.value).startswith(f"cannot reach a Ray cluster at --ray-address 127.0.0.1:{port}: ")
    assert "ray start --head" in str(info.value) and "\n" not in str(info.value)
    _check_reachable("auto")  # Ray's to resolve; nothing to check here


class FakeRay:
    def __init__(self, resources):
        self.resources = resources

    def cluster_resources(self):
        return self.resources


@pytest.mark.parametrize(
    "resources, device, want",
    [({"CPU": 8}, None, "cpu"), ({"CPU": 8}, "auto", "cpu"), ({"CPU": 8, "GPU": 2}, "auto", "cuda"),
     ({"CPU": 8, "GPU": 2}, "cpu", "cpu"), ({"CPU": 8, "GPU": 1}, "cuda:0", "cuda")],
)
def test_encoder_actors_go_to_gpus_when_the_cluster_has_them(resources, device, want):
    assert _actor_device(FakeRay(resources), device) == want


def test_cuda_on_a_cluster_without_gpus_is_refused():
    with pytest.raises(ConfigError, match=r"^--device cuda requested but the Ray cluster has no GPUs; "):
        _actor_device(FakeRay({"CPU": 4}), "cuda")
    with pytest.raises(ConfigError, match=r"^--engine ray runs encoders on cpu or cuda; got --device 'mps'"):
        _actor_device(FakeRay({"CPU": 4}), "mps")
