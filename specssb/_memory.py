"""The memory ceiling: large data arrays are checked against it before they are allocated.

A reader allocating from a size its file's header declares, and the fit engine allocating the
working arrays of a chunk of spectra, first call :func:`check_allocation`. An array above the
ceiling raises :class:`~specssb.errors.MemoryLimitError` (naming the file, what was to be
allocated, its size and the ceiling, and how to raise it) instead of starting a swap storm.

The ceiling is, in order:

1. ``$SPECSSB_MEMORY_LIMIT``: ``"4GiB"``, ``"500MB"``, ``"1.5 GB"``, a number of bytes,
   ``"50%"`` (of the physical memory), or ``"none"`` (no ceiling). The ``--memory-limit``
   option of ``specssb fit``, ``report`` and ``watch`` sets it for the process (and so for
   its worker processes);
2. otherwise :data:`DEFAULT_FRACTION` of the physical memory (``os.sysconf``);
3. none where the physical memory cannot be found.

It bounds each checked allocation, not the whole process: a process may hold several arrays
below it. Units: ``kB MB GB TB`` are powers of 1000, ``KiB MiB GiB TiB`` powers of 1024
(``K M G T`` alone are taken as the binary ones, as ``ulimit`` and ``free`` use them).
"""

from __future__ import annotations

import math
import os
import re
from os import PathLike

from specssb.errors import ConfigError, MemoryLimitError

__all__ = ["DEFAULT_FRACTION", "ENVIRONMENT_VARIABLE", "check_allocation", "check_array", "format_bytes",
           "memory_limit", "parse_memory_size", "physical_memory", "set_memory_limit"]

ENVIRONMENT_VARIABLE = "SPECSSB_MEMORY_LIMIT"
#: Share of the physical memory one allocation may take when no ceiling is set.
DEFAULT_FRACTION = 0.75
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1024**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1024**3, "gb": 1000**3, "gib": 1024**3, "t": 1024**4,
          "tb": 1000**4, "tib": 1024**4}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*|%)\s*", re.IGNORECASE)
_UNLIMITED = ("none", "off", "unlimited")


def physical_memory() -> int | None:
    """The machine's physical memory, bytes (None where ``os.sysconf`` cannot tell)."""
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # Windows, or an unknown name
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None


def parse_memory_size(text: str, *, key: str = ENVIRONMENT_VARIABLE) -> int | None:
    """Read a memory size: ``"4GiB"``, ``"500MB"``, ``"123456"`` (bytes), ``"50%"``, ``"none"``.

    Parameters
    ----------
    text : str
    key : str
        Where the text came from, named in the error.

    Returns
    -------
    int or None
        Bytes; None for ``"none"``/``"off"``/``"unlimited"`` (no ceiling).

    Raises
    ------
    ConfigError
        Not a size, zero, or a percentage where the physical memory is unknown.

    Examples
    --------
    >>> parse_memory_size("4GiB"), parse_memory_size("500MB"), parse_memory_size("2048")
    (4294967296, 500000000, 2048)
    """
    if text.strip().lower() in _UNLIMITED:
        return None
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or (unit not in _UNITS and unit != "%"):
        raise ConfigError(f"{text!r} is not a memory size; write e.g. 4GiB, 500MB, 2000000000 "
                          "(bytes), 50% (of the physical memory) or none", key=key)
    number = float(match.group(1))
    if unit == "%":
        total = physical_memory()
        if total is None:
            raise ConfigError(f"{text!r}: the physical memory of this machine is unknown; give "
                              "the size in bytes (e.g. 4GiB)", key=key)
        size = math.floor(total * number / 100)
    else:
        size = math.floor(number * _UNITS[unit])
    if size <= 0:
        raise ConfigError(f"{text!r}: the memory limit must be above zero (or 'none')", key=key)
    return size


def memory_limit() -> int | None:
    """The ceiling now in force, bytes (see the module docstring); None when there is none.

    Raises
    ------
    ConfigError
        ``$SPECSSB_MEMORY_LIMIT`` is not a memory size.
    """
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if text:
        return parse_memory_size(text)
    total = physical_memory()
    return None if total is None else math.floor(total * DEFAULT_FRACTION)


def set_memory_limit(limit: str | int | None) -> int | None:
    """Set the ceiling for this process and the processes it starts.

    Parameters
    ----------
    limit : str, int or None
        A size as :func:`parse_memory_size` reads it, or bytes; None restores the default.

    Returns
    -------
    int or None
        The ceiling now in force, bytes.

    Raises
    ------
    ConfigError
        Not a memory size.
    """
    if limit is None:
        os.environ.pop(ENVIRONMENT_VARIABLE, None)
        return memory_limit()
    text = str(limit)
    parse_memory_size(text, key="memory limit")  # refuse a bad value before setting it
    os.environ[ENVIRONMENT_VARIABLE] = text
    return memory_limit()


def check_allocation(nbytes: int | float, what: str, *,
                     path: str | PathLike[str] | None = None) -> None:
    """Refuse an allocation of ``nbytes`` above the ceiling, before it is made.

    Parameters
    ----------
    nbytes : int or float
        Size of the array about to be allocated, bytes (a float product of header counts may
        exceed any integer type: pass it as it is).
    what : str
        What it is, for the message: ``"4096 × 4096 × 10^6 float64 cube"``.
    path : str or PathLike, optional
        The file being read.

    Raises
    ------
    MemoryLimitError
        ``nbytes`` is above :func:`memory_limit`.
    """
    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise MemoryLimitError(what, nbytes, limit, path=path)


def check_array(shape: int | tuple[int, ...], what: str, *, itemsize: int = 8,
                path: str | PathLike[str] | None = None) -> None:
    """:func:`check_allocation` for an array of ``shape`` (float64 unless ``itemsize`` says).

    Parameters
    ----------
    shape : int or tuple of int
        Counts as the header declares them (multiplied as floats: no overflow).
    what : str
        What the array holds (``"intensities"``); the shape and item size are added.
    itemsize : int
        Bytes per value (8 for float64, 16 for complex128).
    path : str or PathLike, optional
        The file being read.

    Raises
    ------
    MemoryLimitError
        The array is larger than the ceiling.
    """
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    nbytes = float(itemsize) * math.prod(float(n) for n in dims)
    limit = memory_limit()
    if limit is not None and nbytes > limit:
        kind = {8: "float64", 16: "complex128"}.get(itemsize, f"{itemsize}-byte")
        label = f"{what} ({' × '.join(str(int(n)) for n in dims)} {kind} values)"
        raise MemoryLimitError(label, nbytes, limit, path=path)


def format_bytes(nbytes: int | float) -> str:
    """``1536 -> "1.5 KiB"``: a size in binary units, one decimal."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.4g} PiB"
