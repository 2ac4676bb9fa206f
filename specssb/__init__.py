"""specssb: XPS, XAS, NMR and Raman processing for solid-state battery studies.

The notebook API::

    import specssb
    spectra = specssb.read("cycle3.vms")          # list[Spectrum], one per region
    table = specssb.read_cycler("cell01.mpt")     # DataFrame, Battery Data Format columns
    specssb.formats()                             # every registered format
"""

from specssb._version import __version__
from specssb.errors import (
    ConfigError,
    ConvergenceWarning,
    FitError,
    MetadataWarning,
    ParseError,
    PhysicsWarning,
    SpecssbError,
    SpecssbWarning,
    StoreError,
    UnknownFormatError,
)
from specssb.parsers import FormatInfo, formats, read, read_cycler, register_parser, sniff
from specssb.spectrum import Axis, Coord, Source, Spectrum, Step, stack

__all__ = [
    "Axis",
    "ConfigError",
    "ConvergenceWarning",
    "Coord",
    "FitError",
    "FormatInfo",
    "MetadataWarning",
    "ParseError",
    "PhysicsWarning",
    "Source",
    "SpecssbError",
    "SpecssbWarning",
    "Spectrum",
    "Step",
    "StoreError",
    "UnknownFormatError",
    "__version__",
    "formats",
    "read",
    "read_cycler",
    "register_parser",
    "sniff",
    "stack",
]
