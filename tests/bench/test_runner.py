"""Batch sweeps, out-of-memory rows, max-batch search, checkpoint comparison, outputs, CLI."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from gesturebench.bench import BenchConfig, TimerConfig, parse_batch_sizes
from gesturebench.bench.output import CSV_COLUMNS, write_outputs
from gesturebench.bench.runner import run_bench
from gesturebench.cli import main
from gesturebench.encoders import registry
from gesturebench.encoders.base import UNIT_MEAN, UNIT_STD, Encoder, InputSpec
from gesturebench.errors import ConfigError, EncoderError

FAST = TimerConfig(warmup=1, min_reps=3, max_reps=4, budget_s=0.2)


def notes(result):
    """Notes other than the busy-machine warning (which depends on the load while testing)."""
    return [n for n in result.notes if not n.startswith("timed calls got ")]


def statuses(result):
    return [(r["variant"], r["batch_size"], r["status"]) for r in result.rows]


def test_fixed_sweep_stops_cleanly_at_simulated_oom():
    res = run_bench(BenchConfig(encoders=("test-tiny-vit",), batch_sizes=(1, 2, 4, 8, 16), timer=FAST, oom_above=4))
    assert statuses(res) == [("test-tiny-vit", b, "ok") for b in (1, 2, 4)] + [("test-tiny-vit", 8, "oom")]
    oom = res.rows[-1]
    assert oom["error"] == "simulated out of memory: batch 8 > memory cap of 4 clips"
    assert notes(res) == ["test-tiny-vit: largest batch that fits: 4"]
    assert res.variants[0]["max_batch"] == 4
    for r in res.rows[:3]:
        assert r["reps"] >= 3 and r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"]
        assert r["per_clip_ms"] == pytest.approx(r["p50_ms"] / r["batch_size"])
        assert r["clips_per_s"] == pytest.approx(1000.0 * r["batch_size"] / r["p50_ms"])
        assert r["mem_kind"] in ("rss_peak", "rss_lifetime_peak") and r["peak_mem_mb"] > 10
        assert len(r["samples_ms"]) == r["reps"]
        assert r["cpu_p50_ms"] > 0 and r["cpu_per_wall"] > 0
    env = res.environment
    assert env["device"] == "cpu" and env["dtype"] == "fp32" and "torch" in env["versions"] and env["machine"]["cpu_count"]


def test_auto_max_batch_doubles_then_bisects():
    res = run_bench(BenchConfig(encoders=("test-tiny-vit",), max_batch="auto", timer=FAST, oom_above=11))
    probes = [(p["batch_size"], p["fits"]) for p in res.variants[0]["search"]]
    assert probes == [(1, True), (2, True), (4, True), (8, True), (16, False), (12, False), (10, True), (11, True)]
    assert res.variants[0]["max_batch"] == 11
    assert statuses(res) == [("test-tiny-vit", b, "ok") for b in (1, 2, 4, 8, 11)] + [("test-tiny-vit", 12, "oom")]


def test_auto_max_batch_respects_limit():
    res = run_bench(BenchConfig(encoders=("pixels",), max_batch="auto", auto_limit=4, timer=FAST))
    assert [p["batch_size"] for p in res.variants[0]["search"]] == [1, 2, 4]
    assert statuses(res) == [("pixels", b, "ok") for b in (1, 2, 4)]
    assert notes(res) == ["pixels: no out-of-memory up to the search limit of 4 (--auto-limit)"]


def test_integer_max_batch_sweeps_powers_of_two():
    assert BenchConfig(encoders=("pixels",), max_batch=12).planned_sizes() == [1, 2, 4, 8, 12]
    assert BenchConfig(encoders=("pixels",), max_batch="8").planned_sizes() == [1, 2, 4, 8]


def test_memory_cap_turns_peak_memory_into_oom():
    res = run_bench(BenchConfig(encoders=("pixels",), batch_sizes=(1, 2), timer=FAST, memory_cap_mb=1))
    assert statuses(res) == [("pixels", 1, "oom")]
    assert res.rows[0]["error"].endswith("MiB over the memory cap of 1 MiB")
    assert res.rows[0]["error"].startswith("peak memory ")


class Flaky(Encoder):
    """Raises a real-looking out-of-memory error above ``limit`` clips, or after ``fail_after`` calls."""

    spec = InputSpec(num_frames=2, size=8, mean=UNIT_MEAN, std=UNIT_STD, layout="TCHW")
    feature_dim = 4

    def __init__(self, limit=1000, fail_after=None, exc=None):
        super().__init__()
        self.limit, self.fail_after, self.calls = limit, fail_after, 0
        self.exc = exc or RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    def encode(self, clips):
        self.calls += 1
        if clips.shape[0] > self.limit or (self.fail_after is not None and self.calls > self.fail_after):
            raise self.exc
        return torch.zeros(clips.shape[0], 4)


@pytest.fixture
def fake_encoders(monkeypatch):
    """create_encoder('pixels' / 'motion') returns the Flaky encoders given in the dict."""
    made = {}

    def fake_create(name, weights=None, device="auto", **kw):
        enc = made[name]
        enc.name = name
        return enc

    monkeypatch.setattr(registry, "create_encoder", fake_create)
    return made


def test_real_oom_errors_become_rows(fake_encoders):
    fake_encoders["pixels"] = Flaky(limit=3)
    fake_encoders["motion"] = Flaky(limit=1, exc=MemoryError())
    res = run_bench(BenchConfig(encoders=("pixels", "motion"), batch_sizes=(1, 2, 4, 8), timer=FAST))
    assert statuses(res) == [
        ("pixels", 1, "ok"), ("pixels", 2, "ok"), ("pixels", 4, "oom"), ("motion", 1, "ok"), ("motion", 2, "oom"),
    ]  # fmt: skip
    assert res.rows[2]["error"] == "CUDA out of memory. Tried to allocate 2.00 GiB"
    assert res.rows[4]["error"] == "MemoryError"


def test_oom_during_timing_drops_only_that_variant(fake_encoders):
    fake_encoders["pixels"] = Flaky()
    fake_encoders["motion"] = Flaky(fail_after=3)  # survives warm-up, fails while timed
    res = run_bench(BenchConfig(encoders=("pixels", "motion"), batch_sizes=(1, 2), timer=FAST))
    assert statuses(res) == [("pixels", 1, "ok"), ("pixels", 2, "ok"), ("motion", 1, "oom")]


def test_other_errors_are_not_swallowed(fake_encoders):
    fake_encoders["pixels"] = Flaky(limit=0, exc=ValueError("a real bug"))
    with pytest.raises(ValueError, match="a real bug"):
        run_bench(BenchConfig(encoders=("pixels",), batch_sizes=(1,), timer=FAST))


def test_checkpoint_comparison_and_outputs(tmp_path):
    from gesturebench.encoders import create_encoder
    from gesturebench.fileio import sha256_file

    paths = []
    for seed in (1, 2):
        enc = create_encoder("test-tiny-vit", device="cpu", seed=seed)
        paths.append(tmp_path / f"ft-{seed}.pt")
        torch.save(enc.model.state_dict(), paths[-1])
    cfg = BenchConfig(encoders=("test-tiny-vit",), weights=("default", *map(str, paths)), batch_sizes=(1, 2), timer=FAST)
    res = run_bench(cfg)
    labels = [v["label"] for v in res.variants]
    assert labels == ["test-tiny-vit@default", "test-tiny-vit@ft-1", "test-tiny-vit@ft-2"]
    assert res.variants[1]["weights_sha256"] == sha256_file(paths[0])
    assert res.variants[0]["params"] == 31520
    assert [(c.other, c.batch_size) for c in res.comparisons] == [
        ("test-tiny-vit@ft-1", 1), ("test-tiny-vit@ft-1", 2), ("test-tiny-vit@ft-2", 1), ("test-tiny-vit@ft-2", 2)
    ]  # fmt: skip
    for c in res.comparisons:
        assert c.baseline == "test-tiny-vit@default"
        assert c.ci_low <= c.ratio <= c.ci_high
        assert c.sentence.endswith(("the difference is within noise.", "beyond noise."))
    assert len(res.summary) == 2

    files = write_outputs(res, tmp_path / "out")
    assert sorted(p.name for p in files.values()) == ["bench.csv", "bench.json", "latency.png", "summary.md", "throughput.png"]
    data = json.loads(files["json"].read_text())
    assert data["kind"] == "gesturebench.bench" and len(data["rows"]) == 6 and len(data["comparisons"]) == 4
    assert data["config"]["variants"][1]["weights"] == str(paths[0])
    with open(files["csv"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 6 and rows[0]["status"] == "ok"
    assert float(rows[0]["p50_ms"]) == pytest.approx(res.rows[0]["p50_ms"], rel=1e-5)
    assert files["latency_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = files["markdown"].read_text()
    assert "| test-tiny-vit@ft-2 | 2 | ok |" in md and "## Comparison" in md and res.summary[0] in md


def test_dtype_handling_on_cpu():
    with pytest.raises(ConfigError) as info:
        run_bench(BenchConfig(encoders=("test-tiny-vit",), dtype="fp16", timer=FAST))
    assert str(info.value) == "dtype fp16 is not supported on cpu; allowed there: fp32, bf16"
    res = run_bench(BenchConfig(encoders=("test-tiny-vit", "pixels"), dtype="bf16", batch_sizes=(2,), timer=FAST))
    assert [v["dtype"] for v in res.variants] == ["bf16", "fp32"]
    assert notes(res) == ["pixels: not a torch model; runs in fp32 whatever --dtype says."]


def test_config_errors_are_one_clear_line():
    with pytest.raises(EncoderError) as info:
        run_bench(BenchConfig(encoders=("tiny-vit",), timer=FAST))
    assert str(info.value) == "unknown encoder 'tiny-vit'; did you mean test-tiny-vit? (see `gesturebench encoders list`)"
    with pytest.raises(ConfigError, match=r"^batch size must be an integer >= 1; got 0$"):
        BenchConfig(encoders=("pixels",), batch_sizes=(1, 0))
    with pytest.raises(ConfigError, match=r"^batch size must be an integer >= 1; got -2$"):
        parse_batch_sizes("1,-2")
    with pytest.raises(ConfigError, match=r"^--batch-sizes must be comma-separated integers, e\.g\. 1,2,4,8; got '1,x'$"):
        parse_batch_sizes("1,x")
    with pytest.raises(ConfigError, match=r"^max batch must be auto or an integer >= 1; got 'big'$"):
        BenchConfig(encoders=("pixels",), max_batch="big")
    with pytest.raises(ConfigError, match=r"^dtype must be one of auto, fp32, bf16, fp16; got 'int8'$"):
        BenchConfig(encoders=("pixels",), dtype="int8")
    with pytest.raises(ConfigError, match="give one --weights per --encoder"):
        BenchConfig(encoders=("pixels", "motion"), weights=("a", "b", "c"))


def test_cli_bench_writes_outputs_and_reports_errors(tmp_path, capsys):
    out = tmp_path / "b"
    args = ["bench", "--encoder", "pixels", "--batch-sizes", "1,2", "--budget", "0.2", "--warmup", "1"]
    assert main(args + ["--min-reps", "3", "--max-reps", "4", "--out", str(out), "--no-plots"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["bench.csv", "bench.json", "summary.md"]
    assert "clips/s" in capsys.readouterr().out
    cases = {
        ("--batch-sizes", "0,2"): "error: batch size must be an integer >= 1; got 0",
        ("--dtype", "fp16"): "error: dtype fp16 is not supported on cpu; allowed there: fp32, bf16",
        ("--max-batch", "auto"): "error: use either --batch-sizes or --max-batch, not both",
        ("--end-to-end",): "error: --end-to-end needs --data ROOT (and usually --list FILE)",
    }
    for extra, message in cases.items():
        assert main(args + list(extra) + ["--out", str(tmp_path / "x")]) == 1
        assert capsys.readouterr().err.strip() == message
    assert main(["bench", "--encoder", "nope", "--out", str(tmp_path / "x")]) == 1
    assert capsys.readouterr().err.strip() == "error: unknown encoder 'nope' (see `gesturebench encoders list`)"


def test_compile_failure_is_one_line_and_non_torch_note(monkeypatch):
    class Broken(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("inductor backend needs a C++ compiler\nlong traceback text")

    monkeypatch.setattr(torch, "compile", lambda model: Broken())
    with pytest.raises(EncoderError) as info:
        run_bench(BenchConfig(encoders=("test-tiny-vit",), compile=True, batch_sizes=(1,), timer=FAST))
    assert str(info.value) == "--compile failed for test-tiny-vit: inductor backend needs a C++ compiler"
    res = run_bench(BenchConfig(encoders=("pixels",), compile=True, batch_sizes=(1,), timer=FAST))
    assert notes(res) == ["pixels: not a torch model; --compile does not apply."]
    assert res.variants[0]["compiled"] is False


def test_cli_encoder_options_reach_every_variant(tmp_path, capsys):
    out = tmp_path / "b"
    args = ["bench", "--encoder", "pixels", "--encoder-opt", "grey=true", "--encoder-opt", "size=8", "--batch-sizes", "1"]
    assert main(args + ["--warmup", "1", "--min-reps", "3", "--max-reps", "3", "--out", str(out), "--no-plots"]) == 0
    result = json.loads((out / "bench.json").read_text())
    assert result["config"]["options"] == {"grey": True, "size": 8}
    assert result["variants"][0]["feature_dim"] == 8 * 8 * 8
    capsys.readouterr()
    assert main(["bench", "--encoder", "pixels", "--encoder-opt", "grey", "--out", str(tmp_path / "x")]) == 1
    assert capsys.readouterr().err.strip() == "error: --encoder-opt must be KEY=VALUE; got 'grey'"
