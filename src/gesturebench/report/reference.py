"""The study's reference numbers, declared in a config or a YAML file, shown beside ours.

Shape (top-1 %, as the paper reports them)::

    name: Reddy et al. 2024 (arXiv 2410.02152)
    note: approximate; two summaries of the paper disagree on some real-train values
    knn:                       # task
      umt-b16-k710:            # encoder preset as it appears in result files
        synthetic: 18.2        # training source (a study-table column)
        real: 31.2
    zeroshot:
      viclip-b16-internvid10m-flt:
        zero-shot (original): 25.3
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError


def load_reference(source: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """Validated reference mapping from a mapping or a YAML file."""
    if isinstance(source, (str, Path)):
        import yaml

        path = Path(source)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"reference file not found: {path}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
        where = str(path)
    else:
        data, where = source, "reference"
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: must be a mapping of name, note and task -> encoder -> column -> %")
    out: dict[str, Any] = {"name": str(data.get("name", "reference")), "note": str(data.get("note", ""))}
    for task, table in data.items():
        if task in ("name", "note"):
            continue
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: {task} must map encoder -> column -> %; got {table!r}")
        for enc, cols in table.items():
            if not isinstance(cols, Mapping):
                raise ConfigError(f"{where}: {task}.{enc} must map column -> %; got {cols!r}")
            for col, v in cols.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 100:
                    raise ConfigError(f"{where}: {task}.{enc}.{col} must be a percentage in [0, 100]; got {v!r}")
        out[str(task)] = {str(e): {str(c): float(v) for c, v in cols.items()} for e, cols in table.items()}
    return out


def reference_value(reference: Mapping[str, Any] | None, task: str, encoder: str, column: str) -> float | None:
    if not reference:
        return None
    return reference.get(task, {}).get(encoder, {}).get(column)
