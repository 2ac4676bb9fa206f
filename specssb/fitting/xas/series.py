"""Operando XAS series: many scans into one Spectrum with a ``scan`` dimension and time.

A beamtime writes one file per scan (or one file with many scans). :func:`stack_scans` puts
every μ(E) scan of a list of files or Spectra on one energy grid, in acquisition order, as one
Spectrum of shape ``(n_scans, n_points)`` with coordinates

* ``time``: the acquisition start of each scan, ``datetime64[ns]`` UTC (from
  ``meta["acquired_at"]``), and
* ``elapsed_s``: seconds since the first scan,

so that results per scan (edge position, LCF fractions, MCR concentrations) can be joined to the
cycler record by time in the report stage. Scans on different grids are interpolated linearly
onto the first scan's grid (or a given one), and the resampling is recorded in ``history``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from specssb.errors import FitError
from specssb.spectrum import Axis, Coord, Spectrum, stack

__all__ = ["scan_times", "stack_scans"]

#: Signals that are an absorption spectrum (a reference-foil channel is kept out of a series).
MU_SIGNALS = ("mu", "norm", "flat")


def stack_scans(
    scans: Sequence[Spectrum | str | os.PathLike[str]],
    *,
    axis: Axis | np.ndarray | None = None,
    dim: str = "scan",
    order: str = "time",
) -> Spectrum:
    """Stack single μ(E) scans (Spectra or files) into one series Spectrum.

    Parameters
    ----------
    scans : sequence of Spectrum or path
        Files are read with :func:`specssb.read`; of each file's Spectra, those with an
        absorption signal and no ``source.block`` of ``"reference"`` are used, each with its
        leading dimensions flattened into scans (a multi-scan file gives several).
    axis : Axis or ndarray, optional
        Energy grid (eV) to put every scan on. Default: the first scan's grid; scans on another
        grid are interpolated linearly (no extrapolation: a scan must cover the grid).
    dim : str, default "scan"
        Name of the new leading dimension.
    order : {"time", "given"}
        ``"time"`` sorts the scans by ``acquired_at`` (scans without it keep their place after
        the timed ones); ``"given"`` keeps the input order.

    Returns
    -------
    Spectrum
        Shape ``(n_scans, n_points)``, coordinates ``time`` and ``elapsed_s`` along ``dim``
        when every scan has an acquisition time, ``source_index`` (the scan's input position)
        and ``source_path`` (its file) always.

    Raises
    ------
    FitError
        No scan, a scan that is not XAS on an energy axis, or a scan that does not cover the
        grid.
    """
    if order not in ("time", "given"):
        raise FitError(f"order must be 'time' or 'given', not {order!r}")
    flat: list[tuple[int, Spectrum]] = []
    for position, scan in enumerate(scans):
        for spectrum in _absorption_spectra(scan):
            flat.extend((position, s) for _, s in spectrum.iter_spectra())
    if not flat:
        raise FitError("stack_scans() found no absorption scan in its input")
    for _, spectrum in flat:
        if spectrum.technique != "xas" or spectrum.axis.name != "energy":
            raise FitError(f"{_name(spectrum)}: not an XAS scan on an energy axis "
                           f"({spectrum.technique}, {spectrum.axis.name})")
    if order == "time":
        flat.sort(key=lambda item: (item[1].meta.get("acquired_at") is None,
                                    item[1].meta.get("acquired_at") or dt.datetime.min))
    grid = _grid(axis, flat[0][1])
    for _, spectrum in flat:
        low, high = float(spectrum.axis.values.min()), float(spectrum.axis.values.max())
        if grid.values.min() < low - 1e-9 or grid.values.max() > high + 1e-9:
            raise FitError(f"{_name(spectrum)}: covers {low:g}–{high:g} eV, not the grid's "
                           f"{grid.values.min():g}–{grid.values.max():g} eV")
    same = all(s.axis == grid for _, s in flat)
    series = stack([s.replace(meta=_scan_meta(s)) for _, s in flat], dim=dim,
                   axis=None if same else grid)
    coords = dict(series.coords)
    coords["source_index"] = Coord(dim, np.array([p for p, _ in flat]), "1")
    coords["source_path"] = Coord(dim, np.array([_name(s) for _, s in flat]), "")
    times = scan_times([s for _, s in flat])
    if times is not None:
        coords["time"] = Coord(dim, times, "UTC")
        coords["elapsed_s"] = Coord(dim, (times - times[0]) / np.timedelta64(1, "s"), "s")
    return series.replace(coords=coords).with_step(
        "stack_scans", {"n_scans": len(flat), "order": order, "resampled": not same})


def scan_times(spectra: Sequence[Spectrum]) -> np.ndarray | None:
    """``acquired_at`` of each Spectrum as ``datetime64[ns]`` (UTC), or None if one lacks it."""
    stamps = [s.meta.get("acquired_at") for s in spectra]
    if any(stamp is None for stamp in stamps):
        return None
    return np.array([np.datetime64(stamp.astimezone(dt.UTC).replace(tzinfo=None), "ns")
                     for stamp in stamps])


def _absorption_spectra(scan: Spectrum | str | os.PathLike[str]) -> list[Spectrum]:
    if isinstance(scan, Spectrum):
        return [scan]
    import specssb

    read = specssb.read(Path(scan))
    spectra = read if isinstance(read, list) else [read]
    return [s for s in spectra if s.signal in MU_SIGNALS
            and not (s.source is not None and s.source.block == "reference")]


def _grid(axis: Axis | np.ndarray | None, first: Spectrum) -> Axis:
    if axis is None:
        return first.axis
    if isinstance(axis, Axis):
        return axis
    return Axis("energy", "eV", np.asarray(axis, float))


def _scan_meta(spectrum: Spectrum) -> dict:
    """Meta of one scan without its time (kept as a coordinate, not a common key)."""
    return {k: v for k, v in spectrum.meta.items() if k != "acquired_at"}


def _name(spectrum: Spectrum) -> str:
    return spectrum.source.path if spectrum.source is not None else "<memory>"


