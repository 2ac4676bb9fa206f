"""Helpers shared by the SPECS readers (Prodigy ``.xy``, SpecsLab 2 ``.xml``) (private)."""

from __future__ import annotations

import re

from specssb.errors import ConfigError
from specssb.parsers._common import ELEMENTS
from specssb.parsers._xps_energy import ENERGY_KINDS

__all__ = ["analyser_mode", "check_energy", "region_label"]


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
