"""Report sections of the non-classification tasks: few-shot, unseen classes, fine-tuning, bench."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .format import ci_text, pct
from .model import Heading, Paragraph, ReportContext, Section, Table
from .plots import draw_bench, draw_fewshot, draw_finetune


def fewshot_section(task: Any, entries: list[tuple[Path, dict[str, Any]]], ctx: ReportContext) -> Section | None:
    if not entries:
        return None
    sec = Section(ctx.unique_id(task.name), task.title)
    groups: dict[tuple[str, str, str], list[tuple[Path, dict[str, Any]]]] = {}
    for path, doc in entries:
        groups.setdefault((doc["encoder"], doc["pool"]["source"], doc["test"]["source"]), []).append((path, doc))
    for (enc, pool, test), items in sorted(groups.items()):
        docs = [d for _, d in items]
        shots = sorted({p["shots"] for d in docs for p in d["curve"]})
        header = ["curve"] + [f"{s} shot{'s' if s != 1 else ''}" for s in shots]
        rows = []
        for d in docs:
            by = {p["shots"]: p for p in d["curve"]}
            label = f"{d['method']}: {d['base']['source'] or 'no base'} + {pool} shots"
            rows.append([label] + [f"{pct(by[s]['mean_accuracy'])} {ci_text(by[s].get('ci'))}".strip() if s in by else "–"
                                   for s in shots])
        reps = sorted({d["settings"].get("repeats") for d in docs})
        caption = (f"n = {docs[0]['test']['n']} {test} test videos; pool: {pool} videos per class sampled "
                   f"{', '.join(map(str, reps))} times per shot count (nested, seeded). Cells: mean top-1 % over "
                   f"repeats [95% Student-t interval of that mean]; 0 shots = base set only. "
                   f"Chance {pct(docs[0]['chance'])}%.")
        title = f"{enc}: few-shot, test {test}"
        tid = ctx.unique_id(f"fewshot-{enc}-{pool}-{test}")
        sec.blocks += [Heading(title), Table(tid, title, header, rows, caption)]
        sec.blocks.append(ctx.figure(
            f"{tid}-curve", lambda f, docs=docs: draw_fewshot(f, docs),
            f"{enc}: top-1 accuracy on {test} against labelled {pool} videos per class; line: mean over repeats, "
            f"band: 95% Student-t interval of the mean; dashed: chance. n = {docs[0]['test']['n']} test videos.",
            size=(6.5, 4.2),
        ))
    return sec


def unseen_section(task: Any, entries: list[tuple[Path, dict[str, Any]]], ctx: ReportContext) -> Section | None:
    if not entries:
        return None
    sec = Section(ctx.unique_id(task.name), task.title)
    header = ["encoder", "method", "folds", "frozen: unseen %", "fine-tuned: unseen %", "difference (pp) [95% CI]",
              "frozen: seen %", "fine-tuned: seen %", "chance (unseen) %"]
    rows = []
    for _path, doc in entries:
        s, summ = doc["settings"], doc["summary"]
        diff = summ["difference"]
        rows.append([
            doc["encoder"], str(s.get("method", "?")), str(len(doc["folds"])),
            pct(summ["frozen"].get("unseen_accuracy")), pct(summ["finetuned"].get("unseen_accuracy")),
            f"{100 * diff['mean']:+.1f} {ci_text(diff.get('ci'))}".strip(),
            pct(summ["frozen"].get("seen_accuracy")), pct(summ["finetuned"].get("seen_accuracy")),
            pct(summ["chance_unseen"]),
        ])
    n_unseen = sorted({sum(f["n_test_unseen"] for f in d["folds"]) for _, d in entries})
    caption = (f"Held-out classes: k-NN (K=3, L2) over support videos of classes the model never trained on, "
               f"frozen encoder vs fine-tuned on the seen classes. n = {', '.join(map(str, n_unseen))} unseen-class "
               f"test predictions pooled over folds. Accuracies: mean over folds. Difference: fine-tuned minus frozen, "
               f"95% paired bootstrap interval over test videos pooled across folds.")
    sec.blocks.append(Table(ctx.unique_id("unseen-summary"), "Unseen-class accuracy", header, rows, caption))
    for path, doc in entries:
        frows = [[", ".join(f["unseen"]), str(f["n_test_unseen"]), pct(f["frozen"].get("unseen_accuracy")),
                  pct(f["finetuned"].get("unseen_accuracy")), str(f["n_test_seen"]), pct(f["frozen"].get("seen_accuracy")),
                  pct(f["finetuned"].get("seen_accuracy"))] for f in doc["folds"]]
        title = f"{doc['encoder']}: folds ({Path(path).name})"
        sec.blocks += [Heading(title), Table(
            ctx.unique_id(f"unseen-folds-{doc['encoder']}"), title,
            ["unseen classes", "n unseen", "frozen %", "fine-tuned %", "n seen", "frozen seen %", "fine-tuned seen %"],
            frows, "Per fold: test videos of the held-out (unseen) and trained (seen) classes; no interval per fold.",
            align=["l"] + ["r"] * 6)]
    return sec


def finetune_section(task: Any, entries: list[tuple[Path, dict[str, Any]]], ctx: ReportContext) -> Section | None:
    from ..tasks.finetune import epochs_of

    if not entries:
        return None
    sec = Section(ctx.unique_id(task.name), task.title)
    header = ["run", "encoder", "mode", "epochs", "final train loss", "final train %", "best val %", "wall time s"]
    rows, curves = [], []
    for path, doc in entries:
        s, eps = doc["settings"], epochs_of(doc)
        last = eps[-1] if eps else {}
        vals = [e.get("val_accuracy") for e in eps if e.get("val_accuracy") is not None]
        label = Path(path).parent.name or Path(path).stem
        wall = doc.get("wall_seconds", doc.get("wall_time_s"))
        rows.append([label, doc["encoder"], str(s.get("mode", "?")), str(len(eps)),
                     f"{last['train_loss']:.4f}" if last.get("train_loss") is not None else "–",
                     pct(last.get("train_accuracy")), pct(max(vals)) if vals else "–",
                     f"{wall:.0f}" if isinstance(wall, (int, float)) else "–"])
        curves.append((f"{label}", eps))
    caption = ("One row per fine-tuning run (RUN/training.json); wall time: the sum of the epochs' times. Train accuracy: on the augmented training clips of "
               "the last epoch; validation accuracy: the best epoch's, on --val-list (– when none). No intervals: "
               "single runs.")
    sec.blocks.append(Table(ctx.unique_id("finetune-runs"), "Fine-tuning runs", header, rows, caption,
                            align=["l", "l", "l"] + ["r"] * 5))
    if any(eps for _, eps in curves):
        sec.blocks.append(ctx.figure(
            "finetune-curves", lambda f: draw_finetune(f, curves),
            "Training loss (left) and accuracy (right; solid: train, dashed: validation) per epoch, one line per run.",
            size=(9.0, 3.8)))
    return sec


def bench_section(task: Any, entries: list[tuple[Path, dict[str, Any]]], ctx: ReportContext) -> Section | None:
    if not entries:
        return None
    sec = Section(ctx.unique_id(task.name), task.title)
    for path, doc in entries:
        env, cfg = doc.get("environment", {}), doc.get("config", {})
        header = ["variant", "batch", "status", "p50 ms [95% CI]", "p90 ms", "ms/clip", "clips/s", "reps"]
        rows = []
        for r in doc["rows"]:
            if r.get("status") != "ok":
                rows.append([str(r.get("variant")), str(r["batch_size"]), f"{r['status']}: {r.get('error') or ''}"]
                            + ["–"] * 5)
                continue
            ci = (f" [{r['ci_low_ms']:.2f}–{r['ci_high_ms']:.2f}]" if r.get("ci_low_ms") is not None
                  and r.get("ci_high_ms") is not None else "")
            rows.append([str(r["variant"]), str(r["batch_size"]), "ok", f"{r['p50_ms']:.2f}{ci}",
                         f"{r.get('p90_ms', float('nan')):.2f}", f"{r.get('per_clip_ms', float('nan')):.3f}",
                         f"{r.get('clips_per_s', float('nan')):.1f}", str(r.get("reps"))])
        load = env.get("load_average_start")
        timer = cfg.get("timer", {})
        caption = (f"Mode {cfg.get('mode', '?')} on {env.get('device', '?')}, dtype {env.get('dtype', '?')}; "
                   f"n = reps timed calls per batch size (stopped when the median's 95% CI was within "
                   f"±{100 * timer.get('rel_ci', 0):g}% or after {timer.get('budget_s', '?')} s); interval: bootstrap "
                   f"95% CI of the median; load average at start {load}.")
        title = f"Benchmark: {', '.join(v['label'] for v in doc['variants'])} ({Path(path).name})"
        tid = ctx.unique_id(f"bench-{Path(path).parent.name}-{Path(path).stem}")
        sec.blocks += [Heading(title), Table(tid, title, header, rows, caption, align=["l", "r", "l"] + ["r"] * 5)]
        if any(r.get("status") == "ok" for r in doc["rows"]):
            for key, what in (("p50_ms", "Latency per batch (p50; whisker to p90)"),
                              ("clips_per_s", "Throughput (clips/s from the p50 latency)")):
                sec.blocks.append(ctx.figure(
                    f"{tid}-{key}", lambda f, doc=doc, key=key: draw_bench(f, doc, key),
                    f"{what} against batch size, log-log; dotted lines: batch sizes that ran out of memory.",
                    size=(6.4, 4.2)))
        for c in doc.get("summary", []) or []:
            sec.blocks.append(Paragraph(str(c)))
    return sec
