"""XAS Data Interchange files (XDI 1.0 and 1.1, ``.xdi``): one XAS Spectrum of mu(E).

An XDI file is text: a version line (``# XDI/1.0 GSE/1.0``), ``# Namespace.tag: value`` fields,
an optional field-end line (``# ///``) followed by user comments, a header-end line
(``# ----``), an optional column-label line, then whitespace-separated numeric rows whose first
column is the abscissa. ``Column.N`` fields name the columns and give their units.

Why not Larch: ``larch.io.read_xdi`` (xraylarch 2026.3.1), run on the XDI test suite, silently
takes ``nan``, ``STRING``, ``1.4.9`` and rows of the wrong length as data, keeps 5 of the 203 rows
of ``nonxafs_2d.xdi`` (it stops at ``# Outer.value``), raises bare ``IndexError``/``ValueError``
for a ``Column.N`` beyond the data or a bad ``Mono.d_spacing``, and names no line; its C-library
path is stricter but needs a file and gives no line either. The format is therefore read here
after the specification, with Larch as the oracle in the tests (equal numbers on every file).

Decisions
---------
* **Abscissa.** ``Column.1`` in ``eV``/``keV`` (or named ``energy`` without units: eV assumed,
  with a :class:`MetadataWarning`) is the ``energy`` axis in eV. An ``angle`` in degrees or
  radians becomes energy by Bragg's law ``E = hc / (2 d sin(theta))``, ``hc`` =
  :data:`HC_EV_ANGSTROM`, ``d`` = ``Mono.d_spacing`` (Å), recorded as an ``angle_to_energy``
  step in ``history``; without a valid d-spacing, or in motor steps, it is a
  :class:`ParseError`. Any other abscissa (mm, an unnamed ``X``) is no energy: the axis is then
  ``channel`` (the point index), the column stays in ``raw_meta["columns"]``, with a warning.
* **Energy is monotonic** (repeats allowed, as quick scans write them); a reversal is a
  :class:`ParseError` naming the line.
* **mu.** ``mu=None`` takes a ``mutrans``, ``mufluor`` or ``mu`` column, else ``ln(i0/itrans)``,
  else ``ifluor/i0`` (an expression that is not finite is skipped with a warning). ``mu`` may be
  ``"transmission"``, ``"fluorescence"``, ``"reference"`` (``murefer`` or ``ln(itrans/irefer)``)
  or a column name. Aliases: ``it``/``i1`` for ``itrans``, ``if`` for ``ifluor``,
  ``iref``/``ir``/``i2`` for ``irefer``. ``meta`` gets ``mu_expression`` and ``mode``. Without
  any mu (a non-XAFS file), each column is its own Spectrum with signal ``intensity`` and
  ``source.block`` = column name, with a warning.
* **Outer loop.** ``# Outer.value: v`` lines in the data split the rows into blocks: blocks on
  one energy grid stack into one Spectrum with leading dim ``outer``; otherwise the rows stay in
  file order (as Larch and the XDI C library keep them) with ``raw_meta["outer"]``.
* **Time.** ``Scan.start_time`` (ISO 8601) without UTC offset is local time in the ``timezone``
  option (default ``"UTC"``; beamline clocks usually keep local time, e.g. pass
  ``"America/Chicago"`` for the APS); ``raw_meta["start_time_timezone"]`` says what was assumed.
* **Header defects** are warnings and the field is ignored, as the specification requires ("All
  fields which fail to do so must be ignored"): malformed field lines, invalid element, edge,
  d-spacing, temperature, ring energy or current, time stamps. (The XDI C library refuses a few
  of these files.) **Data defects** (a row of the wrong length, a value that is not a finite
  number, no data) are :class:`ParseError` with the line.

References
----------
XDI working group (M. Newville, B. Ravel, V. A. Solé, G. Wellenreuther), *XAS Data Interchange
Format*, version 1.0, and *Dictionary of XAS Data Interchange Metadata*, version 1.0,
https://github.com/XraySpectroscopy/XAS-Data-Interchange (``specification/``).
B. Ravel, M. Newville, *J. Phys.: Conf. Ser.* 712, 012148 (2016).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._registry import register_parser
from specssb.parsers._xdi_header import (
    FIELD,
    NUMBER,
    Header,
    deferred_warnings,
    error,
    field_line,
    float_value,
    normalized_meta,
    read_header,
    warn,
)
from specssb.spectrum import Axis, Coord, Source, Spectrum, Step

__all__ = ["HC_EV_ANGSTROM", "parse_xdi", "read_xdi"]

#: Planck constant times speed of light, eV·Å (CODATA 2018, exact SI values).
HC_EV_ANGSTROM = 12398.419843320026

_LINE_BREAK = re.compile(r"\r\n|\r|\n")

#: Column names accepted for each intensity, in order of preference.
_ALIASES = {
    "i0": ("i0",),
    "itrans": ("itrans", "it", "i1"),
    "ifluor": ("ifluor", "if"),
    "irefer": ("irefer", "iref", "ir", "i2"),
}
_MU_COLUMNS = {"mutrans": "transmission", "mufluor": "fluorescence", "murefer": "transmission"}
_MODES = ("transmission", "fluorescence", "reference")
_AXIS_UNITS = {"energy": "eV", "channel": "1"}


@dataclass
class _Table:
    """The data section: values, the file line of each row, and Outer.value breakpoints."""

    values: np.ndarray  # (n_rows, n_columns)
    lines: list[int]
    outer: list[tuple[int, str, int]]  # (first row index, value text, line)


@register_parser(
    name="xdi",
    technique="xas",
    extensions=(".xdi",),
    magic=(b"# XDI/", b"#XDI/"),
    description="XAS Data Interchange (XDI 1.0/1.1) text files",
)
def read_xdi(path: Path, *, mu: str | None = None, timezone: str = "UTC") -> list[Spectrum]:
    """Read an XDI file into XAS Spectra of mu(E).

    Parameters
    ----------
    path : Path
        The ``.xdi`` file.
    mu : str, optional
        How to build mu: ``None`` (automatic, see the module notes), ``"transmission"``,
        ``"fluorescence"``, ``"reference"``, or the name of a column.
    timezone : str, default "UTC"
        IANA time zone in which a ``Scan.start_time`` without UTC offset is interpreted.

    Returns
    -------
    list of Spectrum
        One Spectrum (axis ``energy`` in eV, signal ``mu``), or one per column with signal
        ``intensity`` when no mu can be built.

    Raises
    ------
    ParseError
        Not an XDI file, a malformed data table, an abscissa that cannot be converted to
        energy, or a ``mu`` the file's columns cannot give.
    ConfigError
        An unknown ``timezone``.

    Examples
    --------
    >>> from specssb.parsers.xas_xdi import read_xdi
    >>> spectra = read_xdi(Path("cu_metal_rt.xdi"))  # doctest: +SKIP
    >>> spectra[0].meta["mu_expression"]  # doctest: +SKIP
    'mutrans'
    """
    data = read_bytes(path)
    source = make_source(path, "xdi", data=data)
    with deferred_warnings():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            # XDI is US-ASCII with UTF-8 allowed in free text; old files carry Latin-1 signs (°).
            warn(source, f"byte {exc.start}", "not UTF-8 text; decoded as Latin-1")
            text = data.decode("latin-1")
        return parse_xdi(text, source=source, mu=mu, timezone=timezone)


def parse_xdi(
    text: str, *, source: Source, mu: str | None = None, timezone: str = "UTC"
) -> list[Spectrum]:
    """Parse the text of an XDI file (pure; no file access).

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance to attach (its ``path`` names the file in errors).
    mu : str, optional
        As in :func:`read_xdi`.
    timezone : str, default "UTC"
        As in :func:`read_xdi`.

    Returns
    -------
    list of Spectrum
        See :func:`read_xdi`.

    Raises
    ------
    ParseError, ConfigError
        See :func:`read_xdi`.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = ("# XDI/1.0\\n# Column.1: energy eV\\n# Column.2: mutrans\\n"
    ...         "# Element.symbol: Cu\\n# Element.edge: K\\n#----\\n# energy mutrans\\n"
    ...         "8979.0 0.1\\n8980.0 0.5\\n8981.0 1.2\\n")
    >>> [s] = parse_xdi(text, source=Source("cu.xdi", "0" * 64, "xdi"))
    >>> s.axis.values.tolist(), s.meta["element"], s.meta["edge"]
    ([8979.0, 8980.0, 8981.0], 'Cu', 'K')
    """
    with deferred_warnings():  # warnings are emitted only when the file reads
        return _parse(text, source, mu, timezone)


def _parse(text: str, source: Source, mu: str | None, timezone: str) -> list[Spectrum]:
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ParseError(source.path, "empty file: not an XDI file")
    header, data_start = read_header(lines, source)
    table = _read_table(lines, data_start, source)
    names, units = _column_names(header, table.values.shape[1], source)
    columns = {name: _readonly(table.values[:, i]) for i, name in enumerate(names)}
    axis_name, axis_values, steps, axis_info = _abscissa(header, names, units, table, source)
    meta = normalized_meta(header, source, timezone)
    raw_meta: dict[str, Any] = {
        "version": header.version,
        "applications": header.applications,
        "fields": dict(header.fields),
        "comments": list(header.comments),
        "column_labels": list(header.labels) if header.labels is not None else None,
        "columns": columns,
        "column_units": dict(zip(names, units)),
        **axis_info,
    }
    if header.ignored:
        raw_meta["ignored_lines"] = list(header.ignored)
    if "start_time_timezone" in meta:
        raw_meta["start_time_timezone"] = meta.pop("start_time_timezone")
    signals = _signals(columns, names, table, mu, source)
    axis = Axis(axis_name, _AXIS_UNITS[axis_name], axis_values)
    return _build_spectra(signals, axis, steps, table, header, meta, raw_meta, source)


# ------------------------------------------------------------------------------ data section
def _read_table(lines: Sequence[str], start: int, source: Source) -> _Table:
    rows: list[list[float]] = []
    row_lines: list[int] = []
    outer: list[tuple[int, str, int]] = []
    width = 0
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if not stripped:
            continue
        line = index + 1
        if stripped.startswith("#"):
            match = FIELD.match(stripped[1:].strip())
            if match is not None and f"{match.group(1)}.{match.group(2)}".lower() == "outer.value":
                outer.append((len(rows), match.group(3), index + 1))
            else:
                warn(source, line, f"comment line in the data section {stripped[:40]!r}; ignored")
            continue
        tokens = stripped.split()
        if not width:
            width = len(tokens)
        elif len(tokens) != width:
            first = row_lines[0]
            raise error(
                source, line, f"expected {width} values (as on line {first}), found {len(tokens)}"
            )
        rows.append([_data_value(token, k, source, line) for k, token in enumerate(tokens)])
        row_lines.append(index + 1)
    if not rows:
        raise error(source, len(lines), "no data rows after the header")
    if width < 2:
        raise error(source, row_lines[0], "one value per row: no data besides the abscissa")
    return _Table(np.array(rows, dtype=np.float64), row_lines, outer)


def _data_value(token: str, column: int, source: Source, line: int) -> float:
    value = float(token) if NUMBER.match(token) else math.nan
    if not math.isfinite(value):  # not a number, or one too large for a float
        raise error(source, line, f"column {column + 1}: expected a number, found {token[:40]!r}")
    return value


# ----------------------------------------------------------------------------------- columns
def _column_names(header: Header, width: int, source: Source) -> tuple[list[str], list[str]]:
    """Names and units of the ``width`` data columns, from ``Column.N`` then the label line."""
    names: list[str | None] = [None] * width
    units = [""] * width
    for key, value in header.fields.items():
        namespace, _, tag = key.partition(".")
        if namespace.lower() != "column":
            continue
        line = header.field_lines[key.lower()]
        if not tag.isdigit() or int(tag) < 1:
            warn(source, line, f"{key}: column fields must be Column.N with N >= 1; ignored")
            continue
        if int(tag) > width:
            warn(source, line, f"{key} names a column beyond the {width} data columns; ignored")
            continue
        words = value.split("||")[0].split("#")[0].split()
        if words:
            names[int(tag) - 1] = words[0]
            units[int(tag) - 1] = " ".join(words[1:])
    labels = header.labels
    if labels is not None and len(labels) != width:
        warn(source, "header", f"{len(labels)} column labels for {width} data columns")
        labels = None
    missing = [i for i, name in enumerate(names) if name is None]
    if missing:
        warn(
            source,
            "header",
            "no Column.N field for column(s) "
            + ", ".join(str(i + 1) for i in missing)
            + ("; named from the column-label line" if labels else "; named colN"),
        )
    resolved = [
        name if name is not None else (labels[i] if labels else f"col{i + 1}")
        for i, name in enumerate(names)
    ]
    if labels and not missing and [n.lower() for n in resolved] != [lab.lower() for lab in labels]:
        warn(source, "header", f"column labels {labels} differ from the Column.N names {resolved}")
    return _unique(resolved, source), units


def _unique(names: list[str], source: Source) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        count = seen.get(name.lower(), 0) + 1
        seen[name.lower()] = count
        if count > 1:
            warn(source, "header", f"duplicate column name {name!r}; renamed {name}_{count}")
            name = f"{name}_{count}"
        result.append(name)
    return result


# ---------------------------------------------------------------------------------- abscissa
def _abscissa(
    header: Header, names: list[str], units: list[str], table: _Table, source: Source
) -> tuple[str, np.ndarray, tuple[Step, ...], dict[str, Any]]:
    """The spectral axis: (axis name, values, history steps, raw_meta entries)."""
    name, unit = names[0], units[0]
    values = table.values[:, 0]
    where = field_line(header, "Column.1")
    unit_key = unit.lower().replace("degrees", "deg").replace("degree", "deg")
    info: dict[str, Any] = {"abscissa": {"column": name, "unit": unit}}
    if unit_key in ("ev", "kev") or (name.lower() == "energy" and not unit):
        if name.lower() != "energy":
            warn(
                source,
                where,
                f"abscissa {name!r} in {unit} is read as energy (XDI label: 'energy')",
            )
        if not unit:
            warn(source, where, "energy column has no units; eV assumed")
        energy = values * 1000.0 if unit_key == "kev" else values.copy()
        _check_monotonic(energy, table, source)
        return "energy", energy, (), info
    if name.lower() == "angle" or unit_key in ("deg", "rad", "radian", "radians", "steps"):
        energy, step = _angle_to_energy(header, values, unit_key, source, where)
        _check_monotonic(energy, table, source)
        info["abscissa"]["d_spacing_angstrom"] = step.parameters["d_spacing_angstrom"]
        return "energy", energy, (step,), info
    warn(
        source,
        where,
        f"abscissa {name!r} ({unit or 'no units'}) is not an energy or a monochromator angle; "
        "the axis is the point index ('channel') and the column is kept in raw_meta['columns']",
    )
    return "channel", np.arange(values.size, dtype=np.float64), (), info


def _angle_to_energy(
    header: Header, angle: np.ndarray, unit: str, source: Source, where: str
) -> tuple[np.ndarray, Step]:
    """Bragg's law, E = hc / (2 d sin(theta)), for an angle in degrees or radians."""
    if unit not in ("deg", "rad", "radian", "radians"):
        what = f"the abscissa is a monochromator angle in {unit or 'unstated units'!r}"
        raise error(source, where, f"{what}; only degrees or radians convert to energy")
    d_text = header.get("Mono.d_spacing")
    d_spacing = float_value(d_text) if d_text is not None else None
    if d_spacing is None or d_spacing <= 0:
        problem = "missing" if d_text is None else f"not a positive number ({d_text!r})"
        what = f"the abscissa is a monochromator angle but Mono.d_spacing is {problem}"
        raise error(source, where, f"{what}; it cannot be converted to energy")
    theta = np.radians(angle) if unit == "deg" else angle
    if np.any(theta <= 0) or np.any(theta >= np.pi / 2):
        raise error(source, where, "monochromator angle outside (0, 90) degrees")
    energy = HC_EV_ANGSTROM / (2.0 * d_spacing * np.sin(theta))
    step = Step(
        "angle_to_energy",
        {
            "formula": "E = hc / (2 d sin(theta))",
            "hc_ev_angstrom": HC_EV_ANGSTROM,
            "d_spacing_angstrom": d_spacing,
            "angle_unit": "deg" if unit == "deg" else "rad",
        },
    )
    return energy, step


def _check_monotonic(energy: np.ndarray, table: _Table, source: Source) -> None:
    """Energy must not reverse direction within a scan (each outer-loop block is a scan)."""
    for first, stop in _block_bounds(table, energy.size):
        steps = np.diff(energy[first:stop])
        moving = np.nonzero(steps)[0]
        if moving.size == 0:
            continue
        direction = np.sign(steps[moving[0]])
        reversed_at = np.nonzero(steps * direction < 0)[0]
        if reversed_at.size:
            row = first + int(reversed_at[0]) + 1
            step = f"{energy[row - 1]:g} eV is followed by {energy[row]:g} eV"
            raise error(source, table.lines[row], f"energy is not monotonic: {step}")


def _block_bounds(table: _Table, size: int) -> list[tuple[int, int]]:
    """(first row, stop row) of each outer-loop block that holds rows (the whole table if none)."""
    starts = [0] + [row for row, _, _ in table.outer if 0 < row < size]
    stops = starts[1:] + [size]
    return [(a, b) for a, b in zip(starts, stops) if b > a]


# ---------------------------------------------------------------------------------------- mu
def _find(columns: dict[str, np.ndarray], role: str) -> str | None:
    lower = {name.lower(): name for name in columns}
    for alias in _ALIASES.get(role, (role,)):
        if alias in lower:
            return lower[alias]
    return None


def _signals(
    columns: dict[str, np.ndarray], names: list[str], table: _Table, mu: str | None, source: Source
) -> list[tuple[str, np.ndarray, dict[str, str], str | None]]:
    """[(signal, data, meta, block)]: one mu, or every column as intensity."""
    data_columns = dict(list(columns.items())[1:])
    if mu is None:
        choices = ["mutrans", "mufluor", "mu", "transmission", "fluorescence"]
    else:
        choices = [mu.lower() if mu.lower() in _MODES else mu]
    for choice in choices:
        built = _build_mu(data_columns, choice)
        if built is None:
            continue
        bad = _first_non_finite(built[0])
        if bad is None:
            return [("mu", *built, None)]
        problem = f"{built[1]['mu_expression']} is not finite (a zero or negative intensity)"
        if mu is not None:
            raise error(source, table.lines[bad], problem)
        warn(source, table.lines[bad], f"{problem}; not used as mu")
    if mu is not None:
        raise ParseError(
            source.path,
            f"cannot build mu={mu!r} from the columns {names[1:]} "
            "(mu may be 'transmission', 'fluorescence', 'reference' or a column name)",
        )
    warn(
        source,
        "header",
        "no usable mu column (mutrans, mufluor, mu) or i0 with itrans or ifluor; every column "
        "is returned as its own 'intensity' Spectrum (choose one with mu='<column>')",
    )
    return [("intensity", values, {}, name) for name, values in data_columns.items()]


def _build_mu(
    columns: dict[str, np.ndarray], choice: str
) -> tuple[np.ndarray, dict[str, str]] | None:
    """mu for one choice (a mode or a column name), or None when the columns cannot give it."""
    if choice in _MODES:
        mu_column = {"transmission": "mutrans", "fluorescence": "mufluor", "reference": "murefer"}[
            choice
        ]
        found = _build_mu(columns, mu_column)
        if found is not None:
            return found
        numerator, denominator, log = {
            "transmission": ("i0", "itrans", True),
            "fluorescence": ("ifluor", "i0", False),
            "reference": ("itrans", "irefer", True),
        }[choice]
        top, bottom = _find(columns, numerator), _find(columns, denominator)
        if top is None or bottom is None:
            return None
        expression = f"ln({top}/{bottom})" if log else f"{top}/{bottom}"
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = columns[top] / columns[bottom]
            values = np.log(ratio) if log else ratio
        mode = "fluorescence" if choice == "fluorescence" else "transmission"
        return values, {"mode": mode, "mu_expression": expression, "channel": choice}
    lower = {name.lower(): name for name in columns}
    name = lower.get(choice.lower())
    if name is None:
        return None
    meta = {"mu_expression": name}
    if name.lower() in _MU_COLUMNS:
        meta["mode"] = _MU_COLUMNS[name.lower()]
        meta["channel"] = "reference" if name.lower() == "murefer" else meta["mode"]
    return columns[name].copy(), meta


def _first_non_finite(values: np.ndarray) -> int | None:
    bad = np.nonzero(~np.isfinite(values))[0]
    return int(bad[0]) if bad.size else None


# --------------------------------------------------------------------------------- assembly
def _build_spectra(
    signals: list[tuple[str, np.ndarray, dict[str, str], str | None]],
    axis: Axis,
    steps: tuple[Step, ...],
    table: _Table,
    header: Header,
    meta: dict[str, Any],
    raw_meta: dict[str, Any],
    source: Source,
) -> list[Spectrum]:
    """One Spectrum per signal; an outer loop stacks (same axes), splits, or stays in file order."""
    layout, bounds = "single", [(0, axis.size)]
    if table.outer:
        bounds = _block_bounds(table, axis.size)
        labels = _outer_values(header, table, axis.size)
        firsts = [first for first, _ in bounds]
        raw_meta["outer"] = {
            "name": header.get("Outer.name"),
            "values": labels,
            "first_rows": firsts,
        }
        layout = _outer_layout(axis.values, bounds)
    spectra = []
    for signal, values, signal_meta, block in signals:
        channel = signal_meta.pop("channel", None)
        common = {
            "technique": "xas", "signal": signal, "meta": {**meta, **signal_meta}, "history": steps,
            "raw_meta": {**raw_meta, "mu_channel": channel} if channel else dict(raw_meta),
        }  # fmt: skip
        if layout == "stack":
            size, labels = bounds[0][1], raw_meta["outer"]["values"]
            spectra.append(Spectrum(
                axis=_part(axis, 0, size), data=values.reshape(len(bounds), size), dims=("outer",),
                coords={"outer": Coord("outer", _outer_coord(labels))},
                source=_with_block(source, block), **common,
            ))  # fmt: skip
        elif layout == "split":
            for (first, stop), label in zip(bounds, raw_meta["outer"]["values"]):
                name = f"outer {label}" if block is None else f"{block}, outer {label}"
                spectra.append(Spectrum(
                    axis=_part(axis, first, stop), data=values[first:stop],
                    source=_with_block(source, name), **common,
                ))  # fmt: skip
        else:
            spectra.append(
                Spectrum(axis=axis, data=values, source=_with_block(source, block), **common)
            )
    return spectra


def _part(axis: Axis, first: int, stop: int) -> Axis:
    return Axis(axis.name, axis.unit, axis.values[first:stop])


def _outer_values(header: Header, table: _Table, size: int) -> list[str]:
    """The Outer.value text of each non-empty block (the header gives the first block's)."""
    starts = [0] + [row for row, _, _ in table.outer]
    texts = [header.get("Outer.value") or ""] + [text for _, text, _ in table.outer]
    stops = starts[1:] + [size]
    return [text for first, stop, text in zip(starts, stops, texts) if stop > first]


def _outer_coord(values: list[str]) -> np.ndarray:
    numbers = [float_value(v) for v in values]
    if all(n is not None for n in numbers):
        return np.array(numbers, dtype=np.float64)
    return np.array(values, dtype=object)


def _outer_layout(energy: np.ndarray, bounds: list[tuple[int, int]]) -> str:
    """'stack' (every block on the same axis), 'single' (file order is monotonic) or 'split'."""
    size = bounds[0][1] - bounds[0][0]
    if len(bounds) > 1 and all(
        stop - first == size and np.array_equal(energy[first:stop], energy[:size])
        for first, stop in bounds
    ):
        return "stack"
    steps = np.diff(energy)
    return "single" if bool(np.all(steps >= 0) or np.all(steps <= 0)) else "split"


def _with_block(source: Source, block: str | None) -> Source:
    if block is None:
        return source
    return Source(source.path, source.sha256, source.format, block, source.parser_version)


def _readonly(values: np.ndarray) -> np.ndarray:
    array = np.array(values, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array
