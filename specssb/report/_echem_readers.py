"""Cycler readers of the report stage: Battery Data Format CSV, generic CSV, BioLogic ``.mpr``.

Every reader returns one :class:`pandas.DataFrame` whose columns carry Battery Data Format (BDF)
preferred labels (``Test Time / s``, ``Voltage / V``, ``Current / A`` …, see
https://github.com/battery-data-alliance/battery-data-format, README "Defining the BDF") plus
``Date Time`` (timezone-aware UTC; a specssb column, not a BDF one). ``df.attrs`` holds
``source`` (:class:`~specssb.spectrum.Source`), ``raw_meta`` and ``bdf_columns`` (BDF column ->
where it came from), as :func:`specssb.read_cycler` does for ``.mpt``.

* **BDF CSV** (``*.bdf.csv``, ``*.bdf``, ``*.csv``; gzip accepted): the header row holds either
  the preferred labels (``Test Time / s``) or the machine-readable names (``test_time_second``);
  both become the preferred label. ``Test Time / s``, ``Voltage / V`` and ``Current / A`` are
  required by the format; a file without them is a :class:`ParseError`. Columns the format does
  not define are kept under their own name.
* **Generic CSV** with a column map ``columns={"time_s": "Time", "voltage_v": "E", ...}`` (keys
  in :data:`COLUMN_KEYS`, validated: an unknown key, a column the file lacks, or no time,
  voltage or current is a :class:`ConfigError` naming the key).
* **BioLogic .mpr** through galvani (GPL-3, the ``echem`` extra, imported only here and only
  when an ``.mpr`` is read): galvani's column names are EC-Lab's, so they map to BDF with the
  same table as the ``.mpt`` reader (:data:`specssb.parsers.echem_biologic.BDF_SOURCES`).

Time: ``Unix Time / s`` gives ``Date Time``; otherwise a ``start`` (aware datetime of test time
0) does; otherwise ``Date Time`` is left out with a :class:`MetadataWarning` (such a table can be
summarised but not joined to spectra).
"""

from __future__ import annotations

import datetime as _dt
import gzip
import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers._common import decode_text, make_source, read_bytes, time_zone
from specssb.parsers.echem_biologic import BDF_SOURCES
from specssb.spectrum import Source

__all__ = ["BDF_LABELS", "COLUMN_KEYS", "parse_bdf_csv", "parse_generic_csv", "read_biologic_mpr"]

#: BDF machine-readable name -> preferred label (BDF README, required, recommended, optional).
BDF_LABELS: dict[str, str] = {
    "test_time_second": "Test Time / s",
    "voltage_volt": "Voltage / V",
    "current_ampere": "Current / A",
    "unix_time_second": "Unix Time / s",
    "cycle_count": "Cycle Count / 1",
    "step_count": "Step Count / 1",
    "ambient_temperature_celsius": "Ambient Temperature / degC",
    "step_index": "Step Index / 1",
    "step_time_second": "Step Time / s",
    "charging_capacity_ah": "Charging Capacity / Ah",
    "discharging_capacity_ah": "Discharging Capacity / Ah",
    "step_capacity_ah": "Step Capacity / Ah",
    "net_capacity_ah": "Net Capacity / Ah",
    "cumulative_capacity_ah": "Cumulative Capacity / Ah",
    "charging_energy_wh": "Charging Energy / Wh",
    "discharging_energy_wh": "Discharging Energy / Wh",
    "step_energy_wh": "Step Energy / Wh",
    "net_energy_wh": "Net Energy / Wh",
    "cumulative_energy_wh": "Cumulative Energy / Wh",
    "power_watt": "Power / W",
    "internal_resistance_ohm": "Internal Resistance / Ohm",
    "ambient_pressure_pa": "Ambient Pressure / Pa",
    "applied_pressure_pa": "Applied Pressure / Pa",
    **{f"temperature_t{k}_celsius": f"Surface Temperature T{k} / degC" for k in range(1, 6)},
}
_REQUIRED = ("Test Time / s", "Voltage / V", "Current / A")

#: Generic-CSV column-map key -> (BDF column, factor to the BDF unit).
COLUMN_KEYS: dict[str, tuple[str, float]] = {
    "time_s": ("Test Time / s", 1.0),
    "time_h": ("Test Time / s", 3600.0),
    "unix_time_s": ("Unix Time / s", 1.0),
    "datetime": ("Date Time", 1.0),
    "voltage_v": ("Voltage / V", 1.0),
    "current_a": ("Current / A", 1.0),
    "current_ma": ("Current / A", 1e-3),
    "cycle": ("Cycle Count / 1", 1.0),
    "half_cycle": ("Half Cycle / 1", 1.0),
    "step": ("Step Index / 1", 1.0),
    "charge_capacity_ah": ("Charging Capacity / Ah", 1.0),
    "charge_capacity_mah": ("Charging Capacity / Ah", 1e-3),
    "discharge_capacity_ah": ("Discharging Capacity / Ah", 1.0),
    "discharge_capacity_mah": ("Discharging Capacity / Ah", 1e-3),
    "net_capacity_ah": ("Net Capacity / Ah", 1.0),
    "net_capacity_mah": ("Net Capacity / Ah", 1e-3),
    "temperature_c": ("Ambient Temperature / degC", 1.0),
    "pressure_pa": ("Applied Pressure / Pa", 1.0),
    "pressure_mpa": ("Applied Pressure / Pa", 1e6),
    "pressure_psi": ("Applied Pressure / Pa", 6894.757293168),
}


# ------------------------------------------------------------------------------ BDF CSV
def parse_bdf_csv(
    text: str, *, source: Source, start: _dt.datetime | None = None, delimiter: str = ","
) -> pd.DataFrame:
    """Parse the text of a Battery Data Format CSV file (pure; no file access).

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance (its ``path`` names the file in errors).
    start : datetime, optional
        Timezone-aware time of ``Test Time / s`` = 0, for files without ``Unix Time / s``.
    delimiter : str, default ","
        Field separator.

    Returns
    -------
    pandas.DataFrame
        Preferred-label columns plus ``Date Time`` (UTC) when the time is known.

    Raises
    ------
    ParseError
        No header, a required BDF column missing, or a value that is not a number.

    Examples
    --------
    >>> from specssb.spectrum import Source
    >>> text = "test_time_second,voltage_volt,current_ampere,unix_time_second\\n0,3.1,0.001,0\\n"
    >>> df = parse_bdf_csv(text, source=Source("x.bdf.csv", "0" * 64, "bdf-csv"))
    >>> list(df.columns)[:3], str(df["Date Time"].iloc[0])
    (['Test Time / s', 'Voltage / V', 'Current / A'], '1970-01-01 00:00:00+00:00')
    """
    header = next((line for line in text.splitlines() if line.strip()), None)
    if header is None:
        raise ParseError(source.path, "empty file: no BDF header row", position="line 1")
    names = [name.strip().strip('"') for name in header.split(delimiter)]
    labels = {name: BDF_LABELS.get(name, name) for name in names}
    missing = [label for label in _REQUIRED if label not in labels.values()]
    if missing:
        raise ParseError(
            source.path,
            f"not a Battery Data Format CSV: no {', '.join(repr(m) for m in missing)} column "
            f"(header: {header[:80]!r}); for other CSV files give a column map (columns=...)",
            position="line 1",
        )
    known = set(BDF_LABELS.values())
    numeric = [name for name in names if labels[name] in known]  # other columns kept as written
    frame = _read_numeric_csv(text, names, source, delimiter=delimiter, skiprows=0,
                              numeric=numeric)
    frame = frame.rename(columns=labels)
    origin = {label: name for name, label in labels.items() if label != name or name in _REQUIRED}
    return _finish(frame, source, origin, start=start, raw_meta={"header": header})


# --------------------------------------------------------------------------- generic CSV
def parse_generic_csv(
    text: str,
    *,
    source: Source,
    columns: Mapping[str, str],
    delimiter: str = ",",
    skiprows: int = 0,
    decimal: str = ".",
    time_format: str | None = None,
    timezone: str = "UTC",
    start: _dt.datetime | None = None,
) -> pd.DataFrame:
    """Parse a CSV file whose columns are named by a column map (pure; no file access).

    Parameters
    ----------
    text : str
        The whole file, decoded.
    source : Source
        Provenance.
    columns : mapping of str to str
        Column-map key (see :data:`COLUMN_KEYS`: ``time_s``, ``datetime``, ``voltage_v``,
        ``current_a`` or ``current_ma``, ``cycle``, ``step``, ``charge_capacity_mah`` …) -> the
        file's column name. A time (``time_s``, ``time_h``, ``unix_time_s`` or ``datetime``),
        ``voltage_v`` and a current are required.
    delimiter : str, default ","
        Field separator.
    skiprows : int, default 0
        Lines before the row of column names.
    decimal : str, default "."
        Decimal mark of the numbers.
    time_format : str, optional
        ``strftime`` format of the ``datetime`` column; ISO 8601 when omitted.
    timezone : str, default "UTC"
        IANA zone of a ``datetime`` column written without an offset.
    start : datetime, optional
        Aware time of test time 0, when the file has no absolute time.

    Returns
    -------
    pandas.DataFrame
        BDF columns (in BDF units), ``Date Time`` (UTC) when the time is known, then every other
        column of the file under its own name.

    Raises
    ------
    ConfigError
        An invalid column map or ``time_format``.
    ParseError
        A value that is not a number or a time.
    """
    mapping = _validate_columns(columns)
    lines = text.splitlines()
    if len(lines) <= skiprows or not lines[skiprows].strip():
        raise ParseError(
            source.path, f"no column names after {skiprows} skipped lines",
            position=f"line {skiprows + 1}",
        )
    names = [name.strip().strip('"') for name in lines[skiprows].split(delimiter)]
    while names and not names[-1]:
        names.pop()
    absent = {key: name for key, name in columns.items() if name not in names}
    if absent:
        key, name = next(iter(absent.items()))
        raise ConfigError(
            f"column {name!r} is not in {source.path} (its columns: {', '.join(names)})",
            key=f"columns.{key}",
        )
    numeric = [columns[key] for key in mapping if key != "datetime"]
    frame = _read_numeric_csv(
        text, names, source, delimiter=delimiter, skiprows=skiprows, decimal=decimal,
        numeric=numeric,
    )
    bdf: dict[str, Any] = {}
    for key, (label, factor) in mapping.items():
        column = frame[columns[key]]
        if key == "datetime":
            bdf[label] = _parse_times(column, source, time_format, timezone, skiprows)
        else:
            bdf[label] = column.to_numpy(dtype=np.float64) * factor
    if "Test Time / s" not in bdf:
        absolute = bdf.get("Date Time")
        if absolute is not None:
            bdf["Test Time / s"] = (absolute - absolute.iloc[0]).dt.total_seconds().to_numpy()
        else:
            bdf["Test Time / s"] = bdf["Unix Time / s"] - bdf["Unix Time / s"][0]
    if "Date Time" in bdf and "Unix Time / s" not in bdf:
        bdf["Unix Time / s"] = bdf["Date Time"].astype("int64").to_numpy() / 1e9
    used = set(columns.values())
    rest = {name: frame[name].to_numpy() for name in frame.columns if name not in used}
    order = ["Test Time / s", "Voltage / V", "Current / A"]
    out = pd.DataFrame({**{k: bdf[k] for k in order}, **{k: v for k, v in bdf.items()
                                                        if k not in order}, **rest})
    origin = {label: columns[key] for key, (label, _) in mapping.items()}
    return _finish(out, source, origin, start=start,
                   raw_meta={"header": "\n".join(lines[: skiprows + 1]), "columns": dict(columns)})


def _validate_columns(columns: Mapping[str, str]) -> dict[str, tuple[str, float]]:
    if not isinstance(columns, Mapping) or not columns:
        raise ConfigError("give a column map such as {'time_s': ..., 'voltage_v': ..., "
                          "'current_ma': ...}", key="columns")
    mapping: dict[str, tuple[str, float]] = {}
    for key, name in columns.items():
        if key not in COLUMN_KEYS:
            raise ConfigError(
                f"unknown column-map key {key!r} (allowed: {', '.join(COLUMN_KEYS)})",
                key=f"columns.{key}",
            )
        if not isinstance(name, str) or not name:
            raise ConfigError(f"expected a column name, found {name!r}", key=f"columns.{key}")
        label = COLUMN_KEYS[key][0]
        twin = next((k for k, (lab, _) in mapping.items() if lab == label), None)
        if twin is not None:
            raise ConfigError(f"{key!r} and {twin!r} both give {label!r}; keep one",
                              key=f"columns.{key}")
        mapping[key] = COLUMN_KEYS[key]
    labels = {label for label, _ in mapping.values()}
    for needed, keys in (
        ("a time", ("Test Time / s", "Unix Time / s", "Date Time")),
        ("a voltage", ("Voltage / V",)),
        ("a current", ("Current / A",)),
    ):
        if not labels.intersection(keys):
            names = [k for k, (lab, _) in COLUMN_KEYS.items() if lab in keys]
            raise ConfigError(f"the column map has no {needed} (one of {', '.join(names)})",
                              key="columns")
    return mapping


def _parse_times(
    column: pd.Series, source: Source, time_format: str | None, timezone: str, skiprows: int
) -> pd.Series:
    zone = time_zone(timezone)
    fmt = time_format or "ISO8601"
    try:
        times = pd.to_datetime(column.astype(str).str.strip(), format=fmt)
    except (ValueError, TypeError) as exc:
        if time_format is None:
            raise ConfigError(
                f"the datetime column of {source.path} is not ISO 8601 (first value "
                f"{str(column.iloc[0])!r}); give time_format, e.g. '%m/%d/%Y %H:%M:%S'",
                key="time_format",
            ) from exc
        raise ParseError(source.path, f"a time does not match {time_format!r}: {exc}",
                         position=f"after line {skiprows + 1}") from exc
    if times.dt.tz is None:
        times = times.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    times = times.dt.tz_convert("UTC")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        raise ParseError(source.path, f"time {str(column.iloc[bad[0]])!r} is missing or does not "
                         f"exist in {timezone}", position=f"line {skiprows + 2 + bad[0]}")
    return times.reset_index(drop=True)


# ----------------------------------------------------------------------------- shared CSV
def _read_numeric_csv(
    text: str,
    names: list[str],
    source: Source,
    *,
    delimiter: str,
    skiprows: int,
    decimal: str = ".",
    numeric: list[str] | None = None,
) -> pd.DataFrame:
    """Read the rows under the header; the ``numeric`` columns (default: all) must be finite."""
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=delimiter, skiprows=skiprows, header=0, names=names,
            index_col=False, decimal=decimal, skip_blank_lines=True, engine="c",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ParseError(source.path, f"unreadable CSV rows ({exc})") from exc
    if frame.empty:
        raise ParseError(source.path, "no data rows under the header",
                         position=f"line {skiprows + 1}")
    for name in numeric if numeric is not None else names:
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=np.float64)))
        if bad.size:
            row = int(bad[0])
            raise ParseError(
                source.path,
                f"column {name!r}: expected a number, found {str(frame[name].iloc[row])[:40]!r}",
                position=f"data row {row + 1} (line {skiprows + 2 + row} without blank lines)",
            )
        frame[name] = values
    return frame


def _finish(
    frame: pd.DataFrame,
    source: Source,
    origin: dict[str, str],
    *,
    start: _dt.datetime | None,
    raw_meta: dict[str, Any],
) -> pd.DataFrame:
    """Add ``Date Time`` (from Unix Time, else ``start``) and the attrs."""
    seconds = frame["Test Time / s"].to_numpy(dtype=np.float64)
    if "Date Time" not in frame:
        if "Unix Time / s" in frame:
            unix = frame["Unix Time / s"].to_numpy(dtype=np.float64)
            frame["Date Time"] = pd.to_datetime(unix, unit="s", utc=True)
            origin["Date Time"] = "Unix Time / s"
        elif start is not None:
            if start.utcoffset() is None:
                raise ConfigError("start must be timezone-aware (e.g. ...+00:00)", key="start")
            begin = pd.Timestamp(start).tz_convert("UTC")
            frame["Date Time"] = begin + pd.to_timedelta(seconds, unit="s")
            frame["Unix Time / s"] = begin.timestamp() + seconds
            origin["Date Time"] = origin["Unix Time / s"] = "start + Test Time / s"
        else:
            warnings.warn(
                f"{source.path}: no absolute time (no Unix Time / s, no start=): the table "
                "cannot be joined to spectra",
                MetadataWarning,
                stacklevel=4,
            )
    frame.attrs.update({"source": source, "raw_meta": raw_meta, "bdf_columns": origin})
    return frame


# ------------------------------------------------------------------------------ .mpr
def read_biologic_mpr(path: Path, *, timezone: str = "UTC") -> pd.DataFrame:
    """Read a BioLogic EC-Lab binary ``.mpr`` file through galvani (the ``echem`` extra).

    galvani is GPL-3 and is imported here only, when an ``.mpr`` is read; the core reads the
    ``.mpt`` text export itself.

    Parameters
    ----------
    path : Path
        The ``.mpr`` file.
    timezone : str, default "UTC"
        IANA zone of the potentiostat PC's clock (galvani's ``timestamp`` is local time).

    Returns
    -------
    pandas.DataFrame
        BDF columns (as the ``.mpt`` reader) followed by galvani's columns.

    Raises
    ------
    ConfigError
        galvani is not installed (``pip install specssb[echem]``).
    ParseError
        galvani cannot read the file.
    """
    try:
        from galvani import BioLogic  # noqa: PLC0415 - optional GPL reader, imported lazily
    except ImportError as exc:
        raise ConfigError(
            f"{path}: reading BioLogic .mpr needs galvani (GPL-3), in the 'echem' extra: "
            "pip install 'specssb[echem]'; or export the file as .mpt from EC-Lab",
            key="format",
        ) from exc
    zone = time_zone(timezone)
    data = read_bytes(path)
    source = make_source(path, "biologic-mpr", data=data, library="galvani")
    try:
        mpr = BioLogic.MPRfile(str(path))
        records = np.asarray(mpr.data)
        names = list(records.dtype.names or ())
    except Exception as exc:  # noqa: BLE001 - galvani raises anything from struct to ValueError
        raise ParseError(path, f"galvani cannot read this .mpr ({type(exc).__name__}: {exc})") \
            from exc
    if not names or records.size == 0:
        raise ParseError(path, "the .mpr holds no data points")
    original = {name: records[name] for name in names}
    stamp = getattr(mpr, "timestamp", None)
    start = None
    if isinstance(stamp, _dt.datetime):
        start = stamp.replace(tzinfo=zone) if stamp.utcoffset() is None else stamp
    bdf: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for label, (candidates, factor) in BDF_SOURCES.items():
        found = next((c for c in candidates if c in original), None)
        if found is not None:
            bdf[label] = np.asarray(original[found], dtype=np.float64) * factor
            origin[label] = found
    for needed in _REQUIRED:
        if needed not in bdf:
            raise ParseError(path, f"the .mpr has no column for {needed!r} (columns: {names})")
    frame = pd.DataFrame({**bdf, **{k: v for k, v in original.items() if k not in origin.values()}})
    return _finish(frame, source, origin, start=start, raw_meta={"columns": names})


def decode_file(path: Path, encoding: str) -> tuple[bytes, str]:
    """The file's bytes (for the hash) and its text, gunzipped when it is gzip."""
    data = read_bytes(path)
    raw = data
    if data[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ParseError(path, f"corrupt gzip stream ({exc})") from exc
    return data, decode_text(raw, path, encoding)
