"""Write small XDI 1.0 files (XAS Data Interchange) for sample data.

Not part of the package: a deterministic generator of ``.xdi`` files laid out like the files of
the XDI test suite and of the APS 13-ID/13-BM beamlines (``../shared/data/xas/xdi/data``): the
version line with an application token, the ``Column.N`` fields (``energy eV`` first), the
required ``Element.symbol``, ``Element.edge`` and ``Mono.d_spacing``, the recommended
``Facility.name``, ``Beamline.name`` and ``Scan.start_time`` (ISO 8601 with its UTC offset),
``Sample.name``, a field-end line ``# ///``, the user comments, the header-end line ``#----``,
the column-label line, and whitespace-separated rows. Numbers are written as the shortest text
that reads back as the same float, so a round trip is exact.

Reference: XDI working group, *XAS Data Interchange Format, version 1.0*, and *Dictionary of
XAS Data Interchange Metadata*, https://github.com/XraySpectroscopy/XAS-Data-Interchange.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np

__all__ = ["write_xdi"]

#: Application token on the version line (fixed, so the output is byte-for-byte reproducible).
APPLICATION = "specssb-sample/1.0"
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _number(value: float) -> str:
    """Shortest text that reads back as the same float (integers keep a trailing '.0')."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"XDI data must be finite numbers, got {value!r}")
    return repr(value)


def _one_line(text: str, what: str) -> str:
    if "\r" in text or "\n" in text:
        raise ValueError(f"{what} must be one line, got {text!r}")
    return text


def write_xdi(
    path: str | PathLike[str],
    energy_ev: Sequence[float] | np.ndarray,
    columns: Mapping[str, Sequence[float] | np.ndarray],
    *,
    element: str,
    edge: str,
    mono_name: str = "Si(111)",
    d_spacing: float = 3.13551,
    sample: str,
    acquired_at: dt.datetime,
    beamline: str = "specssb synthetic",
    facility: str = "specssb",
    extra_fields: Mapping[str, str] | None = None,
    comments: Sequence[str] = (),
) -> Path:
    """Write one XAS scan as an XDI 1.0 file.

    Parameters
    ----------
    path : str or PathLike
        Output file (parent folders are created).
    energy_ev : array_like of shape (n,), eV
        Monochromator energy, the first column (``Column.1: energy eV``).
    columns : Mapping of str to array_like of shape (n,)
        Further columns in order, named with the XDI labels where they apply (``i0``,
        ``itrans``, ``ifluor``, ``irefer``, ``mutrans`` …).
    element, edge : str
        Absorber symbol and edge (``Element.symbol``, ``Element.edge``), e.g. ``"S"``, ``"K"``.
    mono_name : str, default "Si(111)"
    d_spacing : float, default 3.13551
        Monochromator d-spacing, Å.
    sample : str
        ``Sample.name``.
    acquired_at : datetime
        Scan start, timezone-aware (written in ISO 8601 with its offset).
    beamline, facility : str
        ``Beamline.name`` and ``Facility.name``.
    extra_fields : Mapping of str to str, optional
        More ``Namespace.tag: value`` fields, e.g. ``{"Sample.temperature": "298 K"}``.
    comments : sequence of str
        User comment lines.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        Columns of different lengths, a label that is not one word, a naive ``acquired_at``,
        a malformed extra field name, non-finite data, or a multi-line text.
    """
    energy = np.asarray(energy_ev, dtype=np.float64)
    data = {name: np.asarray(values, dtype=np.float64) for name, values in columns.items()}
    if energy.ndim != 1 or energy.size == 0:
        raise ValueError("energy_ev must be a non-empty 1-D array")
    for name, values in data.items():
        if not _LABEL.match(name) or name.lower() == "energy":
            raise ValueError(
                f"column label {name!r} must be one word (letters, digits, '_'), not 'energy'"
            )
        if values.shape != energy.shape:
            raise ValueError(f"column {name!r} has shape {values.shape}, energy has {energy.shape}")
    if acquired_at.utcoffset() is None:
        raise ValueError("acquired_at must be timezone-aware")
    labels = ["energy", *data]
    lines = [f"# XDI/1.0 {APPLICATION}"]
    lines += [
        f"# Column.{i}: {label}{' eV' if i == 1 else ''}" for i, label in enumerate(labels, start=1)
    ]
    fields = {
        "Element.symbol": element,
        "Element.edge": edge,
        "Mono.name": mono_name,
        "Mono.d_spacing": _number(d_spacing),
        "Facility.name": facility,
        "Beamline.name": beamline,
        "Scan.start_time": acquired_at.isoformat(timespec="seconds"),
        "Sample.name": sample,
    }
    for name, value in (extra_fields or {}).items():
        if not _FIELD_NAME.match(name) or name.split(".")[0].lower() == "column":
            raise ValueError(f"extra field {name!r} must be 'Namespace.tag' (not Column.N)")
        fields[name] = value
    lines += [f"# {name}: {_one_line(str(value), name)}" for name, value in fields.items()]
    lines.append("# ///")
    lines += [f"# {_one_line(text, 'comment')}".rstrip() for text in comments]
    lines.append("#----")
    lines.append("# " + " ".join(labels))
    table = np.column_stack([energy, *data.values()])
    lines += ["  " + "  ".join(_number(v) for v in row) for row in table]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return out
