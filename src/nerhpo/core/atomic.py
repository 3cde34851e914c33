"""Atomic file writes: write to a temporary file beside the target, then rename.

An interrupted job therefore never leaves a file that looks finished, and a failed write (a full
disk, an unwritable folder) leaves nothing behind: the temporary file is removed and the failure
raised as :class:`WriteError` naming the target, which the scripts report in one line.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# errors that only a write can cause
WRITE_ONLY_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


class WriteError(OSError):
    """Writing an output failed (``filename``: the output or the folder that could not be made)."""


def _write_error(err: OSError, path: str | Path) -> WriteError:
    return WriteError(err.errno, err.strerror or str(err), str(path))


def make_dirs(path: str | Path) -> Path:
    """``mkdir -p`` that raises :class:`WriteError` naming the folder it could not make."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _write_error(err, err.filename or path) from err
    return path


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, \\n line ends) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def current_umask() -> int:
    """The process's umask (reading it means setting it: it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    make_dirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise _write_error(err, path) from err
    try:
        # mkstemp makes 0600; a normal file is what users expect
        os.chmod(tmp, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, WriteError):
            raise _write_error(err, path) from err
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``path`` only if the block succeeds.

    A failed write into the temporary directory is raised as :class:`WriteError` naming the file
    under ``path`` it was for.
    """
    path = Path(path)
    make_dirs(path.parent)
    try:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as err:
        raise _write_error(err, path) from err
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError) and not isinstance(err, WriteError):
            inside = _inside(err.filename, tmp)
            if inside is not None:
                raise _write_error(err, path / inside) from err
            if err.filename is None and err.errno in WRITE_ONLY_ERRNOS:
                raise _write_error(err, path) from err  # e.g. a full disk in a library's write
            if err.filename is not None and Path(err.filename) in (path, tmp):
                raise _write_error(err, path) from err  # the rename
        raise


def _inside(filename, directory: Path) -> Path | None:
    """``filename`` relative to ``directory``, or None when it lies elsewhere (or is not a path)."""
    if not isinstance(filename, str | os.PathLike):
        return None
    try:
        return Path(filename).resolve().relative_to(directory.resolve())
    except ValueError:
        return None
