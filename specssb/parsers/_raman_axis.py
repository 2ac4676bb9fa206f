"""Helpers shared by the binary Raman readers (private): axis checks, nm → Raman shift, laser.

Raman shift from an absolute wavelength and the excitation laser wavelength (both in nm)::

    shift / cm-1 = 1e7 / laser_nm - 1e7 / wavelength_nm

A reader that converts records it as a :class:`~specssb.spectrum.Step`
(``"wavelength_to_raman_shift"``) with the laser wavelength used, so the conversion can be undone.
"""

from __future__ import annotations

import math
import re

import numpy as np

from specssb.errors import ParseError
from specssb.spectrum import Axis, Step

__all__ = ["AXIS_CHOICES", "check_axis", "laser_nm_from_text", "shift_step", "to_raman_shift"]

#: Values of the ``axis`` option of readers whose files are calibrated in wavelength.
AXIS_CHOICES = ("file", "wavelength", "raman_shift", "channel")

_NM = re.compile(r"(\d+(?:\.\d+)?)\s*nm", re.I)


def check_axis(values: np.ndarray, path: str, position: str | None = None) -> np.ndarray:
    """Return ``values`` as float64 after checking they are finite and strictly monotonic.

    Raises
    ------
    ParseError
        For NaN/inf values or an axis that is not strictly increasing or decreasing.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ParseError(path, "empty spectral axis", position=position)
    if not np.all(np.isfinite(x)):
        raise ParseError(path, "spectral axis holds NaN or infinite values", position=position)
    if x.size > 1:
        steps = np.diff(x)
        if not (np.all(steps > 0) or np.all(steps < 0)):
            bad = int(np.argmax((steps <= 0) if steps[0] > 0 else (steps >= 0))) + 1
            raise ParseError(path, f"spectral axis is not strictly monotonic (point {bad})",
                             position=position)
    return x


def laser_nm_from_text(text: str | None) -> float | None:
    """The first ``<number> nm`` in a vendor string (``"Laser: 785 nm edge"`` -> 785.0)."""
    if not text:
        return None
    match = _NM.search(text)
    if match is None:
        return None
    value = float(match.group(1))
    return value if 150.0 <= value <= 2000.0 else None


def to_raman_shift(wavelength_nm: np.ndarray, laser_nm: float) -> np.ndarray:
    """Raman shift in cm-1 of absolute wavelengths in nm for a laser at ``laser_nm``.

    Examples
    --------
    >>> round(float(to_raman_shift(np.array([563.1]), 532.0)[0]), 1)
    1038.1
    """
    if not (math.isfinite(laser_nm) and laser_nm > 0):
        raise ValueError(f"laser wavelength must be a positive number of nm, got {laser_nm!r}")
    return 1e7 / laser_nm - 1e7 / np.asarray(wavelength_nm, dtype=np.float64)


def shift_step(axis_nm: Axis, laser_nm: float) -> tuple[Axis, Step]:
    """A ``raman_shift`` axis from a ``wavelength`` axis, and the history Step that records it."""
    shifted = Axis("raman_shift", "cm-1", to_raman_shift(axis_nm.values, laser_nm))
    step = Step("wavelength_to_raman_shift",
                {"laser_wavelength_nm": float(laser_nm),
                 "formula": "1e7/laser_nm - 1e7/wavelength_nm"})
    return shifted, step
