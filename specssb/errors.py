"""Every exception and warning that specssb raises.

The whole tree, as in ``DESIGN.md`` §9::

    SpecssbError
    ├── ParseError(SpecssbError, ValueError)          .path .position .reason
    ├── UnknownFormatError(SpecssbError, ValueError)  .path .candidates
    ├── ConfigError(SpecssbError, ValueError)         .path .line .key .reason
    ├── FitError(SpecssbError, RuntimeError)
    ├── StoreError(SpecssbError, RuntimeError)
    ├── BrowserError(SpecssbError, RuntimeError)      headless Chromium missing or failing
    └── MemoryLimitError(SpecssbError, MemoryError)   .path .what .requested .limit

    SpecssbWarning(UserWarning)
    ├── ConvergenceWarning
    ├── MetadataWarning
    └── PhysicsWarning

Catch :class:`SpecssbError` to handle anything the library raises on purpose. Each subclass is
also the matching built-in type, so code written against ``ValueError`` keeps working.

Messages say what went wrong, where, and, when there is one, the fix::

    ParseError: cycle3.vms line 212: expected an integer number of points, found 'abc'
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

__all__ = [
    "BrowserError",
    "ConfigError",
    "ConvergenceWarning",
    "FitError",
    "MemoryLimitError",
    "MetadataWarning",
    "ParseError",
    "PhysicsWarning",
    "SpecssbError",
    "SpecssbWarning",
    "StoreError",
    "UnknownFormatError",
]


class SpecssbError(Exception):
    """Root of every error specssb raises on purpose."""


class ParseError(SpecssbError, ValueError):
    """An instrument file could not be read: truncated, corrupt, or not the format claimed.

    Parameters
    ----------
    path : str or PathLike
        The file (or folder) being read.
    reason : str
        What is wrong, in words a user can act on.
    position : str, optional
        Where in the file: ``"line 212"``, ``"byte 4096"``, ``"block 3 ('C 1s')"``.

    Examples
    --------
    >>> str(ParseError("cycle3.vms", "expected an integer number of points, found 'abc'",
    ...                position="line 212"))
    "cycle3.vms line 212: expected an integer number of points, found 'abc'"
    """

    def __init__(self, path: str | PathLike[str], reason: str, *, position: str | None = None):
        self.path = str(path)
        self.reason = reason
        self.position = position
        where = f"{self.path} {position}" if position else self.path
        super().__init__(f"{where}: {reason}")


class UnknownFormatError(SpecssbError, ValueError):
    """No registered format, or more than one, claims a file.

    Parameters
    ----------
    path : str or PathLike
        The file that could not be identified.
    candidates : sequence of str
        The format names that matched (empty when none did).
    """

    def __init__(self, path: str | PathLike[str], candidates: Sequence[str] = ()):
        self.path = str(path)
        self.candidates = tuple(candidates)
        if self.candidates:
            what = f"several formats match ({', '.join(self.candidates)})"
        else:
            what = "no registered format recognises this file"
        super().__init__(
            f"{self.path}: {what}; name one with --format (see 'specssb formats')"
        )


class ConfigError(SpecssbError, ValueError):
    """A recipe, manifest or option is invalid.

    Parameters
    ----------
    reason : str
        What is wrong and, where possible, what would be accepted.
    path : str or PathLike, optional
        The configuration file.
    line : int, optional
        1-based line number in that file.
    key : str, optional
        The offending key or option name.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        key: str | None = None,
    ):
        self.reason = reason
        self.path = None if path is None else str(path)
        self.line = line
        self.key = key
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if key is not None:
            where.append(f"key '{key}'")
        super().__init__(f"{' '.join(where)}: {reason}" if where else reason)


class FitError(SpecssbError, RuntimeError):
    """A fit could not be set up or run (not merely a poor or unconverged fit)."""


class StoreError(SpecssbError, RuntimeError):
    """The results store could not be read or written."""


class BrowserError(SpecssbError, RuntimeError):
    """Headless Chromium, used to check a report or print it to PDF, is missing or failed."""


class MemoryLimitError(SpecssbError, MemoryError):
    """An array was refused before allocation: it is larger than the memory ceiling.

    Parameters
    ----------
    what : str
        What was to be allocated (``"float64 array of 10^9 values"``).
    requested : int or float
        Its size, bytes.
    limit : int
        The ceiling, bytes (``SPECSSB_MEMORY_LIMIT``, ``--memory-limit``, or the default share
        of the physical memory; see ``specssb._memory``).
    path : str or PathLike, optional
        The file being read.

    Examples
    --------
    >>> print(MemoryLimitError("float64 array of 10^9 values", 8e9, 2**30, path="map.wdf"))
    map.wdf: float64 array of 10^9 values needs 7.5 GiB, above the memory limit of 1.0 GiB; if the machine has the memory, raise the limit with --memory-limit or SPECSSB_MEMORY_LIMIT (e.g. 16GiB)
    """

    def __init__(self, what: str, requested: float, limit: int, *,
                 path: str | PathLike[str] | None = None):
        from specssb._memory import format_bytes

        self.what = what
        self.requested = requested
        self.limit = limit
        self.path = None if path is None else str(path)
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(
            f"{where}{what} needs {format_bytes(requested)}, above the memory limit of "
            f"{format_bytes(limit)}; if the machine has the memory, raise the limit with "
            "--memory-limit or SPECSSB_MEMORY_LIMIT (e.g. 16GiB)"
        )


class SpecssbWarning(UserWarning):
    """Root of every warning specssb emits."""


class ConvergenceWarning(SpecssbWarning):
    """A fit stopped without converging; its results carry ``converged=False``."""


class MetadataWarning(SpecssbWarning):
    """Optional metadata is missing or malformed; the data were read regardless."""


class PhysicsWarning(SpecssbWarning):
    """A known pitfall of the technique applies to this result (see the message)."""
