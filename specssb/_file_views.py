"""Views of a memory-mapped file that travel as a few numbers instead of their bytes.

A map kept on disk (a read-only ``numpy.memmap``, as ``numpy.load(path, mmap_mode="r")`` gives)
is fitted chunk by chunk. Pickling a chunk of it for a worker process would copy its rows into
the message (numpy pickles a memmap as a plain array): 10 MB per chunk of 1,250 spectra of 1,000
points, sent through the dask scheduler on the way. A :class:`FileView` instead names the file,
the byte offset of the chunk's first value, its dtype, shape and strides; a worker that sees the
same file maps those rows itself and reads only what it fits.

A map held in memory reaches worker processes on this machine the same way: :func:`shared_copy`
writes the rows to be fitted once into a temporary file in shared memory (``/dev/shm``), and
the chunks travel as views of it (joblib hands large arrays to its worker processes so too).
The results can come back the same way: :func:`shared_output` makes a file that every worker
writes its rows of results into (:meth:`FileView.write`). For dask, that keeps the bytes out of
the scheduler, which otherwise receives and forwards each of them on the cores the workers need.

Only for workers that see the same filesystem: :func:`specssb.parallel.shares_files` says
whether they do.
"""

from __future__ import annotations

import mmap
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import FitError

__all__ = ["SHARED_MEMORY", "SHARE_FROM_BYTES", "FileView", "file_view", "row_views", "shared_copy",
           "shared_output"]

#: Where :func:`shared_copy` and :func:`shared_output` put their files first (a RAM file system on Linux), before the
#: temporary directory.
SHARED_MEMORY = Path("/dev/shm")

#: Arrays smaller than this (1 MiB, joblib's default threshold too) are sent as they are: a
#: file would save less than it costs.
SHARE_FROM_BYTES = 2**20

_PREFIX = "specssb-shared-"


@dataclass(frozen=True)
class FileView:
    """Where the values of a view of a file lie in it, so another process can map them again:
    to read rows (:meth:`read`) or to write results (:meth:`write`).

    Attributes
    ----------
    filename : str
        Absolute path of the file.
    offset : int
        Byte offset of the view's first value in the file.
    dtype : str
        Its dtype (``numpy.dtype.str``, byte order included).
    shape, strides : tuple of int
        As numpy has them (strides in bytes, all non-negative).
    """

    filename: str
    offset: int
    dtype: str
    shape: tuple[int, ...]
    strides: tuple[int, ...]

    @property
    def extent(self) -> int:
        """Bytes from the first value to the end of the last one."""
        if 0 in self.shape:
            return 0
        last = sum((n - 1) * s for n, s in zip(self.shape, self.strides))
        return last + np.dtype(self.dtype).itemsize

    def read(self) -> np.ndarray:
        """Map the view again (read-only) in this process; its pages are read as they are used.

        Raises
        ------
        FitError
            The file is missing here, or shorter than the view (it changed since).
        """
        path = Path(self.filename)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise FitError(f"{path}: cannot read the mapped spectra here: {exc.strerror}") from exc
        if self.offset + self.extent > size:
            raise FitError(
                f"{path}: the file is {size} bytes, shorter than the mapped rows it was opened "
                f"with (up to byte {self.offset + self.extent}); was it rewritten during the fit?"
            )
        if self.extent == 0:
            view = np.empty(self.shape, dtype=self.dtype)
        else:
            raw = np.memmap(path, dtype=np.uint8, mode="r", offset=self.offset,
                            shape=(self.extent,))
            view = np.ndarray(self.shape, dtype=self.dtype, buffer=raw, strides=self.strides)
        view.flags.writeable = False
        return view

    def write(self, values: np.ndarray) -> None:
        """Write ``values`` (the view's shape) to the view's place in the file.

        Raises
        ------
        FitError
            The file is missing here or shorter than the view, or ``values`` has another shape.
        """
        path = Path(self.filename)
        if np.shape(values) != self.shape:
            raise FitError(f"{path}: {np.shape(values)} values cannot fill a view of {self.shape}")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise FitError(f"{path}: cannot write the results here: {exc.strerror}") from exc
        if self.offset + self.extent > size:
            raise FitError(f"{path}: the file is {size} bytes, shorter than the results' place "
                           f"in it (up to byte {self.offset + self.extent})")
        if self.extent:  # a shared mapping: other processes see the values without msync
            raw = np.memmap(path, dtype=np.uint8, mode="r+", offset=self.offset,
                            shape=(self.extent,))
            np.ndarray(self.shape, dtype=self.dtype, buffer=raw, strides=self.strides)[...] = values


def file_view(array: np.ndarray) -> FileView | None:
    """Describe ``array`` as a :class:`FileView` when it is a view of a read-only ``numpy.memmap``.

    Returns None for anything else (an array in memory, a copy-on-write or writable map, an
    ``mmap`` without a file name, negative strides): such an array is sent as it is.
    """
    root = _memmap_root(array)
    if root is None or any(s < 0 for s in array.strides):
        return None
    start = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    view = FileView(str(Path(root.filename).resolve()), int(root.offset) + start,
                    array.dtype.str, tuple(array.shape), tuple(int(s) for s in array.strides))
    if start < 0 or start + view.extent > root.nbytes:  # not within the root's bytes: not ours
        return None
    return view


def _memmap_root(array: np.ndarray) -> np.memmap | None:
    """The memmap that numpy created on the file (its base is the ``mmap`` itself), if the
    chain of bases from ``array`` leads to one opened read-only with a file name."""
    base = array
    while base is not None:
        if isinstance(base, np.memmap) and isinstance(base.base, mmap.mmap):
            if base.mode == "r" and base.filename is not None:
                return base
            return None
        base = getattr(base, "base", None)
    return None


def row_views(path: str | os.PathLike[str], shape: tuple[int, int], dtype: np.dtype | str,
              slices: list[slice]) -> list[FileView]:
    """:class:`FileView` objects of the rows ``slices`` of a C-ordered ``shape`` array that
    starts at byte 0 of ``path`` (as :func:`shared_output` makes it)."""
    itemsize = np.dtype(dtype).itemsize
    row = shape[1] * itemsize
    return [FileView(str(Path(path).resolve()), rows.start * row, np.dtype(dtype).str,
                     (rows.stop - rows.start, shape[1]), (row, itemsize)) for rows in slices]


@contextmanager
def shared_copy(array: np.ndarray, *, limit: int | None = None) -> Iterator[np.ndarray | None]:
    """A read-only memory-mapped copy of ``array`` that other processes on this machine can map.

    The values are written once, C-ordered, to a temporary file (:func:`_shared_file`), removed
    on exit. Views of the copy become :class:`FileView` objects with :func:`file_view`.

    Parameters
    ----------
    array : ndarray
        Any layout (a column window of a map is fine); written a block of rows at a time, so
        no second in-memory copy is made.
    limit : int, optional
        Largest copy allowed, bytes (the memory ceiling, :mod:`specssb._memory`: a file in
        ``/dev/shm`` is memory).

    Yields
    ------
    ndarray or None
        The mapped copy, or None when there is no room or writing fails (the caller then
        sends the rows themselves).
    """
    with _shared_file(array.size * array.itemsize, limit) as stream:
        copy = None
        if stream is not None and array.size:
            try:
                rows_per_block = max(1, (8 * 2**20) // max(1, array[:1].nbytes))
                for start in range(0, len(array), rows_per_block):
                    stream.write(np.ascontiguousarray(array[start:start + rows_per_block]).data)
                stream.flush()
                copy = np.memmap(stream.name, dtype=array.dtype, mode="r", shape=array.shape)
            except OSError:  # the folder filled up meanwhile: send the rows instead
                copy = None
        yield copy


@contextmanager
def shared_output(shape: tuple[int, int], *, dtype: np.dtype | str = np.float64,
                  limit: int | None = None) -> Iterator[Path | None]:
    """A zero-filled temporary file for a C-ordered ``shape`` array that worker processes on
    this machine write into (:func:`row_views`, :meth:`FileView.write`); removed on exit.

    Yields
    ------
    Path or None
        The file, or None when there is no room (the workers then return their results).
    """
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    with _shared_file(nbytes, limit) as stream:
        path = None
        if stream is not None and nbytes:
            try:
                stream.truncate(nbytes)
                stream.flush()
                path = Path(stream.name)
            except OSError:
                path = None
        yield path


@contextmanager
def _shared_file(nbytes: int, limit: int | None) -> Iterator[Any]:
    """An open binary temporary file that other processes on this machine can map, or None.

    It is made in :data:`SHARED_MEMORY` when that has room for ``nbytes``, otherwise in the
    temporary directory; never above ``limit`` bytes. The file is removed on exit, and files
    left by a process of this machine that was killed are removed the next time.
    """
    folder = None if limit is not None and nbytes > limit else _folder_with_room(nbytes)
    if folder is None:
        yield None
        return
    _remove_stale(folder)
    try:
        stream = tempfile.NamedTemporaryFile(dir=folder, prefix=f"{_PREFIX}{os.getpid()}-",
                                             suffix=".bin", delete=False)
    except OSError:  # a read-only or vanished folder
        yield None
        return
    try:
        with stream:
            yield stream
    finally:
        Path(stream.name).unlink(missing_ok=True)  # its pages go when the last process unmaps it


def _folder_with_room(nbytes: int) -> Path | None:
    """:data:`SHARED_MEMORY`, else the temporary directory, if it can take ``nbytes`` with a
    quarter of its free space to spare. None on Windows (no ``statvfs``; a mapped file could
    not be removed there either): rows and results are sent as they are."""
    for folder in (SHARED_MEMORY, Path(tempfile.gettempdir())):
        try:
            stats = os.statvfs(folder)
        except (OSError, AttributeError):  # absent, or no statvfs (Windows)
            continue
        if os.access(folder, os.W_OK) and nbytes <= 0.75 * stats.f_bavail * stats.f_frsize:
            return folder
    return None


def _remove_stale(folder: Path) -> None:
    """Remove files left in ``folder`` by processes of this machine that no longer run.

    POSIX only: elsewhere ``os.kill(pid, 0)`` would not merely ask whether ``pid`` runs.
    """
    if os.name != "posix":
        return
    for path in folder.glob(f"{_PREFIX}*.bin"):
        pid = path.name[len(_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            try:
                path.unlink(missing_ok=True)
            except OSError:  # another user's file in a sticky folder (/dev/shm, /tmp): theirs
                pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours (PermissionError)
        return True
    return True
