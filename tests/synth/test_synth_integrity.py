"""synth regressions of issue #10: item 12 (lock, SIGKILL'd workers, column order) and item 17 (stale videos)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from gesturebench.synth import generate_dataset
from gesturebench.synth.gestures import builtin_dir, gesture_hash, load_gesture
from gesturebench.synth.writer import TABLE_COLUMNS, SynthLockError
from gesturebench.types import ROCOG_CLASSES

TINY = dict(size=32, frames=8, splits={"train": 1.0})


def _start_synth(out: Path) -> subprocess.Popen:
    """A real `gesturebench synth --workers 2` run with plenty of work, in its own process."""
    code = ("import sys; from gesturebench.cli import main; sys.exit(main(['synth', '--out', sys.argv[1], "
            "'--per-class', '40', '--size', '64', '--frames', '16', '--workers', '2', '--seed', '1']))")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)


def _wait_for_workers(proc: subprocess.Popen, out: Path, n: int = 2, timeout: float = 60.0) -> list[psutil.Process]:
    """The run's descendants once ``n`` worker processes have rendered something."""
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        kids = parent.children(recursive=True)
        if len(kids) >= n and any((out / "syn").rglob("*.mp4")):
            return kids
        time.sleep(0.2)
    raise AssertionError(f"synth did not start {n} workers within {timeout}s")


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _stop(proc: subprocess.Popen, kids: list[psutil.Process]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    for p in _alive(kids):
        p.kill()


def test_second_run_into_the_same_folder_is_refused_at_once(tmp_path, monkeypatch):
    import gesturebench.synth.writer as writer

    cleaned = []
    monkeypatch.setattr(writer, "_clean_temps", lambda *a: cleaned.append(a))  # what deleted the other's files
    out = tmp_path / "ds"
    proc = _start_synth(out)
    kids: list[psutil.Process] = []
    try:
        kids = _wait_for_workers(proc, out)
        t0 = time.monotonic()
        with pytest.raises(SynthLockError) as err:
            generate_dataset(out, 1, "ground", seed=1, size=64, frames=16)
        assert time.monotonic() - t0 < 5.0  # refused, not waited for
        assert str(err.value) == (f"synth output {out} is being written by another run (lock {out / '.synth.lock'} "
                                  "is held); wait for that run to finish or choose another --out")
        assert cleaned == []  # refused before touching the other run's temporary files
        assert proc.poll() is None  # and the first run carries on
    finally:
        _stop(proc, kids)
    # once the holder is gone the folder is free again, and resumes cleanly
    summary = generate_dataset(out, 1, "ground", seed=1, size=64, frames=16)
    assert summary.total == 7


def test_sigkill_of_synth_leaves_no_worker_running(tmp_path):
    out = tmp_path / "ds"
    proc = _start_synth(out)
    kids: list[psutil.Process] = []
    try:
        kids = _wait_for_workers(proc, out)
        assert len(_alive(kids)) >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 15
        while _alive(kids) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _alive(kids)
        assert not left, [(p.pid, p.cmdline()[:3]) for p in left]
    finally:
        _stop(proc, kids)


def test_parameter_table_keeps_its_column_order_after_a_resume(tmp_path):
    root = tmp_path / "ds"
    generate_dataset(root, 1, "ground", seed=4, **TINY)
    table = root / "params" / "syn_ground.csv"
    fresh = table.read_text()
    assert tuple(fresh.splitlines()[0].split(",")) == TABLE_COLUMNS
    # resume: six rows come back from the joints files, one video is rendered again
    (root / "syn" / "ground" / "Halt" / "syn_Halt_ground_s4_00000.mp4").unlink()
    summary = generate_dataset(root, 1, "ground", seed=4, **TINY)
    assert (summary.generated, summary.skipped) == (1, 6)
    assert table.read_text() == fresh
    summary = generate_dataset(root, 1, "ground", seed=4, **TINY)  # all kept
    assert summary.skipped == 7 and table.read_text() == fresh


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {p.parent.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (root / "syn").rglob("*.mp4")}


def test_editing_one_gesture_rerenders_exactly_its_videos(tmp_path):
    gdir = tmp_path / "gestures"
    shutil.copytree(builtin_dir(), gdir)
    root = tmp_path / "ds"
    first = generate_dataset(root, 1, "ground", seed=0, gesture_dir=gdir, **TINY)
    assert first.generated == 7
    before = _snapshot(root)

    # only the free text changes: nothing moves differently, nothing is rendered
    adv = gdir / "advance.yaml"
    text = adv.read_text()
    adv.write_text(text.replace("description: Arm extended", "description: The arm extended"))
    assert generate_dataset(root, 1, "ground", seed=0, gesture_dir=gdir, **TINY).generated == 0

    # one keyframe of Advance (its overhead pose, not the cycle duration)
    assert "elev: 272, azim: 180" in text
    old_hash = gesture_hash(load_gesture(adv))
    adv.write_text(text.replace("elev: 272, azim: 180", "elev: 250, azim: 180"))
    assert gesture_hash(load_gesture(adv)) != old_hash
    summary = generate_dataset(root, 1, "ground", seed=0, gesture_dir=gdir, **TINY)
    assert (summary.generated, summary.skipped) == (1, 6)
    after = _snapshot(root)
    assert after["Advance"][1] != before["Advance"][1]
    for name in ROCOG_CLASSES:
        if name != "Advance":
            assert after[name] == before[name], name  # same file, not even rewritten

    # the cycle duration alone (the item-17 report edited keyframe and duration together)
    adv.write_text(adv.read_text().replace("cycle: 1.3", "cycle: 1.5"))
    summary = generate_dataset(root, 1, "ground", seed=0, gesture_dir=gdir, **TINY)
    assert (summary.generated, summary.skipped) == (1, 6)


def test_scene_and_renderer_version_are_part_of_the_identity(tmp_path, monkeypatch):
    root = tmp_path / "ds"
    generate_dataset(root, 1, "ground,air", seed=2, **TINY)
    # a scene that changes only the air camera: ground videos are kept, air videos are rendered again
    scene = tmp_path / "high.yaml"
    scene.write_text("camera:\n  air:\n    camera_height: [12.0, 20.0]\n")
    summary = generate_dataset(root, 1, "ground,air", seed=2, scene=scene, **TINY)
    assert (summary.generated, summary.skipped) == (7, 7)
    assert summary.scene == "high" and summary.scene_hashes["ground"] != summary.scene_hashes["air"]
    assert (root / "params" / "scenes" / f"{summary.scene_hashes['air']}.yaml").is_file()
    import gesturebench.synth.version as version

    monkeypatch.setattr(version, "RENDERER_VERSION", version.RENDERER_VERSION + 1)
    summary = generate_dataset(root, 1, "ground,air", seed=2, scene=scene, **TINY)
    assert summary.generated == 14
