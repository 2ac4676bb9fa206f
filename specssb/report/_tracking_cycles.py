"""Private helpers of :func:`specssb.report.tracking.assign_cycles` (see its module notes)."""

from __future__ import annotations

import re
import warnings
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError

__all__ = ["cycler_name", "join_times", "other_cell", "tag_cycles"]

_CELL = re.compile(r"(?i)(?<![a-z0-9])cell[_\- ]?(\d+)")


def tag_cycles(frame: pd.DataFrame) -> np.ndarray:
    if "cycle" not in frame.columns:
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame["cycle"].astype(object), errors="coerce").to_numpy(np.float64)
    given = frame["cycle"].astype(object).notna().to_numpy()
    bad = given & ~np.isfinite(values)
    fractional = np.isfinite(values) & (values != np.round(values))
    if bad.any() or fractional.any():
        row = int(np.flatnonzero(bad | fractional)[0])
        raise ConfigError(f"row {row}: tag cycle {frame['cycle'].iloc[row]!r} is not a whole "
                          "number", key="cycle")
    return values


def cycler_name(cycler: pd.DataFrame) -> str:
    source = cycler.attrs.get("source")
    return str(getattr(source, "path", "") or "cycler table")


def other_cell(frame: pd.DataFrame, cycler: pd.DataFrame) -> np.ndarray:
    """Rows whose file names a ``cell<N>`` other than the cycler file's."""
    mine = _CELL.search(PurePosixPath(cycler_name(cycler)).name)
    column = "file" if "file" in frame.columns else "source" if "source" in frame.columns else None
    if mine is None or column is None:
        return np.zeros(len(frame), dtype=bool)
    number = int(mine.group(1))

    def differs(name: Any) -> bool:
        found = _CELL.findall(str(name)) if isinstance(name, str) else []
        return bool(found) and all(int(f) != number for f in found)

    names = frame[column].astype(object)
    verdict = {name: differs(name) for name in pd.unique(names)}
    return names.map(verdict).to_numpy(dtype=bool)


def join_times(times: pd.Series, cycler: pd.DataFrame, tolerance: float | str,
                after_end_s: float | None) -> dict[str, np.ndarray]:
    """Cycle, SoC, potential and a note for each time (the unique times joined once)."""
    from specssb.report.echem import cycle_summary, join_spectra

    unique = pd.Series(pd.unique(times)).dropna()
    with warnings.catch_warnings():  # the reasons go to cycle_note, row by row
        warnings.simplefilter("ignore")
        joined = join_spectra([t.to_pydatetime() for t in unique], cycler, tolerance=tolerance)
    summary = cycle_summary(cycler)
    record_end = pd.Timestamp(cycler["Date Time"].max()).tz_convert("UTC")
    record_start = pd.Timestamp(cycler["Date Time"].min()).tz_convert("UTC")
    last = summary.iloc[-1] if len(summary) else None
    if after_end_s is None and last is not None and pd.notna(last["start"]):
        after_end_s = (last["end"] - last["start"]).total_seconds()
    after_cycle = np.nan
    end_soc = np.nan
    if last is not None:
        after_cycle = float(last["cycle"]) + (1.0 if bool(last["complete"]) else 0.0)
        soc_column = cycler["State of Charge / 1"].dropna()
        end_soc = float(soc_column.iloc[-1]) if len(soc_column) else np.nan
    rows: dict[pd.Timestamp, tuple[float, float, float, str]] = {}
    for (_, row), when in zip(joined.iterrows(), unique):
        when = pd.Timestamp(when)
        if pd.notna(row["cycle"]):
            rows[when] = (float(row["cycle"]), float(row["state_of_charge"]),
                          float(row["potential_v"]), "")
        elif when > record_end and after_end_s is not None and np.isfinite(after_cycle) and (
                (when - record_end).total_seconds() <= after_end_s):
            minutes = (when - record_end).total_seconds() / 60.0
            rows[when] = (after_cycle, end_soc, np.nan,
                          f"{minutes:.0f} min after the cycler record ends: after its last cycle")
        else:
            if when < record_start:
                why = "before the cycler record starts"
            elif when > record_end:
                why = "after the cycler record ends (beyond after_end_s)"
            else:
                why = f"no cycler record within {tolerance} s before it"
            rows[when] = (np.nan, np.nan, np.nan, why)
    keys = [pd.Timestamp(t) for t in times]
    picked = [rows[k] for k in keys]
    return {
        "cycle": np.array([p[0] for p in picked], dtype=np.float64),
        "state_of_charge": np.array([p[1] for p in picked], dtype=np.float64),
        "potential_v": np.array([p[2] for p in picked], dtype=np.float64),
        "note": np.array([p[3] for p in picked], dtype=object),
    }
