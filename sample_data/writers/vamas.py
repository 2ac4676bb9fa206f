"""Write small ISO 14976 VAMAS files (NORM / REGULAR, kinetic-energy abscissa) for sample data.

Not part of the package: a deterministic generator of realistic ``.vms`` files, laid out line for
line like the files SPECS Prodigy, CasaXPS and Kratos ESCApe write (see
``../shared/data/xps``): CRLF line ends, ``1E+37`` for unknown reals, one corresponding
variable ``counts`` per block, and the ``end of experiment`` terminator.

Energy convention, as in those files: the kinetic energies written are referenced to the
spectrometer Fermi level, so a reader gets ``BE = hv - KE``; ``work_function_ev`` is recorded
in the block field *analyser work function or acceptance energy of atom or ion* for
information only. To place a peak at binding energy ``BE``, give ``KE = hv - BE``.

Reference: ISO 14976:1998, Surface chemical analysis - Data transfer format.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_vamas"]

FORMAT_IDENTIFIER = "VAMAS Surface Chemical Analysis Standard Data Transfer Format 1988 May 4"
NULL = "1E+37"
_KEYS = (
    "region", "element", "transition", "sample", "acquired_at", "excitation_energy_ev",
    "source_label", "analyser_mode", "pass_energy_ev", "work_function_ev",
    "kinetic_energy_start_ev", "step_ev", "counts", "dwell_time_s", "n_scans", "comment",
)


def _number(value: float) -> str:
    """A real as instruments write it: integers bare, others to 10 significant digits.

    Ten digits keep every physically meaningful figure and hide binary noise such as
    ``1316.6000000000001`` that arithmetic on energies leaves behind.
    """
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"cannot write the non-finite value {value!r}")
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def _text(value: Any, what: str) -> str:
    text = str(value)
    if "\r" in text or "\n" in text:
        raise ValueError(f"{what} must be one line, got {text!r}")
    return text


def _block_lines(block: Mapping[str, Any]) -> list[str]:
    missing = [key for key in _KEYS if key not in block]
    if missing:
        raise ValueError(f"block {block.get('region', '?')!r} lacks keys {missing}")
    when = block["acquired_at"]
    if not isinstance(when, dt.datetime) or when.utcoffset() is None:
        raise ValueError("acquired_at must be a timezone-aware datetime")
    when = when.astimezone(dt.timezone.utc)
    counts = np.asarray(block["counts"], dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2 or not np.all(np.isfinite(counts)):
        raise ValueError("counts must be a finite 1-D array of at least 2 points")
    step = float(block["step_ev"])
    if not step > 0:
        raise ValueError(f"step_ev must be positive (kinetic energy increases), got {step}")
    comment = str(block["comment"]).splitlines()
    lines = [
        _text(block["region"], "region"),                      # block identifier
        _text(block["sample"], "sample"),                      # sample identifier
        *(str(v) for v in (when.year, when.month, when.day, when.hour, when.minute, when.second)),
        "0",                                                   # hours in advance of GMT: UTC
        str(len(comment)), *comment,
        "XPS",
        _text(block["source_label"], "source_label"),
        _number(block["excitation_energy_ev"]),
        NULL, NULL, NULL,                                      # source strength, beam width x, y
        NULL, NULL,                                            # source polar angle, azimuth
        _text(block["analyser_mode"], "analyser_mode"),
        _number(block["pass_energy_ev"]),
        NULL,                                                  # lens magnification
        _number(block["work_function_ev"]),
        "0",                                                   # target bias
        NULL, NULL,                                            # analysis width x, y
        NULL, NULL,                                            # analyser take-off polar, azimuth
        _text(block["element"], "element"),                   # species label
        _text(block["transition"], "transition"),             # transition label
        "-1",                                                  # charge of detected particle
        "Kinetic Energy", "eV",
        _number(block["kinetic_energy_start_ev"]), _number(step),
        "1", "counts", "d",                                    # one corresponding variable
        "pulse counting",
        _number(block["dwell_time_s"]),
        str(int(block["n_scans"])),
        "0",                                                   # signal time correction
        NULL, NULL, NULL,                                      # sample tilt, tilt azimuth, rotation
        "0",                                                   # additional numerical parameters
        str(counts.size),
        _number(counts.min()), _number(counts.max()),
        *(_number(v) for v in counts),
    ]
    return lines


def write_vamas(
    path: str | PathLike[str],
    blocks: Sequence[Mapping[str, Any]],
    *,
    institution: str = "specssb sample generator",
    comment_lines: Iterable[str] = (),
) -> Path:
    """Write XPS regions as one NORM / REGULAR VAMAS file (latin-1 text, CRLF line ends).

    Parameters
    ----------
    path : str or PathLike
        Output file (``.vms``); overwritten.
    blocks : sequence of Mapping
        One per region, with keys ``region`` ("S 2p", the block identifier), ``element``
        ("S", species label), ``transition`` ("2p"), ``sample`` (str), ``acquired_at``
        (timezone-aware datetime; written in UTC), ``excitation_energy_ev`` (eV),
        ``source_label`` ("Al Ka mono"), ``analyser_mode`` ("FAT"), ``pass_energy_ev`` (eV),
        ``work_function_ev`` (eV, recorded only), ``kinetic_energy_start_ev`` (eV, Fermi-level
        referenced: ``hv - BE``), ``step_ev`` (eV, > 0), ``counts`` (1-D array of shape (n,)),
        ``dwell_time_s`` (s per channel), ``n_scans`` (int), ``comment`` (str; may span lines).
    institution : str
        Institution identifier line.
    comment_lines : iterable of str
        File comment, one entry per line.

    Returns
    -------
    Path
        The file written. Same input -> same bytes.

    Raises
    ------
    ValueError
        A missing key, a naive datetime, a non-positive step, non-finite counts, or text
        that latin-1 cannot encode.
    """
    comments = [_text(line, "comment line") for line in comment_lines]
    lines = [
        FORMAT_IDENTIFIER,
        _text(institution, "institution"),
        "Not Specified", "Not Specified", "Not Specified",     # instrument, operator, experiment
        str(len(comments)), *comments,
        "NORM", "REGULAR",
        str(len({str(b["region"]) for b in blocks})),          # number of spectral regions
        "0",                                                   # experimental variables
        "0",                                                   # parameter inclusion list
        "0",                                                   # manually entered items
        "0", "0",                                              # future upgrade entries
        str(len(blocks)),
    ]
    for block in blocks:
        lines += _block_lines(block)
    lines.append("end of experiment")
    path = Path(path)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return path
