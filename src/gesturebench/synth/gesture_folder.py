"""A folder of gesture YAMLs as a user's project: start one from the built-ins, check it.

``init_gesture_folder(dir)`` copies the built-in seven (RoCoG-v2's signals)
as a starting point. ``check_gesture_folder(dir)`` validates every file and
the folder as a whole (labels 0..N-1, unique names) and reports *all*
problems, each as ``file:line: field ...``, instead of stopping at the first.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from .gestures import GestureSpec, GestureSpecError, builtin_dir, parse_gesture


@dataclass
class GestureCheck:
    """What :func:`check_gesture_folder` found: the valid specs (sorted by label) and every problem."""

    folder: Path
    specs: list[GestureSpec] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.specs)


def init_gesture_folder(folder: str | os.PathLike[str], force: bool = False) -> list[Path]:
    """Copy the built-in gesture YAMLs into ``folder``; refuses to overwrite files unless ``force``."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder} exists and is not a folder")
    sources = sorted(builtin_dir().glob("*.yaml"))
    clash = [folder / p.name for p in sources if (folder / p.name).exists()]
    if clash and not force:
        raise ConfigError(f"{clash[0]} already exists ({len(clash)} of the {len(sources)} built-in files do); "
                          "use --force to overwrite them or choose another folder")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sources:
        dst = folder / src.name
        shutil.copyfile(src, dst)
        written.append(dst)
    return written


def check_gesture_folder(folder: str | os.PathLike[str]) -> GestureCheck:
    """Validate every ``*.yaml`` of ``folder`` and the set as a whole; never raises on bad files."""
    import yaml

    from .yamllines import line_of, load_yaml_with_lines, yaml_error_line

    folder = Path(folder)
    result = GestureCheck(folder)
    if not folder.is_dir():
        result.problems.append(f"{folder}: not a folder")
        return result
    files = sorted(folder.glob("*.yaml"))
    result.files = len(files)
    if not files:
        result.problems.append(f"{folder}: no *.yaml gesture files")
        return result
    label_lines: dict[str, int | None] = {}
    for path in files:
        try:
            data = load_yaml_with_lines(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            result.problems.append(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}")
            continue
        except yaml.YAMLError as exc:
            line = yaml_error_line(exc)
            result.problems.append(f"{path}{f':{line}' if line else ''}: not valid YAML: {str(exc).splitlines()[0]}")
            continue
        try:
            spec = parse_gesture(data, str(path))
        except GestureSpecError as exc:
            result.problems.append(str(exc))
            continue
        result.specs.append(spec)
        label_lines[spec.path] = line_of(data, "label")
    result.specs.sort(key=lambda s: (s.label, s.path))

    def at(spec: GestureSpec) -> str:
        line = label_lines.get(spec.path)
        return f"{spec.path}:{line}" if line else spec.path

    by_label: dict[int, list[GestureSpec]] = {}
    by_name: dict[str, list[GestureSpec]] = {}
    for s in result.specs:
        by_label.setdefault(s.label, []).append(s)
        by_name.setdefault(s.name, []).append(s)
    for label, group in sorted(by_label.items()):
        for s in group[1:]:
            result.problems.append(f"{at(s)}: label {label} is also used by {group[0].path}; labels must be unique")
    for name, group in sorted(by_name.items()):
        for s in group[1:]:
            result.problems.append(f"{s.path}: name {name!r} is also used by {group[0].path}; names must be unique")
    if len(files) == len(result.specs):  # only meaningful when every file parsed
        n = len(result.specs)
        for s in result.specs:
            if s.label >= n:
                result.problems.append(f"{at(s)}: label {s.label} is out of range; the {n} gestures of this folder "
                                       f"need labels 0..{n - 1} exactly once each")
    return result
