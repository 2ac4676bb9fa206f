"""JCAMP-DX Raman spectra (``.jdx``, ``.dx``): ``##DATA TYPE= RAMAN SPECTRUM``.

Layout (JCAMP-DX 4.24, McDonald & Wilks 1988), as in ``jcamp/tannic_acid.jdx`` (Ocean Optics
R2000)::

    ##TITLE=tannic acid
    ##JCAMP-DX=4.24
    ##DATATYPE=RAMAN SPECTRUM
    ##XUNITS=1/CM          ##YUNITS=ARBITRARY UNITS
    ##FIRSTX=100.595       ##LASTX=2854.713   ##NPOINTS=1949
    ##XFACTOR=1.000000     ##YFACTOR=1.000000
    ##XYDATA=(XY..XY)
     100.595,   42.644
    ...
    ##END=

Record splitting, label normalisation (``##DATA TYPE`` = ``##DATATYPE``) and the ASDF
decoder (SQZ/DIF/DUP with Y checks) are those of :mod:`specssb.parsers.nmr_jcamp`, imported,
not copied. Data forms read: ``(X++(Y..Y))`` (AFFN or ASDF; X runs linearly FIRSTX → LASTX)
and ``(XY..XY)`` pairs under ``##XYDATA`` or ``##XYPOINTS`` (X as written × XFACTOR). The
ordinate count must equal ``NPOINTS``.

Sniffing: a file starting with ``##`` whose ``DATA TYPE`` names RAMAN is this format; NMR
JCAMP (``NMR SPECTRUM``/``NMR FID``) belongs to ``jcamp-nmr``, and any other data type to
neither.

Axis: ``XUNITS`` ``1/CM`` (or ``CM-1``, ``RAMAN SHIFT``) -> ``raman_shift``; ``NANOMETERS`` /
``NM`` -> ``wavelength``; ``MICROMETERS`` -> ``wavelength`` × 1000; other units are a
ParseError.

``meta``: ``title``, ``sample`` (``SAMPLE DESCRIPTION`` or ``NAMES``), ``instrument``
(``SPECTROMETER/DATA SYSTEM``), ``operator`` (``OWNER``), ``acquired_at`` (``DATE`` +
``TIME``, or ``LONG DATE``, read in the ``timezone`` option, default UTC),
``laser_wavelength_nm`` (any label holding ``LASER`` … with a number in nm, e.g.
``##$LASER WAVELENGTH=785``, or ``##.LASER WAVELENGTH``), ``exposure_time_s``
(``$EXPOSURE TIME`` in s). ``raw_meta``: every label as written (first occurrence) and
``"_labels"`` in file order.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes, time_zone
from specssb.parsers._raman_axis import check_axis
from specssb.parsers._registry import register_parser

# The JCAMP record splitter, number reader and ASDF decoder live in the NMR reader.
from specssb.parsers.nmr_jcamp import _AFFN, _norm, _number, _records, decode_asdf
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["parse_raman_jcamp", "read_raman_jcamp", "sniff_raman_jcamp"]

FORMAT = "jcamp-raman"
_SHIFT_UNITS = {"1/CM", "CM1", "CM-1", "RAMANSHIFT", "WAVENUMBER", "WAVENUMBERS", "1CM"}
_NM_UNITS = {"NANOMETERS", "NANOMETER", "NM"}
_UM_UNITS = {"MICROMETERS", "MICROMETER", "UM", "MICRONS"}


def sniff_raman_jcamp(path: Path, head: bytes) -> bool:
    """True for JCAMP-DX text whose DATA TYPE names RAMAN."""
    text = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    if not text.startswith(b"##"):
        return False
    match = re.search(rb"##DATA\s*_?TYPE\s*=([^\r\n]*)", head, re.I)
    return bool(match and b"RAMAN" in match.group(1).upper())


def _xy(records: list, header: Mapping[str, str], path: str) -> tuple[np.ndarray, np.ndarray]:
    record = next((r for r in records if r[0] in ("XYDATA", "XYPOINTS")), None)
    if record is None:
        raise ParseError(path, "no ##XYDATA= or ##XYPOINTS= record")
    _label, form, line, lines = record
    npoints = _number(header, "NPOINTS", path, required=True)
    xfactor = _number(header, "XFACTOR", path) or 1.0
    yfactor = _number(header, "YFACTOR", path) or 1.0
    shape = _norm(form)
    if shape in ("(XY..XY)", "(XY)"):
        flat: list[float] = []
        for number, content in lines:
            tokens = _AFFN.findall(content)
            leftover = _AFFN.sub("", content).replace(",", "").replace(";", "").strip()
            if leftover and leftover != "?":
                raise ParseError(path, f"unexpected text {leftover[:20]!r} in XY pairs",
                                 position=f"line {number}")
            flat.extend(float(t) for t in tokens)
        if len(flat) % 2:
            raise ParseError(path, "XY pairs hold an odd number of values (truncated line?)",
                             position=f"line {lines[-1][0] if lines else line}")
        x, y = np.asarray(flat[0::2]) * xfactor, np.asarray(flat[1::2]) * yfactor
    elif shape == "(X++(Y..Y))":
        _, y = decode_asdf(lines, path=path)
        first = _number(header, "FIRSTX", path, required=True)
        last = _number(header, "LASTX", path, required=True)
        x = np.linspace(first * xfactor, last * xfactor, y.size) if y.size > 1 else \
            np.asarray([first * xfactor])
        y = y * yfactor
    else:
        raise ParseError(path, f"unsupported data form {form!r}", position=f"line {line}")
    if y.size != npoints:
        raise ParseError(path, f"{y.size} ordinates read; ##NPOINTS={npoints:g}",
                         position=f"line {lines[-1][0] if lines else line}")
    return x, y


def _axis(x: np.ndarray, unit: str, path: str) -> Axis:
    x = check_axis(x, path, "abscissa")
    if unit in _SHIFT_UNITS:
        return Axis("raman_shift", "cm-1", x)
    if unit in _NM_UNITS:
        return Axis("wavelength", "nm", x)
    if unit in _UM_UNITS:
        return Axis("wavelength", "nm", x * 1000.0)
    raise ParseError(path, f"unsupported XUNITS {unit!r} for a Raman spectrum (1/CM or "
                           "NANOMETERS)")


def _acquired_at(header: Mapping[str, str], timezone: str) -> _dt.datetime | None:
    zone = time_zone(timezone)
    long_date = header.get("LONGDATE", "").strip()
    match = re.match(r"(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?",
                     long_date)
    if not match:
        date = re.fullmatch(r"(\d{2,4})/(\d{1,2})/(\d{1,2})", header.get("DATE", "").strip())
        time = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", header.get("TIME", "").strip())
        if not date:
            return None
        year = int(date.group(1))
        year += 1900 if year < 100 and year >= 50 else (2000 if year < 50 else 0)
        parts = [year, int(date.group(2)), int(date.group(3))]
        parts += [int(time.group(1)), int(time.group(2)), int(time.group(3) or 0)] if time \
            else [0, 0, 0]
    else:
        parts = [int(g) if g else 0 for g in match.groups()]
    try:
        return _dt.datetime(*parts, tzinfo=zone).astimezone(_dt.timezone.utc)
    except ValueError:
        return None


def _meta(header: Mapping[str, str], timezone: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for keys, name in ((("TITLE",), "title"), (("SAMPLEDESCRIPTION", "NAMES"), "sample"),
                       (("SPECTROMETERDATASYSTEM", "INSTRUMENT"), "instrument"),
                       (("OWNER",), "operator")):
        value = next((header[k].strip() for k in keys if header.get(k, "").strip()), "")
        if value:
            meta[name] = value
    for label, value in header.items():
        if "LASER" in label and ("WAVELENGTH" in label or "LINE" in label):
            number = _number(header, label, "")
            if number and 150.0 <= number <= 2000.0:
                meta["laser_wavelength_nm"] = number
                break
    exposure = _number(header, "$EXPOSURETIME", "")
    if exposure and exposure > 0:
        meta["exposure_time_s"] = exposure
    when = _acquired_at(header, timezone)
    if when is not None:
        meta["acquired_at"] = when
    return meta


def parse_raman_jcamp(text: str, *, source: Source, timezone: str = "UTC") -> list[Spectrum]:
    """Parse the text of a JCAMP-DX Raman file.

    Parameters
    ----------
    text : str
        The whole file.
    source : Source
        Provenance.
    timezone : str, default "UTC"
        IANA zone of ``##DATE``/``##TIME``.

    Returns
    -------
    list of Spectrum
        One 1-D Spectrum.

    Raises
    ------
    ParseError
        Not JCAMP-DX, not a Raman data type, a compound file, missing NPOINTS/FIRSTX/LASTX,
        corrupt data lines, an ordinate count different from NPOINTS, an unsupported XUNITS.
    """
    path = source.path
    time_zone(timezone)
    records = _records(text, path)
    header: dict[str, str] = {}
    for label, value, _, _ in records:
        header.setdefault(label, value)
    if "BLOCKS" in header or sum(r[0] == "TITLE" for r in records) > 1:
        raise ParseError(path, "compound (multi-block) JCAMP-DX files are not supported")
    kind = header.get("DATATYPE", "").upper()
    if "RAMAN" not in kind:
        raise ParseError(path, f"not a Raman JCAMP-DX file (DATA TYPE={kind!r})")
    x, y = _xy(records, header, path)
    if not np.all(np.isfinite(y)):
        raise ParseError(path, "ordinates hold NaN or infinite values")
    axis = _axis(x, _norm(header.get("XUNITS", "")), path)
    raw: dict[str, Any] = dict(header)
    raw["_labels"] = [r[0] for r in records]
    y_unit = _norm(header.get("YUNITS", ""))
    signal = ("counts", "counts") if y_unit == "COUNTS" else ("intensity", "arb. units")
    return [Spectrum(axis=axis, data=y, technique="raman", signal=signal[0],
                     signal_unit=signal[1], meta=_meta(header, timezone), raw_meta=raw,
                     source=source)]


@register_parser(
    name=FORMAT,
    technique="raman",
    extensions=(".jdx", ".dx", ".jcamp"),
    sniff=sniff_raman_jcamp,
    description="JCAMP-DX Raman spectrum (XY pairs or X++(Y..Y), AFFN or ASDF compressed)",
)
def read_raman_jcamp(path: Path, *, encoding: str = "latin-1",
                     timezone: str = "UTC") -> list[Spectrum]:
    """Read a JCAMP-DX Raman file (see :func:`parse_raman_jcamp`).

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding.
    timezone : str, default "UTC"
        IANA zone of the file's date and time.

    Returns
    -------
    list of Spectrum

    Examples
    --------
    >>> [s] = read_raman_jcamp(Path("tannic_acid.jdx"))  # doctest: +SKIP
    >>> s.axis.name, s.axis.size  # doctest: +SKIP
    ('raman_shift', 1949)
    """
    path = Path(path)
    raw = read_bytes(path)
    return parse_raman_jcamp(decode_text(raw, path, encoding),
                             source=make_source(path, FORMAT, data=raw), timezone=timezone)
