"""Helpers shared by the NMR readers other than Bruker (private).

- :func:`nucleus_label` turns the vendors' nucleus spellings (Varian ``P31``, JEOL ``Fluorine19``
  or ``Proton``, Spinsolve ``1H``, JCAMP-DX ``^13C``) into the normalized ``"31P"`` form that
  :mod:`specssb.parsers.nmr_bruker` writes to ``meta["nucleus"]``;
- :func:`check_finite` refuses NaN/inf in data (a ParseError naming the first bad point);
- :func:`local_to_utc` attaches the ``timezone`` option to a naive instrument time.
"""

from __future__ import annotations

import datetime as _dt
import re

import numpy as np

from specssb.errors import ParseError
from specssb.parsers._common import ELEMENTS, time_zone

__all__ = ["check_finite", "local_to_utc", "nucleus_label"]

#: Element names (as JEOL Delta spells them, e.g. ``Fluorine19``) -> symbols.
_ELEMENT_NAMES = {
    "hydrogen": "H", "helium": "He", "lithium": "Li", "beryllium": "Be", "boron": "B",
    "carbon": "C", "nitrogen": "N", "oxygen": "O", "fluorine": "F", "neon": "Ne",
    "sodium": "Na", "magnesium": "Mg", "aluminum": "Al", "aluminium": "Al", "silicon": "Si",
    "phosphorus": "P", "phosphorous": "P", "sulfur": "S", "sulphur": "S", "chlorine": "Cl",
    "potassium": "K", "calcium": "Ca", "scandium": "Sc", "titanium": "Ti", "vanadium": "V",
    "chromium": "Cr", "manganese": "Mn", "iron": "Fe", "cobalt": "Co", "nickel": "Ni",
    "copper": "Cu", "zinc": "Zn", "gallium": "Ga", "germanium": "Ge", "arsenic": "As",
    "selenium": "Se", "bromine": "Br", "rubidium": "Rb", "strontium": "Sr", "yttrium": "Y",
    "zirconium": "Zr", "niobium": "Nb", "molybdenum": "Mo", "silver": "Ag", "cadmium": "Cd",
    "indium": "In", "tin": "Sn", "antimony": "Sb", "tellurium": "Te", "iodine": "I",
    "xenon": "Xe", "cesium": "Cs", "caesium": "Cs", "barium": "Ba", "lanthanum": "La",
    "tungsten": "W", "platinum": "Pt", "gold": "Au", "mercury": "Hg", "thallium": "Tl",
    "lead": "Pb", "bismuth": "Bi",
}
_SPECIAL = {"proton": "1H", "deuterium": "2H", "tritium": "3H"}


def nucleus_label(text: object) -> str | None:
    """The nucleus as ``<mass><symbol>`` (``"7Li"``), or None when ``text`` names none.

    Parameters
    ----------
    text : object
        A vendor spelling: ``"7Li"``, ``"Li7"``, ``"^7Li"``, ``"<7Li>"``, ``"Lithium7"``,
        ``"Proton"``, ``"H1"``. Anything else (``"NONE"``, ``""``, a number) gives None.

    Returns
    -------
    str or None

    Examples
    --------
    >>> [nucleus_label(t) for t in ("P31", "^13C", "Fluorine19", "Proton", "87Rb", "off")]
    ['31P', '13C', '19F', '1H', '87Rb', None]
    """
    if not isinstance(text, str):
        return None
    word = text.strip().strip("<>^").strip().replace("^", "").replace("-", "")
    if word.lower() in _SPECIAL:
        return _SPECIAL[word.lower()]
    match = (re.fullmatch(r"(\d+)([A-Za-z]+)", word)
             or re.fullmatch(r"([A-Za-z]+)(\d+)", word))
    if match is None:
        return None
    mass, letters = match.groups() if match.group(1).isdigit() else match.groups()[::-1]
    symbol = letters[0].upper() + letters[1:].lower()
    if symbol not in ELEMENTS:
        symbol = _ELEMENT_NAMES.get(letters.lower(), "")
    if not symbol or not 0 < int(mass) < 300:
        return None
    return f"{int(mass)}{symbol}"


def check_finite(values: np.ndarray, path: str) -> None:
    """Raise :class:`ParseError` naming the first non-finite value of ``values``."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ParseError(path, f"{bad.size} non-finite values (NaN or inf) in the data",
                         position=f"point {int(bad[0])}")


def local_to_utc(moment: _dt.datetime, timezone: str) -> _dt.datetime:
    """A naive instrument time read in ``timezone`` (IANA name), returned in UTC."""
    return moment.replace(tzinfo=time_zone(timezone)).astimezone(_dt.timezone.utc)
