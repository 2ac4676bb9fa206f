"""XPS reference tables: spin–orbit doublets and binding energies of SSB interphase species.

Two TOML files ship with specssb, each entry with its source and a ``verified`` flag:

``xps_orbitals.toml``
    One ``[[orbital]]`` per core level (S 2p, P 2p, Ti 2p, Zr 3d, La 3d, Co 2p, Au 4f …):
    spin–orbit splitting (eV, with a range when it depends on the compound), area ratio of the
    j = l − ½ over the j = l + ½ line (p 1/2, d 2/3, f 3/4; checked against the level), and
    whether Coster–Kronig decay makes the j = l − ½ line broader (Ti, V, Cr), with a width
    ratio. Read with :func:`orbital`.
``xps_species.toml``
    One ``[[species]]`` per species and region (Li2S, PS4³⁻, P2S7⁴⁻ … in S 2p; Li3P … in P 2p;
    carbonate in C 1s, O 1s and Li 1s; Ti⁴⁺…Ti⁰ for LLTO; Zr and La for LLZO; Co for LCO):
    binding-energy range of one line (``"S 2p3/2"``). Read with :func:`species`,
    :func:`species_for` and :func:`species_ranges` (the mapping
    :func:`specssb.fitting.xps.checks.check_fit` takes as ``species_ranges``).

``verified = true`` means the numbers were read in the cited source (or computed here from a
cited table); ``false`` marks literature values that were not seen in retrievable text. The
built-in XPS recipes take their doublet splittings and ratios from the first table and bound
their centers inside the ranges of the second (a test checks both).

Errors
    Bad content is a :class:`~specssb.errors.ConfigError` naming the file, the line and the key
    (``xps_species.toml line 40 key 'be_range_ev': ...``); an unknown level or species is a
    ``ConfigError`` listing the close names.

References
----------
Project notes ``shared/notes/xps.md`` §1–2 (status marks); Thermo Scientific XPS reference
tables (xpssimplified.com); M. C. Biesinger, xpsfitting.com; harwellxps.guru knowledge base;
xraylib 4.3.0 edge energies (T. Schoonjans et al., Spectrochim. Acta B 66, 776 (2011)).

Examples
--------
>>> orbital("S", "2p").split_ev, orbital("S", "2p").area_ratio
(1.18, 0.5)
>>> orbital("Ti", "2p").coster_kronig
True
>>> species("li3p").be_range_ev
(126.0, 127.5)
>>> [s.name for s in species_for("Zr 3d")]
['zr0', 'zr_suboxide', 'zr4']
"""

from __future__ import annotations

import functools
import math
import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from specssb.errors import ConfigError
from specssb.fitting import _toml_lines
from specssb.fitting._recipe_errors import syntax_error
from specssb.fitting._recipe_schema import IDENTIFIER, did_you_mean

__all__ = [
    "ORBITALS_FILE",
    "SPECIES_FILE",
    "Orbital",
    "Species",
    "load_orbitals",
    "load_species",
    "orbital",
    "orbitals",
    "species",
    "species_for",
    "species_ranges",
]

ORBITALS_FILE = "xps_orbitals.toml"
SPECIES_FILE = "xps_species.toml"

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
_LEVEL = re.compile(r"^([1-7])([pdf])$")
_L = {"p": 1, "d": 2, "f": 3}
_ELEMENT = r"^[A-Z][a-z]?$"


def _as_pair(value: Any) -> Any:
    """TOML arrays of two numbers become tuples; anything else is left for pydantic to refuse."""
    return tuple(value) if isinstance(value, list) else value


#: ``[low, high]`` in the file, a tuple in Python.
Pair = Annotated[tuple[float, float], BeforeValidator(_as_pair)]


def _plain(text: str) -> str:
    return "".join(text.split()).casefold()


def _ordered(pair: tuple[float, float] | None, key: str) -> None:
    if pair is not None and not pair[0] <= pair[1]:
        raise ValueError(f"{key} {list(pair)} must be [low, high] with low <= high")


# ---------------------------------------------------------------------- the models
class Orbital(BaseModel):
    """One spin–orbit split core level (an ``[[orbital]]`` of ``xps_orbitals.toml``).

    Attributes
    ----------
    element, level : str
        ``"Ti"``, ``"2p"``.
    split_ev : float
        Binding energy of the j = l − ½ line minus that of the j = l + ½ line, eV (> 0).
    split_range_ev : (float, float)
        Range over compounds, eV (``(split_ev, split_ev)`` when the file gives none).
    area_ratio : float
        Area of the j = l − ½ line over the j = l + ½ line: l / (l + 1).
    coster_kronig : bool
        The j = l − ½ line is lifetime-broadened by Coster–Kronig decay.
    width_ratio : float
        FWHM of the j = l − ½ line over the j = l + ½ line (1 without Coster–Kronig).
    width_ratio_range : (float, float)
        Plausible range of ``width_ratio``.
    source, verified, width_source, width_verified, note
        Provenance (see the file header).
    """

    model_config = _STRICT

    element: str = Field(pattern=_ELEMENT)
    level: str
    split_ev: float = Field(gt=0)
    split_range_ev: Pair | None = None
    area_ratio: float = Field(gt=0, lt=1)
    coster_kronig: bool
    width_ratio: float = Field(default=1.0, gt=0)
    width_ratio_range: Pair | None = None
    width_source: str | None = None
    width_verified: bool | None = None
    source: str = Field(min_length=1)
    verified: bool
    note: str = ""

    @model_validator(mode="after")
    def _physics(self) -> Orbital:
        match = _LEVEL.match(self.level)
        if match is None:
            raise ValueError(f"level {self.level!r} is not a split level such as '2p', '3d', '4f'")
        l = _L[match.group(2)]
        if not math.isclose(self.area_ratio, l / (l + 1), abs_tol=1e-6):
            raise ValueError(f"area_ratio {self.area_ratio} of a {self.level} level must be "
                             f"l/(l+1) = {l / (l + 1):.6g}")
        _ordered(self.split_range_ev, "split_range_ev")
        low, high = self.split_range_ev or (self.split_ev, self.split_ev)
        if not low <= self.split_ev <= high:
            raise ValueError(f"split_ev {self.split_ev} lies outside split_range_ev {[low, high]}")
        _ordered(self.width_ratio_range, "width_ratio_range")
        if self.coster_kronig:
            if self.width_source is None or self.width_verified is None:
                raise ValueError("a Coster-Kronig level needs width_source and width_verified")
            w_low, w_high = self.width_ratio_range or (self.width_ratio, self.width_ratio)
            if not w_low <= self.width_ratio <= w_high:
                raise ValueError(f"width_ratio {self.width_ratio} lies outside width_ratio_range")
        elif self.width_ratio != 1.0:
            raise ValueError("width_ratio differs from 1 but coster_kronig is false")
        return self

    @property
    def region(self) -> str:
        """The region name, e.g. ``"Ti 2p"``."""
        return f"{self.element} {self.level}"

    @property
    def main_line(self) -> str:
        """The j = l + ½ line, e.g. ``"Ti 2p3/2"`` (the stronger one)."""
        l = _L[self.level[1]]
        return f"{self.region}{2 * l + 1}/2"

    @property
    def partner_line(self) -> str:
        """The j = l − ½ line, e.g. ``"Ti 2p1/2"``."""
        l = _L[self.level[1]]
        return f"{self.region}{2 * l - 1}/2"

    @property
    def split_bounds_ev(self) -> tuple[float, float]:
        """``split_range_ev``, or ``(split_ev, split_ev)`` when the file gives no range."""
        return self.split_range_ev or (self.split_ev, self.split_ev)


class Species(BaseModel):
    """One interphase species in one region (a ``[[species]]`` of ``xps_species.toml``).

    Attributes
    ----------
    name : str
        Recipe label (parameter prefix), e.g. ``"li2s"``.
    region : str
        ``"S 2p"``.
    line : str
        The line its binding energy refers to, e.g. ``"S 2p3/2"``.
    description : str
    be_range_ev : (float, float)
        Binding-energy range, eV (a single cited value ``be_ev`` is widened by the file's
        ``single_value_halfwidth_ev``).
    be_ev : float or None
        The single cited value, when the file gives one.
    charge_reference, source, verified, note
        Provenance (see the file header).
    """

    model_config = _STRICT

    name: str = Field(pattern=IDENTIFIER)
    region: str = Field(min_length=1)
    line: str = Field(min_length=1)
    description: str = Field(min_length=1)
    be_range_ev: Pair
    be_ev: float | None = None
    charge_reference: str
    source: str = Field(min_length=1)
    verified: bool
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Species:
        _ordered(self.be_range_ev, "be_range_ev")
        if not _plain(self.line).startswith(_plain(self.region)):
            raise ValueError(f"line {self.line!r} is not a line of region {self.region!r}")
        if self.be_ev is not None and not self.be_range_ev[0] <= self.be_ev <= self.be_range_ev[1]:
            raise ValueError(f"be_ev {self.be_ev} lies outside be_range_ev {list(self.be_range_ev)}")
        return self


class _OrbitalFile(BaseModel):
    model_config = _STRICT
    orbital: list[Orbital] = Field(min_length=1)


class _SpeciesFile(BaseModel):
    model_config = _STRICT
    single_value_halfwidth_ev: float = Field(gt=0, le=1.0)
    species: list[Species] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _widen_single_values(cls, data: Any) -> Any:
        """An entry with ``be_ev`` and no ``be_range_ev`` gets ``be_ev ± halfwidth``."""
        if not isinstance(data, dict) or not isinstance(data.get("species"), list):
            return data
        half = data.get("single_value_halfwidth_ev")
        if not isinstance(half, (int, float)) or isinstance(half, bool):
            return data
        entries = []
        for entry in data["species"]:
            value = entry.get("be_ev") if isinstance(entry, dict) else None
            if "be_range_ev" not in (entry if isinstance(entry, dict) else {}) and isinstance(
                value, (int, float)
            ) and not isinstance(value, bool):
                entry = {**entry, "be_range_ev": (round(value - half, 6), round(value + half, 6))}
            entries.append(entry)
        return {**data, "species": entries}


# ---------------------------------------------------------------------- reading
def _read(path: str | os.PathLike[str] | None, default: str) -> tuple[str, str]:
    """(text, name for messages) of a table file; ``None`` reads the built-in one."""
    if path is None:
        resource = resources.files("specssb.library") / default
        return resource.read_text(encoding="utf-8"), default
    try:
        return Path(path).read_text(encoding="utf-8"), str(path)
    except FileNotFoundError as error:
        raise ConfigError("table file not found", path=path) from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"not UTF-8 text ({error.reason})", path=path) from error
    except OSError as error:
        raise ConfigError(f"cannot read the table: {error.strerror}", path=path) from error


def _validated(model: type[BaseModel], text: str, name: str) -> Any:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise syntax_error(error, text, name) from error
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(first["loc"])
        lines = _toml_lines.key_lines(text)
        named = re.match(r"(?:Value error, )?([a-z_]+) ", first["msg"])
        if first["type"] == "value_error" and named and (*loc, named.group(1)) in lines:
            loc = (*loc, named.group(1))  # an entry-level check that names its key
        line = _toml_lines.line_of(lines, loc)
        key = next((str(k) for k in reversed(loc) if isinstance(k, str)), None)
        where = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in loc).lstrip(".")
        message = str(first["msg"]).removeprefix("Value error, ")
        reason = f"{message} (at {where})" if where else message
        more = len(error.errors()) - 1
        if more:
            reason += f"; and {more} more problem{'s' if more > 1 else ''}"
        raise ConfigError(reason, path=name, line=line, key=key) from error


def load_orbitals(path: str | os.PathLike[str] | None = None) -> list[Orbital]:
    """Every orbital of a table file (default: the built-in ``xps_orbitals.toml``).

    Raises
    ------
    ConfigError
        Unreadable file, TOML syntax error, invalid entry (file, line and key named), or a level
        given twice.
    """
    text, name = _read(path, ORBITALS_FILE)
    table = _validated(_OrbitalFile, text, name)
    seen: set[str] = set()
    for entry in table.orbital:
        if _plain(entry.region) in seen:
            raise ConfigError(f"level {entry.region!r} is given twice", path=name, key="orbital")
        seen.add(_plain(entry.region))
    return list(table.orbital)


def load_species(path: str | os.PathLike[str] | None = None) -> list[Species]:
    """Every species of a table file (default: the built-in ``xps_species.toml``).

    Raises
    ------
    ConfigError
        Unreadable file, TOML syntax error, invalid entry (file, line and key named), or a
        (name, region) pair given twice.
    """
    text, name = _read(path, SPECIES_FILE)
    table = _validated(_SpeciesFile, text, name)
    seen: set[tuple[str, str]] = set()
    for entry in table.species:
        key = (entry.name, _plain(entry.region))
        if key in seen:
            raise ConfigError(f"species {entry.name!r} is given twice for region {entry.region!r}",
                              path=name, key="species")
        seen.add(key)
    return list(table.species)


@functools.cache
def _builtin_orbitals() -> tuple[Orbital, ...]:
    return tuple(load_orbitals())


@functools.cache
def _builtin_species() -> tuple[Species, ...]:
    return tuple(load_species())


# ---------------------------------------------------------------------- look-ups
def orbitals() -> list[Orbital]:
    """Every built-in orbital, in file order."""
    return list(_builtin_orbitals())


def orbital(element: str, level: str) -> Orbital:
    """The spin–orbit doublet of a core level, e.g. ``orbital("Ti", "2p")``.

    Parameters
    ----------
    element : str
        Element symbol, any case (``"ti"`` works).
    level : str
        ``"2p"``, ``"3d"``, ``"4f"``.

    Raises
    ------
    ConfigError
        When the table has no such level (the close ones are named).
    """
    wanted = _plain(f"{element}{level}")
    for entry in _builtin_orbitals():
        if _plain(entry.region) == wanted:
            return entry
    names = [o.region for o in _builtin_orbitals()]
    raise ConfigError(f"no spin-orbit data for {element} {level}" + did_you_mean(f"{element} {level}", names),
                      path=ORBITALS_FILE, key="orbital")


def species_for(region: str) -> list[Species]:
    """The species of a region (``"S 2p"``, matched ignoring case and blanks), in file order.

    An empty list when the table has none (e.g. ``"Survey"``).
    """
    wanted = _plain(region)
    return [s for s in _builtin_species() if _plain(s.region) == wanted]


def species(name: str, region: str | None = None) -> Species:
    """One species by name, e.g. ``species("li3p")``.

    Parameters
    ----------
    name : str
        The species name (recipe label).
    region : str, optional
        Needed when the name exists in several regions (``ps4`` is in S 2p and P 2p;
        ``li2co3`` in C 1s, O 1s and Li 1s).

    Raises
    ------
    ConfigError
        Unknown name (close names listed), no such species in ``region``, or an ambiguous name
        without ``region`` (the regions listed).
    """
    found = [s for s in _builtin_species() if s.name == name]
    if region is not None:
        found = [s for s in found if _plain(s.region) == _plain(region)]
    if len(found) == 1:
        return found[0]
    if not found:
        names = {s.name for s in _builtin_species()}
        where = f" in region {region!r}" if region is not None else ""
        hint = did_you_mean(name, names) if region is None or name not in names else ""
        raise ConfigError(f"no species {name!r}{where}{hint}", path=SPECIES_FILE, key="species")
    regions = ", ".join(repr(s.region) for s in found)
    raise ConfigError(f"species {name!r} exists in several regions ({regions}); pass region=",
                      path=SPECIES_FILE, key="species")


def species_ranges(region: str) -> dict[str, tuple[float, float]]:
    """Species name → binding-energy range (eV) of one region, for
    :func:`specssb.fitting.xps.checks.check_fit` (``species_ranges=``).

    Examples
    --------
    >>> species_ranges("P 2p")["li3p"]
    (126.0, 127.5)
    """
    return {s.name: s.be_range_ev for s in species_for(region)}
