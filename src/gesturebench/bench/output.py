"""Benchmark outputs: ``bench.json`` (everything, raw samples included),
``bench.csv`` (one row per variant x batch size), ``latency.png`` and
``throughput.png`` (log2 batch axis), ``summary.md``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ..fileio import atomic_path, atomic_write_json, atomic_write_text
from .runner import BenchResult

CSV_COLUMNS = (
    "variant", "encoder", "weights", "mode", "batch_size", "status", "reps", "stop_reason",
    "p50_ms", "p90_ms", "p99_ms", "mean_ms", "std_ms", "min_ms", "ci_low_ms", "ci_high_ms",
    "per_clip_ms", "clips_per_s", "cpu_p50_ms", "cpu_per_wall", "first_call_ms", "peak_mem_mb", "mem_delta_mb", "mem_kind",
    "decode_ms", "preprocess_ms", "encode_ms", "decode_share", "preprocess_share", "encode_share", "error",
)  # fmt: skip


def write_outputs(result: BenchResult, out_dir: str | Path, plots: bool = True) -> dict[str, Path]:
    """Write every output into ``out_dir`` (created); returns {kind: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "bench.json", "csv": out / "bench.csv", "markdown": out / "summary.md"}
    atomic_write_json(paths["json"], result.to_dict())
    atomic_write_text(paths["csv"], to_csv(result.rows))
    if plots and any(r["status"] == "ok" for r in result.rows):
        paths["latency_png"] = out / "latency.png"
        paths["throughput_png"] = out / "throughput.png"
        plot(result, paths["latency_png"], paths["throughput_png"])
    atomic_write_text(paths["markdown"], to_markdown(result, {k: p.name for k, p in paths.items()}))
    return paths


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_value(r.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue()


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def plot(result: BenchResult, latency_png: Path, throughput_png: Path) -> None:
    """p50 latency (p90 as the upper whisker) and throughput against batch size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [v["label"] for v in result.variants]
    mode = result.config.get("mode", "model")
    for path, key, ylabel, title in (
        (latency_png, "p50_ms", "latency per batch, ms (p50; bar to p90)", f"Latency vs batch size ({mode})"),
        (throughput_png, "clips_per_s", "throughput, clips/s (from p50)", f"Throughput vs batch size ({mode})"),
    ):
        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
        for label in labels:
            rows = result.rows_for(label)
            if not rows:
                continue
            xs = [r["batch_size"] for r in rows]
            ys = [r[key] for r in rows]
            if key == "p50_ms":
                up = [r["p90_ms"] - r["p50_ms"] for r in rows]
                ax.errorbar(xs, ys, yerr=[[0] * len(up), up], marker="o", capsize=3, label=label)
            else:
                ax.plot(xs, ys, marker="o", label=label)
            for r in result.rows_for(label, status="oom"):
                ax.axvline(r["batch_size"], color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")  # variants often differ by orders of magnitude
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.set_xlabel("batch size (clips; dotted: out of memory)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _load(v: Any) -> str:
    return "-" if not v else " / ".join(f"{x:.2f}" for x in v)


def to_markdown(result: BenchResult, files: dict[str, str] | None = None) -> str:
    cfg, env = result.config, result.environment
    machine = env.get("machine", {})
    gpu = env.get("gpu", {}).get("name") if env.get("gpu") else None
    lines = [
        f"# Benchmark: {', '.join(v['label'] for v in result.variants)}",
        "",
        f"- mode: **{cfg['mode']}**"
        + (" (decode + sample + preprocess + encode, one process)" if cfg["mode"] == "end-to-end" else " (encode only, input preallocated on the device)"),
        f"- device: {env.get('device')} ({gpu or machine.get('processor', '?')}), dtype {env.get('dtype')}, "
        f"compile {'on' if cfg.get('compile') else 'off'}, torch threads {env.get('torch_threads')}",
        f"- load average (1/5/15 min) at start {_load(env.get('load_average_start'))}, at end "
        f"{_load(env.get('load_average'))}; git {env.get('git_revision')}; "
        f"torch {env.get('versions', {}).get('torch')}",
        f"- timing: warm-up {cfg['timer']['warmup']}, {cfg['timer']['min_reps']}-{cfg['timer']['max_reps']} reps, "
        f"stop when the median's 95% CI is within ±{cfg['timer']['rel_ci'] * 100:g}% or after "
        f"{cfg['timer']['budget_s']:g} s per batch size; variants interleaved",
        "",
        "| variant | batch | status | p50 ms | p90 ms | p99 ms | ms/clip | clips/s | peak mem MB | reps |"
        + (" decode / preprocess / encode |" if cfg["mode"] == "end-to-end" else ""),
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|" + ("---|" if cfg["mode"] == "end-to-end" else ""),
    ]
    for r in result.rows:
        if r["status"] != "ok":
            cells = [r["variant"], str(r["batch_size"]), f"{r['status']}: {r.get('error') or ''}"] + ["-"] * 7
        else:
            cells = [
                r["variant"], str(r["batch_size"]), "ok", _fmt(r["p50_ms"]), _fmt(r["p90_ms"]), _fmt(r["p99_ms"]),
                _fmt(r["per_clip_ms"], 3), _fmt(r["clips_per_s"], 1), _fmt(r.get("peak_mem_mb"), 0), str(r["reps"]),
            ]  # fmt: skip
        if cfg["mode"] == "end-to-end":
            cells.append(
                " / ".join(f"{r[f'{s}_share'] * 100:.0f}%" for s in ("decode", "preprocess", "encode"))
                if r["status"] == "ok" and "decode_share" in r
                else "-"
            )
        lines.append("| " + " | ".join(cells) + " |")
    if result.comparisons:
        lines += ["", "## Comparison (ratio of median latencies, bootstrap 95% CI)", ""]
        lines += [f"- {s}" for s in result.summary]
        lines += [f"  - {c.sentence}" for c in result.comparisons]
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result.notes]
    if files:
        lines += ["", "Files: " + ", ".join(f"`{name}`" for name in files.values())]
        if "latency_png" in files:
            lines += ["", f"![latency]({files['latency_png']})", f"![throughput]({files['throughput_png']})"]
    return "\n".join(lines) + "\n"
