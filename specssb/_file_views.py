"""Views of a memory-mapped file that travel as a few numbers instead of their bytes.

A map kept on disk (a read-only ``numpy.memmap``, as ``numpy.load(path, mmap_mode="r")`` gives)
is fitted chunk by chunk. Pickling a chunk of it for a worker process would copy its rows into
the message (numpy pickles a memmap as a plain array): 10 MB per chunk of 1,250 spectra of 1,000
points, sent through the dask scheduler on the way. A :class:`FileView` instead names the file,
the byte offset of the chunk's first value, its dtype, shape and strides; a worker that sees the
same file maps those rows itself and reads only what it fits.

Only for workers that see the same filesystem: :func:`specssb.parallel.shares_files` says
whether they do.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from specssb.errors import FitError

__all__ = ["FileView", "file_view"]


@dataclass(frozen=True)
class FileView:
    """Where the values of a read-only view of a mapped file lie in that file.

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
