"""specssb: XPS, XAS, NMR and Raman processing for solid-state battery studies.

The notebook API::

    import specssb
    spectra = specssb.read("cycle3.vms")          # list[Spectrum], one per region
    table = specssb.read_cycler("cell01.mpt")     # DataFrame, Battery Data Format columns
    specssb.formats()                             # every registered format
    table = specssb.fit(spectra, "xps-s2p-argyrodite")   # FitTable (tidy frame + curves)
    recipe = specssb.Recipe.from_toml("my.toml")   # or a built-in name
    result = specssb.Session.open("beamtime/").run()     # a session folder, analysed

``fit``, ``Recipe`` and ``Session`` are imported on first use, so ``import specssb`` stays light.
"""

from specssb._version import __version__
from specssb.errors import (
    BrowserError,
    ConfigError,
    ConvergenceWarning,
    FitError,
    MemoryLimitError,
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

#: Names imported on first use (module, attribute), so that ``import specssb`` stays light.
_LAZY = {
    "fit": ("specssb.fitting.engine", "fit"),
    "Recipe": ("specssb.fitting.recipe", "Recipe"),
    "Session": ("specssb.report.session", "Session"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'specssb' has no attribute {name!r}")


__all__ = [
    "Axis",
    "BrowserError",
    "ConfigError",
    "ConvergenceWarning",
    "Coord",
    "FitError",
    "FormatInfo",
    "MemoryLimitError",
    "MetadataWarning",
    "ParseError",
    "PhysicsWarning",
    "Recipe",
    "Session",
    "Source",
    "SpecssbError",
    "SpecssbWarning",
    "Spectrum",
    "Step",
    "StoreError",
    "UnknownFormatError",
    "__version__",
    "fit",
    "formats",
    "read",
    "read_cycler",
    "register_parser",
    "sniff",
    "stack",
]
