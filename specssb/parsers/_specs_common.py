"""Helpers shared by the SPECS readers (Prodigy ``.xy``, SpecsLab 2 ``.xml``) (private)."""

from __future__ import annotations

import re

from specssb.errors import ConfigError
from specssb.parsers._xps_energy import ENERGY_KINDS

__all__ = ["ELEMENTS", "analyser_mode", "check_energy", "region_label"]

ELEMENTS = frozenset(
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd "
    "Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am "
    "Cm Bk Cf Es Fm Md No Lr".split()
)

#: SPECS scan-mode names and the short analyser-mode labels used in VAMAS files.
_MODES = {
    "FixedAnalyzerTransmission": "FAT",
    "FixedRetardingRatio": "FRR",
    "Snapshot (FAT)": "FAT",
    "SnapshotFAT": "FAT",
}

# "Fe2p", "Fe 2p", "C1s", "Fe2p3/2", "Fe LMM", "MgKLL_1"; a suffix after "_" or blanks is a
# user's note and ignored.
_LABEL = re.compile(
    r"^\s*([A-Z][a-z]?)\s*(\d[spdf](?:\s*\d/\d)?|[KLMN][KLMNV][KLMNV](?:-?[KLMNV])?)(?:[\s_].*)?$"
)


def check_energy(energy: str) -> None:
    """Refuse an ``energy`` option other than "binding" or "kinetic" (ConfigError)."""
    if energy not in ENERGY_KINDS:
        raise ConfigError(f"energy must be 'binding' or 'kinetic', not {energy!r}", key="energy")


def region_label(name: str) -> tuple[str | None, str | None]:
    """Element and transition from a SPECS region name, ``(None, None)`` when not parseable.

    Examples
    --------
    >>> region_label("Fe2p"), region_label("Fe LMM"), region_label("Survey")
    (('Fe', '2p'), ('Fe', 'LMM'), (None, None))
    """
    match = _LABEL.match(name)
    if match is None or match.group(1) not in ELEMENTS:
        return None, None
    return match.group(1), match.group(2).replace(" ", "")


def analyser_mode(scan_mode: str) -> str:
    """``FixedAnalyzerTransmission`` -> ``FAT``, ``FixedRetardingRatio`` -> ``FRR``, else as is."""
    return _MODES.get(scan_mode.strip(), scan_mode.strip())
