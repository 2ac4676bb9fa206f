"""Andor Solis ASCII exports (``.asc``): one spectrum or a stack of frames per file.

Layout, as in ``hyperspec/asc.Andor/ASCII-Andor-Solis.asc`` (63 rows)::

    161.40845,3404,3402,3404,3395,3406,
    165.72867,3400,3400,3401,3406,3401,
    ...

Each row is the calibrated x value, then one intensity per frame (kinetic series) or track,
separated by commas (a trailing comma is usual) or tabs. When Solis is told to append the
acquisition information, ``key:<tab>value`` lines (``Date and Time``, ``Exposure Time
(secs)``, ``Number of Accumulations``, ``Raman Ex. Wavelength (nm)`` …) follow the data; they
go to ``raw_meta["acquisition"]``.

The file does not say what the x column is (Solis writes pixel numbers, nm, cm-1 or eV as set
in the program). Option ``axis``: ``"auto"`` (default) takes consecutive integers for pixel
numbers (``channel``) and anything else for Raman shift in cm-1 (``raman_shift``): in the test
file the step shrinks from 4.32 to 4.14 across 161–424, which is how a Raman-shift axis of an
evenly dispersed detector behaves (a wavelength axis would be nearly linear); ``"raman_shift"``,
``"wavelength"`` (nm) or ``"channel"`` force it. ``raw_meta["x_unit_source"]`` says whether the
unit was assumed or chosen.

Shapes: one column -> 1-D; several -> dims ``("frame",)``.

``meta``: ``exposure_time_s``, ``n_accumulations``, ``laser_wavelength_nm`` and ``acquired_at``
(UTC, read in the ``timezone`` option) when the appended information gives them.

Andor's binary ``.sif`` files are read by :mod:`specssb.parsers.raman_sif`.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes, time_zone
from specssb.parsers._raman_axis import check_axis
from specssb.parsers._registry import register_parser
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["parse_andor_asc", "read_andor_asc", "sniff_andor_asc"]

FORMAT = "andor-asc"
AXIS_OPTIONS = ("auto", "raman_shift", "wavelength", "channel")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ROW = re.compile(rf"^\s*{_NUMBER}(?:\s*[,\t]\s*{_NUMBER})+\s*[,\t]?\s*$")


def sniff_andor_asc(path: Path, head: bytes) -> bool:
    """True for a ``.asc`` file whose first lines are numeric rows (x, then intensities)."""
    if path.suffix.lower() != ".asc":
        return False
    lines = [line for line in head.decode("latin-1").splitlines() if line.strip()][:5]
    return bool(lines) and all(_ROW.match(line) for line in lines[:-1] or lines)


def _rows(text: str, path: str) -> tuple[np.ndarray, dict[str, str], int]:
    rows: list[list[float]] = []
    info: dict[str, str] = {}
    width = None
    last = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if _ROW.match(line) and not info:
            cells = [c for c in re.split(r"\s*[,\t]\s*", line.strip()) if c != ""]
            if width is None:
                width = len(cells)
            elif len(cells) != width:
                raise ParseError(path, f"row has {len(cells)} values, the first row had {width}",
                                 position=f"line {number}")
            rows.append([float(c) for c in cells])
            last = number
            continue
        if not rows:
            raise ParseError(path, f"expected a numeric row (x, intensities), found "
                                   f"{line.strip()[:40]!r}", position=f"line {number}")
        key, sep, value = line.partition(":")
        if not sep:
            raise ParseError(path, f"unexpected line after the data: {line.strip()[:40]!r}",
                             position=f"line {number}")
        info[key.strip()] = value.strip()
    if not rows:
        raise ParseError(path, "no numeric rows (empty file?)", position="line 1")
    if len(rows[0]) < 2:
        raise ParseError(path, "rows need an x value and at least one intensity",
                         position="line 1")
    return np.asarray(rows, dtype=np.float64), info, last


def _acquisition_meta(info: dict[str, str], timezone: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key, value in info.items():
        lowered = key.lower()
        number = re.match(_NUMBER, value.strip())
        if number is None and "date" not in lowered:
            continue
        if lowered.startswith("exposure time"):
            meta["exposure_time_s"] = float(number.group()) * (1e-3 if "ms" in lowered else 1.0)
        elif "accumulations" in lowered and float(number.group()).is_integer():
            meta["n_accumulations"] = int(float(number.group()))
        elif "wavelength" in lowered and ("raman" in lowered or "laser" in lowered
                                          or "excitation" in lowered):
            meta["laser_wavelength_nm"] = float(number.group())
        elif lowered.startswith("date and time"):
            for pattern in ("%a %b %d %H:%M:%S %Y", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
                try:
                    local = _dt.datetime.strptime(re.sub(r"\s+", " ", value.strip()), pattern)
                except ValueError:
                    continue
                meta["acquired_at"] = local.replace(tzinfo=time_zone(timezone)).astimezone(
                    _dt.timezone.utc)
                break
    return meta


def parse_andor_asc(text: str, *, source: Source, axis: str = "auto",
                    timezone: str = "UTC") -> list[Spectrum]:
    """Parse the text of an Andor Solis ASCII export.

    Parameters
    ----------
    text : str
        The whole file.
    source : Source
        Provenance.
    axis : {"auto", "raman_shift", "wavelength", "channel"}
        What the x column is (see the module docstring).
    timezone : str, default "UTC"
        IANA zone of an appended ``Date and Time``.

    Returns
    -------
    list of Spectrum
        One Spectrum, 1-D or dims ``("frame",)``.

    Raises
    ------
    ParseError
        Non-numeric or ragged rows, a non-monotonic or non-finite x column, non-finite
        intensities.
    """
    path = source.path
    if axis not in AXIS_OPTIONS:
        raise ConfigError(f"axis must be one of {AXIS_OPTIONS}, got {axis!r}", key="axis")
    time_zone(timezone)
    table, info, last_row = _rows(text, path)
    x = check_axis(table[:, 0], path, "column 1")
    values = table[:, 1:].T
    if not np.all(np.isfinite(values)):
        raise ParseError(path, "intensities hold NaN or infinite values")
    integral = np.allclose(x, np.round(x)) and np.all(np.abs(np.diff(x)) == 1)
    name = axis if axis != "auto" else ("channel" if integral else "raman_shift")
    unit = {"raman_shift": "cm-1", "wavelength": "nm", "channel": "1"}[name]
    raw: dict[str, Any] = {
        "columns": int(table.shape[1]), "rows": int(table.shape[0]), "last_data_line": last_row,
        "x_unit_source": "option" if axis != "auto" else
        ("assumed: consecutive integers are pixel numbers" if integral else
         "assumed: Raman shift (the file does not name its x unit)"),
    }
    if info:
        raw["acquisition"] = info
    data = values[0] if values.shape[0] == 1 else values
    return [Spectrum(axis=Axis(name, unit, x), data=data, technique="raman", signal="counts",
                     dims=() if values.shape[0] == 1 else ("frame",),
                     meta=_acquisition_meta(info, timezone), raw_meta=raw, source=source)]


@register_parser(
    name=FORMAT,
    technique="raman",
    extensions=(".asc",),
    sniff=sniff_andor_asc,
    description="Andor Solis ASCII export (x column then one column per frame; x unit "
                "assumed Raman shift unless pixel numbers)",
)
def read_andor_asc(path: Path, *, axis: str = "auto", encoding: str = "latin-1",
                   timezone: str = "UTC") -> list[Spectrum]:
    """Read an Andor Solis ``.asc`` export (see :func:`parse_andor_asc`).

    Parameters
    ----------
    path : Path
        The file.
    axis : {"auto", "raman_shift", "wavelength", "channel"}, default "auto"
        What the x column is.
    encoding : str, default "latin-1"
        Text encoding.
    timezone : str, default "UTC"
        IANA zone of the appended acquisition date.

    Returns
    -------
    list of Spectrum

    Examples
    --------
    >>> [s] = read_andor_asc(Path("ASCII-Andor-Solis.asc"))  # doctest: +SKIP
    >>> s.dims, s.shape  # doctest: +SKIP
    (('frame',), (5, 63))
    """
    path = Path(path)
    raw = read_bytes(path)
    return parse_andor_asc(decode_text(raw, path, encoding),
                           source=make_source(path, FORMAT, data=raw), axis=axis,
                           timezone=timezone)
