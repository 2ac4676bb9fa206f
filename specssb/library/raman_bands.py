"""Raman band table: positions of SSB materials and interphase species, with sources.

``raman_bands.toml`` ships with specssb: one ``[[band]]`` per band (PS4³⁻, P2S7⁴⁻, P2S6⁴⁻,
Li2S, P2Sx, S8, polysulfides, LiCoO2 Eg/A1g, NMC, Li2CO3, LiOH, Li2O, cubic and tetragonal
LLZO, graphite D/G/2D, Si), each with a default centre ``position_cm1``, the range
``range_cm1`` where the cited work finds it, its source and a ``verified`` flag (see the file
header). The built-in Raman recipes name their components after these bands, and a test checks
that their centre bounds lie around the table's ranges.

Overlaps
    Bands that position alone cannot tell apart list each other in ``overlaps``. Where the
    overlap is a known trap (Li2O T2g ≈523 cm-1 under crystalline Si 520.7 cm-1, the Si
    calibration band), the entry also has an ``overlap_warning``: :func:`check_overlaps` raises
    it as a :class:`~specssb.errors.PhysicsWarning` whenever a recipe or a band map uses that
    band with a centre range or window that reaches the other band's position.
    :func:`specssb.fitting.raman.bands.fit_band_maps` and
    :func:`~specssb.fitting.raman.bands.integrate_bands` call it.

Errors
    Bad content is a :class:`~specssb.errors.ConfigError` naming the file, the line and the key;
    an unknown band name is a ``ConfigError`` listing the close names.

References
----------
Project notes ``shared/notes/raman.md`` §1 (band table, status marks) and §2 (Si values);
the ``source`` of every entry.

Examples
--------
>>> band("lco_a1g").position_cm1
595.0
>>> [b.name for b in bands_in(515.0, 525.0)]
['si', 'li2o']
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from specssb.errors import ConfigError, PhysicsWarning
from specssb.fitting._recipe_schema import IDENTIFIER, did_you_mean
from specssb.library.xps_tables import _read, _validated

__all__ = ["BANDS_FILE", "RamanBand", "band", "bands", "bands_in", "check_overlaps", "load_bands"]

BANDS_FILE = "raman_bands.toml"

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _as_tuple(value: Any) -> Any:
    """TOML arrays become tuples; anything else is left for pydantic to refuse."""
    return tuple(value) if isinstance(value, list) else value


Pair = Annotated[tuple[float, float], BeforeValidator(_as_tuple)]
Floats = Annotated[tuple[float, ...], BeforeValidator(_as_tuple)]
Names = Annotated[tuple[str, ...], BeforeValidator(_as_tuple)]


class RamanBand(BaseModel):
    """One Raman band (a ``[[band]]`` of ``raman_bands.toml``).

    Attributes
    ----------
    name : str
        Recipe label and parameter prefix, e.g. ``"lco_a1g"``.
    species, material, mode : str
        What vibrates, where it is seen, and the assignment.
    position_cm1 : float or None
        Default fit centre, cm-1 (None for a band family without one position).
    range_cm1 : (float, float)
        Where the cited work finds it, cm-1.
    other_bands_cm1 : tuple of float
        Weaker bands of the same species, cm-1.
    overlaps : tuple of str
        Names of bands that position alone cannot tell from this one.
    overlap_warning : str or None
        Text of the :class:`~specssb.errors.PhysicsWarning` :func:`check_overlaps` raises.
    source, verified, note
        Provenance (see the file header).
    """

    model_config = _STRICT

    name: str = Field(pattern=IDENTIFIER)
    species: str = Field(min_length=1)
    material: str = Field(min_length=1)
    mode: str = Field(min_length=1)
    position_cm1: float | None = Field(default=None, gt=0)
    range_cm1: Pair
    other_bands_cm1: Floats = ()
    overlaps: Names = ()
    overlap_warning: str | None = None
    source: str = Field(min_length=1)
    verified: bool
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> RamanBand:
        low, high = self.range_cm1
        if not 0 < low <= high:
            raise ValueError(f"range_cm1 {list(self.range_cm1)} must be [low, high] with 0 < low <= high")
        if self.position_cm1 is not None and not low <= self.position_cm1 <= high:
            raise ValueError(f"position_cm1 {self.position_cm1} lies outside range_cm1 {[low, high]}")
        if self.overlap_warning is not None and not self.overlaps:
            raise ValueError("overlap_warning needs the overlapping bands in overlaps")
        return self

    @property
    def reference_cm1(self) -> float:
        """``position_cm1``, or the middle of ``range_cm1`` when there is none."""
        low, high = self.range_cm1
        return self.position_cm1 if self.position_cm1 is not None else 0.5 * (low + high)


class _BandFile(BaseModel):
    model_config = _STRICT
    band: list[RamanBand] = Field(min_length=1)


def load_bands(path: str | os.PathLike[str] | None = None) -> list[RamanBand]:
    """Every band of a table file (default: the built-in ``raman_bands.toml``).

    Raises
    ------
    ConfigError
        Unreadable file, TOML syntax error, invalid entry (file, line and key named), a name
        given twice, or an ``overlaps`` entry naming no band of the file.
    """
    text, name = _read(path, BANDS_FILE)
    table = _validated(_BandFile, text, name)
    names = [entry.name for entry in table.band]
    seen: set[str] = set()
    for entry in table.band:
        if entry.name in seen:
            raise ConfigError(f"band {entry.name!r} is given twice", path=name, key="band")
        seen.add(entry.name)
        for other in entry.overlaps:
            if other not in names:
                raise ConfigError(f"band {entry.name!r} overlaps unknown band {other!r}"
                                  + did_you_mean(other, names), path=name, key="overlaps")
    return list(table.band)


@functools.cache
def _builtin() -> tuple[RamanBand, ...]:
    return tuple(load_bands())


def bands() -> list[RamanBand]:
    """Every built-in band, in file order."""
    return list(_builtin())


def band(name: str) -> RamanBand:
    """One built-in band by name, e.g. ``band("li2s")``.

    Raises
    ------
    ConfigError
        Unknown name (the close names are listed).
    """
    for entry in _builtin():
        if entry.name == name:
            return entry
    raise ConfigError(f"no Raman band named {name!r}" + did_you_mean(name, [b.name for b in _builtin()]),
                      path=BANDS_FILE, key="band")


def bands_in(low: float, high: float) -> list[RamanBand]:
    """Built-in bands whose ``range_cm1`` meets ``[low, high]`` (cm-1), sorted by position."""
    lo, hi = min(low, high), max(low, high)
    found = [b for b in _builtin() if b.range_cm1[0] <= hi and b.range_cm1[1] >= lo]
    return sorted(found, key=lambda b: b.reference_cm1)


def check_overlaps(used: Mapping[str, tuple[float, float]], *, stacklevel: int = 2) -> list[str]:
    """Warn where a band is used over a range that reaches a band it cannot be told from.

    Parameters
    ----------
    used : Mapping of str to (float, float)
        Band name (a recipe component's species or a band-map window's label) → the range of
        positions it may take, cm-1: a fitted centre's ``[min, max]`` or an integration window.
        Names that are not in the table are ignored.
    stacklevel : int
        Passed to :func:`warnings.warn`.

    Returns
    -------
    list of str
        The messages warned (empty when nothing overlaps).

    Warns
    -----
    PhysicsWarning
        For each used band with an ``overlap_warning`` whose range contains the position of a
        band it ``overlaps`` (Li2O near 520.7 cm-1, Si near 523 cm-1).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     _ = check_overlaps({"li2o": (515.0, 530.0)})
    >>> seen[0].category.__name__
    'PhysicsWarning'
    >>> check_overlaps({"li2o": (522.0, 530.0)})
    []
    """
    table = {b.name: b for b in _builtin()}
    messages = []
    for name, (low, high) in used.items():
        entry = table.get(name)
        if entry is None or entry.overlap_warning is None:
            continue
        lo, hi = min(low, high), max(low, high)
        hits = [table[o] for o in entry.overlaps if lo <= table[o].reference_cm1 <= hi]
        if hits:
            where = ", ".join(f"{h.name} at {h.reference_cm1:g} cm-1" for h in hits)
            message = f"band {name!r} used over [{lo:g}, {hi:g}] cm-1 reaches {where}: {entry.overlap_warning}"
            warnings.warn(message, PhysicsWarning, stacklevel=stacklevel + 1)
            messages.append(message)
    return messages
