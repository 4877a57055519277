"""A small two-gesture world shared by the recogniser tests (built once per session, ~6 s).

Two gestures written for the docs' walkthrough (tests/fixtures/gestures-new): WaveBoth (both
arms overhead) and SwingLow (one arm low). With `motion` features they are told apart
reliably: every held-out clip the tests pick is voted 3/3 for its class.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

GESTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gestures-new"


@dataclass(frozen=True)
class World:
    root: Path
    train_store: Path
    model: Path
    held_out: dict[str, list[Path]]  # class name -> held-out videos (seed 1), never in the index


def _render(out: Path, per_class: int, seed: int) -> None:
    from gesturebench.synth.writer import generate_dataset

    generate_dataset(out, per_class, ["ground"], seed, size=128, frames=48, workers=0,
                     splits="train=1.0", gesture_dir=GESTURES)


def _extract(data: Path, out: Path) -> None:
    from gesturebench.data.manifest import load_manifest
    from gesturebench.data.sampling import SamplerConfig
    from gesturebench.encoders.registry import create_encoder
    from gesturebench.features.extract import extract_features

    enc = create_encoder("motion", device="cpu")
    extract_features(load_manifest(data), enc, out, SamplerConfig(num_frames=enc.spec.num_frames), workers=0)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from gesturebench.api.recognise import fit_recogniser

    root = tmp_path_factory.mktemp("recognise-world")
    _render(root / "train", 10, seed=0)
    _render(root / "test", 2, seed=1)
    _extract(root / "train", root / "store-train")
    fit_recogniser([root / "store-train"], root / "model")
    held = {
        name: sorted((root / "test" / "syn" / "ground" / name).glob("*.mp4")) for name in ("WaveBoth", "SwingLow")
    }
    return World(root, root / "store-train", root / "model", held)
