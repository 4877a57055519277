"""Tiny VideoMAE port through decode -> extract -> store -> k-NN (helpers shared with the UMT test)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("umt_pipeline", Path(__file__).with_name("test_umt_pipeline.py"))
umt_pipeline = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(umt_pipeline)


def test_videomae_tiny_extract_to_knn(tmp_path):
    umt_pipeline.run("videomae-test-tiny", 2, tmp_path)
