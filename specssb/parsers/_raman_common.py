"""Helpers shared by the text-based Raman readers (private).

* :func:`numeric_rows` turns text rows into a float table, naming the line and column of the
  first bad field;
* :func:`spectral_axis` maps a vendor's x-unit text to a :class:`~specssb.spectrum.Axis`
  (Raman shift in cm-1, wavelength in nm, detector pixels), converting absolute wavenumbers and
  photon energies to wavelength with a history :class:`~specssb.spectrum.Step`;
* :func:`map_layout` places spectra measured at stage positions ``(x, y)`` on a ``("y", "x")``
  grid when they fill one exactly, else keeps them as ``("point",)`` with their positions;
* :func:`laser_wavelength_nm` and :func:`signal_for_unit` read the usual header spellings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from specssb.errors import ParseError
from specssb.spectrum import AXIS_UNITS, Axis, Coord, Step

__all__ = [
    "check_monotonic",
    "laser_wavelength_nm",
    "map_layout",
    "merge_repeated_points",
    "numeric_rows",
    "signal_for_unit",
    "spectral_axis",
]

#: hc in eV·nm (CODATA 2018), for photon energy <-> wavelength.
HC_EV_NM = 1239.841984

_RELATIVE = {"rel.1/cm", "rel1/cm", "1/cm", "cm-1", "cm^-1", "cm-¹", "cm¹", "cm⁻¹",
             "ramanshift", "ramanshift(cm-1)", "rel.cm-1", "relativewavenumber"}
_WAVELENGTH = {"nm", "nanometre", "nanometer", "wavelength(nm)"}
_PIXELS = {"pixel", "pixels", "px", "pix", "channel", "channels"}
_ABSOLUTE = {"1/cmabs", "abs.1/cm", "abs1/cm", "cm-1abs", "abs.cm-1"}
_ENERGY = {"ev"}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def numeric_rows(
    lines: Sequence[str],
    start: int,
    path: str,
    *,
    delimiter: str | None,
    n_fields: int | None = None,
    skip_fields: int = 0,
) -> np.ndarray:
    """Parse ``lines[start:]`` (blank lines skipped) into a float64 table.

    Parameters
    ----------
    lines : sequence of str
        The file's lines.
    start : int
        Index of the first data line.
    path : str
        File name for error messages.
    delimiter : str or None
        Field separator; None splits on runs of blanks.
    n_fields : int, optional
        Required number of fields per row; default: the first row's count.
    skip_fields : int, default 0
        Leading fields that are empty by layout (LabSpec map header row) and not parsed.

    Returns
    -------
    ndarray of shape (n_rows, n_fields - skip_fields)

    Raises
    ------
    ParseError
        A row with another number of fields (truncated row, wrong delimiter), or a field that
        is not a number; the message names the line (1-based) and the column.
    """
    rows: list[list[float]] = []
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        fields = line.split(delimiter) if delimiter is not None else line.split()
        if delimiter is not None and len(fields) > 1 and not fields[-1].strip():
            fields = fields[:-1]  # one trailing separator (WITec, Andor) is not a column
        if n_fields is None:
            n_fields = len(fields)
        if len(fields) != n_fields:
            raise ParseError(path, f"found {len(fields)} fields where the table has {n_fields} "
                             "(truncated row, or a different delimiter?)",
                             position=f"line {index + 1}")
        try:
            rows.append([float(f) for f in fields[skip_fields:]])
        except ValueError:
            column = next(i for i, f in enumerate(fields[skip_fields:], skip_fields)
                          if not _is_float(f))
            raise ParseError(path, f"expected a number in column {column + 1}, found "
                             f"{fields[column].strip()[:40]!r}",
                             position=f"line {index + 1}") from None
    if not rows:
        raise ParseError(path, "no data rows", position=f"line {start + 1}")
    return np.array(rows, dtype=np.float64)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_monotonic(values: np.ndarray, path: str, what: str, position: str | None = None) -> None:
    """Raise ParseError unless ``values`` are finite and strictly monotonic (at least 2)."""
    if values.size < 2:
        raise ParseError(path, f"the {what} has {values.size} value(s); a spectrum needs at "
                         "least 2", position=position)
    steps = np.diff(values)
    if not np.all(np.isfinite(values)):
        raise ParseError(path, f"the {what} holds non-finite values", position=position)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        bad = int(np.argmax((steps <= 0) if steps[0] > 0 else (steps >= 0)))
        raise ParseError(path, f"the {what} is not strictly monotonic (value {bad + 2} "
                         f"= {values[bad + 1]:g} after {values[bad]:g})", position=position)


def _unit_key(unit: str) -> str:
    return re.sub(r"\s+", "", unit.strip().lower().replace("µ", "u").replace("\xb5", "u"))


def spectral_axis(
    unit: str, values: np.ndarray, path: str, *, position: str | None = None,
    default: str | None = None,
) -> tuple[Axis, tuple[Step, ...]]:
    """The spectral :class:`Axis` for values in ``unit`` as written by the vendor.

    Parameters
    ----------
    unit : str
        The file's unit text: ``"rel. 1/cm"``, ``"1/cm"``, ``"cm-1"`` (Raman shift), ``"nm"``,
        ``"Pixel"``, ``"1/cm abs"`` (absolute wavenumber) or ``"eV"``.
    values : ndarray of shape (n,)
        The axis values, in measured order (kept).
    path : str
        File name for error messages.
    position : str, optional
        Where the unit was read, for error messages.
    default : str, optional
        Axis name to use when ``unit`` is empty (e.g. ``"raman_shift"``).

    Returns
    -------
    axis : Axis
        ``raman_shift`` (cm-1), ``wavelength`` (nm) or ``channel`` (1).
    history : tuple of Step
        Empty, or one ``absolute_wavenumber_to_wavelength`` / ``photon_energy_to_wavelength``
        step when the file's axis was converted to nm.

    Raises
    ------
    ParseError
        An unknown unit, or values that are not finite and strictly monotonic.
    """
    values = np.asarray(values, dtype=np.float64)
    check_monotonic(values, path, "spectral axis", position)
    key = _unit_key(unit)
    if not key and default is not None:
        return Axis(default, AXIS_UNITS[default], values), ()
    if key in _RELATIVE:
        return Axis("raman_shift", "cm-1", values), ()
    if key in _WAVELENGTH:
        return Axis("wavelength", "nm", values), ()
    if key in _PIXELS:
        return Axis("channel", "1", values), ()
    if key in _ABSOLUTE or key in _ENERGY:
        if np.any(values <= 0):
            raise ParseError(path, f"an axis in {unit.strip()!r} must be positive to convert it "
                             "to wavelength", position=position)
        factor = 1e7 if key in _ABSOLUTE else HC_EV_NM
        operation = ("absolute_wavenumber_to_wavelength" if key in _ABSOLUTE
                     else "photon_energy_to_wavelength")
        step = Step(operation, {"from_unit": unit.strip(), "factor": factor,
                                "formula": f"wavelength_nm = {factor:g} / value"})
        return Axis("wavelength", "nm", factor / values), (step,)
    raise ParseError(path, f"spectral axis unit {unit.strip()[:30]!r} is not supported (expected "
                     "a Raman shift in 1/cm, a wavelength in nm, pixels, absolute 1/cm or eV)",
                     position=position)


def signal_for_unit(unit: str) -> tuple[str, str | None]:
    """``(signal, signal_unit)`` for an intensity unit text (``"CCD cts"``, ``"Cnt/sec"`` …)."""
    key = _unit_key(unit)
    if key in {"cnt/sec", "cnt/s", "counts/s", "cps", "cts/s", "counts/sec"}:
        return "cps", None
    if key in {"cnt", "cts", "ccdcts", "counts", "count", "ccdcounts", "electrons"}:
        return "counts", "electrons" if key == "electrons" else None
    return "intensity", None


def laser_wavelength_nm(text: str) -> float | None:
    """The first number in ``text`` (``"532nm_Edge"``, ``"633"``, ``"785 nm"``), or None."""
    match = _NUMBER.search(text or "")
    if match is None:
        return None
    value = float(match.group(0))
    return value if 100.0 <= value <= 5000.0 else None


def map_layout(
    x: np.ndarray, y: np.ndarray, spectra: np.ndarray, *, unit: str = "um",
) -> tuple[np.ndarray, tuple[str, ...], dict[str, Coord], str]:
    """Place spectra taken at stage positions ``(x, y)`` on a grid, or keep them as points.

    A full grid (every pair of the distinct x and y values measured exactly once) becomes dims
    ``("y", "x")`` with ascending coordinates. Anything else (a partial or irregular set, a
    repeated position) stays in measured order with dims ``("point",)`` and per-point
    coordinates ``x`` and ``y``: text exports carry no map-area record to tell a missing cell
    from a non-rectangular scan area, and no spectrum is dropped or invented.

    Parameters
    ----------
    x, y : ndarray of shape (n,)
        Stage position of each spectrum.
    spectra : ndarray of shape (n, n_points)
    unit : str, default "um"
        Unit of the positions.

    Returns
    -------
    data : ndarray of shape (ny, nx, n_points) or (n, n_points)
    dims : tuple of str
    coords : dict of str to Coord
    placement : str
        ``"grid"`` or ``"points"``.
    """
    unique_x, ix = np.unique(x, return_inverse=True)
    unique_y, iy = np.unique(y, return_inverse=True)
    cells = iy * unique_x.size + ix
    full = (unique_x.size * unique_y.size == x.size and np.unique(cells).size == x.size
            and bool(np.all(np.isfinite(x)) and np.all(np.isfinite(y))))
    if full:
        cube = np.empty((unique_y.size, unique_x.size, spectra.shape[-1]), dtype=spectra.dtype)
        cube[iy, ix] = spectra
        coords = {"x": Coord("x", unique_x, unit), "y": Coord("y", unique_y, unit)}
        return cube, ("y", "x"), coords, "grid"
    coords = {"x": Coord("point", x, unit), "y": Coord("point", y, unit)}
    return spectra, ("point",), coords, "points"


def merge_repeated_points(
    x: np.ndarray, data: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Average runs of exactly repeated consecutive axis values (stitched-window exports).

    Parameters
    ----------
    x : ndarray of shape (n,)
        Axis values in file order.
    data : ndarray of shape (..., n)
        Intensities; runs are averaged along the last axis.

    Returns
    -------
    x : ndarray of shape (m,)
        One value per run.
    data : ndarray of shape (..., m)
        Mean intensity of each run.
    repeated : list of float
        The axis values that occurred more than once (empty: nothing merged, inputs returned).
    """
    if x.size < 2:
        return x, data, []
    starts = np.concatenate(([True], x[1:] != x[:-1]))
    if starts.all():
        return x, data, []
    run = np.cumsum(starts) - 1
    counts = np.bincount(run)
    flat = data.reshape(-1, x.size)
    sums = np.zeros((flat.shape[0], counts.size))
    for row, values in enumerate(flat):
        sums[row] = np.bincount(run, weights=values, minlength=counts.size)
    merged = (sums / counts).reshape(*data.shape[:-1], counts.size)
    repeated = [float(v) for v in x[starts][counts > 1]]
    return x[starts], merged, repeated
