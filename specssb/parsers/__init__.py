"""Instrument-file parsers: one module per vendor format, one registry.

Public entry points: :func:`read` (Spectra), :func:`read_cycler` (cycler tables),
:func:`formats`, :func:`sniff`, :func:`register_parser`.
"""

from specssb.parsers._registry import (
    ENTRY_POINT_GROUP,
    FormatInfo,
    discover,
    formats,
    get_format,
    read,
    read_cycler,
    register_parser,
    sha256_of,
    sniff,
)

# Built-in formats register themselves on import.
from specssb.parsers import (  # noqa: E402,F401  isort: skip
    echem_biologic,
    nmr_bruker,
    nmr_jcamp,
    nmr_jeol,
    nmr_pipe,
    nmr_spinsolve,
    nmr_varian,
    raman_andor,
    raman_sif,
    raman_jcamp,
    raman_labspec,
    raman_opus,
    raman_spc,
    raman_spe,
    raman_text,
    raman_wdf,
    raman_witec_txt,
    xas_athena,
    xas_columns,
    xas_xdi,
    xps_casa_txt,
    xps_phi_pro,
    xps_phi_spe,
    xps_scienta_ibw,
    xps_scienta_txt,
    xps_specs_xml,
    xps_specs_xy,
    xps_text,
    xps_vamas,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "FormatInfo",
    "discover",
    "formats",
    "get_format",
    "read",
    "read_cycler",
    "register_parser",
    "sha256_of",
    "sniff",
]
