"""Write JCAMP-DX 5.01 NMR spectra (``##DATA TYPE= NMR SPECTRUM``) for sample data.

Not part of the package: a deterministic writer of the plain (AFFN) form of the standard, as
TopSpin's and Delta's "export JCAMP-DX" write it without compression: the core labels, the NMR
labels ``.OBSERVE FREQUENCY`` and ``.OBSERVE NUCLEUS``, a ppm abscissa from ``FIRSTX`` to
``LASTX`` and ``##XYDATA= (X++(Y..Y))`` lines of ten ordinates, each line starting with the
abscissa of its first point.

References: R. S. McDonald, P. A. Wilks, Appl. Spectrosc. 42, 151 (1988); A. N. Davies,
P. Lampen, Appl. Spectrosc. 47, 1093 (1993).
"""

from __future__ import annotations

import datetime as dt
from os import PathLike
from pathlib import Path

import numpy as np

__all__ = ["write_jcamp_nmr"]

PER_LINE = 10


def write_jcamp_nmr(
    path: str | PathLike[str],
    ppm: np.ndarray,
    intensity: np.ndarray,
    *,
    nucleus: str,
    observe_mhz: float,
    title: str,
    acquired_at: dt.datetime,
) -> Path:
    """Write one processed spectrum on an evenly spaced ppm axis (integer ordinates).

    Parameters
    ----------
    path : str or PathLike
        Output file.
    ppm : ndarray (n,)
        Chemical shift of each point, evenly spaced (either direction), ppm.
    intensity : ndarray (n,)
        Ordinates; rounded to integers (``YFACTOR = 1``).
    nucleus : str
        e.g. ``"7Li"`` (written ``^7Li``).
    observe_mhz : float
        Observe frequency, MHz.
    title, acquired_at
        ``##TITLE`` and ``##LONG DATE`` (UTC).
    """
    ppm = np.asarray(ppm, float)
    values = np.rint(np.asarray(intensity, float)).astype(np.int64)
    step = (ppm[-1] - ppm[0]) / (ppm.size - 1)
    lines = [
        f"##TITLE= {title}",
        "##JCAMP-DX= 5.01",
        "##DATA TYPE= NMR SPECTRUM",
        "##DATA CLASS= XYDATA",
        "##ORIGIN= specssb sample data",
        "##OWNER= specssb",
        f"##LONG DATE= {acquired_at.astimezone(dt.UTC):%Y/%m/%d %H:%M:%S}",
        f"##.OBSERVE FREQUENCY= {float(observe_mhz)!r}",
        f"##.OBSERVE NUCLEUS= ^{nucleus}",
        "##XUNITS= PPM",
        "##YUNITS= ARBITRARY UNITS",
        f"##FIRSTX= {float(ppm[0])!r}",
        f"##LASTX= {float(ppm[-1])!r}",
        f"##NPOINTS= {ppm.size}",
        "##XFACTOR= 1",
        "##YFACTOR= 1",
        f"##FIRSTY= {values[0]}",
        "##XYDATA= (X++(Y..Y))",
    ]
    for start in range(0, values.size, PER_LINE):
        x = ppm[0] + start * step
        lines.append(f"{x:.6f} " + " ".join(str(v) for v in values[start:start + PER_LINE]))
    lines.append("##END=")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="ascii")
    return target
