"""Generic Raman text: two-column spectra, long map tables with x, y columns, LightNovo TSV.

Layouts, as verified on the test files
--------------------------------------
* **Renishaw WiRE text export, single spectrum** (datalab ``raman_example.txt``): a header line
  ``#Wave<TAB><TAB>#Intensity`` then rows ``shift<TAB>intensity`` (WiRE writes decreasing Raman
  shift; the order is kept). hySpc ``paracetamol.txt`` is the same without the header line.
* **Renishaw WiRE text export, map / series** ("long" layout): header ``#X #Y #Wave
  #Intensity`` (or ``#Time #Wave #Intensity``, ``#Z …``) and one row per spectral point
  ``x y shift intensity``; each spectrum is a run of rows with one coordinate tuple. With x and
  y columns the spectra form a ``("y", "x")`` map when their positions fill a grid exactly,
  else they stay as ``("point",)`` with per-point ``x``/``y`` coordinates (µm); with one
  coordinate column the result has dims ``("position",)`` (X, Y or Z) or ``("scan",)`` (any
  other, e.g. time in s). Every spectrum must share the first one's axis.
* **LightNovo TSV** (ramanchada2 ``polystyrene_aritficially_worsened.tsv``): ``Key<TAB>Value``
  header lines (``DeviceSN``, ``LaserWavelength_nm``, ``Exposure_ms``, ``GainMultiplier``,
  ``LaserCurrent_mA``, ``LaserPower_mW``, ``RepetitionCount``, ``Tags``) then
  ``shift<TAB>intensity`` rows (Raman shift in cm-1: polystyrene's ring band is at 1000).

Delimiter: tab, then comma, semicolon, or runs of blanks, detected on the first data row.
Stitched ("extended scan") exports can repeat an axis value where two grating windows overlap
and the export rounds to 0.01 cm-1 (``paracetamol.txt`` has 7 such ties among 4064 rows): with
the default ``duplicates="merge"`` each run of equal values becomes one point with the mean
intensity, recorded as a ``merge_repeated_axis_points`` history step; ``"error"`` refuses them.
The files do not state the x-unit: it is taken as Raman shift (cm-1) unless the ``axis``
option says ``"wavelength"`` (nm) or ``"channel"``; ``raw_meta["axis_from"]`` records which.

Sniffing
--------
Only ``.txt`` / ``.tsv`` files, and only when no other format's content test claims the file
(so XPS, XAS and NMR text never lands here): a ``#… #Wave #Intensity`` header, a LightNovo
header, or a headerless table of at least 5 rows of exactly two numbers with a strictly
monotonic first column. This is a content test rather than a ``fallback=True`` extension
claim: a ``.txt`` fallback would also take Bruker ``audita.txt`` and other notes files.

Metadata
--------
``meta``: ``laser_wavelength_nm`` (LightNovo ``LaserWavelength_nm``, or the option),
``exposure_time_s`` (``Exposure_ms`` / 1000), ``laser_power_mw`` (``LaserPower_mW``),
``measurement_type``. ``raw_meta``: header lines, column names, delimiter, ``axis_from``.

A Renishaw WiRE experiment file (``.wxd``, starting ``#WXD``) holds measurement settings, not
spectra: it is recognised only to say so.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes
from specssb.parsers._raman_common import (
    check_monotonic,
    map_layout,
    merge_repeated_points,
    numeric_rows,
    spectral_axis,
)
from specssb.parsers._registry import formats, register_parser
from specssb.spectrum import Coord, Source, Spectrum, Step

__all__ = ["parse_raman_text", "read_raman_text", "read_wire_wxd", "sniff_raman_text"]

FORMAT = "raman-text"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_AXIS_NAMES = {"raman_shift": "rel. 1/cm", "wavelength": "nm", "channel": "pixel"}
_SHIFT_WORDS = {"wave", "wavenumber", "wavenumbers", "ramanshift", "shift", "raman_shift"}
_SPATIAL = {"x", "y", "z"}
_LIGHTNOVO_KEYS = ("DeviceSN", "LaserWavelength_nm")
_SNIFF_SUFFIXES = (".txt", ".tsv")
_MIN_SNIFF_ROWS = 5
_DUPLICATES = ("merge", "error")
_sniffing = False  # re-entrancy guard: the sniffer asks the other formats' content tests


def _split(line: str, delimiter: str | None) -> list[str]:
    return line.split(delimiter) if delimiter is not None else line.split()


def _detect_delimiter(line: str) -> str | None:
    for candidate in ("\t", ",", ";"):
        if candidate in line:
            return candidate
    return None


def _numeric_fields(line: str) -> list[float] | None:
    delimiter = _detect_delimiter(line)
    fields = [f for f in _split(line.strip(), delimiter) if f.strip()]
    try:
        return [float(f) for f in fields]
    except ValueError:
        return None


def _column_names(line: str) -> list[str] | None:
    """``['x', 'y', 'wave', 'intensity']`` for ``#X  #Y  #Wave  #Intensity``, else None."""
    names = line.split()
    if len(names) < 2 or not all(n.startswith("#") and len(n) > 1 for n in names):
        return None
    words = [n[1:].lower() for n in names]
    if words[-2] not in _SHIFT_WORDS or not words[-1].startswith("intens"):
        return None
    return words


def _looks_like_raman_text(head: str) -> bool:
    lines = [line for line in _LINE_BREAK.split(head.lstrip("\ufeff"))]
    if len(head) >= 4096:
        lines = lines[:-1]  # the last line of a 4 kB head may be cut
    lines = [line for line in lines if line.strip()]
    if not lines:
        return False
    if _column_names(lines[0]) is not None:
        return True
    if all(any(line.startswith(key + "\t") for line in lines[:20]) for key in _LIGHTNOVO_KEYS):
        return True
    rows = [_numeric_fields(line) for line in lines]
    if len(rows) < _MIN_SNIFF_ROWS or any(r is None or len(r) != 2 for r in rows):
        return False
    x = np.array([r[0] for r in rows if r is not None])
    steps = np.diff(x)
    return bool(np.all(np.isfinite(x)) and (np.all(steps > 0) or np.all(steps < 0)))


def sniff_raman_text(path: Path, head: bytes) -> bool:
    """True for a ``.txt``/``.tsv`` Raman table that no other format's content test claims."""
    global _sniffing
    if _sniffing or not path.name.lower().endswith(_SNIFF_SUFFIXES):
        return False
    if not _looks_like_raman_text(head.decode("latin-1")):
        return False
    _sniffing = True
    try:
        others = [f for f in formats() if f.name != FORMAT and f.technique != "echem"]
        return not any(f.matches_content(path, head) for f in others)
    finally:
        _sniffing = False


def _header_and_start(lines: list[str]) -> tuple[list[str], int]:
    for index, line in enumerate(lines):
        if line.strip() and _numeric_fields(line) is not None:
            return [h for h in lines[:index] if h.strip()], index
    raise ParseError("", "no data rows: no line holds only numbers")


def _header_meta(header: list[str], path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """LightNovo-style ``Key<TAB>Value`` lines: normalized keys and the raw pairs."""
    pairs: dict[str, str] = {}
    for line in header:
        if line.startswith("#"):
            continue
        key, _, value = line.partition("\t")
        if key.strip():
            pairs[key.strip()] = value.strip()
    meta: dict[str, Any] = {}
    for key, target, scale in (("LaserWavelength_nm", "laser_wavelength_nm", 1.0),
                               ("Exposure_ms", "exposure_time_s", 1e-3),
                               ("LaserPower_mW", "laser_power_mw", 1.0)):
        if pairs.get(key):
            try:
                value = float(pairs[key]) * scale
            except ValueError:
                raise ParseError(path, f"header {key} {pairs[key]!r} is not a number") from None
            if math.isfinite(value) and value > 0:
                meta[target] = value
    return meta, pairs


def _long_layout(table: np.ndarray, names: list[str], path: str, start: int
                 ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], dict[str, Coord], str]:
    """Split ``coord… shift intensity`` rows into spectra sharing one axis."""
    n_coords = table.shape[1] - 2
    keys = table[:, :n_coords]
    change = np.flatnonzero(np.any(np.diff(keys, axis=0) != 0, axis=1)) + 1
    bounds = np.concatenate(([0], change, [table.shape[0]]))
    lengths = np.diff(bounds)
    if np.any(lengths != lengths[0]):
        bad = int(np.argmax(lengths != lengths[0]))
        raise ParseError(path, f"spectrum {bad + 1} has {lengths[bad]} rows where the first has "
                         f"{lengths[0]} (truncated file, or positions not grouped?)",
                         position=f"line {start + 1 + int(bounds[bad])}")
    n_spectra, n_points = lengths.size, int(lengths[0])
    shifts = table[:, n_coords].reshape(n_spectra, n_points)
    if not np.array_equal(shifts, np.broadcast_to(shifts[0], shifts.shape)):
        bad = int(np.argmax(np.any(shifts != shifts[0], axis=1)))
        raise ParseError(path, f"spectrum {bad + 1} has another spectral axis than the first",
                         position=f"line {start + 1 + bad * n_points}")
    spectra = table[:, -1].reshape(n_spectra, n_points)
    positions = keys[bounds[:-1]]
    if n_coords == 2:
        data, dims, coords, placement = map_layout(positions[:, 0], positions[:, 1], spectra)
        if names[:2] == ["y", "x"]:
            data, dims, coords, placement = map_layout(positions[:, 1], positions[:, 0], spectra)
        return shifts[0], data, dims, coords, "map" if placement == "grid" else "points"
    if n_coords == 1:
        name = names[0] if names else "value"
        dim = "position" if name in _SPATIAL else "scan"
        unit = "um" if name in _SPATIAL else ("s" if name == "time" else "")
        return shifts[0], spectra, (dim,), {name: Coord(dim, positions[:, 0], unit)}, (
            "line" if dim == "position" else "series")
    raise ParseError(path, f"{table.shape[1]} columns: expected 2 (shift, intensity), 3 "
                     "(coordinate, shift, intensity) or 4 (x, y, shift, intensity)",
                     position=f"line {start + 1}")


def parse_raman_text(
    text: str,
    *,
    source: Source,
    axis: str | None = None,
    laser_wavelength_nm: float | None = None,
    duplicates: str = "merge",
) -> list[Spectrum]:
    """Parse a generic Raman text table (see the module docstring for the layouts).

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance of the file.
    axis : {"raman_shift", "wavelength", "channel"}, optional
        What the spectral column is; None: Raman shift in cm-1 (the files do not say).
    laser_wavelength_nm : float, optional
        Laser wavelength, nm; overrides a header value.
    duplicates : {"merge", "error"}, default "merge"
        Exactly repeated consecutive axis values: average each run into one point (recorded
        in ``history``), or raise ParseError.

    Returns
    -------
    list of Spectrum
        One Spectrum: 1-D, ``("y", "x")``/``("point",)`` map, or ``("position",)``/
        ``("scan",)``.

    Raises
    ------
    ParseError
        No data rows, ragged or non-numeric rows, fewer than 3 points, a non-monotonic
        spectral column, spectra of unequal length or axis, an unsupported column count.
    ConfigError
        An unknown ``axis`` or ``duplicates``, or a non-positive ``laser_wavelength_nm``.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = "#Wave\\t\\t#Intensity\\n1000.5\\t10\\n999.0\\t12\\n997.5\\t11\\n"
    >>> s = parse_raman_text(text, source=Source("a.txt", "", "raman-text"))[0]
    >>> s.axis.name, float(s.axis.values[0])
    ('raman_shift', 1000.5)
    """
    _check_options(axis, laser_wavelength_nm, duplicates)
    path = source.path
    lines = _LINE_BREAK.split(text.lstrip("\ufeff"))
    try:
        header, start = _header_and_start(lines)
    except ParseError as exc:
        raise ParseError(path, exc.reason, position="line 1") from None
    delimiter = _detect_delimiter(lines[start])
    table = numeric_rows(lines, start, path, delimiter=delimiter)
    names = next((n for n in (_column_names(h) for h in header) if n), [])
    if names and len(names) != table.shape[1]:
        raise ParseError(path, f"the header names {len(names)} columns but the rows have "
                         f"{table.shape[1]}", position=f"line {start + 1}")
    dims: tuple[str, ...] = ()
    coords: dict[str, Coord] = {}
    if table.shape[1] == 2:
        x, data, kind = table[:, 0], table[:, 1], "single"
    elif table.shape[1] < 2:
        raise ParseError(path, "a row needs a spectral value and an intensity (one field "
                         "found: truncated row or wrong delimiter?)", position=f"line {start + 1}")
    else:
        x, data, dims, coords, kind = _long_layout(table, names[:-2], path, start)
    if x.size < 3:
        raise ParseError(path, f"only {x.size} spectral points; a spectrum needs at least 3",
                         position=f"line {start + 1}")
    history: tuple[Step, ...] = ()
    if duplicates == "merge":
        x, data, repeated = merge_repeated_points(x, data)
        if repeated:
            history = (Step("merge_repeated_axis_points",
                            {"method": "mean", "repeated_values": repeated}),)
    check_monotonic(x, path, "spectral column", f"lines {start + 1}-{len(lines)}")
    if not np.all(np.isfinite(data)):
        raise ParseError(path, "the intensities hold non-finite values",
                         position=f"lines {start + 1}-{len(lines)}")
    spectral, conversion = spectral_axis(_AXIS_NAMES[axis or "raman_shift"], x, path)
    meta, pairs = _header_meta(header, path)
    if laser_wavelength_nm is not None:
        meta["laser_wavelength_nm"] = float(laser_wavelength_nm)
    meta["measurement_type"] = kind
    raw: dict[str, Any] = {"header": header, "column_names": names,
                           "delimiter": "whitespace" if delimiter is None else delimiter,
                           "axis_from": "option" if axis else "assumed"}
    if pairs:
        raw["header_values"] = pairs
    return [Spectrum(axis=spectral, data=data, technique="raman", signal="intensity", dims=dims,
                     coords=coords, meta=meta, raw_meta=raw, source=source,
                     history=history + conversion)]


def _check_options(axis: str | None, laser_wavelength_nm: float | None, duplicates: str) -> None:
    if duplicates not in _DUPLICATES:
        raise ConfigError(f"duplicates must be 'merge' or 'error', not {duplicates!r}",
                          key="duplicates")
    if axis is not None and axis not in _AXIS_NAMES:
        raise ConfigError(f"axis must be one of {', '.join(_AXIS_NAMES)}, not {axis!r}",
                          key="axis")
    if laser_wavelength_nm is not None and not (
            isinstance(laser_wavelength_nm, (int, float)) and math.isfinite(laser_wavelength_nm)
            and laser_wavelength_nm > 0):
        raise ConfigError(f"laser_wavelength_nm must be a positive number of nm, not "
                          f"{laser_wavelength_nm!r}", key="laser_wavelength_nm")


@register_parser(
    name=FORMAT,
    technique="raman",
    extensions=(".txt",),
    sniff=sniff_raman_text,
    description="generic Raman text: two columns (Renishaw WiRE, LightNovo TSV) or long map "
                "tables with x, y columns; only what no other format claims",
)
def read_raman_text(
    path: Path,
    *,
    encoding: str = "latin-1",
    axis: str | None = None,
    laser_wavelength_nm: float | None = None,
    duplicates: str = "merge",
) -> list[Spectrum]:
    """Read a generic Raman text table.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding.
    axis, laser_wavelength_nm, duplicates
        See :func:`parse_raman_text`.

    Returns
    -------
    list of Spectrum
        See :func:`parse_raman_text`.

    Raises
    ------
    ParseError, ConfigError
        See :func:`parse_raman_text`.

    Examples
    --------
    >>> import specssb
    >>> s = specssb.read("paracetamol.txt", laser_wavelength_nm=785.0)[0]  # doctest: +SKIP
    >>> s.axis.size  # doctest: +SKIP
    4064
    """
    _check_options(axis, laser_wavelength_nm, duplicates)
    data = read_bytes(path)
    source = make_source(path, FORMAT, data=data)
    return parse_raman_text(decode_text(data, path, encoding), source=source, axis=axis,
                            laser_wavelength_nm=laser_wavelength_nm, duplicates=duplicates)


@register_parser(
    name="wire-wxd",
    technique="raman",
    extensions=(".wxd",),
    magic=(b"#WXD",),
    description="Renishaw WiRE experiment file (.wxd): settings, not spectra; recognised only "
                "to explain",
)
def read_wire_wxd(path: Path) -> list[Spectrum]:
    """Refuse a WiRE experiment file with a message saying what it is.

    Raises
    ------
    ParseError
        Always: a ``.wxd`` holds a measurement set-up, not spectral data.
    """
    head = read_bytes(path)[:4]
    what = ("a Renishaw WiRE experiment file (.wxd)" if head == b"#WXD"
            else "not a WiRE experiment file either (no '#WXD' magic)")
    raise ParseError(path, f"{what}: it stores the measurement set-up, not spectra; read the "
                     ".wdf (or a .txt/.spc export) of the same measurement", position="byte 0")
