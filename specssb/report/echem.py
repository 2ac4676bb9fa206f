"""Cycler data for the report stage: one table, cycles and state of charge, and the spectra join.

:func:`read_cycler_table` reads a cycler file into one :class:`pandas.DataFrame` with Battery
Data Format (BDF) column names and UTC time (``Date Time``), and adds the cycling columns of
:func:`derive_cycling`. :func:`cycle_summary` gives one row per cycle; :func:`join_spectra`
gives every spectrum the cycle, step, potential and state of charge of the record preceding it.

Formats
-------
=================  ===========================================================================
``biologic-mpt``   BioLogic EC-Lab text export, through :func:`specssb.read_cycler`
``biologic-mpr``   BioLogic binary, through galvani (GPL-3) in the ``echem`` extra, imported
                   lazily (``pip install 'specssb[echem]'``); without it a :class:`ConfigError`
                   says so. The core reads ``.mpt`` and CSV itself.
``bdf-csv``        Battery Data Format CSV (preferred labels or machine-readable names)
``csv``            any CSV with a column map ``columns={"time_s": ..., "voltage_v": ...,
                   "current_ma": ...}`` (keys: :data:`COLUMN_KEYS`)
=================  ===========================================================================

Derived columns (specssb's, in the BDF label style; the BDF defines none of them)
---------------------------------------------------------------------------------
``Cycle Count / 1``
    from the file when it has one (EC-Lab ``cycle number`` counts from 0, Landt/Arbin
    ``cycle_index`` from 1: kept as written); otherwise ``Half Cycle / 1 // 2``, so cycle 0 is
    the first charge–discharge (or discharge–charge) pair.
``Half Cycle / 1``
    from the file when it has one (EC-Lab ``half cycle``); otherwise it counts the changes of
    the sign of the current from 0, rest rows (``|I|`` at most ``rest_current_a``) belonging to
    the half cycle before them (to the first one at the start of the record).
``State of Charge / 1``
    within each cycle, the running charge passed since the cycle began divided by that cycle's
    charge capacity: 0 at the start of a charge-first cycle, 1 at the end of its charge, back
    to ``1 - Q_discharge / Q_charge`` (about 0) at its end. A cycle that begins with a discharge
    starts full: ``1 + running charge / Q_discharge``. A cycle without charge passed is NaN.

Charge passed per record: from ``Charging Capacity / Ah`` and ``Discharging Capacity / Ah``
when the file has both (their increments; a counter that drops back is taken as a reset and
its new value as the increment), else from ``Net Capacity / Ah`` increments (EC-Lab
``(Q-Qo)``, counted from 0 at test time 0), else from the current, ``I_k (t_k - t_{k-1})`` with
``t_{-1} = 0`` (the cycler reports the mean current of the interval ending at the record).
Capacities are positive for charge (BDF: positive current charges the cell).

Coulombic efficiency per cycle is the charge taken out over the charge put in:
``Q_discharge / Q_charge`` for a cycle that begins with a charge, ``Q_charge / Q_discharge`` for
one that begins with a discharge (an anode half cell).

``Charge Passed / Ah`` is that charge per record (the interval ending at the record), kept so
that :func:`cycle_summary` and later tracking use the same numbers.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, MetadataWarning, ParseError
from specssb.parsers import read_cycler
from specssb.parsers._common import make_source, read_bytes
from specssb.report._echem_readers import (
    BDF_LABELS,
    COLUMN_KEYS,
    decode_file,
    parse_bdf_csv,
    parse_generic_csv,
    read_biologic_mpr,
)
from specssb.spectrum import Spectrum

__all__ = [
    "BDF_LABELS",
    "COLUMN_KEYS",
    "FORMATS",
    "annotate_spectra",
    "cycle_summary",
    "derive_cycling",
    "join_spectra",
    "read_cycler_table",
]

FORMATS = ("biologic-mpt", "biologic-mpr", "bdf-csv", "csv")
JOIN_COLUMNS = ("cycle", "half_cycle", "step", "potential_v", "current_a", "state_of_charge")
_MPT_MAGIC = b"EC-Lab ASCII FILE"
_MPR_MAGIC = b"BIO-LOGIC MODULAR FILE"


# ----------------------------------------------------------------------------------- read
def read_cycler_table(
    path: str | PathLike[str],
    *,
    format: str | None = None,  # noqa: A002 - the same option name as specssb.read
    columns: Mapping[str, str] | None = None,
    timezone: str = "UTC",
    start: _dt.datetime | None = None,
    delimiter: str = ",",
    skiprows: int = 0,
    decimal: str = ".",
    time_format: str | None = None,
    encoding: str = "utf-8",
    rest_current_a: float | None = None,
) -> pd.DataFrame:
    """Read a cycler file into one BDF table with UTC time and the derived cycling columns.

    Parameters
    ----------
    path : str or PathLike
        The cycler file.
    format : {"biologic-mpt", "biologic-mpr", "bdf-csv", "csv"}, optional
        Sniffed when omitted: EC-Lab magic bytes, a BDF header, else ``csv`` when ``columns``
        is given.
    columns : mapping of str to str, optional
        Column map of a generic CSV (keys: :data:`COLUMN_KEYS`); implies ``format="csv"``.
    timezone : str, default "UTC"
        IANA zone of the instrument clock (EC-Lab start time, ``.mpr`` timestamp, a CSV
        datetime column without offset).
    start : datetime, optional
        Aware time of test time 0, for CSV files without absolute time.
    delimiter, skiprows, decimal, time_format : optional
        CSV layout (see :func:`~specssb.report._echem_readers.parse_generic_csv`).
    encoding : str, default "utf-8"
        Text encoding of CSV files (``.mpt`` files are read as latin-1).
    rest_current_a : float, optional
        Current (A) at or below which a record counts as rest; default 1 % of the largest
        ``|I|``.

    Returns
    -------
    pandas.DataFrame
        BDF columns (``Test Time / s``, ``Voltage / V``, ``Current / A`` …), ``Date Time`` (UTC),
        the reader's other columns, and ``Cycle Count / 1``, ``Half Cycle / 1``,
        ``State of Charge / 1``; ``attrs`` as :func:`specssb.read_cycler` plus ``format`` and
        ``derived`` (the columns computed here).

    Raises
    ------
    ParseError
        A defect in the file, or a CSV that is neither BDF nor given a column map.
    ConfigError
        An unknown format or option value, an invalid column map, galvani missing for ``.mpr``.

    Examples
    --------
    >>> table = read_cycler_table("sample_data/echem/cell01_GCPL.mpt")  # doctest: +SKIP
    >>> cycle_summary(table)[["cycle", "charge_capacity_mah"]].head(2)  # doctest: +SKIP
    """
    path = Path(path)
    name = _format_of(path, format, columns)
    if name == "biologic-mpt":
        table = read_cycler(path, format="biologic-mpt", timezone=timezone)
    elif name == "biologic-mpr":
        table = read_biologic_mpr(path, timezone=timezone)
    else:
        data, text = decode_file(path, encoding)
        source = make_source(path, name, data=data)
        if name == "bdf-csv":
            table = parse_bdf_csv(text, source=source, start=start, delimiter=delimiter)
        else:
            if columns is None:
                raise ConfigError(f"{path}: format 'csv' needs a column map", key="columns")
            table = parse_generic_csv(
                text, source=source, columns=columns, delimiter=delimiter, skiprows=skiprows,
                decimal=decimal, time_format=time_format, timezone=timezone, start=start,
            )
    table.attrs["format"] = name
    return derive_cycling(table, rest_current_a=rest_current_a)


def _format_of(path: Path, format: str | None, columns: Mapping[str, str] | None) -> str:  # noqa: A002
    if format is not None:
        if format not in FORMATS:
            raise ConfigError(f"unknown cycler format {format!r} (known: {', '.join(FORMATS)})",
                              key="format")
        return format
    if columns is not None:
        return "csv"
    try:
        with open(path, "rb") as stream:
            head = stream.read(4096)
    except OSError:
        head = read_bytes(path)  # raises the library's error for a missing or unreadable file
    if head.lstrip(b"\xef\xbb\xbf").startswith(_MPT_MAGIC):
        return "biologic-mpt"
    if head.startswith(_MPR_MAGIC):
        return "biologic-mpr"
    first = head.decode("utf-8", "replace").lstrip("\ufeff").split("\n", 1)[0]
    fields = {field.strip().strip('"') for field in first.split(",")}
    if {BDF_LABELS.get(field, field) for field in fields} >= {"Test Time / s", "Voltage / V",
                                                               "Current / A"}:
        return "bdf-csv"
    raise ParseError(
        path,
        "not a cycler file specssb recognises (EC-Lab .mpt/.mpr, Battery Data Format CSV); "
        "for another CSV give a column map (columns={'time_s': ..., 'voltage_v': ..., "
        "'current_a': ...})",
        position="line 1",
    )


# -------------------------------------------------------------------------------- derive
def derive_cycling(table: pd.DataFrame, *, rest_current_a: float | None = None) -> pd.DataFrame:
    """Add ``Cycle Count / 1``, ``Half Cycle / 1`` and ``State of Charge / 1`` (see module notes).

    Parameters
    ----------
    table : pandas.DataFrame
        A BDF table with ``Test Time / s`` and ``Current / A`` (A, positive = charge).
    rest_current_a : float, optional
        ``|I|`` (A) at or below which a record is rest; default 1 % of the largest ``|I|``.

    Returns
    -------
    pandas.DataFrame
        A copy with the three columns (file values kept where the file has them) and
        ``attrs["derived"]`` naming the columns computed here.

    Examples
    --------
    >>> t = pd.DataFrame({"Test Time / s": [1.0, 2, 3, 4], "Current / A": [1.0, 1, -1, -1]})
    >>> derive_cycling(t)["State of Charge / 1"].tolist()
    [0.5, 1.0, 0.5, 0.0]
    """
    for needed in ("Test Time / s", "Current / A"):
        if needed not in table:
            raise ConfigError(f"the cycler table has no {needed!r} column", key="table")
    out = table.copy()
    out.attrs = dict(table.attrs)
    current = out["Current / A"].to_numpy(dtype=np.float64)
    derived: list[str] = []
    if "Half Cycle / 1" not in out:
        if "half cycle" in out:
            out["Half Cycle / 1"] = out["half cycle"].to_numpy(dtype=np.int64)
        else:
            out["Half Cycle / 1"] = _half_cycles(current, rest_current_a)
            derived.append("Half Cycle / 1")
    if "Cycle Count / 1" not in out:
        out["Cycle Count / 1"] = out["Half Cycle / 1"].to_numpy(dtype=np.int64) // 2
        derived.append("Cycle Count / 1")
    charge = _charge_increments(out)
    cycles = out["Cycle Count / 1"].to_numpy()
    soc = np.full(len(out), np.nan)
    for cycle in pd.unique(cycles):
        rows = np.flatnonzero(cycles == cycle)
        dq = charge[rows]
        q_in, q_out = dq[dq > 0].sum(), -dq[dq < 0].sum()
        running = np.cumsum(dq)
        if _charge_first(dq) and q_in > 0:
            soc[rows] = running / q_in
        elif q_out > 0:
            soc[rows] = 1.0 + running / q_out
    out["State of Charge / 1"] = soc
    out["Charge Passed / Ah"] = charge
    derived += ["State of Charge / 1", "Charge Passed / Ah"]
    out.attrs["derived"] = derived
    out.attrs["units"] = {
        **out.attrs.get("units", {}),
        **{"Half Cycle / 1": "1", "Cycle Count / 1": "1", "State of Charge / 1": "1",
           "Charge Passed / Ah": "Ah"},
    }
    return out


def _half_cycles(current: np.ndarray, rest_current_a: float | None) -> np.ndarray:
    """Half-cycle index from sign changes of the current; rest continues the previous sign."""
    threshold = rest_current_a
    if threshold is None:
        peak = np.max(np.abs(current)) if current.size else 0.0
        threshold = 0.01 * peak
    sign = np.where(np.abs(current) > threshold, np.sign(current), 0.0)
    active = np.flatnonzero(sign)
    if active.size == 0:
        return np.zeros(current.size, dtype=np.int64)
    filled = pd.Series(np.where(sign == 0, np.nan, sign)).ffill().bfill().to_numpy()
    changes = np.zeros(current.size, dtype=np.int64)
    changes[1:] = filled[1:] != filled[:-1]
    return np.cumsum(changes)


def _charge_increments(table: pd.DataFrame) -> np.ndarray:
    """Charge (Ah, + for charge) passed in the interval ending at each record."""
    if "Charging Capacity / Ah" in table and "Discharging Capacity / Ah" in table:
        charged = _counter_increments(table["Charging Capacity / Ah"].to_numpy(np.float64))
        discharged = _counter_increments(table["Discharging Capacity / Ah"].to_numpy(np.float64))
        return charged - discharged
    if "Net Capacity / Ah" in table:
        return np.diff(table["Net Capacity / Ah"].to_numpy(np.float64), prepend=0.0)
    seconds = table["Test Time / s"].to_numpy(np.float64)
    current = table["Current / A"].to_numpy(np.float64)
    return current * np.diff(seconds, prepend=0.0) / 3600.0


def _counter_increments(counter: np.ndarray) -> np.ndarray:
    """Increments of a non-decreasing counter that may reset to 0 (a drop = a reset)."""
    step = np.diff(counter, prepend=0.0)
    reset = step < 0
    step[reset] = counter[reset]
    return step


def _charge_first(dq: np.ndarray) -> bool:
    moving = dq[dq != 0]
    return bool(moving.size == 0 or moving[0] > 0)


def cycle_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per cycle: capacities (mAh), Coulombic efficiency, time span.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`read_cycler_table` (or :func:`derive_cycling`).

    Returns
    -------
    pandas.DataFrame
        ``cycle``, ``first_half`` (``"charge"`` or ``"discharge"``), ``start``, ``end`` (UTC,
        NaT without absolute time), ``n_records``, ``charge_capacity_mah``,
        ``discharge_capacity_mah``, ``complete`` (both halves passed charge),
        ``coulombic_efficiency`` (out / in, see the module notes; NaN for an incomplete cycle),
        ``mean_voltage_v``, ``capacity_retention`` (this cycle's returned charge over that of
        the first complete cycle).

    Examples
    --------
    >>> t = derive_cycling(pd.DataFrame({"Test Time / s": [3600.0, 7200, 10800, 14400],
    ...                                  "Current / A": [1e-3, 1e-3, -1e-3, -1e-3]}))
    >>> cycle_summary(t)[["charge_capacity_mah", "discharge_capacity_mah"]].iloc[0].tolist()
    [2.0, 2.0]
    """
    if "Charge Passed / Ah" not in table or "Cycle Count / 1" not in table:
        table = derive_cycling(table)
    rows: list[dict[str, Any]] = []
    times = table["Date Time"] if "Date Time" in table else None
    for cycle, group in table.groupby("Cycle Count / 1", sort=True):
        dq = group["Charge Passed / Ah"].to_numpy(np.float64)
        q_in, q_out = dq[dq > 0].sum() * 1e3, -dq[dq < 0].sum() * 1e3
        first = "charge" if _charge_first(dq) else "discharge"
        put, back = (q_in, q_out) if first == "charge" else (q_out, q_in)
        complete = put > 0 and back > 0  # both halves passed charge (the record may stop early)
        rows.append(
            {
                "cycle": int(cycle),
                "first_half": first,
                "start": times.loc[group.index[0]] if times is not None else pd.NaT,
                "end": times.loc[group.index[-1]] if times is not None else pd.NaT,
                "n_records": len(group),
                "charge_capacity_mah": q_in,
                "discharge_capacity_mah": q_out,
                "complete": complete,
                "coulombic_efficiency": back / put if complete else np.nan,
                "_returned": back if complete else np.nan,
                "mean_voltage_v": float(group["Voltage / V"].mean())
                if "Voltage / V" in group else np.nan,
            }
        )
    summary = pd.DataFrame(rows)
    if not summary.empty:
        returned = summary["_returned"].dropna()
        reference = returned.iloc[0] if len(returned) else np.nan
        summary["capacity_retention"] = summary["_returned"] / reference
        summary = summary.drop(columns="_returned")
    summary.attrs = {"source": table.attrs.get("source")}
    return summary


# ---------------------------------------------------------------------------------- join
def join_spectra(
    times_or_spectra: Iterable[Spectrum | _dt.datetime | pd.Timestamp],
    cycler_table: pd.DataFrame,
    *,
    tolerance: float | _dt.timedelta | str = 600.0,
) -> pd.DataFrame:
    """Join each acquisition time to the nearest preceding cycler record.

    Parameters
    ----------
    times_or_spectra : iterable of Spectrum or aware datetime
        Spectra (their ``meta["acquired_at"]``) or timezone-aware times.
    cycler_table : pandas.DataFrame
        From :func:`read_cycler_table`; needs ``Date Time``.
    tolerance : float (s), timedelta or str, default 600 s
        Largest gap between the time and the record before it. A time further from its record,
        before the first record or after the last one is left NaN, with one
        :class:`~specssb.errors.MetadataWarning` listing every such time.

    Returns
    -------
    pandas.DataFrame
        One row per input, in input order: ``acquired_at``, ``record_time``, ``gap_s``,
        ``cycle``, ``half_cycle``, ``step`` (nullable integers), ``potential_v``, ``current_a``,
        ``state_of_charge``, and ``source`` (file path) when spectra were given.

    Raises
    ------
    ConfigError
        A naive datetime, a bad tolerance, or a table without ``Date Time``.

    Examples
    --------
    >>> joined = join_spectra(spectra, table, tolerance="10min")  # doctest: +SKIP
    >>> joined[["acquired_at", "cycle", "state_of_charge"]]  # doctest: +SKIP
    """
    limit = _tolerance(tolerance)
    items = list(times_or_spectra)
    times, labels = _times_of(items)
    if "Date Time" not in cycler_table:
        raise ConfigError(
            "the cycler table has no absolute time (Date Time); read it with start=... to join",
            key="cycler_table",
        )
    if "State of Charge / 1" not in cycler_table:
        cycler_table = derive_cycling(cycler_table)
    record = _record_frame(cycler_table)
    left = pd.DataFrame({"acquired_at": pd.Series(times, dtype="datetime64[ns, UTC]"),
                         "_order": np.arange(len(items))})
    valid = left.dropna(subset=["acquired_at"]).sort_values("acquired_at", kind="stable")
    merged = pd.merge_asof(valid, record, left_on="acquired_at", right_on="record_time",
                           direction="backward")
    merged["gap_s"] = (merged["acquired_at"] - merged["record_time"]).dt.total_seconds()
    last = record["record_time"].iloc[-1]
    outside = merged["record_time"].isna() | (merged["gap_s"] > limit.total_seconds()) | (
        merged["acquired_at"] > last
    )
    merged.loc[outside, list(JOIN_COLUMNS)] = np.nan
    out = left[["_order", "acquired_at"]].merge(
        merged.drop(columns="acquired_at"), on="_order", how="left"
    ).sort_values("_order").drop(columns="_order").reset_index(drop=True)
    for name in ("cycle", "half_cycle", "step"):
        out[name] = pd.array(np.round(out[name].to_numpy(np.float64)), dtype="Float64").astype(
            "Int64")
    if labels is not None:
        out["source"] = labels
    _warn_unjoined(out, merged, outside, record, limit, cycler_table, items)
    return out


def annotate_spectra(
    spectra: Sequence[Spectrum],
    cycler_table: pd.DataFrame,
    *,
    tolerance: float | _dt.timedelta | str = 600.0,
) -> list[Spectrum]:
    """Copies of ``spectra`` with ``cycle``, ``state_of_charge`` and ``potential_v`` from the join.

    Spectra that could not be joined (see :func:`join_spectra`, which warns) are returned
    unchanged; the change is recorded in each spectrum's history (``set_meta``).
    """
    joined = join_spectra(spectra, cycler_table, tolerance=tolerance)
    out: list[Spectrum] = []
    for spectrum, (_, row) in zip(spectra, joined.iterrows()):
        if pd.isna(row["cycle"]):
            out.append(spectrum)
            continue
        keys: dict[str, Any] = {"cycle": int(row["cycle"])}
        if not pd.isna(row["state_of_charge"]):
            keys["state_of_charge"] = float(row["state_of_charge"])
        if not pd.isna(row["potential_v"]):
            keys["potential_v"] = float(row["potential_v"])
        out.append(spectrum.with_meta(**keys))
    return out


def _tolerance(tolerance: float | _dt.timedelta | str) -> pd.Timedelta:
    try:
        if isinstance(tolerance, int | float) and not isinstance(tolerance, bool):
            limit = pd.Timedelta(seconds=float(tolerance))
        elif isinstance(tolerance, _dt.timedelta | str):
            limit = pd.Timedelta(tolerance)
        else:
            raise TypeError(type(tolerance).__name__)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"tolerance must be seconds, a timedelta or '10min', not "
                          f"{tolerance!r}", key="tolerance") from exc
    if pd.isna(limit) or limit < pd.Timedelta(0):
        raise ConfigError(f"tolerance must be zero or positive, not {tolerance!r}",
                          key="tolerance")
    return limit


def _times_of(items: list[Any]) -> tuple[list[pd.Timestamp | None], list[str] | None]:
    times: list[pd.Timestamp | None] = []
    labels: list[str] | None = [] if any(isinstance(i, Spectrum) for i in items) else None
    for index, item in enumerate(items):
        if isinstance(item, Spectrum):
            value = item.meta.get("acquired_at")
            if labels is not None:
                block = item.source.block
                labels.append(item.source.path + (f" [{block}]" if block is not None else ""))
        else:
            value = item
            if labels is not None:
                labels.append("")
        if _missing(value):
            times.append(None)
            continue
        if not isinstance(value, _dt.datetime):
            raise ConfigError(f"item {index}: expected a Spectrum or a datetime, not "
                              f"{type(value).__name__}", key="times_or_spectra")
        if value.utcoffset() is None:
            raise ConfigError(f"item {index}: {value} has no time zone; give aware (UTC) times",
                              key="times_or_spectra")
        times.append(pd.Timestamp(value).tz_convert("UTC"))
    return times, labels


def _missing(value: Any) -> bool:
    """None, NaT or NaN (an acquisition time that is not there)."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _record_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The cycler columns the join gives, renamed, sorted by time (warns when not monotonic)."""
    def column(name: str) -> np.ndarray:
        return table[name].to_numpy(np.float64) if name in table else np.full(len(table), np.nan)

    step = "Step Index / 1" if "Step Index / 1" in table else "Step Count / 1"
    record = pd.DataFrame(
        {
            "record_time": table["Date Time"].dt.tz_convert("UTC").astype("datetime64[ns, UTC]"),
            "cycle": column("Cycle Count / 1"),
            "half_cycle": column("Half Cycle / 1"),
            "step": column(step),
            "potential_v": column("Voltage / V"),
            "current_a": column("Current / A"),
            "state_of_charge": column("State of Charge / 1"),
        }
    ).dropna(subset=["record_time"])
    if record.empty:
        raise ConfigError("the cycler table has no records with a time", key="cycler_table")
    nanoseconds = record["record_time"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    steps_back = np.flatnonzero(np.diff(nanoseconds) < 0)
    if steps_back.size:
        source = table.attrs.get("source")
        warnings.warn(
            f"{getattr(source, 'path', 'cycler table')} row {steps_back[0] + 1}: Date Time goes "
            "back in time; records sorted by time for the join",
            MetadataWarning,
            stacklevel=3,
        )
        record = record.sort_values("record_time", kind="stable")
    return record.reset_index(drop=True)


def _warn_unjoined(
    out: pd.DataFrame,
    merged: pd.DataFrame,
    outside: pd.Series,
    record: pd.DataFrame,
    limit: pd.Timedelta,
    table: pd.DataFrame,
    items: list[Any],
) -> None:
    first, last = record["record_time"].iloc[0], record["record_time"].iloc[-1]
    reasons: list[str] = []
    for index in np.flatnonzero(out["acquired_at"].isna().to_numpy()):
        reasons.append(f"item {index}: no acquisition time")
    for _, row in merged[outside.to_numpy()].iterrows():
        when = row["acquired_at"]
        if when < first:
            why = "before the record starts"
        elif when > last:
            why = "after the record ends"
        else:
            why = f"{row['gap_s']:.0f} s after the preceding record"
        reasons.append(f"{when.isoformat()} ({why})")
    if not reasons:
        return
    source = table.attrs.get("source")
    name = getattr(source, "path", "cycler table")
    warnings.warn(
        f"{len(reasons)} of {len(items)} times not joined to {name} (records "
        f"{first.isoformat()} to {last.isoformat()}, tolerance {limit.total_seconds():.0f} s); "
        f"left NaN: {'; '.join(reasons[:5])}{' …' if len(reasons) > 5 else ''}",
        MetadataWarning,
        stacklevel=3,
    )
