"""Plain two-column or CSV XPS spectra (``.csv``, ``.xy``) on a declared energy axis.

Many XPS spectra travel as bare tables: an energy column and an intensity column, with or
without a line of column names, and nothing else. Real examples (``../shared/data/xps``):

* ``lg4x/C1s_sample.csv`` (PHI VersaProbe II, via LG4X): header ``BE/eV,InC1s_sample``, then
  351 rows ``301.5,1709`` ... ``266.5,393`` (CRLF);
* ``lmfitxps/clean_Au_4f.csv`` (DELTA BL11, hv = 180 eV): header
  ``#E_kin, intensity measured at BL11, DELTA, TU Dortmund, hv=180eV``, then 294 rows on a
  kinetic-energy scale, 84.0 ... 95.9984 eV (LF);
* ``gxps/Al-NE-FeCr-S02p6-Fe2p-3.xy``: no header, 701 rows ``750.00,19595`` ... ``680.00,7691``
  (binding energy, CRLF).

Such a file says little about itself, so the reader is chosen by **extension only** (no magic,
no content sniffer): a SPECS ``.xy`` with its ``# Created by: SpecsLab Prodigy`` header is
claimed by its own reader's sniffer and this one is the fallback for ``.csv`` and ``.xy`` files
nothing else recognizes (pass ``format="xps-text"`` when a ``.xy`` is ambiguous).

Layout read
-----------
* Header: every line before the first row whose first field is a number (blank lines
  skipped). The lines are kept verbatim in ``raw_meta["header"]``.
* Rows: fields split by ``delimiter`` (auto: ``;`` if the first data row holds one, else ``,``,
  else a tab, else runs of whitespace); ``columns`` picks the energy and intensity fields
  (0-based). Decimal commas are not read.
* The axis is the energy column in file order; it must be finite and strictly monotonic.

Axis kind (binding or kinetic energy)
-------------------------------------
The column name of the energy column (the last header line, split with the same delimiter)
decides when it names one: ``BE``, ``B.E.``, ``binding``, ``E_bin``, ``Eb`` -> binding energy;
``KE``, ``K.E.``, ``kinetic``, ``E_kin``, ``Ek`` -> kinetic energy (a leading ``#`` is
ignored). The ``axis`` option declares it when the file does not; without either the axis is
taken to be binding energy (``raw_meta["axis_from"]`` says which of "option", "header" or
"default" applied). An ``axis`` option that **contradicts** the header is a ConfigError: a
wrong energy scale silently read would shift every peak by hundreds of eV, and the remedy
(drop the option, or fix the file) is the user's call. A header unit other than eV (e.g.
``keV``) is a ParseError.

Excitation energy and conversion
--------------------------------
``hv`` is the ``excitation_energy_ev`` option, else a header value written as ``hv=180eV``,
``hν = 180 eV``, ``photon energy: 180 eV`` or ``excitation energy 1486.6 eV`` (an option that
disagrees with the header wins, with a MetadataWarning). With ``energy="binding"`` (default) a
kinetic-energy axis becomes ``BE = hv − KE − phi``, ``phi = work_function_ev`` (0 by default;
through :func:`~specssb.parsers._xps_energy.convert_energy`, recorded in ``history``), and
``energy="kinetic"`` converts the other way. When the conversion is needed but ``hv`` is
unknown the axis stays as in the file and a MetadataWarning says so (the same rule as every
XPS reader in specssb; pass ``excitation_energy_ev`` to convert).

Note on ``clean_Au_4f.csv``: its Au 4f7/2 maximum is at KE 92.31 eV, i.e. ``180 − 92.31 =
87.69`` eV with ``phi = 0`` instead of the tabulated 84.0 eV: those kinetic energies are not
referenced to the spectrometer Fermi level. Pass ``work_function_ev`` (about 3.7 eV for that
file) or calibrate the binding-energy scale afterwards.

What goes where
---------------
``meta``: ``excitation_energy_ev`` and ``work_function_ev`` when known. ``raw_meta``:
``header`` (list of str), ``delimiter`` (the separator used, ``"whitespace"`` for runs of
blanks), ``columns`` (the two indices used), ``n_fields`` (fields in the first data row),
``column_names`` (header names of the two columns, when present), ``header_axis`` (kind named
by the header or None), ``axis_from``, ``header_excitation_energy_ev`` (when the header gives
one). ``signal`` is ``counts`` or ``cps`` when the intensity column name says so (``counts``,
``cps``, ``c/s``), else ``intensity``; the ``signal`` option overrides it.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes
from specssb.parsers._registry import register_parser
from specssb.parsers._xps_energy import ENERGY_KINDS, convert_energy
from specssb.spectrum import Axis, Source, Spectrum

__all__ = ["parse_xps_text", "read_xps_text"]

FORMAT = "xps-text"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_AXES = {"binding_energy": "binding_energy", "binding": "binding_energy",
         "kinetic_energy": "kinetic_energy", "kinetic": "kinetic_energy"}
_BINDING_WORDS = {"be", "binding", "bin", "ebin", "eb", "ebinding"}
_KINETIC_WORDS = {"ke", "kinetic", "kin", "ekin", "ek", "ekinetic"}
_OTHER_UNITS = {"kev", "mev"}
_HV = re.compile(
    r"(?:\bhv|h\s*ν|\bh\s*nu|photon\s+energy|excitation\s+energy)\s*[=:]?\s*"
    r"([0-9]+(?:\.[0-9]*)?)\s*eV", re.IGNORECASE)
_SIGNALS = ("counts", "cps", "intensity")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*[;\t ]")


def _words(name: str) -> list[str]:
    """``'#E_kin'`` -> ``['e', 'kin', 'ekin']``; ``'B.E. (eV)'`` -> ``['be', 'ev']``."""
    text = name.strip().lstrip("#").lower().replace(".", "")
    words = re.findall(r"[a-zν]+", text)
    joined = re.sub(r"[^a-z]", "", text.split("/")[0].split("(")[0].split("[")[0])
    return [*words, joined]


def _axis_from_name(name: str, path: str, position: str) -> str | None:
    words = set(_words(name))
    binding, kinetic = bool(words & _BINDING_WORDS), bool(words & _KINETIC_WORDS)
    unit = words & _OTHER_UNITS
    if (binding or kinetic) and unit and "ev" not in words:
        raise ParseError(path, f"the energy column {name.strip()[:40]!r} is in "
                         f"{sorted(unit)[0]}, not eV (convert the file to eV)", position=position)
    if binding == kinetic:
        return None
    return "binding_energy" if binding else "kinetic_energy"


def _signal_from_name(name: str) -> str:
    text = name.lower()
    if re.search(r"\bcps\b|counts?\s*/\s*s|\bc\s*/\s*s\b|counts per second", text):
        return "cps"
    if re.search(r"\bcounts?\b|\bcnts?\b", text):
        return "counts"
    return "intensity"


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return [f.strip() for f in line.split(delimiter)]


def _auto_delimiter(line: str) -> str | None:
    for candidate in (";", ",", "\t"):
        if candidate in line:
            return candidate
    return None


def _delimiter_for(line: str, delimiter: str | None) -> str | None:
    """The separator to use: the option, None (whitespace) for " ", else detected on ``line``."""
    if delimiter is None:
        return _auto_delimiter(line)
    return None if delimiter in (" ", "whitespace") else delimiter


def _first_field_is_number(line: str, delimiter: str | None) -> bool:
    fields = _split(line, _delimiter_for(line, delimiter))
    try:
        float(fields[0])
    except (ValueError, IndexError):
        return False
    return True


def _rows(lines: list[str], start: int, delimiter: str | None, columns: tuple[int, int],
          path: str) -> np.ndarray:
    needed = max(columns) + 1
    values: list[tuple[float, float]] = []
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        fields = _split(line, delimiter)
        where = f"line {index + 1}"
        if len(fields) < 2:
            raise ParseError(path, f"a row needs an energy and an intensity, found one field "
                             f"{line.strip()[:40]!r} (truncated row, or wrong delimiter?)",
                             position=where)
        if len(fields) < needed:
            raise ParseError(path, f"found {len(fields)} fields but columns={columns} needs "
                             f"{needed}", position=where)
        pair = []
        for column in columns:
            try:
                pair.append(float(fields[column]))
            except ValueError:
                raise ParseError(path, f"expected a number in column {column}, found "
                                 f"{fields[column][:40]!r}", position=where) from None
        values.append((pair[0], pair[1]))
    return np.array(values, dtype=np.float64).reshape(-1, 2)


def _check_columns(columns: Sequence[int]) -> tuple[int, int]:
    try:
        x_column, y_column = (int(c) for c in columns)
    except (TypeError, ValueError):
        raise ConfigError(f"columns must be two column indices, e.g. (0, 1), not {columns!r}",
                          key="columns") from None
    if x_column < 0 or y_column < 0 or x_column == y_column or any(
            not float(c).is_integer() for c in columns):
        raise ConfigError(f"columns must be two different non-negative integers, not "
                          f"{tuple(columns)!r}", key="columns")
    return x_column, y_column


def _check_options(axis: str | None, energy: str, signal: str | None,
                   delimiter: str | None, excitation_energy_ev: float | None,
                   work_function_ev: float) -> str | None:
    if energy not in ENERGY_KINDS:
        raise ConfigError(f"energy must be 'binding' or 'kinetic', not {energy!r}", key="energy")
    if axis is not None and axis not in _AXES:
        raise ConfigError(f"axis must be 'binding_energy' or 'kinetic_energy', not {axis!r}",
                          key="axis")
    if signal is not None and signal not in _SIGNALS:
        raise ConfigError(f"signal must be one of {', '.join(_SIGNALS)}, not {signal!r}",
                          key="signal")
    if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
        raise ConfigError("delimiter must be a non-empty string or None (auto)", key="delimiter")
    if excitation_energy_ev is not None and not (
            math.isfinite(excitation_energy_ev) and excitation_energy_ev > 0):
        raise ConfigError(f"excitation_energy_ev must be a positive number of eV, not "
                          f"{excitation_energy_ev!r}", key="excitation_energy_ev")
    if not math.isfinite(work_function_ev):
        raise ConfigError("work_function_ev must be finite", key="work_function_ev")
    return _AXES[axis] if axis is not None else None


def parse_xps_text(
    text: str,
    *,
    source: Source,
    axis: str | None = None,
    energy: str = "binding",
    excitation_energy_ev: float | None = None,
    work_function_ev: float = 0.0,
    delimiter: str | None = None,
    columns: Sequence[int] = (0, 1),
    signal: str | None = None,
) -> list[Spectrum]:
    """Parse a two-column / CSV XPS table into one Spectrum.

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance of the file.
    axis : {"binding_energy", "kinetic_energy"} or None, default None
        What the energy column is ("binding"/"kinetic" also accepted). None: as the header
        names it, else binding energy. Contradicting the header is a ConfigError.
    energy : {"binding", "kinetic"}, default "binding"
        Axis to return (``BE = hv − KE − phi`` or ``KE = hv − BE − phi``, eV).
    excitation_energy_ev : float, optional
        Photon energy hv, eV; overrides a header value.
    work_function_ev : float, default 0
        ``phi`` in the conversion, eV.
    delimiter : str, optional
        Field separator; ``" "`` or ``"whitespace"`` for runs of blanks; None detects ``;``,
        ``,``, tab, then whitespace from the first data row.
    columns : pair of int, default (0, 1)
        0-based indices of the energy and the intensity columns.
    signal : {"counts", "cps", "intensity"}, optional
        What the intensity column is; None infers it from the header (else ``intensity``).

    Returns
    -------
    list of Spectrum
        One 1-D XPS spectrum; ``meta`` and ``raw_meta`` as in the module docstring.

    Raises
    ------
    ParseError
        No data rows, a row with one field or too few for ``columns``, a non-numeric value
        (naming the line), fewer than 3 points, a non-finite or non-monotonic energy column,
        non-finite intensities, an energy column not in eV.
    ConfigError
        Invalid options, or an ``axis`` that contradicts the header.

    Warns
    -----
    MetadataWarning
        A conversion was asked for but hv is unknown (the axis stays as in the file); the
        ``excitation_energy_ev`` option differs from the header's hv.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = "BE/eV,Int\\n290.0,10\\n289.9,12\\n289.8,11\\n"
    >>> spectrum = parse_xps_text(text, source=Source("c1s.csv", "", "xps-text"))[0]
    >>> spectrum.axis.name, float(spectrum.axis.values[0]), spectrum.raw_meta["axis_from"]
    ('binding_energy', 290.0, 'header')
    """
    declared = _check_options(axis, energy, signal, delimiter, excitation_energy_ev,
                              work_function_ev)
    x_column, y_column = _check_columns(columns)
    path = source.path
    lines = _LINE_BREAK.split(text.lstrip("\ufeff").removeprefix("ï»¿"))
    start = next((i for i, line in enumerate(lines)
                  if line.strip() and _first_field_is_number(line, delimiter)), None)
    if start is None:
        hint = (" (decimal commas are not read: convert them to points)"
                if any(_DECIMAL_COMMA.match(line) for line in lines) else "")
        raise ParseError(path, f"no data rows: no line starts with a number{hint}",
                         position="line 1")
    header = [line.strip() for line in lines[:start] if line.strip()]
    used = _delimiter_for(lines[start], delimiter)
    table = _rows(lines, start, used, (x_column, y_column), path)
    if table.shape[0] < 3:
        raise ParseError(path, f"only {table.shape[0]} data rows; a spectrum needs at least 3",
                         position=f"line {start + 1}")
    x, y = table[:, 0], table[:, 1]
    steps = np.diff(x)
    if not np.all(np.isfinite(x)) or not (np.all(steps > 0) or np.all(steps < 0)):
        raise ParseError(path, f"the energy column {x_column} is not finite and strictly "
                         "monotonic", position=f"lines {start + 1}-{len(lines)}")
    if not np.all(np.isfinite(y)):
        raise ParseError(path, f"the intensity column {y_column} holds non-finite values",
                         position=f"lines {start + 1}-{len(lines)}")

    messages: list[str] = []
    # Column names only from a last header line that splits like the rows (never free text).
    names = _split(header[-1], used) if header else []
    has_names = len(names) > max(x_column, y_column)
    x_name = names[x_column] if has_names else ""
    y_name = names[y_column] if has_names else ""
    header_position = f"line {start}" if header else "line 1"
    header_axis = _axis_from_name(x_name, path, header_position) if x_name else None
    if declared is not None and header_axis is not None and declared != header_axis:
        raise ConfigError(
            f"{path}: axis={axis!r} contradicts the header, whose energy column "
            f"{x_name.strip()[:40]!r} is {header_axis.replace('_', ' ')}; drop the axis option "
            "to use the header, or correct the file", key="axis")
    kind = declared or header_axis or "binding_energy"
    axis_from = "option" if declared else ("header" if header_axis else "default")

    header_hv = next((float(m.group(1)) for line in header for m in [_HV.search(line)] if m),
                     None)
    hv = excitation_energy_ev if excitation_energy_ev is not None else header_hv
    if excitation_energy_ev is not None and header_hv is not None and not math.isclose(
            excitation_energy_ev, header_hv, rel_tol=0, abs_tol=1e-6):
        messages.append(f"excitation_energy_ev={excitation_energy_ev} differs from the header's "
                        f"hv = {header_hv} eV; the option is used")
    if hv is None and kind != ENERGY_KINDS[energy]:
        messages.append(f"no excitation energy (pass excitation_energy_ev=...): the axis stays "
                        f"{kind.replace('_', ' ')}")
    out_kind, values, history = convert_energy(kind, x, hv=hv, phi=work_function_ev,
                                               energy=energy)
    if not np.all(np.isfinite(values)):
        raise ParseError(path, "the converted energy axis is not finite")

    meta: dict[str, Any] = {}
    if hv is not None:
        meta["excitation_energy_ev"] = float(hv)
        meta["work_function_ev"] = float(work_function_ev)
    raw_meta: dict[str, Any] = {
        "header": header,
        "delimiter": "whitespace" if used is None else used,
        "columns": (x_column, y_column),
        "n_fields": len(_split(lines[start], used)),
        "header_axis": header_axis,
        "axis_from": axis_from,
    }
    if x_name and y_name:
        raw_meta["column_names"] = (x_name, y_name)
    if header_hv is not None:
        raw_meta["header_excitation_energy_ev"] = header_hv
    for message in messages:
        warnings.warn(f"{path}: {message}", MetadataWarning, stacklevel=2)
    return [Spectrum(
        axis=Axis(out_kind, "eV", values),
        data=y,
        technique="xps",
        signal=signal or _signal_from_name(y_name),
        meta=meta,
        raw_meta=raw_meta,
        source=source,
        history=history,
    )]


@register_parser(
    name=FORMAT,
    technique="xps",
    extensions=(".csv", ".xy"),
    description="plain two-column / CSV XPS spectrum (energy, intensity) on a declared axis; "
                "chosen by extension when no other format recognises the content",
    fallback=True,
)
def read_xps_text(
    path: Path,
    *,
    encoding: str = "latin-1",
    axis: str | None = None,
    energy: str = "binding",
    excitation_energy_ev: float | None = None,
    work_function_ev: float = 0.0,
    delimiter: str | None = None,
    columns: tuple[int, int] = (0, 1),
    signal: str | None = None,
) -> list[Spectrum]:
    """Read a plain two-column / CSV XPS spectrum.

    Parameters
    ----------
    path : Path
        The file.
    encoding : str, default "latin-1"
        Text encoding (latin-1 decodes every byte; a UTF-8 BOM is skipped).
    axis, energy, excitation_energy_ev, work_function_ev, delimiter, columns, signal
        See :func:`parse_xps_text`.

    Returns
    -------
    list of Spectrum
        One spectrum; see :func:`parse_xps_text`.

    Raises
    ------
    ParseError, ConfigError
        See :func:`parse_xps_text`.

    Examples
    --------
    >>> import specssb
    >>> au = specssb.read("clean_Au_4f.csv", work_function_ev=3.7)[0]  # doctest: +SKIP
    >>> au.axis.name, au.meta["excitation_energy_ev"]  # doctest: +SKIP
    ('binding_energy', 180.0)
    """
    _check_options(axis, energy, signal, delimiter, excitation_energy_ev, work_function_ev)
    _check_columns(columns)
    data = read_bytes(path)
    source = make_source(path, FORMAT, data=data)
    return parse_xps_text(
        decode_text(data, path, encoding), source=source, axis=axis, energy=energy,
        excitation_energy_ev=excitation_energy_ev, work_function_ev=work_function_ev,
        delimiter=delimiter, columns=columns, signal=signal,
    )
