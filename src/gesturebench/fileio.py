"""Atomic file writes and content hashing.

A file written here never looks finished while half-written: data goes to a
temporary name in the same folder, is flushed to disk, then renamed over the
final name (``os.replace`` is atomic on POSIX and Windows).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(final: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it over ``final`` on success.

    The temporary name starts with ``.tmp-`` so resumable jobs can ignore and
    clean such leftovers. On any exception the temporary file is removed.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{final.name}.", suffix=suffix or final.suffix, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
            # mkstemp creates 0600; give the file the mode open() would (collaborators on shared storage).
            os.fchmod(fh.fileno(), 0o666 & ~current_umask())
        os.replace(tmp_path, final)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process umask (read by setting and restoring it; there is no read-only call)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


def atomic_write_bytes(final: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(final: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(final, text.encode("utf-8"))


def atomic_write_json(final: str | os.PathLike[str], obj: Any) -> None:
    atomic_write_text(final, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    """Hex SHA-256 of a canonical JSON rendering (sorted keys, no spaces)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _first_file_ancestor(path: Path) -> Path | None:
    """The nearest existing part of ``path`` that is not a folder (why mkdir says 'Not a directory')."""
    for p in [path, *path.parents]:
        if p.is_symlink() or p.exists():
            return None if p.is_dir() else p
    return None


def describe_os_error(exc: OSError) -> str:
    """One line naming the path and what is wrong with it, for any OSError the library lets out."""
    import errno

    name = exc.filename2 if isinstance(exc, IsADirectoryError) and exc.filename2 else exc.filename
    path = Path(os.fsdecode(name)) if name is not None else None
    shown = str(path) if path is not None else "a file"
    if exc.errno == errno.ENAMETOOLONG and path is not None:
        longest = max((len(os.fsencode(p)) for p in path.parts), default=0)
        short = shown if len(shown) <= 80 else shown[:77] + "..."
        return f"file name too long: {short} (a part of {longest} bytes; file systems allow 255)"
    if isinstance(exc, NotADirectoryError) and path is not None:
        blocker = _first_file_ancestor(path)
        if blocker is not None:
            return f"cannot use {shown}: {blocker} is a regular file, not a folder"
        return f"cannot use {shown}: a part of it is not a folder"
    if isinstance(exc, IsADirectoryError):
        return f"cannot write {shown}: it is a folder; give a file path, or remove the folder"
    if isinstance(exc, FileExistsError) and path is not None and not path.is_dir():
        return f"cannot create folder {shown}: a file of that name exists"
    if isinstance(exc, PermissionError):
        return f"permission denied: {shown}"
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device while writing {shown}"
    return f"{exc.strerror or type(exc).__name__}: {shown}"


def output_problem(path: str | os.PathLike[str], want: str) -> str | None:
    """Why ``path`` cannot become the output ``want`` ("folder" or "file"), or None if it can.

    Checked before a job starts, so a bad ``--out`` fails in a second, not after the work.
    """
    p = Path(path)
    blocker = _first_file_ancestor(p.parent) if p.parent != p else None
    if blocker is not None:
        return f"{p}: {blocker} is a regular file, not a folder"
    if want == "folder" and p.exists() and not p.is_dir():
        return f"{p} exists and is a file, not a folder"
    if want == "file" and p.is_dir():
        return f"{p} is a folder; give a file path, or remove the folder"
    if any(len(os.fsencode(part)) > 255 for part in p.parts):
        return f"{str(p)[:80]}: file name too long (file systems allow 255 bytes per name)"
    return None
