"""Write BioLogic EC-Lab text exports (``.mpt``) for sample data.

Not part of the package: a deterministic generator of ``.mpt`` files laid out like the exports
of EC-Lab v11.50 in ``../shared/data/echem/yadg`` (``gcpl.issue_149.mpt``): the two magic lines
(``EC-Lab ASCII FILE``, ``Nb header lines : N`` padded to 46 characters), the technique name,
the ``key : value`` settings with ``Acquisition started on : MM/DD/YYYY HH:MM:SS.fff`` (the PC's
local time), the software lines, the parameter table in 20-character columns (one per
sequence ``Ns``), the tab-separated column names ending with a tab, and tab-separated rows
without a trailing tab. Counters are integers; EC-Lab's double-precision quantities (time,
charge, ``cycle number``) are written ``%.15E`` and its single-precision ones (potentials,
``I/mA``, ``control/V/mA``, ``P/W``) ``%.7E``, both with a three-digit exponent
(``3.4228721E+000``). With ``decimal_comma=True`` every number uses a decimal comma, as EC-Lab
does on a German-locale PC. Text is Latin-1 (``cm²``), lines end with LF and the last row has no
line end, as in the real exports.

Reference: BioLogic, *EC-Lab Software User's Manual* (export as text).
"""

from __future__ import annotations

import datetime as dt
import math
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["write_biologic_mpt"]

_INTEGER = {
    "mode",
    "ox/red",
    "error",
    "control changes",
    "Ns changes",
    "counter inc.",
    "Ns",
    "I Range",
    "half cycle",
}
_SINGLE = {
    "control/V/mA",
    "Ewe/V",
    "Ecell/V",
    "<Ewe>/V",
    "Ece/V",
    "I/mA",
    "P/W",
    "control/V",
    "control/mA",
    "Efficiency/%",
    "Ewe-Ece/V",
}


def _float(value: float, digits: int) -> str:
    """EC-Lab's scientific notation: ``d.ddd…E+eee`` (three-digit exponent)."""
    if not math.isfinite(value):
        raise ValueError(f"cannot write the non-finite value {value!r}")
    mantissa, exponent = f"{value:.{digits}E}".split("E")
    return f"{mantissa}E{int(exponent):+04d}"


def _cell(name: str, value: float) -> str:
    if name in _INTEGER:
        if float(value) != round(float(value)):
            raise ValueError(f"column {name!r} holds counters; got {value!r}")
        return str(int(round(float(value))))
    return _float(float(value), 7 if name in _SINGLE else 15)


def _parameter_table(table: pd.DataFrame, comma: str) -> list[str]:
    """A GCPL-like parameter table, one 20-character column per sequence found in ``Ns``."""
    sequences = sorted(int(n) for n in pd.unique(table["Ns"])) if "Ns" in table else [0]
    control = table.get("control/V/mA")
    ewe = table.get("Ewe/V")

    def per_sequence(function) -> list[str]:
        values = []
        for ns in sequences:
            rows = table["Ns"] == ns if "Ns" in table else slice(None)
            values.append(function(rows))
        return values

    def current(rows) -> str:
        return f"{float(np.median(control[rows])):.3f}" if control is not None else "0.000"

    def limit(rows) -> str:
        if ewe is None or control is None:
            return "0.000"
        positive = float(np.median(control[rows])) >= 0
        return f"{float(ewe[rows].max() if positive else ewe[rows].min()):.3f}"

    rows = [
        ("Ns", [str(n) for n in sequences]),
        ("Set I/C", ["I"] * len(sequences)),
        ("Is", per_sequence(current)),
        ("unit Is", ["mA"] * len(sequences)),
        ("vs.", ["<None>"] * len(sequences)),
        ("N", ["1.00"] * len(sequences)),
        ("I sign", ["> 0"] * len(sequences)),
        ("t1 (h:m:s)", ["0:00:0.0000"] * len(sequences)),
        ("I Range", ["1 mA"] * len(sequences)),
        ("Bandwidth", ["8"] * len(sequences)),
        ("dE1 (mV)", ["0.00"] * len(sequences)),
        ("dt1 (s)", ["180.0000"] * len(sequences)),
        ("EM (V)", per_sequence(limit)),
        ("E range min (V)", ["0.000"] * len(sequences)),
        ("E range max (V)", ["5.000"] * len(sequences)),
        ("goto Ns'", ["0"] * len(sequences)),
        ("nc cycles", ["0"] * len(sequences)),
    ]
    return [
        "".join(f"{cell:<20}" for cell in (name, *(v.replace(".", comma) for v in values)))
        for name, values in rows
    ]


def write_biologic_mpt(
    path: str | PathLike[str],
    table: pd.DataFrame,
    *,
    acquired_at: dt.datetime,
    technique: str = "Galvanostatic Cycling with Potential Limitation",
    decimal_comma: bool = False,
) -> Path:
    """Write a cycler record as an EC-Lab ``.mpt`` text export.

    Parameters
    ----------
    path : str or PathLike
        Output file (parent folders are created).
    table : pandas.DataFrame
        One row per record, columns named as EC-Lab names them (``mode``, ``ox/red``,
        ``control/V/mA``, ``Ns``, ``time/s`` in s, ``Ewe/V`` in V, ``I/mA`` in mA,
        ``(Q-Qo)/mA.h`` in mA h, ``cycle number`` …), written in this order.
    acquired_at : datetime
        Acquisition start, a naive datetime in the potentiostat PC's local time (EC-Lab
        writes no time zone); ``time/s`` counts from it.
    technique : str, default "Galvanostatic Cycling with Potential Limitation"
        Technique name written on the header's fourth line.
    decimal_comma : bool, default False
        Write numbers with a decimal comma (a German/French-locale PC).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        An aware ``acquired_at``, an empty table, a column name with a tab or line end,
        non-numeric or non-finite values, or a non-integer counter.
    """
    if acquired_at.utcoffset() is not None:
        raise ValueError("acquired_at is the PC's local time: pass a naive datetime")
    if table.empty:
        raise ValueError("the table has no rows")
    for name in table.columns:
        if not isinstance(name, str) or not name or any(c in name for c in "\t\r\n"):
            raise ValueError(f"bad column name {name!r}")
    values = table.to_numpy()
    try:
        rows = [
            "\t".join(_cell(name, value) for name, value in zip(table.columns, row))
            for row in values
        ]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"table values must be finite numbers ({exc})") from exc
    comma = "," if decimal_comma else "."
    stamp = acquired_at.strftime("%m/%d/%Y %H:%M:%S.") + f"{acquired_at.microsecond // 1000:03d}"
    settings = [
        "",
        technique,
        "",
        "Run on channel : 1 (SN 0001)",
        "User : ",
        "Electrode connection : standard",
        "Potential control : Ewe",
        f"Ewe ctrl range : min = 0{comma}00 V, max = 5{comma}00 V",
        "Safety Limits :",
        "\tDo not start on E overload",
        "Channel : Floating",
        f"Acquisition started on : {stamp}",
        f"Technique started on : {stamp}",
        "Loaded Setting File :  NONE",
        "Saved on :",
        f"\tFile : {Path(path).stem}.mpr",
        "\tDirectory : C:\\Users\\specssb\\",
        "\tHost : 192.168.0.10",
        "Device : VMP3 (SN 0001)",
        "Address : 192.168.0.11",
        "EC-Lab for windows v11.50 (software)",
        "Internet server v11.50 (firmware)",
        "Command interpretor v11.50 (firmware)",
        "Electrode material : ",
        "Initial state : ",
        "Electrolyte : ",
        "Comments : ",
        "Cable : standard",
        f"Electrode surface area : 0{comma}785 cm\u00b2",
        f"Characteristic mass : 0{comma}010 g",
        f"Equivalent Weight : 0{comma}000 g/eq.",
        f"Density : 0{comma}000 g/cm3",
        f"Volume (V) : 0{comma}001 cm\u00b3",
        "Cycle Definition : Charge/Discharge alternance",
    ]
    parameters = _parameter_table(table, comma)
    names = "\t".join(table.columns) + "\t"
    header = settings + parameters + ["", names]
    n_header = len(header) + 2
    lines = ["EC-Lab ASCII FILE", f"Nb header lines : {n_header:<28}", *header]
    if decimal_comma:
        rows = [row.replace(".", ",") for row in rows]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes("\n".join(lines + rows).encode("latin-1"))
    return out
