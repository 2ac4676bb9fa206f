"""A chunk's fit results as one row of numbers per spectrum, for workers that write them to a file.

Workers on this machine write their results straight into a shared file
(:func:`specssb._file_views.shared_output`) instead of returning them through the dask
scheduler. :class:`ResultLayout` says where each quantity sits in a spectrum's row; every
value is float64 (``converged`` as 0 or 1), so packing and unpacking are exact and the table
is the same whichever way the results came back (a test asserts it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ChunkResults", "ResultLayout"]

#: What a chunk returns: full (m, n_full), covariance (m, n_free, n_free), converged (m,),
#: redchi (m,), and the statistics dict of :func:`~specssb.fitting.result.spectrum_statistics`.
ChunkResults = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]

#: The statistics of a spectrum, with their widths in units of (n_full, n_areas).
_STATISTICS = (("std_full", "full"), ("area", "areas"), ("area_std", "areas"),
               ("fraction", "areas"), ("fraction_std", "areas"))


@dataclass(frozen=True)
class ResultLayout:
    """Columns of a spectrum's row of results.

    Attributes
    ----------
    n_full, n_free, n_areas : int
        Full and free parameters, and components (areas), of the compiled model.
    """

    n_full: int
    n_free: int
    n_areas: int

    @classmethod
    def of(cls, model: Any) -> ResultLayout:
        """The layout of a :class:`~specssb.fitting.model.CompiledModel`'s results."""
        return cls(len(model.parameters), model.n_free, len(model.components))

    @property
    def fields(self) -> list[tuple[str, int]]:
        """``(name, width)`` in row order."""
        widths = {"full": self.n_full, "areas": self.n_areas}
        return ([("full", self.n_full), ("covariance", self.n_free ** 2), ("converged", 1),
                 ("redchi", 1)] + [(name, widths[unit]) for name, unit in _STATISTICS])

    @property
    def width(self) -> int:
        """Values per spectrum."""
        return sum(width for _, width in self.fields)

    def pack(self, results: ChunkResults) -> np.ndarray:
        """One chunk's results as rows, shape (m, :attr:`width`)."""
        full, covariance, converged, redchi, statistics = results
        m = len(full)
        columns = {"full": full, "covariance": covariance.reshape(m, -1),
                   "converged": converged, "redchi": redchi, **statistics}
        return np.column_stack([np.asarray(columns[name], dtype=float).reshape(m, width)
                                for name, width in self.fields])

    def unpack(self, rows: np.ndarray) -> ChunkResults:
        """The inverse of :meth:`pack`; every array is a new contiguous copy."""
        m = len(rows)
        columns: dict[str, np.ndarray] = {}
        start = 0
        for name, width in self.fields:
            columns[name] = np.ascontiguousarray(rows[:, start:start + width])
            start += width
        statistics = {name: columns[name] for name, _ in _STATISTICS}
        return (columns["full"], columns["covariance"].reshape(m, self.n_free, self.n_free),
                columns["converged"][:, 0] != 0, columns["redchi"][:, 0], statistics)
