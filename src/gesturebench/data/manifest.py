"""Manifest readers: RoCoG-v2 annotation lists, folder-per-class trees, CSV/JSONL tables.

Every reader validates the whole input and collects *every* problem before
failing, then raises one :class:`ManifestError` whose ``problems`` each carry
``file:line`` and a message (see docs/data.md for the list). Paths in a
manifest are relative to its root; an absolute path or one with a ``..``
component is always refused, never resolved. A listed file that is (or sits
under) a symbolic link resolving outside the root is refused too, unless the
caller passes ``follow_links=True`` (``--follow-links``): a link to
``/etc/passwd`` must not reach the decoder.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ManifestError, Problem
from ..fileio import atomic_write_text
from ..types import DOMAIN_DIRS, DOMAINS, ROCOG_CLASSES, SPLITS, VIEWS, Manifest, VideoRecord

CLASS_DICT = "class_dict.json"
ANNOTATIONS = "annotations"
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".gif", ".m4v", ".mpg", ".mpeg")
TABLE_EXTENSIONS = (".csv", ".jsonl")
#: RoCoG-v2 list names, plus our ``tgt_`` prefix: {syn,real,tgt}_{ground,air}_{train,val,test}[_tsonly].txt
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_INDEX = re.compile(r"\d+")
#: longest file or folder name most file systems allow (bytes)
NAME_MAX = 255
LIST_NAME = re.compile(r"^(syn|real|tgt)_(ground|air)_(train|val|test)(_tsonly)?\.txt$")

__all__ = [
    "CLASS_DICT",
    "load_folder",
    "load_manifest",
    "load_rocog",
    "load_table",
    "read_class_dict",
    "split_of_list",
    "write_annotation_list",
]


# ---- shared validation -------------------------------------------------------


@dataclass
class _Collector:
    """Accumulates records and problems; raises once at the end."""

    root: Path
    class_names: tuple[str, ...]
    check_files: bool = True
    follow_links: bool = False
    records: list[VideoRecord] = field(default_factory=list)
    _real_root: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    seen: dict[str, str] = field(default_factory=dict)  # path -> where first listed

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def check_path(self, where: str, raw: str) -> str | None:
        """Validate a root-relative path; returns it normalised (POSIX) or None."""
        if raw.startswith(("/", "\\")) or _DRIVE.match(raw):
            self.problem(where, f"absolute path {raw!r} refused: paths must be relative to the root")
            return None
        # Plain string work, not pathlib: this runs once per line of 44.5K-line lists.
        parts = [x for x in raw.replace("\\", "/").split("/") if x not in ("", ".")]
        if ".." in parts:
            self.problem(where, f"path {raw!r} refused: '..' would escape the root")
            return None
        longest = max((len(x.encode("utf-8", "surrogateescape")) for x in parts), default=0)
        if longest > NAME_MAX:
            shown = raw if len(raw) <= 60 else raw[:57] + "..."
            self.problem(where, f"file name too long in {shown!r}: a name of {longest} bytes (file systems allow {NAME_MAX})")
            return None
        return "/".join(parts) or None

    def label_of(self, where: str, raw: object) -> int | None:
        """An int index or a class name -> index; problem if unknown."""
        n = len(self.class_names)
        if isinstance(raw, bool):
            raw = str(raw)
        if isinstance(raw, int):
            value = raw
        else:
            text = str(raw).strip()
            if re.fullmatch(r"[+-]?\d+", text):
                value = int(text)
            elif text in self.class_names:
                return self.class_names.index(text)
            else:
                self.problem(where, f"unknown label {text!r}: allowed are 0-{n - 1} or {', '.join(self.class_names)}")
                return None
        if not 0 <= value < n:
            self.problem(where, f"unknown label {value}: allowed are 0-{n - 1} ({n} classes)")
            return None
        return value

    def check_class_folder(self, where: str, path: str, label: int, folder: str | None) -> bool:
        if folder is not None and folder in self.class_names and folder != self.class_names[label]:
            self.problem(
                where,
                f"label {label} ({self.class_names[label]}) disagrees with class folder {folder!r} of {path!r}",
            )
            return False
        return True

    def add(self, where: str, path: str, label: int, domain: str, view: str, split: str) -> None:
        first = self.seen.get(path)
        if first is not None:
            self.problem(where, f"duplicate entry {path!r} (first listed at {first})")
            return
        self.seen[path] = where
        if not self._file_ok(where, path):
            return
        self.records.append(VideoRecord(path, label, self.class_names[label], domain, view, split))

    def _outside_root(self, full: Path) -> Path | None:
        """Where ``full`` really is, if a symbolic link takes it outside the root (else None)."""
        if self._real_root is None:
            self._real_root = Path(os.path.realpath(self.root))
        real = Path(os.path.realpath(full))
        return None if real == self._real_root or self._real_root in real.parents else real

    def _file_ok(self, where: str, path: str) -> bool:
        """The listed file exists (when checked), is a file, and stays inside the root."""
        full = self.root / path
        try:
            if not self.follow_links and (full.exists() or full.is_symlink()):
                real = self._outside_root(full)
                if real is not None:
                    self.problem(
                        where, f"{path!r} is a symbolic link (or under one) to {real}, outside the data root; "
                        "refused (pass --follow-links to allow links out of the root)"
                    )
                    return False
            if not self.check_files:
                return True
            if full.is_dir():
                self.problem(where, f"{path!r} is a directory, not a video file")
            elif full.is_file():
                return True
            elif full.is_symlink():
                self.problem(where, f"broken symbolic link {path!r}: its target {os.readlink(full)!r} does not exist")
            else:
                self.problem(where, f"missing file {path!r}")
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                self.problem(where, f"file name too long: {path[:60]!r}... ({len(path)} characters)")
            else:
                self.problem(where, f"cannot check {path!r}: {exc.strerror}")
        return False

    def finish(self, sources: Sequence[str], where_empty: str) -> Manifest:
        if not self.records and not self.problems:
            self.problem(where_empty, "empty manifest: no videos listed")
        if self.problems:
            raise ManifestError(sorted(self.problems, key=_where_key))
        return Manifest(self.root, self.class_names, tuple(self.records), tuple(sources))


def _where_key(problem: Problem) -> tuple[str, int]:
    """Sort problems by file, then line number (file-level problems first)."""
    file, _, line = problem.where.rpartition(":")
    if file and line.isdigit():
        return (file, int(line))
    return (problem.where, 0)


def _domain_view(path: str) -> tuple[str | None, str | None, str | None]:
    """(domain, view, class folder) from ``syn|real|tgt/ground|air/<Class>/...``."""
    parts = path.split("/")
    domain = DOMAIN_DIRS.get(parts[0]) if len(parts) > 1 else None
    view = parts[1] if len(parts) > 2 and parts[1] in VIEWS else None
    folder = parts[2] if domain and view and len(parts) > 3 else None
    return domain, view, folder


def _shown(path: Path, root: Path) -> str:
    """How a file is named in problems: relative to the root when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


# ---- class_dict.json -----------------------------------------------------------


def read_class_dict(root: str | os.PathLike[str]) -> tuple[str, ...]:
    """Class names from ``ROOT/class_dict.json`` (``{"0": "Advance", ...}``), in index order."""
    path = Path(root) / CLASS_DICT
    where = _shown(path, Path(root))
    if not path.is_file():
        raise ManifestError([Problem(where, "class_dict.json not found")])
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError([Problem(where, f"not valid JSON: {exc}")]) from exc
    if not isinstance(data, dict) or not data:
        raise ManifestError([Problem(where, 'expected a JSON object like {"0": "Advance", "1": "Attention"}')])
    problems = []
    names: dict[int, str] = {}
    for key, name in data.items():
        if not re.fullmatch(r"\d+", str(key)):
            problems.append(Problem(where, f"key {key!r} is not a class index (0, 1, ...)"))
        elif not isinstance(name, str) or not name.strip() or "/" in name:
            problems.append(Problem(where, f"class {key} has an invalid name {name!r}"))
        else:
            names[int(key)] = name
    if not problems and sorted(names) != list(range(len(names))):
        problems.append(Problem(where, f"class indices must be 0-{len(names) - 1} without gaps; got {sorted(names)}"))
    dupes = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
    if dupes:
        problems.append(Problem(where, f"duplicate class name(s) {', '.join(dupes)}"))
    if problems:
        raise ManifestError(problems)
    return tuple(names[i] for i in range(len(names)))


# ---- RoCoG-v2 annotation lists -----------------------------------------------


def split_of_list(path: str | os.PathLike[str]) -> str:
    """Split from a list's file name: ``syn_ground_train.txt`` -> ``train``; unknown names -> ``all``."""
    name = Path(path).name
    m = LIST_NAME.match(name)
    if m:
        return m.group(3)
    for split in ("train", "val", "test"):
        if re.search(rf"(^|[_.-]){split}([_.-]|$)", name):
            return split
    return "all"


def _find_list(root: Path, given: str | os.PathLike[str]) -> Path | None:
    p = Path(given)
    for cand in (p, root / p, root / ANNOTATIONS / p):
        if cand.is_file():
            return cand
    return None


def load_rocog(
    root: str | os.PathLike[str], lists: Iterable[str | os.PathLike[str]], *, check_files: bool = True,
    follow_links: bool = False,
) -> Manifest:
    """Read RoCoG-v2 annotation lists (``relative/path.mp4 <label>`` per line) under ``root``.

    A list is found as given, under ``root``, or under ``root/annotations``.
    Domain and view come from each path (``syn/|real/|tgt/`` then
    ``ground/|air/``); the split from the list's file name.
    """
    root = Path(root)
    lists = list(lists)
    if not root.is_dir():
        raise ManifestError([Problem(str(root), "data root is not a folder")])
    classes = read_class_dict(root)
    col = _Collector(root, classes, check_files, follow_links)
    sources: list[str] = []
    if not lists:
        raise ManifestError([Problem(str(root), "no annotation list given")])
    for given in lists:
        path = _find_list(root, given)
        if path is None:
            col.problem(str(given), "annotation list not found")
            continue
        shown = _shown(path, root)
        sources.append(shown)
        split = split_of_list(path)
        try:
            text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows editors) is not data
        except IsADirectoryError:
            col.problem(shown, "annotation list is a directory, not a file")
            continue
        except (OSError, UnicodeDecodeError) as exc:
            col.problem(shown, f"cannot read annotation list: {exc}")
            continue
        lines = text.splitlines()
        if not any(line.strip() for line in lines):
            col.problem(shown, "empty manifest: no videos listed")
            continue
        for n, line in enumerate(lines, 1):
            _rocog_line(col, f"{shown}:{n}", line, split)
    return col.finish(sources, str(root))


def _rocog_line(col: _Collector, where: str, line: str, split: str) -> None:
    if not line.strip():
        col.problem(where, "blank line")
        return
    tokens = line.split()
    if len(tokens) != 2:
        col.problem(where, f"malformed line {line.strip()!r}: expected '<relative/path.mp4> <label index>'")
        return
    raw_path, raw_label = tokens
    if not _INDEX.fullmatch(raw_label):
        col.problem(where, f"malformed label {raw_label!r}: expected a class index (0, 1, ...)")
        return
    path = col.check_path(where, raw_path)
    label = col.label_of(where, int(raw_label))
    if path is None or label is None:
        return
    domain, view, folder = _domain_view(path)
    if domain is None or view is None:
        col.problem(where, f"path {path!r} must start with syn/, real/ or tgt/, then ground/ or air/")
        return
    if col.check_class_folder(where, path, label, folder):
        col.add(where, path, label, domain, view, split)


def write_annotation_list(path: str | os.PathLike[str], records: Iterable[VideoRecord | tuple[str, int]]) -> None:
    """Write ``relative/path.mp4 <label>`` lines atomically (the RoCoG-v2 list format)."""
    lines = []
    for rec in records:
        rel, label = (rec.path, rec.label) if isinstance(rec, VideoRecord) else (str(rec[0]), int(rec[1]))
        if any(c.isspace() for c in rel):
            raise ManifestError([Problem(str(path), f"path {rel!r} contains whitespace; the list format cannot hold it")])
        lines.append(f"{rel} {label}\n")
    atomic_write_text(path, "".join(lines))


# ---- folder per class --------------------------------------------------------


def load_folder(
    root: str | os.PathLike[str], *, domain: str = "synthetic", view: str = "ground", split: str = "all",
    follow_links: bool = False,
) -> Manifest:
    """Every video under ``root/<Class>/`` (or ``root/<syn|real|tgt>/<view>/<Class>/``).

    Classes come from ``root/class_dict.json`` when present (a class folder it
    does not name is a problem), else from the sorted folder names. Files that
    are not videos (by extension) are ignored.
    """
    root = Path(root)
    if not root.is_dir():
        raise ManifestError([Problem(str(root), "data root is not a folder")])
    has_dict = (root / CLASS_DICT).is_file()
    layered = any((root / d).is_dir() for d in DOMAIN_DIRS)
    class_dirs: list[tuple[Path, str, str]] = []  # (folder, domain, view)
    if layered:
        for d, dom in DOMAIN_DIRS.items():
            for v in VIEWS:
                base = root / d / v
                if base.is_dir():
                    class_dirs += [(c, dom, v) for c in sorted(base.iterdir()) if c.is_dir()]
    else:
        class_dirs = [(c, domain, view) for c in sorted(root.iterdir()) if c.is_dir() and c.name != ANNOTATIONS]
    classes = read_class_dict(root) if has_dict else tuple(sorted({c.name for c, _, _ in class_dirs}))
    col = _Collector(root, classes, check_files=False, follow_links=follow_links)
    for folder, dom, v in class_dirs:
        where = _shown(folder, root)
        if folder.name not in classes:
            col.problem(where, f"unknown class folder {folder.name!r}: class_dict.json has {', '.join(classes)}")
            continue
        label = classes.index(folder.name)
        for f in sorted(folder.rglob("*")):
            if f.suffix.lower() not in VIDEO_EXTENSIONS or f.name.startswith(".tmp-"):
                continue
            rel = f.relative_to(root).as_posix()
            if f.is_file():
                col.add(rel, rel, label, dom, v, split)
            elif f.is_symlink() and not f.exists():  # a broken link is a video the user expects: say so
                col.problem(rel, f"broken symbolic link {rel!r}: its target {os.readlink(f)!r} does not exist")
    return col.finish([str(root)], str(root))


# ---- CSV / JSONL tables --------------------------------------------------------

_DOMAIN_ALIASES = {**{d: d for d in DOMAINS}, **DOMAIN_DIRS}


def _table_classes(root: Path, labels: list[object]) -> tuple[str, ...]:
    """class_dict.json if present; else RoCoG-v2 classes unless labels name others (then sorted names)."""
    if (root / CLASS_DICT).is_file():
        return read_class_dict(root)
    names = {str(x).strip() for x in labels if not isinstance(x, int) and not re.fullmatch(r"\s*[+-]?\d+\s*", str(x))}
    names.discard("")
    if not names or names <= set(ROCOG_CLASSES):
        return ROCOG_CLASSES
    return tuple(sorted(names))


def _table_rows(path: Path, shown: str, col_problems: list[Problem]) -> list[tuple[str, dict[str, object]]]:
    """(where, row) pairs from a CSV (header row required) or JSONL file."""
    text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Excel's CSV export) is not data
    rows: list[tuple[str, dict[str, object]]] = []
    if path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            where = f"{shown}:{n}"
            if not line.strip():
                col_problems.append(Problem(where, "blank line"))
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                col_problems.append(Problem(where, f"malformed line: not valid JSON ({exc.msg})"))
                continue
            if not isinstance(obj, dict):
                col_problems.append(Problem(where, "malformed line: expected a JSON object with path and label"))
                continue
            rows.append((where, obj))
        return rows
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for n, fields in enumerate(reader, 1):
        where = f"{shown}:{n}"
        if header is None:
            header = [h.strip().lower() for h in fields]
            missing = [c for c in ("path", "label") if c not in header]
            if missing:
                col_problems.append(Problem(where, f"CSV header must name columns path and label; got {fields!r}"))
                return []
            continue
        if not any(f.strip() for f in fields):
            col_problems.append(Problem(where, "blank line"))
            continue
        if len(fields) != len(header):
            col_problems.append(Problem(where, f"malformed line: {len(fields)} fields, header has {len(header)}"))
            continue
        rows.append((where, dict(zip(header, (f.strip() for f in fields)))))
    return rows


def load_table(
    path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None, *, check_files: bool = True,
    follow_links: bool = False,
) -> Manifest:
    """A CSV (header row) or JSONL manifest with ``path,label[,domain,view,split]``.

    ``root`` defaults to the table's folder. ``label`` is a class index or a
    class name. Classes come from ``root/class_dict.json`` when present; else
    they are the RoCoG-v2 classes, unless labels name other classes: then the
    sorted set of names (integer labels index into it).
    ``domain`` (synthetic/real/target or syn/real/tgt) and ``view`` default
    to what the path prefix says, then to synthetic/ground.
    """
    path = Path(path)
    root = Path(root) if root is not None else path.parent
    shown = _shown(path, root)
    if path.suffix.lower() not in TABLE_EXTENSIONS:
        raise ManifestError([Problem(shown, f"table must end in .csv or .jsonl; got {path.suffix or 'no suffix'!r}")])
    if not path.is_file():
        raise ManifestError([Problem(shown, "manifest table not found")])
    problems: list[Problem] = []
    try:
        rows = _table_rows(path, shown, problems)
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError([Problem(shown, f"cannot read manifest table: {exc}")]) from exc
    classes = _table_classes(root, [r.get("label", "") for _, r in rows])
    col = _Collector(root, classes, check_files, follow_links)
    col.problems.extend(problems)
    for where, row in rows:
        _table_row(col, where, row)
    return col.finish([shown], shown)


def _table_row(col: _Collector, where: str, row: dict[str, object]) -> None:
    raw_path, raw_label = row.get("path"), row.get("label")
    if raw_path in (None, "") or raw_label in (None, ""):
        col.problem(where, "malformed line: path and label are required")
        return
    path = col.check_path(where, str(raw_path))
    label = col.label_of(where, raw_label)
    if path is None or label is None:
        return
    p_domain, p_view, folder = _domain_view(path)
    raw_domain = str(row.get("domain") or "").strip()
    domain = _DOMAIN_ALIASES.get(raw_domain) if raw_domain else (p_domain or "synthetic")
    view = str(row.get("view") or "").strip() or p_view or "ground"
    split = str(row.get("split") or "").strip() or "all"
    ok = True
    if domain is None:
        col.problem(where, f"unknown domain {raw_domain!r}: allowed are {', '.join(DOMAINS)}")
        ok = False
    if view not in VIEWS:
        col.problem(where, f"unknown view {view!r}: allowed are {', '.join(VIEWS)}")
        ok = False
    if split not in SPLITS:
        col.problem(where, f"unknown split {split!r}: allowed are {', '.join(SPLITS)}")
        ok = False
    if folder is None:  # plain layout: <Class>/<file>
        parts = path.split("/")
        folder = parts[-2] if len(parts) > 1 else None
    if ok and col.check_class_folder(where, path, label, folder) and domain is not None:
        col.add(where, path, label, domain, view, split)


# ---- auto --------------------------------------------------------------------


def load_manifest(
    root: str | os.PathLike[str], lists: Sequence[str | os.PathLike[str]] | None = None, *, check_files: bool = True,
    follow_links: bool = False,
) -> Manifest:
    """Pick the reader: CSV/JSONL table, RoCoG-v2 lists, or folder per class.

    * ``root`` is a .csv/.jsonl file, or ``lists`` is one such file: a table;
    * ``lists`` given: RoCoG-v2 annotation lists;
    * no lists and ``root/class_dict.json`` plus ``root/annotations/*.txt``:
      every list there;
    * otherwise: folder per class.
    """
    root_p = Path(root)
    kw = {"check_files": check_files, "follow_links": follow_links}
    if root_p.suffix.lower() in TABLE_EXTENSIONS and not root_p.is_dir():
        return load_table(root_p, **kw)
    if lists:
        lists = list(lists)
        if len(lists) == 1 and Path(lists[0]).suffix.lower() in TABLE_EXTENSIONS:
            table = _find_list(root_p, lists[0]) or Path(lists[0])
            return load_table(table, root_p, **kw)
        return load_rocog(root_p, lists, **kw)
    ann = root_p / ANNOTATIONS
    if (root_p / CLASS_DICT).is_file() and ann.is_dir():
        found = sorted(ann.glob("*.txt"))
        if found:
            return load_rocog(root_p, found, **kw)
    return load_folder(root_p, follow_links=follow_links)
