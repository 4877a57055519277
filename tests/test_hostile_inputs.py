"""Hostile and careless inputs (issue 10): every case gets one clear line or the right result.

Sections follow the issue's item numbers. Stores are made either with the exact fake
encoder of tests/features (no video files) or, where the CLI needs real videos, with the
training-free ``pixels`` encoder on tiny generated H.264 clips.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
for sub in ("features", "data"):
    if str(HERE / sub) not in sys.path:
        sys.path.insert(0, str(HERE / sub))

from data_videos import make_video  # noqa: E402
from feature_fakes import MeanColourEncoder, expected_feature, fake_decode, make_dataset  # noqa: E402

from gesturebench.cli import main  # noqa: E402
from gesturebench.data.sampling import SamplerConfig  # noqa: E402
from gesturebench.errors import StoreError  # noqa: E402
from gesturebench.features.extract import extract_features  # noqa: E402
from gesturebench.features.store import FeatureStore, cache_key  # noqa: E402

SEEDS = [11, 12, 13, 14, 15, 16]


def run(manifest, out, **kw):
    kw.setdefault("workers", 0)
    kw.setdefault("shard_size", 2)
    enc = kw.pop("encoder", None) or MeanColourEncoder()
    return extract_features(manifest, enc, out, SamplerConfig(num_frames=4), decode_fn=fake_decode, **kw)


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


@pytest.fixture
def fake_store(tmp_path):
    m = make_dataset(tmp_path / "data", SEEDS)
    rep = run(m, tmp_path / "st")
    return m, tmp_path / "st", rep


# ---- real tiny videos + pixels stores, for the CLI -------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Folder-per-class dataset: 2 classes x 3 tiny H.264 clips (distinct content)."""
    root = tmp_path_factory.mktemp("clips")
    for c, name in enumerate(("Advance", "Rally")):
        (root / name).mkdir()
        for i in range(3):
            make_video(root / name / f"{name[:3].lower()}{i}.mp4", n=10, width=32, height=24, step=3 + i + 5 * c)
    return root


@pytest.fixture(scope="module")
def pixel_store(clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("stores") / "px"
    assert main(["extract", "--data", str(clips), "--encoder", "pixels", "--out", str(out), "--workers", "0"]) == 0
    return out


def copy_store(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_meta(store: Path, fn) -> None:
    meta = json.loads((store / "store.json").read_text())
    fn(meta)
    (store / "store.json").write_text(json.dumps(meta))


# ---- 1. a damaged store is repaired; --overwrite always rebuilds ----------------------------------


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_damaged_shard_is_refused_then_repaired_by_extract(fake_store, damage):
    m, st, first = fake_store
    before = FeatureStore(st).load().features.copy()
    shard = st / "shard-00001.safetensors"
    if damage == "truncate":
        shard.write_bytes(shard.read_bytes()[:100])
        msg = "shard-00001.safetensors fails its SHA-256 check"
    else:
        shard.unlink()
        msg = "shard shard-00001.safetensors is missing"
    with pytest.raises(StoreError, match=msg):
        FeatureStore(st).load()
    rep = run(m, st)
    assert (rep.action, rep.cached, rep.computed, rep.reused) == ("repair", False, 2, 4)
    assert rep.note == "repairing 1 damaged or missing shard(s): shard-00001.safetensors"
    assert np.array_equal(FeatureStore(st).load().features, before)
    assert run(m, st).cached


def test_overwrite_always_rebuilds(fake_store):
    m, st, first = fake_store
    enc = MeanColourEncoder()
    rep = run(m, st, overwrite=True, encoder=enc)
    assert (rep.action, rep.cached, rep.computed, enc.videos) == ("fresh", False, 6, 6)
    assert rep.key == first.key


def test_cli_extract_repairs_a_damaged_pixels_store(clips, pixel_store, tmp_path, capsys):
    st = copy_store(pixel_store, tmp_path / "px")
    shard = st / "shard-00000.safetensors"
    data = bytearray(shard.read_bytes())
    data[-5] ^= 0xFF  # one flipped byte inside the features
    shard.write_bytes(bytes(data))
    assert main(["knn", "--train", str(st), "--test", str(pixel_store), "--out", str(tmp_path / "r")]) == 1
    assert "shard-00000.safetensors fails its SHA-256 check" in one_error_line(capsys)
    argv = ["extract", "--data", str(clips), "--encoder", "pixels", "--out", str(st), "--workers", "0"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "repairing 1 damaged or missing shard(s): shard-00000.safetensors" in out and "cache hit" not in out
    assert np.array_equal(FeatureStore(st).load().features, FeatureStore(pixel_store).load().features)


# ---- 2. edited metadata or shard bytes are refused, never read as other features ----------------


@pytest.mark.parametrize(
    "edit, what",
    [
        (lambda m: m["rows"]["labels"].__setitem__(0, 1), "rows.labels in store.json differ"),
        (lambda m: m["rows"]["video_ids"].__setitem__(slice(0, 2), m["rows"]["video_ids"][1::-1]),
         "rows.video_ids in store.json differ"),
        (lambda m: (m["rows"]["labels"].__setitem__(0, 1), m.__setitem__("rows_sha256", __import__(
            "gesturebench.features.meta", fromlist=["x"]).rows_checksums(m["rows"]))),
         "do not match the manifest hash recorded at extraction"),
        (lambda m: m["settings"]["sampler"].__setitem__("num_frames", 16), "do not match its cache key"),
    ],
)
def test_edited_rows_are_refused_naming_what_differs(fake_store, capsys, edit, what):
    _, st, _ = fake_store
    edit_meta(st, edit)
    with pytest.raises(StoreError, match=what):
        FeatureStore(st).load()
    assert main(["knn", "--train", str(st), "--test", str(st), "--allow-overlap", "--out", str(st.parent / "r")]) == 1
    line = one_error_line(capsys)
    assert line.startswith(f"error: feature store {st}: ") and what in line


def test_flipped_shard_byte_is_refused(fake_store):
    _, st, _ = fake_store
    shard = st / "shard-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[-3] ^= 0x01
    shard.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"shard-00002.safetensors fails its SHA-256 check \(damaged or edited"):
        FeatureStore(st).load()


# ---- 3. malformed store.json: one line in knn, features info and extract ----------------------------


MALFORMED = {
    "wrong type": (lambda m: m.__setitem__("num_videos", "6"), "num_videos must be an integer >= 1; got '6'"),
    "missing key": (lambda m: m.pop("rows"), "rows must be an object; got NoneType"),
    "short list": (lambda m: m["rows"]["labels"].pop(), "rows.labels has 5 entries for 6 videos"),
    "label type": (lambda m: m["rows"]["labels"].__setitem__(2, "x"), "rows.labels must be a list of integers"),
    "bad shards": (lambda m: m.__setitem__("shards", [1]), "shards must list 1 {file, sha256} entries"),
    "not an object": (None, "expected a JSON object; got list"),
}


@pytest.mark.parametrize("case", list(MALFORMED) + ["directory"])
def test_malformed_store_json_is_one_line_everywhere(clips, pixel_store, tmp_path, capsys, case):
    st = copy_store(pixel_store, tmp_path / "px")
    if case == "directory":
        (st / "store.json").unlink()
        (st / "store.json").mkdir()
        want = f"feature store {st}: {st / 'store.json'} is a directory, not a metadata file"
    elif case == "not an object":
        meta = json.loads((st / "store.json").read_text())
        (st / "store.json").write_text(json.dumps([meta]))
        want = f"feature store {st}: {MALFORMED[case][1]}"
    else:
        fn, what = MALFORMED[case]
        if case == "missing key":
            pass
        edit_meta(st, fn)
        want = f"feature store {st}: store.json is malformed: {what}"
    if case == "not an object":
        want = f"feature store {st}: store.json is not a gesturebench-features file"
    for argv in (
        ["knn", "--train", str(st), "--test", str(pixel_store), "--out", str(tmp_path / "r")],
        ["features", "info", str(st)],
        ["extract", "--data", str(clips), "--encoder", "pixels", "--out", str(st), "--workers", "0"],
    ):
        assert main(argv) == 1, argv
        line = one_error_line(capsys)
        assert line.startswith(f"error: {want}"), (argv, line)
    if case == "directory":  # --overwrite will not delete a folder it did not write
        assert main(argv + ["--overwrite"]) == 1
        assert "is a directory; remove it yourself" in one_error_line(capsys)
    else:
        assert main(argv + ["--overwrite"]) == 0
        capsys.readouterr()
        assert np.array_equal(FeatureStore(st).load().features, FeatureStore(pixel_store).load().features)


# ---- 13. files respect the umask ------------------------------------------------------------------


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_respect_the_umask(tmp_path, umask, mode):
    m = make_dataset(tmp_path / "data", SEEDS[:2])
    old = os.umask(umask)
    try:
        run(m, tmp_path / "st")
        from gesturebench.fileio import atomic_write_text

        atomic_write_text(tmp_path / "r.json", "{}")
    finally:
        os.umask(old)
    for f in (tmp_path / "st" / "store.json", tmp_path / "st" / "shard-00000.safetensors", tmp_path / "r.json"):
        assert f.stat().st_mode & 0o777 == mode, f


# ---- 14. the cache key leaves out the package version; old stores are upgraded in place -----------


def test_new_package_version_is_a_cache_hit(fake_store, monkeypatch):
    m, st, first = fake_store
    import gesturebench

    assert FeatureStore(st).read_meta()["created_by"] == {"package_version": gesturebench.__version__}
    assert "package_version" not in FeatureStore(st).read_meta()["settings"]
    monkeypatch.setattr(gesturebench, "__version__", "99.0.0")
    rep = run(m, st)
    assert rep.cached and rep.key == first.key


def _make_format_1(st: Path) -> str:
    """Turn a format-2 store into what gesturebench wrote before (format 1, version in the key)."""
    store = FeatureStore(st)
    meta = store.read_meta()
    settings = {**meta["settings"], "format_version": 1, "package_version": "0.1.0"}
    old_key = cache_key(settings)
    for i in range(meta["num_shards"]):
        feats, rows, bad, header = store.read_shard(i)
        store.write_shard(i, old_key, int(header["start"]), int(header["stop"]), feats, rows, bad)
    for k in ("rows_sha256", "shards", "created_by"):
        meta.pop(k)
    meta.update(format_version=1, settings=settings, key=old_key)
    store.write_meta(meta)
    return old_key


def test_format_1_store_is_upgraded_in_place_without_encoding(fake_store, capsys):
    m, st, first = fake_store
    before = FeatureStore(st).load().features.copy()
    _make_format_1(st)
    assert main(["knn", "--train", str(st), "--test", str(st), "--out", str(st.parent / "r")]) == 1
    assert one_error_line(capsys) == (
        f"error: feature store {st}: format version 1 is not supported (this gesturebench reads version 2); "
        "rerun the `gesturebench extract` command that made it to upgrade it in place (nothing is re-encoded)"
    )
    enc = MeanColourEncoder()
    rep = run(m, st, encoder=enc)
    assert (rep.action, rep.computed, enc.calls) == ("migrate", 0, 0)
    assert rep.note == "upgraded store format 1 -> 2 in place (nothing re-encoded)"
    fs = FeatureStore(st).load()
    assert fs.key == first.key and np.array_equal(fs.features, before)
    assert run(m, st).cached


# ---- 15. a store grows when videos are only added ---------------------------------------------------


def test_store_grows_when_videos_are_added(tmp_path):
    full = make_dataset(tmp_path / "data", SEEDS + [21, 22, 23], bad={7: "moov atom not found"})
    # the first run saw rows 0, 2, 3, 5 (the others were added to the list later, some in the middle)
    first = full.subset([full.records[i] for i in (0, 2, 3, 5)])
    run(first, tmp_path / "st")
    enc = MeanColourEncoder()
    rep = run(full, tmp_path / "st", encoder=enc)
    assert (rep.action, rep.computed, rep.reused, enc.videos) == ("grow", 4, 4, 4)
    assert rep.note == "store grew by 5 new video(s); 4 kept from the earlier run"
    assert [b.video_id for b in rep.bad] == ["clips/v007.vid"]
    fs = FeatureStore(tmp_path / "st").load()
    assert fs.key == rep.key == cache_key(FeatureStore(tmp_path / "st").read_meta()["settings"])
    seeds = [s for i, s in enumerate(SEEDS + [21, 22, 23]) if i != 7]
    np.testing.assert_allclose(fs.features, np.stack([expected_feature(s) for s in seeds]), atol=1e-6)
    assert run(full, tmp_path / "st").cached


@pytest.mark.parametrize("change", ["removed", "relabelled", "file"])
def test_store_does_not_grow_when_videos_were_removed_or_changed(tmp_path, change):
    from dataclasses import replace

    m = make_dataset(tmp_path / "data", SEEDS)
    run(m.subset(m.records[:4]), tmp_path / "st")
    records = list(m.records)
    if change == "removed":
        records.pop(1)
        why = "manifest changed: 1 stored video(s) removed or relabelled, e.g. clips/v001.vid; a store only grows"
    elif change == "relabelled":
        records[0] = replace(records[0], label=2, class_name="Rally")
        why = "manifest changed: 1 stored video(s) removed or relabelled, e.g. clips/v000.vid"
    else:
        (tmp_path / "data" / "clips" / "v002.vid").write_text("99999")
        why = "manifest changed: some stored videos' files changed (size or modification time)"
    with pytest.raises(StoreError, match=re.escape(f"holds features made with other settings ({why}")):
        run(m.subset(records), tmp_path / "st")


# ---- 8. train/test leakage is refused (by file and by content) -------------------------------------


def test_knn_and_probe_refuse_the_same_store_as_train_and_test(pixel_store, tmp_path, capsys):
    for cmd in ("knn", "probe"):
        argv = [cmd, "--train", str(pixel_store), "--test", str(pixel_store), "--out", str(tmp_path / cmd)]
        assert main(argv) == 1
        assert one_error_line(capsys) == (
            "error: train and test share 6 of 6 test video(s) (6 by file, 6 by identical features; "
            "e.g. Advance/adv0.mp4): test accuracy would be inflated; "
            "pass --allow-overlap (allow_overlap=True) to evaluate anyway"
        )
        assert main(argv + ["--allow-overlap", "--bootstrap", "0"]) == 0
        capsys.readouterr()
    doc = json.loads(next((tmp_path / "knn").glob("*.json")).read_text())
    assert doc["settings"]["overlap_allowed"] == 6


def test_copied_videos_under_another_root_are_refused_by_content(clips, pixel_store, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(clips, copy)
    (copy / "Rally" / "ral2.mp4").unlink()
    make_video(copy / "Rally" / "new.mp4", n=10, width=32, height=24, step=17)  # one genuinely new video
    out = tmp_path / "px2"
    assert main(["extract", "--data", str(copy), "--encoder", "pixels", "--out", str(out), "--workers", "0"]) == 0
    capsys.readouterr()
    assert main(["knn", "--train", str(pixel_store), "--test", str(out), "--out", str(tmp_path / "r")]) == 1
    assert "share 5 of 6 test video(s) (0 by file, 5 by identical features; e.g. Advance/adv0.mp4)" in (
        one_error_line(capsys))


def test_fewshot_refuses_a_base_set_that_holds_test_videos(fake_store):
    from gesturebench.errors import EvaluationError
    from gesturebench.evaluators.fewshot import fewshot_curve
    from gesturebench.evaluators.fewshot import subset as fs_subset

    _, st, _ = fake_store
    fs = FeatureStore(st).load()
    test, pool = fs_subset(fs, np.arange(3)), fs_subset(fs, np.arange(3, 6))
    with pytest.raises(EvaluationError, match=re.escape("train and test share 3 of 3 test video(s) (3 by file")):
        fewshot_curve(pool, test, shots=[1], repeats=1, k=1, base=[fs])
    res = fewshot_curve(pool, test, shots=[1], repeats=1, k=1, base=[fs], allow_overlap=True)
    assert res.points[0].mean == 1.0  # the leak is real: every test video finds itself


# ---- 9. mixed extraction settings are refused, naming the fields ----------------------------------


class MeanOverTime(MeanColourEncoder):
    """Per-channel mean over all frames: any frame count, always 3 dims."""

    name = "test-mean-over-time"
    accepts_any_num_frames = True
    feature_dim = 3

    def encode(self, clips):
        return clips.mean(dim=(1, 3, 4)).float()


@pytest.mark.parametrize("change, fields", [
    (dict(num_frames=8), "sampler.num_frames; sampler.num_frames: 4 vs 8"),
    (dict(name="uniform"), "sampler.name; sampler.name: 'tsn' vs 'uniform'"),
])
def test_train_and_test_from_other_extraction_settings_are_refused(tmp_path, capsys, change, fields):
    m = make_dataset(tmp_path / "data", SEEDS)
    kw = dict(workers=0, decode_fn=fake_decode)
    extract_features(m.subset(m.records[:3]), MeanOverTime(), tmp_path / "a", SamplerConfig(num_frames=4), **kw)
    extract_features(m.subset(m.records[3:]), MeanOverTime(), tmp_path / "b",
                     SamplerConfig(**{"num_frames": 4, **change}), **kw)
    assert main(["knn", "--train", str(tmp_path / "a"), "--test", str(tmp_path / "b"), "-k", "1",
                 "--out", str(tmp_path / "r")]) == 1
    assert one_error_line(capsys) == (
        f"error: training set 1 and the test set were extracted with different settings ({fields}); "
        "extract both with the same encoder, sampler, frames and preprocessing"
    )


def test_probe_refuses_stores_from_other_samplers(clips, pixel_store, tmp_path, capsys):
    out = tmp_path / "px-mean"
    argv = ["extract", "--data", str(clips), "--encoder", "pixels", "--out", str(out), "--workers", "0"]
    assert main(argv + ["--sampler", "uniform"]) == 0
    capsys.readouterr()
    assert main(["probe", "--train", str(pixel_store), "--test", str(out), "--out", str(tmp_path / "r")]) == 1
    line = one_error_line(capsys)
    assert line.startswith("error: training set 1 and the test set were extracted with different settings (sampler.name")


# ---- 4, 5, 16. manifests: links out of the root, long names, broken links, folders, BOMs -----------


def _rocog_root(tmp_path: Path, clips: Path) -> Path:
    root = tmp_path / "rocog"
    (root / "syn" / "ground" / "Advance").mkdir(parents=True)
    (root / "annotations").mkdir()
    (root / "class_dict.json").write_text('{"0": "Advance", "1": "Rally"}')
    shutil.copy(clips / "Advance" / "adv0.mp4", root / "syn" / "ground" / "Advance" / "a.mp4")
    return root


def test_symlink_to_a_file_outside_the_root_is_refused(tmp_path, clips, capsys):
    root = _rocog_root(tmp_path, clips)
    (root / "syn" / "ground" / "Advance" / "passwd.mp4").symlink_to("/etc/passwd")
    (root / "annotations" / "syn_ground_train.txt").write_text(
        "syn/ground/Advance/a.mp4 0\nsyn/ground/Advance/passwd.mp4 0\n")
    assert main(["data", "check", str(root), "--list", "syn_ground_train.txt"]) == 1
    assert one_error_line(capsys) == (
        "error: annotations/syn_ground_train.txt:2: 'syn/ground/Advance/passwd.mp4' is a symbolic link "
        "(or under one) to /etc/passwd, outside the data root; refused (pass --follow-links to allow links "
        "out of the root)"
    )
    from gesturebench.data.manifest import load_manifest

    assert len(load_manifest(root, ["syn_ground_train.txt"], follow_links=True)) == 2


def test_class_folder_linked_outside_the_root_is_refused(tmp_path, clips, capsys):
    root = tmp_path / "folders"
    root.mkdir()
    (root / "Advance").symlink_to(clips / "Advance")  # every video of the class lives outside the root
    (root / "Rally").mkdir()
    shutil.copy(clips / "Rally" / "ral0.mp4", root / "Rally" / "r.mp4")
    assert main(["data", "check", str(root)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"error: 3 problems in the manifest of {root}"
    assert err[0] == (f"Advance/adv0.mp4: 'Advance/adv0.mp4' is a symbolic link (or under one) to "
                      f"{(clips / 'Advance' / 'adv0.mp4').resolve()}, outside the data root; refused "
                      "(pass --follow-links to allow links out of the root)")
    assert main(["extract", "--data", str(root), "--encoder", "pixels", "--out", str(tmp_path / "st"),
                 "--workers", "0"]) == 1
    capsys.readouterr()
    assert main(["data", "check", str(root), "--follow-links"]) == 0
    capsys.readouterr()


def test_links_inside_the_root_are_fine(tmp_path, clips, capsys):
    root = _rocog_root(tmp_path, clips)
    (root / "syn" / "ground" / "Advance" / "b.mp4").symlink_to("a.mp4")
    (root / "annotations" / "syn_ground_train.txt").write_text("syn/ground/Advance/a.mp4 0\nsyn/ground/Advance/b.mp4 0\n")
    assert main(["data", "check", str(root), "--list", "syn_ground_train.txt"]) == 0
    capsys.readouterr()


def test_300_character_file_name_is_one_line(tmp_path, clips, capsys):
    root = _rocog_root(tmp_path, clips)
    name = "x" * 300 + ".mp4"
    (root / "annotations" / "syn_ground_train.txt").write_text(f"syn/ground/Advance/{name} 0\n")
    assert main(["data", "check", str(root), "--list", "syn_ground_train.txt"]) == 1
    line = one_error_line(capsys)
    assert line.startswith("error: annotations/syn_ground_train.txt:1: file name too long in 'syn/ground/Advance/xxx")
    assert line.endswith("a name of 304 bytes (file systems allow 255)")
    table = root / "t.csv"
    table.write_text(f"path,label\nsyn/ground/Advance/{name},0\n")
    assert main(["data", "check", str(root), "--table", str(table)]) == 1
    assert "a name of 304 bytes" in one_error_line(capsys)
    assert main(["knn", "--train", str(root), "--test", str(root), "--out", str(tmp_path / ("y" * 300))]) == 1
    assert "file name too long" in one_error_line(capsys)


def test_broken_symlink_in_the_folder_layout_is_listed(tmp_path, clips, capsys):
    root = tmp_path / "folders"
    shutil.copytree(clips, root)
    (root / "Rally" / "gone.mp4").symlink_to(tmp_path / "nowhere.mp4")
    assert main(["data", "check", str(root)]) == 1
    assert one_error_line(capsys) == (
        f"error: Rally/gone.mp4: broken symbolic link 'Rally/gone.mp4': its target "
        f"'{tmp_path / 'nowhere.mp4'}' does not exist"
    )


def test_directory_listed_in_a_csv_is_called_a_directory(tmp_path, clips, capsys):
    root = tmp_path / "folders"
    shutil.copytree(clips, root)
    (root / "Advance" / "folder.mp4").mkdir()
    (root / "t.csv").write_text("path,label\nAdvance/adv0.mp4,Advance\nAdvance/folder.mp4,Advance\n")
    assert main(["data", "check", str(root), "--table", str(root / "t.csv")]) == 1
    assert one_error_line(capsys) == "error: t.csv:3: 'Advance/folder.mp4' is a directory, not a video file"


@pytest.mark.parametrize("kind", ["list", "csv", "jsonl", "class_dict"])
def test_byte_order_mark_is_accepted(tmp_path, clips, capsys, kind):
    from gesturebench.data.manifest import load_manifest, load_table

    root = _rocog_root(tmp_path, clips)
    bom = "\ufeff"
    if kind == "class_dict":
        (root / "class_dict.json").write_text(bom + '{"0": "Advance", "1": "Rally"}', encoding="utf-8")
    if kind in ("list", "class_dict"):
        (root / "annotations" / "syn_ground_train.txt").write_text(bom + "syn/ground/Advance/a.mp4 0\n",
                                                                   encoding="utf-8")
        m = load_manifest(root, ["syn_ground_train.txt"])
    elif kind == "csv":
        (root / "t.csv").write_text(bom + "path,label\nsyn/ground/Advance/a.mp4,0\n", encoding="utf-8")
        m = load_table(root / "t.csv")
    else:
        (root / "t.jsonl").write_text(bom + '{"path": "syn/ground/Advance/a.mp4", "label": 0}\n', encoding="utf-8")
        m = load_table(root / "t.jsonl")
    assert [r.path for r in m.records] == ["syn/ground/Advance/a.mp4"] and m.class_names[0] == "Advance"


def _corrupt_packet(path: Path, index: int) -> None:
    import av

    with av.open(str(path)) as c:
        packets = [(p.pos, p.size) for p in c.demux(c.streams.video[0]) if p.size]
    pos, size = packets[index]
    data = bytearray(path.read_bytes())
    for i in range(pos + 2, pos + size):
        data[i] = 0 if i % 3 == 0 else data[i] ^ 0xFF
    path.write_bytes(bytes(data))


def test_video_with_one_corrupt_frame_that_is_not_sampled_is_used_and_said_so(tmp_path, capsys):
    from gesturebench.data.decode import decode_clip
    from gesturebench.errors import DecodeError

    root = tmp_path / "d"
    (root / "Advance").mkdir(parents=True)
    (root / "Rally").mkdir()
    clean = make_video(tmp_path / "clean.mp4", n=30, width=32, height=24, gop=5)
    for name in ("Advance/a.mp4", "Rally/r.mp4"):
        shutil.copy(clean, root / name)
    _corrupt_packet(root / "Advance" / "a.mp4", 14)  # TSN-8 over 30 frames samples 1, 5, 9, 13, 16, ...
    tsn = SamplerConfig(num_frames=8)
    assert np.array_equal(decode_clip(root / "Advance" / "a.mp4", tsn), decode_clip(clean, tsn))
    with pytest.raises(DecodeError, match="corrupt data at frame 14, one of the sampled frames"):
        decode_clip(root / "Advance" / "a.mp4", SamplerConfig(num_frames=30, name="uniform"))
    assert main(["extract", "--data", str(root), "--encoder", "pixels", "--out", str(tmp_path / "st"),
                 "--workers", "0"]) == 0
    out = capsys.readouterr()
    assert "extracted 2/2 videos" in out.out
    assert "used 1 video(s) despite decoder warnings:" in out.err
    assert "Advance/a.mp4: 1 corrupt frame(s) (14) skipped; the 8 sampled frames decode and are used" in (
        " ".join(out.err.split()))


# ---- 6. bad output paths: one line in every command that writes -----------------------------------


def test_output_under_a_regular_file_is_one_line_everywhere(clips, pixel_store, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    bad = str(afile / "x")
    results = tmp_path / "results"
    assert main(["knn", "--train", str(pixel_store), "--test", str(pixel_store), "--allow-overlap",
                 "--bootstrap", "0", "--out", str(results)]) == 0
    capsys.readouterr()
    cases = {
        "extract": ["extract", "--data", str(clips), "--encoder", "pixels", "--out", bad, "--workers", "0"],
        "knn": ["knn", "--train", str(pixel_store), "--test", str(pixel_store), "--allow-overlap", "--out", bad],
        "report": ["report", str(results), "--out", bad],
        "synth": ["synth", "--out", bad, "--per-class", "1", "--size", "32", "--frames", "8"],
        "bench": ["bench", "--encoder", "pixels", "--out", bad, "--batch-sizes", "1", "--budget", "0.1"],
        "demo": ["demo", "--out", bad, "--per-class-synthetic", "1", "--per-class-target", "2"],
    }
    for name, argv in cases.items():
        assert main(argv) == 1, name
        line = one_error_line(capsys)
        assert f"{afile} is a regular file, not a folder" in line, (name, line)


def test_existing_folder_where_a_file_is_wanted_is_one_line(pixel_store, tmp_path, capsys):
    (tmp_path / "r.json").mkdir()
    argv = ["knn", "--train", str(pixel_store), "--test", str(pixel_store), "--allow-overlap",
            "--out", str(tmp_path / "r.json")]
    assert main(argv) == 1
    assert one_error_line(capsys) == f"error: --out {tmp_path / 'r.json'} is a folder; give a file path, or remove the folder"


def test_os_error_at_the_cli_boundary_names_the_path(tmp_path, capsys, monkeypatch):
    from gesturebench.fileio import describe_os_error

    (tmp_path / "f").write_text("")
    try:
        (tmp_path / "f" / "x").mkdir(parents=True)
    except OSError as exc:
        assert describe_os_error(exc) == f"cannot use {tmp_path / 'f' / 'x'}: {tmp_path / 'f'} is a regular file, not a folder"
    import errno

    exc = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "big.bin"))
    assert describe_os_error(exc) == f"no space left on the device while writing {tmp_path / 'big.bin'}"

    def boom(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", "/root/secret")

    import gesturebench.report as report_pkg

    monkeypatch.setattr(report_pkg, "write_report", boom)
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "rep")]) == 1
    assert one_error_line(capsys) == "error: permission denied: /root/secret"


# ---- 7. resource bounds ------------------------------------------------------------------------------


def test_huge_frame_count_is_refused_before_anything_is_written(clips, tmp_path, capsys):
    out = tmp_path / "st"
    assert main(["extract", "--data", str(clips), "--encoder", "pixels", "--out", str(out), "--workers", "0",
                 "--frames", "100000"]) == 1
    assert one_error_line(capsys) == (
        "error: --frames 100000 x 1 clip(s) = 100000 frames per video is above the limit of 1024; "
        "the largest encoder preset takes 64"
    )
    assert not out.exists()


def test_memory_estimate_refuses_a_huge_frame_size(clips, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GESTUREBENCH_MEMORY_LIMIT", "8G")
    assert main(["extract", "--data", str(clips), "--encoder", "pixels", "--out", str(tmp_path / "st"),
                 "--workers", "0", "--encoder-opt", "size=4096"]) == 1
    assert one_error_line(capsys) == (
        "error: extraction would need at least 45.0 GiB of memory (8 frames x 4096x4096 px x 3 channels per "
        "video, batch 8, 16 videos in flight, float32 copies) but the limit is 8.0 GiB "
        "(GESTUREBENCH_MEMORY_LIMIT); lower --batch-size, --frames or the encoder's size"
    )
    monkeypatch.delenv("GESTUREBENCH_MEMORY_LIMIT")
    from gesturebench.features.budget import memory_limit

    limit, where = memory_limit()
    assert where == "available RAM" and limit > 0


def test_huge_bootstrap_is_refused_at_once(pixel_store, tmp_path, capsys):
    assert main(["knn", "--train", str(pixel_store), "--test", str(pixel_store), "--allow-overlap",
                 "--bootstrap", "1000000000", "--out", str(tmp_path / "r")]) == 1
    assert one_error_line(capsys) == (
        "error: --bootstrap 1000000000 is above the limit of 100000 resamples "
        "(1000 gives a stable 95% interval; the cost grows with resamples x test videos)"
    )


# ---- 10. bad prompt files ----------------------------------------------------------------------------


@pytest.mark.parametrize("content, want", [
    (b"classes: {Advance: [a, b]\n  oops: : :\n", "not valid YAML at line 2, column 3: expected ',' or '}'"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "is not UTF-8 text (byte 0: b'\\x89')"),
    (b"- just\n- a list\n", "expected a mapping 'classes: {name: [prompts]}'"),
])
def test_bad_prompt_files_are_one_line(tmp_path, content, want):
    from gesturebench.errors import ConfigError
    from gesturebench.evaluators.zeroshot import load_prompts

    (tmp_path / "p.yaml").write_bytes(content)
    with pytest.raises(ConfigError, match=re.escape(want)):
        load_prompts(tmp_path / "p.yaml")


def test_bad_prompt_file_through_the_cli(clips, tmp_path, capsys):
    st = tmp_path / "clip"
    assert main(["extract", "--data", str(clips), "--encoder", "test-tiny-clip", "--out", str(st), "--workers", "0"]) == 0
    (tmp_path / "p.yaml").write_bytes(b"classes: [unclosed\n")
    argv = ["zeroshot", "--test", str(st), "--prompts", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "r")]
    capsys.readouterr()
    assert main(argv) == 1
    assert one_error_line(capsys).startswith(f"error: {tmp_path / 'p.yaml'}: not valid YAML at line 2, column 1")
    (tmp_path / "p.yaml").write_text("classes:\n  Advance: [a person steps forward]\n  Rally: [a person waves]\n")
    assert main(argv + ["--bootstrap", "0"]) == 0


# ---- 11. weights -------------------------------------------------------------------------------------


def test_text_file_named_pth_is_one_line(tmp_path, capsys):
    (tmp_path / "w.pth").write_text("these are not weights\n")
    from gesturebench.encoders.weights import load_state_dict
    from gesturebench.errors import WeightsError

    with pytest.raises(WeightsError, match=re.escape(
        f"cannot read weight file {tmp_path / 'w.pth'}: not a PyTorch checkpoint (")):
        load_state_dict(tmp_path / "w.pth")


def test_pickled_pytorch_model_bin_in_a_transformers_folder_is_one_line(tmp_path):
    transformers = pytest.importorskip("transformers")
    import pickle

    from gesturebench.encoders import create_encoder
    from gesturebench.errors import WeightsError

    cfg = transformers.VideoMAEConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2, num_labels=3,
                                      hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                      intermediate_size=64)
    d = tmp_path / "hf"
    transformers.VideoMAEForVideoClassification(cfg).save_pretrained(d)
    (d / "model.safetensors").unlink()
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (d / "pytorch_model.bin").write_bytes(pickle.dumps({"w": Evil()}, protocol=2))
    with pytest.raises(WeightsError, match=re.escape(
        f"videomae-b16-k400-hf: refusing to load the pickle in {d}: it needs a Python object outside the tensor "
        "allowlist, and arbitrary pickles are never executed")):
        create_encoder("videomae-b16-k400-hf", weights=d, device="cpu")
    assert not marker.exists()


def test_nan_weights_are_refused_before_anything_is_written(clips, tmp_path, capsys):
    import torch
    from safetensors.torch import save_file

    from gesturebench.encoders import create_encoder

    enc = create_encoder("test-tiny-vit", device="cpu")
    sd = {k: torch.full_like(v, float("nan")) for k, v in enc.model.state_dict().items()}
    save_file(sd, str(tmp_path / "nan.safetensors"))
    out = tmp_path / "st"
    assert main(["extract", "--data", str(clips), "--encoder", "test-tiny-vit", "--weights",
                 str(tmp_path / "nan.safetensors"), "--out", str(out), "--workers", "0"]) == 1
    line = one_error_line(capsys)
    assert line.startswith("error: encoder 'test-tiny-vit' produced non-finite features (NaN or inf) for 6 "
                           "video(s), first Advance/adv0.mp4; nothing was written for them")
    assert not list(out.glob("shard-*")) and FeatureStore(out).read_meta()["status"] == "partial"
