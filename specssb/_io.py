"""Output helpers: atomic file writes and JSON-safe conversion of metadata (private)."""

from __future__ import annotations

import contextlib
import datetime as _dt
import glob
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["atomic_path", "atomic_write_text", "atomic_write_with", "fsync_directory", "jsonable",
           "sweep_temporaries", "to_json"]


@contextmanager
def atomic_path(target: str | os.PathLike[str], *, sync_directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it is renamed onto ``target``.

    A crash or an exception leaves ``target`` as it was (absent or the previous version) and
    removes the temporary file, so a reader never sees a half-written output. The temporary
    file is named ``.<target name>.<pid>-<random>.tmp``; a process killed before the rename
    leaves it behind (the result store sweeps its folders under its lock; other writers call
    :func:`sweep_temporaries`).

    Parameters
    ----------
    target : str or PathLike
    sync_directory : bool, default False
        Also fsync the folder after the rename, so the new name itself survives a power cut
        (POSIX; ignored where folders cannot be opened, e.g. Windows).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp",
                                    dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    # mkstemp creates the file 0600; an output gets the permissions a plain open() would give
    os.chmod(temporary, 0o666 & ~_umask())
    try:
        yield temporary
        with open(temporary, "rb+") as stream:  # make the bytes durable before the rename
            os.fsync(stream.fileno())
        os.replace(temporary, target)
        if sync_directory:
            fsync_directory(target.parent)
    finally:
        if temporary.exists():
            temporary.unlink()


def sweep_temporaries(folder: str | os.PathLike[str], names: Iterable[str]) -> list[Path]:
    """Remove the temporary files of :func:`atomic_path` that killed processes left in ``folder``.

    Only temporaries of the given target ``names`` whose writing process no longer runs are
    removed, so a write in progress elsewhere is never disturbed. On Windows, where a process
    cannot be probed safely, nothing is removed.

    Parameters
    ----------
    folder : str or PathLike
    names : iterable of str
        Target file names (``report.html``).

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    if os.name == "nt":
        return removed
    for name in names:
        for leftover in Path(folder).glob(f".{glob.escape(name)}.*-*.tmp"):
            pid = leftover.name[len(name) + 2:].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
                with contextlib.suppress(OSError):
                    leftover.unlink()
                    removed.append(leftover)
    return removed


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists (POSIX: signal 0 probes without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def fsync_directory(folder: str | os.PathLike[str]) -> None:
    """fsync a folder, making the names created in it durable (a no-op where unsupported)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def atomic_write_with(target: str | os.PathLike[str], write: Callable[[IO[str]], None]) -> None:
    """Call ``write(stream)`` on a text stream whose content replaces ``target`` atomically."""
    with atomic_path(target) as temporary, open(temporary, "w", encoding="utf-8", newline="") as s:
        write(s)


def jsonable(value: Any, *, max_array: int | None = None) -> Any:
    """Convert metadata to JSON-safe values.

    numpy scalars become Python numbers, arrays lists (or a short summary when larger than
    ``max_array``), datetimes ISO 8601 strings, dataclasses dicts, NaN and infinities ``None``.
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, max_array=max_array) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value), max_array=max_array)
    if isinstance(value, np.ndarray):
        if max_array is not None and value.size > max_array:
            return {"array": {"shape": list(value.shape), "dtype": str(value.dtype)}}
        return jsonable(value.tolist(), max_array=max_array)
    if isinstance(value, (list, tuple)):
        return [jsonable(v, max_array=max_array) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item(), max_array=max_array)
    if isinstance(value, complex):
        return {"real": jsonable(value.real), "imag": jsonable(value.imag)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def to_json(value: Any, *, max_array: int | None = None) -> str:
    """``json.dumps(jsonable(value))`` with indentation, for files and ``--json`` output."""
    return json.dumps(jsonable(value, max_array=max_array), indent=2, ensure_ascii=False)
