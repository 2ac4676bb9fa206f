"""Renishaw WiRE data files (``.wdf``): single spectra, series, line scans and maps.

A WDF file is a chain of blocks, each starting with a 4-character name, a ``uint32`` uid and a
``uint64`` size that includes the 16-byte block header. The first block is the 512-byte ``WDF1``
file header; the spectra are in ``DATA`` (``float32``, ``count × npoints``), the spectral axis in
``XLST`` (``float32``), per-spectrum stage positions and times in ``ORGN`` (one list per
quantity), the map grid in ``WMAP``, and the measurement and instrument settings in WiRE
property sets (``PSET`` streams in ``WXDM``, ``WXDA``, ``WXIS``, ``WXCS`` …).

How this reader works
---------------------
1. The block chain and the header counts are checked against the bytes actually present *before*
   anything is allocated: a header claiming 10^12 spectra, a block running past the end of the
   file (truncation) or random bytes after the magic give a :class:`~specssb.errors.ParseError`
   naming the block and byte offset.
2. renishawWiRE (``WDFReader``, MIT) parses the ``WDF1``, ``DATA``, ``XLST``, ``YLST`` and
   ``ORGN`` blocks. Its constructor only takes a file *name* and it reads arrays with
   ``numpy.fromfile``, which needs a real file descriptor, so the bytes are handed to it through
   an anonymous temporary file. Its ``WMAP`` parser is not used, because it rejects valid
   StreamLine maps ("WMAP Xpos is not same as in ORGN", py-wdf-reader issue #29) and ignores the
   map-order flags; ``WMAP`` is read here (layout: Renishaw's ``WdfMapArea``, as published in the
   Gwyddion ``renishaw.c`` module). Property sets are decoded by
   :mod:`specssb.parsers._wire_pset`.
3. What renishawWiRE returns is validated (``count × npoints`` values, finite data, a finite and
   strictly monotonic axis) before a :class:`~specssb.spectrum.Spectrum` is built.

Spectral axis
-------------
The x-list unit of the file decides the axis, the values are kept in measured order (WiRE
usually stores decreasing Raman shift): ``RamanShift`` -> ``raman_shift`` (cm-1),
``Nanometre`` -> ``wavelength`` (nm; photoluminescence and UV data are often recorded like
this and are never relabelled as Raman shift), ``Pixels`` -> ``channel`` (unit ``"1"``). Any
other unit (absolute ``Wavenumber``, ``ElectronVolt`` …) is a ParseError naming it.

Shapes
------
* one spectrum: 1-D;
* series (time, temperature, depth …): dims ``("scan",)``, with one coordinate per origin list
  (``time`` in s from the first spectrum, ``x``/``y``/``z`` in µm, ``temperature`` …);
* rectangular map (measurement type *Mapping* with a ``WMAP`` area): dims ``("y", "x")``, shape
  ``(ny, nx, n)``, coordinates ``x`` and ``y`` in µm (unit ``"um"``). Each spectrum goes to the
  grid cell of its own ``ORGN`` stage position, so raster, column-major and snake orders all
  land right (``raw_meta["map_placement"]``: ``"wmap_grid"``, or ``"orgn_grid"`` when the
  positions form a regular grid offset from ``WMAP``); failing both, spectra are placed in
  acquisition order from the ``WMAP`` flags, with a MetadataWarning. An **incomplete map**
  keeps dims ``("y", "x")``; cells never measured hold NaN (MetadataWarning with the count);
* line scan (``WMAP`` flag *XyLine*): dims ``("position",)`` with coordinates ``x``, ``y`` and
  ``distance`` (from the first point) in µm;
* random-point maps, volumes and maps whose ``WMAP`` disagrees with the spectrum count: dims
  ``("point",)`` with the origin lists as coordinates, and a MetadataWarning.

Metadata
--------
``meta``: ``title``, ``operator`` (WiRE user), ``acquired_at`` (header collection start, a
Windows FILETIME, as UTC), ``laser_wavelength_nm`` (``1e7 / ν̃`` from the header laser
wavenumber in cm-1), ``measurement_type`` (``single``, ``series``, ``map``, ``line``),
``exposure_time_s`` and ``n_accumulations`` (the measurement's *Scan* property set:
``Exposure Time`` in ms and ``Accumulations``; without it ``n_accumulations`` is the header
count), ``instrument`` (``Instrument type`` in ``WXIS``, e.g. ``"InVia"``) and ``grating``.
The header accumulation count can be twice the set value (e.g. 4 for 2 accumulations with
cosmic-ray removal in ``renishaw_test_spectrum.wdf``); both are kept in ``raw_meta``.

``raw_meta``: the header fields, the block list, x- and y-list types and units, every origin list
(label, data type, unit, primary flag and values, for up to 10 000 spectra), the map area, the
``TEXT`` comment, the white-light image geometry, and the decoded property sets (binary and
compressed items, arrays over 1000 values and texts over 4 kB, such as the measurement's
VBScript, are summarised by their size).

References
----------
renishawWiRE (py-wdf-reader), T. Tian, https://github.com/alchem0x2A/py-wdf-reader (MIT).
Gwyddion ``modules/file/renishaw.c`` (D. Bratashov, D. Nečas), structures © Renishaw plc.
"""

from __future__ import annotations

import datetime as _dt
import struct
import tempfile
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from specssb._memory import check_array
from specssb.errors import MetadataWarning, ParseError
from specssb.parsers._common import make_source, read_bytes
from specssb.parsers._registry import register_parser
from specssb.parsers._wire_pset import filetime, filetime_text, find_settings, property_sets
from specssb.spectrum import Axis, Coord, Source, Spectrum

__all__ = ["parse_wdf", "read_wdf"]

MAGIC = b"WDF1"
HEADER_SIZE = 512
BLOCK_HEADER_SIZE = 16
MAP_AREA_SIZE = 64

#: Origin lists keep their per-spectrum values in ``raw_meta`` up to this many spectra.
RAW_ORIGIN_LIMIT = 10_000

#: ``WdfHeader`` (512 bytes, little-endian).
_HEADER = struct.Struct("<4sIQQ4IQIIIIQQIIII24s4HIIQQIf48s32s160s48s32s32s")
_HEADER_FIELDS = (
    "signature", "version", "size", "flags", "uuid0", "uuid1", "uuid2", "uuid3", "unused0",
    "unused1", "ntracks", "status", "npoints", "capacity", "count", "naccum", "ylist_length",
    "xlist_length", "origin_count", "appname", "ver0", "ver1", "ver2", "ver3", "scan_type",
    "measurement_type", "time_start", "time_end", "spectral_units", "laser_wavenumber", "spare",
    "user", "title", "padding", "free", "reserved",
)
_BLOCK = struct.Struct("<4sIQ")
#: ``WdfMapArea`` after the block header: flags, unused, location[3], step[3], length[3], linefocus.
_MAP_AREA = struct.Struct("<II3f3f3II")
_ORIGIN_HEADER = struct.Struct("<II16s")

# WdfMapArea flags
_MAP_RANDOM_POINTS = 1 << 0
_MAP_COLUMN_MAJOR = 1 << 1
_MAP_ALTERNATING = 1 << 2
_MAP_XY_LINE = 1 << 7

# WdfDataUnits values used here (renishawWiRE's UnitType has the full list)
_UNIT_RAMAN_SHIFT, _UNIT_NANOMETRE, _UNIT_MICRON, _UNIT_COUNTS = 1, 3, 5, 6
_UNIT_MILLIMETRES, _UNIT_METRES, _UNIT_PIXELS = 8, 9, 16
_AXIS_FOR_UNIT = {_UNIT_RAMAN_SHIFT: ("raman_shift", "cm-1"), _UNIT_NANOMETRE: ("wavelength", "nm"),
                  _UNIT_PIXELS: ("channel", "1")}
#: Factor from a spatial origin unit to µm.
_TO_MICRON = {_UNIT_MICRON: 1.0, _UNIT_MILLIMETRES: 1e3, _UNIT_METRES: 1e6, _UNIT_NANOMETRE: 1e-3}
#: Signal for the header's spectral data unit: (signal, signal_unit).
_SIGNAL_FOR_UNIT = {_UNIT_COUNTS: ("counts", "counts"), 7: ("counts", "electrons"),
                    0: ("intensity", "arb. units"), 17: ("intensity", "arb. units"),
                    18: ("intensity", "1")}
#: Coordinate name for an origin list's data type (renishawWiRE ``DataType`` names).
_COORD_NAMES = {
    "Spatial_X": "x", "Spatial_Y": "y", "Spatial_Z": "z", "Spatial_R": "r",
    "Spatial_Theta": "theta", "Spatial_Phi": "phi", "Temperature": "temperature",
    "Pressure": "pressure", "Time": "time", "Polarization": "polarization",
    "FocusTrack": "focus_track_z", "RampRate": "ramp_rate", "ElapsedTime": "elapsed_time",
    "ExposureTime": "exposure_time",
}
_NOT_COORDS = {"Flags", "Checksum"}
_SPATIAL = {"Spatial_X", "Spatial_Y", "Spatial_Z", "FocusTrack"}
_MEASUREMENT_KINDS = {0: "unspecified", 1: "single", 2: "series", 3: "map"}

#: What renishawWiRE raises on malformed input.
_LIBRARY_ERRORS = (
    ValueError, IndexError, KeyError, TypeError, AttributeError, struct.error,
    UnicodeDecodeError, EOFError, OverflowError, MemoryError, OSError, ZeroDivisionError,
)


# ------------------------------------------------------------------------------- block chain
@dataclass(frozen=True)
class _Block:
    name: str
    uid: int
    offset: int
    size: int

    @property
    def where(self) -> str:
        return f"block '{self.name}' at byte {self.offset}"

    @property
    def payload(self) -> int:
        return self.offset + BLOCK_HEADER_SIZE


def _scan_blocks(data: bytes, path: str) -> list[_Block]:
    """Walk the block chain; every block must fit exactly in the file."""
    if not data:
        raise ParseError(path, "empty file")
    if not data.startswith(MAGIC):
        raise ParseError(path, f"not a WDF file: starts with {data[:4]!r}, expected b'WDF1'",
                         position="byte 0")
    blocks: list[_Block] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < BLOCK_HEADER_SIZE:
            raise ParseError(path, f"{len(data) - pos} stray bytes after the last block "
                             "(truncated or corrupt file)", position=f"byte {pos}")
        raw_name, uid, size = _BLOCK.unpack_from(data, pos)
        if not all(32 <= c < 127 for c in raw_name):
            raise ParseError(path, f"block name {raw_name!r} is not ASCII text (corrupt block "
                             "chain)", position=f"byte {pos}")
        name = raw_name.decode("ascii")
        if size < BLOCK_HEADER_SIZE or size > len(data) - pos:
            raise ParseError(path, f"block '{name}' claims {size} bytes but {len(data) - pos} "
                             "remain (truncated or corrupt file)", position=f"byte {pos}")
        blocks.append(_Block(name, uid, pos, size))
        pos += size
    if blocks[0].name != "WDF1" or blocks[0].size != HEADER_SIZE:
        raise ParseError(path, f"the WDF1 header block is {blocks[0].size} bytes, expected "
                         f"{HEADER_SIZE}", position="byte 0")
    return blocks


def _find(blocks: list[_Block], name: str) -> _Block | None:
    """The last block of that name (renishawWiRE keeps the last one too)."""
    found = [b for b in blocks if b.name == name]
    return found[-1] if found else None


def _require(blocks: list[_Block], name: str, path: str) -> _Block:
    block = _find(blocks, name)
    if block is None:
        raise ParseError(path, f"no {name} block (truncated or incomplete file)")
    return block


def _read_header(data: bytes) -> dict[str, Any]:
    values = dict(zip(_HEADER_FIELDS, _HEADER.unpack_from(data, 0)))
    for key in ("appname", "user", "title"):
        values[key] = values[key].split(b"\0", 1)[0].decode("utf-8", errors="replace")
    return values


def _check_sizes(data: bytes, header: dict[str, Any], blocks: list[_Block], path: str) -> None:
    """Check the header's counts against the blocks, before anything is allocated."""
    npoints, count, capacity = header["npoints"], header["count"], header["capacity"]
    if npoints < 1:
        raise ParseError(path, f"header gives {npoints} points per spectrum",
                         position="block 'WDF1' byte 60")
    if count < 1:
        raise ParseError(path, "header says no spectrum was collected (count 0)",
                         position="block 'WDF1' byte 72")
    if count > capacity:
        raise ParseError(path, f"header says {count} spectra were collected in a file that holds "
                         f"{capacity}", position="block 'WDF1' byte 64")
    if header["xlist_length"] != npoints:
        raise ParseError(path, f"x-list has {header['xlist_length']} values for {npoints} points "
                         "per spectrum", position="block 'WDF1' byte 88")
    need = {
        "DATA": 4 * npoints * count,
        "XLST": 8 + 4 * npoints,
    }
    if header["ylist_length"]:
        need["YLST"] = 8 + 4 * header["ylist_length"]
    if header["origin_count"]:
        need["ORGN"] = 4 + header["origin_count"] * (_ORIGIN_HEADER.size + 8 * capacity)
    for name, size in need.items():
        block = _require(blocks, name, path) if name in ("DATA", "XLST") else _find(blocks, name)
        if block is None:
            continue
        if block.size - BLOCK_HEADER_SIZE < size:
            raise ParseError(path, f"{name} block holds {block.size - BLOCK_HEADER_SIZE} bytes "
                             f"but the header needs {size}", position=block.where)
    orgn = _find(blocks, "ORGN")
    if orgn is not None and header["origin_count"]:
        (n_lists,) = struct.unpack_from("<I", data, orgn.payload)
        if n_lists != header["origin_count"]:
            raise ParseError(path, f"ORGN holds {n_lists} origin lists, the header says "
                             f"{header['origin_count']}", position=orgn.where)


# ------------------------------------------------------------------------ renishawWiRE wrapper
def _library_version() -> str:
    try:
        return metadata.version("renishawWiRE")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency of specssb
        return "unknown"


def _wdf_reader_class() -> type:
    from renishawWiRE import WDFReader

    class _HandleReader(WDFReader):  # type: ignore[misc,valid-type]
        """``WDFReader`` on an open binary file: the same state, without opening a path."""

        def __init__(self, handle: Any) -> None:  # noqa: D107 - WDFReader opens a name; not here
            self.file_obj = handle
            self.title, self.username = "", ""
            self.measurement_type = self.scan_type = self.laser_length = None
            self.count = self.spectral_unit = None
            self.xlist_type = self.xlist_unit = self.ylist_type = self.ylist_unit = None
            self.point_per_spectrum = self.data_origin_count = self.capacity = None
            self.application_name, self.application_version = "", [None] * 4
            self.xlist_length = self.ylist_length = 0
            self.accumulation_count = None
            self.block_info: dict[str, tuple[int, int, int]] = {}
            self.is_completed = False
            self.debug = False  # renishawWiRE prints (to stderr) only in debug mode

        def run(self, name: str) -> None:
            getattr(self, "_WDFReader__treat_block_data")(name)

        def locate(self) -> None:
            getattr(self, "_WDFReader__locate_all_blocks")()

    return _HandleReader


def _run_renishaw(data: bytes, blocks: list[_Block], header: dict[str, Any], path: str) -> Any:
    """Run renishawWiRE on the bytes; every library error becomes a ParseError naming the block."""
    reader_class = _wdf_reader_class()
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        reader = reader_class(handle)
        reader.locate()
        names = ["WDF1", "DATA", "XLST"]
        if header["ylist_length"] and _find(blocks, "YLST"):
            names.append("YLST")
        if header["origin_count"] and _find(blocks, "ORGN"):
            names.append("ORGN")
        for name in names:
            block = _find(blocks, name)
            where = block.where if block else f"block '{name}'"
            try:
                reader.run(name)
            except _LIBRARY_ERRORS as exc:
                raise ParseError(path, f"renishawWiRE cannot read the {name} block "
                                 f"({type(exc).__name__}: {exc})", position=where) from exc
        _read_white_light(reader, _find(blocks, "WHTL"))
        reader.file_obj = None
    return reader


def _read_white_light(reader: Any, block: _Block | None) -> None:
    """Let renishawWiRE read the white-light image geometry (optional: failures only warn)."""
    reader.white_light = None
    if block is None:
        return
    try:
        reader.run("WHTL")
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types on a bad JPEG; optional
        warnings.warn(f"white-light image in {block.where} is unreadable ({type(exc).__name__}: "
                      f"{exc}); skipped", MetadataWarning, stacklevel=4)
    info: dict[str, Any] = {"bytes": block.size - BLOCK_HEADER_SIZE}
    for key in ("img_dimensions", "img_origins", "img_cropbox"):
        if hasattr(reader, key):
            info[key] = _plain(getattr(reader, key))
    if hasattr(reader, "img_dimension_unit"):
        info["img_dimension_unit"] = str(reader.img_dimension_unit)
    if getattr(reader, "img", None) is not None:
        reader.img.close()
        reader.img = None
    reader.white_light = info


# ------------------------------------------------------------------------------ spectral data
def _axis(reader: Any, path: str, where: str) -> Axis:
    unit = int(reader.xlist_unit)
    if unit not in _AXIS_FOR_UNIT:
        raise ParseError(path, f"x-list unit is {reader.xlist_unit.name!r} (code {unit}); only "
                         "RamanShift (cm-1), Nanometre (nm) and Pixels are supported",
                         position=where)
    values = np.asarray(reader.xdata, dtype=np.float64)
    if values.size != reader.point_per_spectrum:
        raise ParseError(path, f"x-list has {values.size} values for {reader.point_per_spectrum} "
                         "points per spectrum", position=where)
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ParseError(path, f"x-list value {bad} is not finite", position=where)
    steps = np.diff(values)
    if values.size > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
        bad = int(np.flatnonzero(steps * np.sign(values[-1] - values[0]) <= 0)[0])
        raise ParseError(path, f"x-list is not strictly monotonic at value {bad + 1}",
                         position=where)
    name, axis_unit = _AXIS_FOR_UNIT[unit]
    return Axis(name, axis_unit, values)


def _spectra(reader: Any, count: int, npoints: int, path: str, where: str) -> np.ndarray:
    check_array((count, npoints), "spectra", path=path)
    flat = np.asarray(reader.spectra, dtype=np.float64).ravel()
    if flat.size != count * npoints:
        raise ParseError(path, f"DATA holds {flat.size} values, expected {count} spectra × "
                         f"{npoints} points", position=where)
    spectra = flat.reshape(count, npoints)
    bad = ~np.isfinite(spectra)
    if bad.any():
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise ParseError(path, f"spectrum {i} has a non-finite value at point {j}",
                         position=where)
    return spectra


# ------------------------------------------------------------------------------ origin lists
@dataclass
class _Origin:
    label: str
    data_type: str
    unit: str
    unit_code: int
    primary: bool
    values: np.ndarray

    @property
    def spatial(self) -> bool:
        return self.data_type in _SPATIAL

    def in_micron(self) -> np.ndarray:
        return self.values * _TO_MICRON.get(self.unit_code, 1.0)


def _origins(reader: Any) -> list[_Origin]:
    found = []
    for primary, data_type, unit, label, values in getattr(reader, "origin_list_header", []):
        found.append(_Origin(str(label), data_type.name, str(unit), int(unit), bool(primary),
                             np.asarray(values, dtype=np.float64)))
    return found


def _origin_coords(origins: list[_Origin], dim: str, path: str) -> dict[str, Coord]:
    """One coordinate per origin list (flags and checksums left out), spatial ones in µm."""
    coords: dict[str, Coord] = {}
    for origin in origins:
        if origin.data_type in _NOT_COORDS:
            continue
        name = _COORD_NAMES.get(origin.data_type) or origin.label.strip().lower().replace(" ", "_")
        name = name or f"origin_{len(coords)}"
        while name in coords:
            name += "_2"
        if origin.spatial:
            if origin.unit_code not in _TO_MICRON:
                warnings.warn(f"{path}: origin list {origin.label!r} is in {origin.unit!r}, "
                              "not a length; kept unconverted", MetadataWarning, stacklevel=4)
                coords[name] = Coord(dim, origin.values, origin.unit)
            else:
                coords[name] = Coord(dim, origin.in_micron(), "um")
        else:
            coords[name] = Coord(dim, origin.values, origin.unit)
    return coords


def _origin(origins: list[_Origin], data_type: str) -> _Origin | None:
    return next((o for o in origins if o.data_type == data_type), None)


# ---------------------------------------------------------------------------------- map area
@dataclass(frozen=True)
class _MapArea:
    flags: int
    location: tuple[float, float, float]
    step: tuple[float, float, float]
    length: tuple[int, int, int]
    linefocus_size: int

    def as_dict(self) -> dict[str, Any]:
        names = {_MAP_RANDOM_POINTS: "random_points", _MAP_COLUMN_MAJOR: "column_major",
                 _MAP_ALTERNATING: "alternating", 1 << 3: "line_focus", 1 << 6: "surface_profile",
                 _MAP_XY_LINE: "xy_line"}
        return {
            "flags": self.flags,
            "flag_names": [text for bit, text in names.items() if self.flags & bit],
            "location": list(self.location),
            "step": list(self.step),
            "length": list(self.length),
            "linefocus_size": self.linefocus_size,
        }


def _map_area(data: bytes, block: _Block | None, path: str) -> _MapArea | None:
    if block is None:
        return None
    if block.size < MAP_AREA_SIZE:
        raise ParseError(path, f"WMAP block is {block.size} bytes, expected {MAP_AREA_SIZE}",
                         position=block.where)
    flags, _, *rest = _MAP_AREA.unpack_from(data, block.payload)
    location = tuple(float(v) for v in rest[0:3])
    step = tuple(float(v) for v in rest[3:6])
    length = tuple(int(v) for v in rest[6:9])
    if not np.all(np.isfinite([*location[:2], *step[:2]])):
        raise ParseError(path, f"WMAP grid origin {location[:2]} or step {step[:2]} is not finite",
                         position=block.where)
    return _MapArea(flags, location, step, length, int(rest[9]))  # type: ignore[arg-type]


# -------------------------------------------------------------------------------- map layout
@dataclass
class _Layout:
    data: np.ndarray
    dims: tuple[str, ...]
    coords: dict[str, Coord]
    kind: str
    notes: dict[str, Any] = field(default_factory=dict)


def _grid_index(values: np.ndarray, start: float, step: float, n: int) -> np.ndarray | None:
    """Grid index of each position, or None when a position is off the grid."""
    if n == 1:
        return np.zeros(values.size, dtype=np.int64)
    if step == 0 or not np.isfinite(step):
        return None
    fraction = (values - start) / step
    if not np.all(np.isfinite(fraction)):
        return None
    index = np.rint(fraction)
    if np.any(np.abs(fraction - index) > 0.25) or index.min() < 0 or index.max() >= n:
        return None
    return index.astype(np.int64)


def _own_grid(values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(index, grid) when the positions fall on ``n`` evenly spaced values of their own."""
    low, high = float(values.min()), float(values.max())
    if n == 1:
        return (np.zeros(values.size, dtype=np.int64), values[:1].copy()) if low == high else None
    if high == low:
        return None
    step = (high - low) / (n - 1)
    index = _grid_index(values, low, step, n)
    return None if index is None else (index, low + step * np.arange(n))


def _order_index(count: int, nx: int, ny: int, flags: int) -> tuple[np.ndarray, np.ndarray]:
    """(iy, ix) for spectra in acquisition order, from the WMAP order flags."""
    k = np.arange(count)
    if flags & _MAP_COLUMN_MAJOR:
        ix, iy = k // ny, k % ny
        if flags & _MAP_ALTERNATING:
            iy = np.where(ix % 2 == 1, ny - 1 - iy, iy)
    else:
        iy, ix = k // nx, k % nx
        if flags & _MAP_ALTERNATING:
            ix = np.where(iy % 2 == 1, nx - 1 - ix, ix)
    return iy, ix


def _mean_positions(index: np.ndarray, positions: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Grid coordinates from the recorded stage positions (float64 in ORGN, float32 in WMAP);
    cells no spectrum reached keep the WMAP grid value."""
    counts = np.bincount(index, minlength=grid.size)
    sums = np.bincount(index, weights=positions, minlength=grid.size)
    return np.where(counts > 0, sums / np.maximum(counts, 1), grid)


def _place_map(spectra: np.ndarray, area: _MapArea, origins: list[_Origin],
               path: str) -> _Layout:
    """Rectangular map -> (ny, nx, n) with coordinates x and y in µm."""
    nx, ny = area.length[0], area.length[1]
    count = spectra.shape[0]
    xo, yo = _origin(origins, "Spatial_X"), _origin(origins, "Spatial_Y")
    scale = _TO_MICRON.get(xo.unit_code, 1.0) if xo is not None else 1.0
    x_grid = (area.location[0] + area.step[0] * np.arange(nx)) * scale
    y_grid = (area.location[1] + area.step[1] * np.arange(ny)) * scale
    placement, iy, ix = "acquisition_order", None, None
    if xo is not None and yo is not None:
        xs, ys = xo.in_micron()[:count], yo.in_micron()[:count]
        ix = _grid_index(xs, x_grid[0], area.step[0] * scale, nx)
        iy = _grid_index(ys, y_grid[0], area.step[1] * scale, ny)
        placement = "wmap_grid"
        if ix is None or iy is None:
            own_x, own_y = _own_grid(xs, nx), _own_grid(ys, ny)
            ix = iy = None
            if own_x is not None and own_y is not None:
                (ix, x_grid), (iy, y_grid) = own_x, own_y
                placement = "orgn_grid"
        if ix is not None and iy is not None and np.unique(iy * nx + ix).size != count:
            ix = iy = None
    if ix is None or iy is None:
        placement = "acquisition_order"
        iy, ix = _order_index(count, nx, ny, area.flags)
        warnings.warn(f"{path}: stage positions in ORGN do not match the WMAP grid "
                      f"({nx} × {ny}); spectra placed in acquisition order from the WMAP flags "
                      f"({area.flags:#x})", MetadataWarning, stacklevel=3)
    if placement != "acquisition_order" and xo is not None and yo is not None:
        x_grid = _mean_positions(ix, xo.in_micron()[:count], x_grid)
        y_grid = _mean_positions(iy, yo.in_micron()[:count], y_grid)
    check_array((ny, nx, spectra.shape[1]), f"map cube of the WMAP grid {nx} × {ny}", path=path)
    cube = np.full((ny, nx, spectra.shape[1]), np.nan)
    cube[iy, ix] = spectra
    unit = "um" if xo is None or xo.unit_code in _TO_MICRON else xo.unit
    coords = {"x": Coord("x", x_grid, unit), "y": Coord("y", y_grid, unit)}
    return _Layout(cube, ("y", "x"), coords, "map",
                   {"map_placement": placement, "map_order": "row-major (y, x), x fastest"})


def _layout(spectra: np.ndarray, header: dict[str, Any], area: _MapArea | None,
            origins: list[_Origin], slots: int, path: str) -> _Layout:
    """Shape the spectra; ``slots`` is how many spectra the file can hold (bounds the grid)."""
    count = spectra.shape[0]
    kind = _MEASUREMENT_KINDS.get(header["measurement_type"], "unspecified")
    if kind != "map":
        if count == 1:
            return _Layout(spectra[0], (), {}, "single")
        coords = _origin_coords(origins, "scan", path)
        primary = next((o for o in origins if o.primary and o.data_type not in _NOT_COORDS), None)
        main = _COORD_NAMES.get(primary.data_type) if primary else ("time" if "time" in coords
                                                                     else None)
        notes = {"scan_coordinate": main} if main in coords else {}
        return _Layout(spectra, ("scan",), coords, "series", notes)
    if area is not None and area.flags & _MAP_XY_LINE:
        coords = _origin_coords(origins, "position", path)
        if "x" in coords and "y" in coords:
            x, y = coords["x"].values, coords["y"].values
            coords["distance"] = Coord("position", np.hypot(x - x[0], y - y[0]), coords["x"].unit)
        return _Layout(spectra, ("position",), coords, "line")
    grid = area is not None and area.length[2] == 1 and not area.flags & _MAP_RANDOM_POINTS
    if area is not None and grid and count <= area.length[0] * area.length[1] <= slots:
        return _place_map(spectra, area, origins, path)
    why = ("no WMAP block" if area is None else
           f"WMAP area {area.length} with flags {area.flags:#x} is not a filled 2-D grid "
           f"for {count} spectra")
    if area is None or not area.flags & _MAP_RANDOM_POINTS:
        warnings.warn(f"{path}: map returned as a list of points with their coordinates ({why})",
                      MetadataWarning, stacklevel=3)
    return _Layout(spectra, ("point",), _origin_coords(origins, "point", path), "map")


# ------------------------------------------------------------------------------------- meta
def _acquired_at(header: dict[str, Any], path: str) -> _dt.datetime | None:
    when = filetime(header["time_start"]) if header["time_start"] else None
    if when is None or not 1980 <= when.year <= 2200:
        warnings.warn(f"{path}: header collection time {header['time_start']} is not a valid "
                      "FILETIME; acquired_at not set", MetadataWarning, stacklevel=3)
        return None
    return when


def _laser_wavelength(header: dict[str, Any], path: str) -> float | None:
    wavenumber = float(header["laser_wavenumber"])
    if not np.isfinite(wavenumber) or wavenumber <= 0:
        warnings.warn(f"{path}: header laser wavenumber is {wavenumber} cm-1; "
                      "laser_wavelength_nm not set", MetadataWarning, stacklevel=3)
        return None
    wavelength = 1e7 / wavenumber
    if not 150.0 <= wavelength <= 2500.0:
        warnings.warn(f"{path}: header laser wavenumber {wavenumber} cm-1 gives "
                      f"{wavelength:.4g} nm, outside 150-2500 nm; laser_wavelength_nm not set",
                      MetadataWarning, stacklevel=3)
        return None
    return wavelength


def _meta(header: dict[str, Any], kind: str, psets: dict[str, dict[str, Any]],
          path: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"measurement_type": kind}
    if header["title"].strip():
        meta["title"] = header["title"].strip()
    if header["user"].strip():
        meta["operator"] = header["user"].strip()
    when = _acquired_at(header, path)
    if when is not None:
        meta["acquired_at"] = when
    wavelength = _laser_wavelength(header, path)
    if wavelength is not None:
        meta["laser_wavelength_nm"] = wavelength
    if header["naccum"] > 0:
        meta["n_accumulations"] = int(header["naccum"])
    measurement = {k: v for k, v in psets.items() if k.startswith("WXDM_")}
    scan = find_settings(measurement, "Exposure Time")
    if scan is not None:
        exposure = scan["Exposure Time"]
        if isinstance(exposure, (int, float)) and np.isfinite(exposure) and exposure > 0:
            meta["exposure_time_s"] = float(exposure) / 1000.0  # WiRE stores ms
        else:
            warnings.warn(f"{path}: exposure time {exposure!r} ms is not a positive number; "
                          "exposure_time_s not set", MetadataWarning, stacklevel=3)
        accumulations = scan.get("Accumulations")
        if isinstance(accumulations, int) and accumulations > 0:
            meta["n_accumulations"] = accumulations
    instrument = {k: v for k, v in psets.items() if k.startswith("WXIS_")}
    state = find_settings(instrument, "Instrument type")
    if state is not None and isinstance(state["Instrument type"], str):
        meta["instrument"] = state["Instrument type"]
    config = find_settings(instrument, "Grating")
    if config is not None and isinstance(config["Grating"], str):
        meta["grating"] = config["Grating"]
    return meta


def _signal(header: dict[str, Any], path: str) -> tuple[str, str]:
    unit = header["spectral_units"]
    if unit in _SIGNAL_FOR_UNIT:
        return _SIGNAL_FOR_UNIT[unit]
    warnings.warn(f"{path}: spectral data unit code {unit} is not counts or an intensity; "
                  "data labelled 'intensity'", MetadataWarning, stacklevel=3)
    return "intensity", "arb. units"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _raw_meta(header: dict[str, Any], reader: Any, blocks: list[_Block], origins: list[_Origin],
              area: _MapArea | None, psets: dict[str, Any], comment: str | None) -> dict[str, Any]:
    count = int(header["count"])
    raw: dict[str, Any] = {
        "format_version": header["version"],
        "flags": header["flags"],
        "uuid": "-".join(str(header[f"uuid{i}"]) for i in range(4)),
        "ntracks": header["ntracks"],
        "status": header["status"],
        "point_per_spectrum": header["npoints"],
        "capacity": header["capacity"],
        "count": count,
        "is_completed": count == header["capacity"],
        "accumulation_count": header["naccum"],
        "xlist_length": header["xlist_length"],
        "ylist_length": header["ylist_length"],
        "data_origin_count": header["origin_count"],
        "application_name": reader.application_name,
        "application_version": ".".join(str(v) for v in reader.application_version),
        "scan_type": str(reader.scan_type),
        "measurement_type": str(reader.measurement_type),
        "time_start": filetime_text(header["time_start"]),
        "time_end": filetime_text(header["time_end"]),
        "spectral_unit": reader.spectral_unit.name,
        "laser_wavenumber_cm1": float(header["laser_wavenumber"]),
        "laser_length_nm": _plain(reader.laser_length),
        "username": reader.username,
        "title": reader.title,
        "xlist_type": reader.xlist_type.name,
        "xlist_unit": reader.xlist_unit.name,
        "blocks": [[b.name, b.uid, b.offset, b.size] for b in blocks],
        "reader": f"renishawWiRE {_library_version()}",
    }
    if reader.ylist_type is not None:
        raw.update(ylist_type=reader.ylist_type.name, ylist_unit=reader.ylist_unit.name,
                   ylist=_plain(reader.ydata))
    raw["origins"] = [
        {"label": o.label, "data_type": o.data_type, "unit": o.unit, "primary": o.primary,
         **({"values": o.values.tolist()} if count <= RAW_ORIGIN_LIMIT else
            {"first": float(o.values[0]), "last": float(o.values[-1])})}
        for o in origins
    ]
    if area is not None:
        raw["map_area"] = area.as_dict()
    if comment:
        raw["comment"] = comment
    if getattr(reader, "white_light", None):
        raw["white_light_image"] = reader.white_light
    raw["property_sets"] = psets
    return raw


def _comment(data: bytes, blocks: list[_Block]) -> str | None:
    block = _find(blocks, "TEXT")
    if block is None:
        return None
    text = data[block.payload:block.offset + block.size]
    return text.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip() or None


# ------------------------------------------------------------------------------------ public
def parse_wdf(data: bytes, *, source: Source) -> list[Spectrum]:
    """Parse the bytes of a Renishaw WiRE ``.wdf`` file into one Spectrum.

    Parameters
    ----------
    data : bytes
        The whole file.
    source : Source
        Provenance to attach (its ``path`` names the file in errors and warnings).

    Returns
    -------
    list of Spectrum
        One Spectrum: 1-D, or dims ``("scan",)``, ``("y", "x")`` (coordinates ``x``, ``y`` in
        µm), ``("position",)`` or ``("point",)`` (see the module docstring). The axis
        (``raman_shift`` cm-1, ``wavelength`` nm or ``channel``) is in measured order.

    Raises
    ------
    ParseError
        Truncated or corrupt block chain, header counts that the blocks cannot hold, an
        unsupported x-list unit, a non-monotonic or non-finite axis, non-finite data, or
        anything renishawWiRE cannot read (the block and byte offset are named).

    Warns
    -----
    MetadataWarning
        Missing or implausible laser wavenumber or time stamp, malformed property sets, an
        incomplete map (NaN-padded), map positions that do not match the grid.

    Examples
    --------
    >>> path = "../shared/data/raman/datalab/raman_example.wdf"
    >>> [s] = parse_wdf(open(path, "rb").read(), source=make_source(path, "wdf"))  # doctest: +SKIP
    >>> s.axis.name, s.shape, round(s.meta["laser_wavelength_nm"], 1)  # doctest: +SKIP
    ('raman_shift', (1011,), 632.8)
    """
    path = source.path
    blocks = _scan_blocks(data, path)
    header = _read_header(data)
    _check_sizes(data, header, blocks, path)
    reader = _run_renishaw(data, blocks, header, path)
    data_block, x_block = _require(blocks, "DATA", path), _require(blocks, "XLST", path)
    where_data, where_x = data_block.where, x_block.where
    axis = _axis(reader, path, where_x)
    spectra = _spectra(reader, int(header["count"]), int(header["npoints"]), path, where_data)
    origins = _origins(reader)
    area = _map_area(data, _find(blocks, "WMAP"), path)
    stored = (data_block.size - BLOCK_HEADER_SIZE) // (4 * int(header["npoints"]))
    layout = _layout(spectra, header, area, origins, min(int(header["capacity"]), stored), path)
    if header["count"] < header["capacity"]:
        padded = layout.data.size - spectra.size
        warnings.warn(f"{path}: incomplete measurement, {header['count']} of "
                      f"{header['capacity']} spectra collected"
                      + (f"; {padded // axis.size} grid cells hold NaN" if padded else ""),
                      MetadataWarning, stacklevel=2)
    psets = property_sets(data, [(f"{b.name}_{b.uid}", b.payload, b.offset + b.size, b.where)
                                 for b in blocks], path)
    signal, signal_unit = _signal(header, path)
    raw = _raw_meta(header, reader, blocks, origins, area, psets, _comment(data, blocks))
    raw.update(layout.notes)
    return [
        Spectrum(
            axis=axis,
            data=layout.data,
            technique="raman",
            signal=signal,
            signal_unit=signal_unit,
            dims=layout.dims,
            coords=layout.coords,
            meta=_meta(header, layout.kind, psets, path),
            raw_meta=raw,
            source=source,
        )
    ]


@register_parser(
    name="wdf",
    technique="raman",
    extensions=(".wdf",),
    magic=(MAGIC,),
    description="Renishaw WiRE .wdf (single, series, line scans, maps incl. StreamLine)",
)
def read_wdf(path: Path) -> list[Spectrum]:
    """Read a Renishaw WiRE ``.wdf`` file (via renishawWiRE; see :func:`parse_wdf`).

    Parameters
    ----------
    path : Path
        The ``.wdf`` file.

    Returns
    -------
    list of Spectrum
        One Spectrum (1-D, a series, a line scan or a ``("y", "x")`` map).

    Raises
    ------
    ParseError
        The file is missing, truncated, corrupt or uses an unsupported axis unit.

    Examples
    --------
    >>> [s] = read_wdf(Path("../shared/data/raman/datalab/raman_example.wdf"))  # doctest: +SKIP
    >>> s.axis.values[0], s.axis.values[-1]  # doctest: +SKIP
    (1879.44921875, 0.380859375)
    """
    data = read_bytes(path)
    source = make_source(path, "wdf", data=data, library=f"renishawWiRE {_library_version()}")
    return parse_wdf(data, source=source)

