"""The lazy encoder registry, as seen through the basic presets."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gesturebench.cli import main
from gesturebench.encoders import EncoderEntry, InputSpec, get_entry, list_encoders, register, registry
from gesturebench.errors import EncoderError

BASIC = ("motion", "pixels", "test-tiny-clip", "test-tiny-vit")


@pytest.fixture
def scratch_registry(monkeypatch):
    """A private copy of the registry so entries added by a test do not leak."""
    registry._ensure_loaded()
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def test_importing_and_listing_does_not_import_torch_or_cv2():
    code = (
        "import sys\n"
        "import gesturebench.encoders as e\n"
        "names = [x.name for x in e.list_encoders()]\n"
        "assert 'pixels' in names and 'motion' in names, names\n"
        "e.get_entry('test-tiny-vit')\n"
        "heavy = sorted(m for m in ('torch', 'cv2', 'transformers', 'numpy') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # numpy is cheap and allowed; model libraries are not.
    assert [m for m in out.stdout.strip().split(",") if m and m != "numpy"] == []


def test_wildcards_and_test_only_filter():
    assert [e.name for e in list_encoders("test-tiny-*")] == ["test-tiny-clip", "test-tiny-vit"]
    assert [e.name for e in list_encoders("test-tiny-*", include_test=False)] == []
    assert [e.name for e in list_encoders("[mp]*")] == ["motion", "pixels", "pose"]
    assert [e.name for e in list_encoders("pix?ls")] == ["pixels"]
    assert list_encoders("no-such-*") == []
    names = [e.name for e in list_encoders()]
    assert names == sorted(names) and set(BASIC) <= set(names)


def test_duplicate_name_is_refused(scratch_registry):
    entry = EncoderEntry("pixels", "somewhere.else:create", InputSpec(), 3, "other")
    with pytest.raises(EncoderError) as info:
        register(entry)
    assert str(info.value) == (
        "encoder name 'pixels' is already registered (gesturebench.encoders.basic.pixels:create)"
    )
    assert get_entry("pixels").target == "gesturebench.encoders.basic.pixels:create"


def test_new_entry_registers_and_lists(scratch_registry):
    register(EncoderEntry("zz-extra", "gesturebench.encoders.basic.pixels:create", InputSpec(size=8), 3, "other"))
    assert [e.name for e in list_encoders("zz-*")] == ["zz-extra"]


def test_unknown_name_suggests_close_matches():
    with pytest.raises(EncoderError) as info:
        get_entry("pixel")
    assert str(info.value) == "unknown encoder 'pixel'; did you mean pixels? (see `gesturebench encoders list`)"
    with pytest.raises(EncoderError) as info:
        get_entry("qqqqqqqq")
    assert str(info.value) == "unknown encoder 'qqqqqqqq' (see `gesturebench encoders list`)"


def test_target_must_name_module_and_attribute():
    with pytest.raises(EncoderError, match=r"^encoder 'x': target must be 'module:attr'; got 'nocolon'$"):
        EncoderEntry("x", "nocolon", InputSpec(), 1, "other")


def test_basic_entries_are_consistent():
    for name in BASIC:
        e = get_entry(name)
        assert e.family == "basic" and not e.needs_weights() and e.local_weights() is None
    assert get_entry("pixels").feature_dim == 8 * 3 * 16 * 16
    assert get_entry("motion").feature_dim == 2 * 4 * 4 * (9 + 3 * 8) + 8 * 8 == 1120
    assert get_entry("test-tiny-clip").supports_text and not get_entry("test-tiny-vit").supports_text
    assert get_entry("test-tiny-vit").test_only and not get_entry("motion").test_only


@pytest.fixture
def wide_console(monkeypatch):
    from gesturebench.cli import common

    monkeypatch.setattr(common.console, "width", 220)


def test_cli_list_hides_test_encoders_unless_all(capsys, wide_console):
    assert main(["encoders", "list", "t*-tiny-*"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: no encoder matches 't*-tiny-*' (2 test-only encoder(s) match: add --all); "
        "see `gesturebench encoders list --all`"
    )
    assert main(["encoders", "list", "t*-tiny-*", "--all"]) == 0
    out = capsys.readouterr().out
    assert "test-tiny-vit" in out and "test-tiny-clip" in out and "8x32px t2 CTHW" in out


def test_cli_list_plain_word_matches_substring(capsys, wide_console):
    assert main(["encoders", "list", "otio"]) == 0
    out = capsys.readouterr().out
    assert "motion" in out and "1120" in out and "16x112px t1 TCHW" in out and "not needed" in out
    assert "pixels" not in out


def test_cli_list_fits_80_columns_with_full_urls(capsys, monkeypatch):
    from gesturebench.cli import common
    from gesturebench.encoders import list_encoders

    monkeypatch.setattr(common.console, "width", 80)
    assert main(["encoders", "list", "umt-b16*"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines and max(len(line) for line in lines) <= 80
    flat = "".join(line.strip() for line in lines)  # folded URLs join back exactly
    for e in list_encoders("umt-b16*"):
        assert e.source and e.source.replace(" ", "") in flat
        assert e.name in [line.split()[0] for line in lines if not line.startswith(" ")]


def test_cli_list_json(capsys):
    import json

    assert main(["encoders", "list", "umt-b16-k710", "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    by = {d["name"]: d for d in docs}
    assert by["umt-b16-k710"]["source"] == (
        "https://pjlab-gvm-data.oss-cn-shanghai.aliyuncs.com/umt/single_modality/b16_ptk710_f8_res224.pth")
    assert by["umt-b16-k710"]["weights"]["needed"] is True and by["umt-b16-k710"]["feature_dim"] == 768
