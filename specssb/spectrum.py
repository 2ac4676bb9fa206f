"""The common object: :class:`Spectrum`, with its :class:`Axis`, :class:`Coord`, :class:`Source`
and :class:`Step`.

Every parser returns Spectra and every later stage consumes them. A Spectrum is frozen and its
arrays are read-only: an operation returns a new Spectrum with one more :class:`Step` in its
``history``, so any number in a report can be traced back to the file and the parameters.

Axis names and units
--------------------
The spectral axis is the last axis of ``data``; its name fixes its unit:

==================  =======  ===================================================
name                unit     used for
==================  =======  ===================================================
``binding_energy``  eV       XPS, after kinetic→binding conversion
``kinetic_energy``  eV       XPS as measured
``energy``          eV       XAS incident photon energy
``chemical_shift``  ppm      NMR spectra
``frequency``       Hz       NMR spectra before referencing
``time``            s        NMR free induction decays
``raman_shift``     cm-1     Raman
``wavelength``      nm       Raman/PL detectors calibrated in wavelength
``channel``         1        an uncalibrated detector axis (pixel index)
==================  =======  ===================================================

Normalized metadata keys
------------------------
``meta`` holds only the keys in :data:`META_KEYS` (the vendor header stays untouched in
``raw_meta``). Units are part of the key name.

.. include the table from META_KEYS (rendered by :func:`meta_key_table`)
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from specssb._version import __version__

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    import pandas as pd
    import xarray as xr

__all__ = [
    "AXIS_UNITS",
    "Axis",
    "Coord",
    "META_KEYS",
    "SIGNALS",
    "Source",
    "Spectrum",
    "Step",
    "TECHNIQUES",
    "meta_key_table",
    "owned",
    "stack",
]

#: Spectral axis names and the one unit each is stored in.
AXIS_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "binding_energy": "eV",
        "kinetic_energy": "eV",
        "energy": "eV",
        "chemical_shift": "ppm",
        "frequency": "Hz",
        "time": "s",
        "raman_shift": "cm-1",
        "wavelength": "nm",
        "channel": "1",
    }
)

#: The four techniques a Spectrum can come from.
TECHNIQUES: tuple[str, ...] = ("xps", "xas", "nmr", "raman")

#: What ``data`` holds, and its default unit.
SIGNALS: Mapping[str, str] = MappingProxyType(
    {
        "counts": "counts",
        "cps": "counts/s",
        "mu": "1",
        "norm": "1",
        "flat": "1",
        "intensity": "arb. units",
        "fid": "arb. units",
        "spectrum": "arb. units",
        "transmission": "1",
        "fluorescence": "arb. units",
    }
)

_STR = (str,)
_NUM = (int, float, np.integer, np.floating)
_INT = (int, np.integer)

#: Normalized ``meta`` keys: key -> (accepted types, unit, meaning). The single documented table.
META_KEYS: Mapping[str, tuple[tuple[type, ...], str, str]] = MappingProxyType(
    {
        # --- all techniques
        "sample": (_STR, "", "sample or cell name as written by the instrument or manifest"),
        "title": (_STR, "", "free-text title or comment of the measurement"),
        "instrument": (_STR, "", "instrument or beamline name"),
        "operator": (_STR, "", "operator name"),
        "acquired_at": ((_dt.datetime,), "UTC", "acquisition start, timezone-aware"),
        "acquisition_time_s": (_NUM, "s", "total acquisition (integration) time"),
        "n_scans": (_INT, "1", "number of accumulated scans"),
        "temperature_k": (_NUM, "K", "sample temperature"),
        "cycle": (_INT, "1", "electrochemical cycle number"),
        "state_of_charge": (_NUM, "1", "state of charge, 0 to 1"),
        "potential_v": (_NUM, "V", "cell potential during acquisition"),
        "depth_nm": (_NUM, "nm", "probing or sputter depth"),
        "tags": ((dict,), "", "user tags from a session manifest"),
        # --- XPS
        "region": (_STR, "", "region label, e.g. 'S 2p'"),
        "element": (_STR, "", "element symbol, e.g. 'S' (XPS, XAS)"),
        "transition": (_STR, "", "core level or transition, e.g. '2p' (XPS)"),
        "excitation_energy_ev": (_NUM, "eV", "photon energy (XPS, XAS monochromator)"),
        "work_function_ev": (_NUM, "eV", "spectrometer work function used for KE→BE"),
        "source_label": (_STR, "", "X-ray source, e.g. 'Al Ka mono'"),
        "analyser_mode": (_STR, "", "analyser mode, e.g. 'FAT' or 'FRR'"),
        "pass_energy_ev": (_NUM, "eV", "analyser pass energy"),
        "analyser_angle_deg": (_NUM, "deg", "source-analyser angle"),
        "dwell_time_s": (_NUM, "s", "dwell time per channel"),
        "sputter_time_s": (_NUM, "s", "cumulative sputter time (depth profiles)"),
        # --- XAS
        "edge": (_STR, "", "absorption edge, e.g. 'K' or 'L3'"),
        "e0_ev": (_NUM, "eV", "edge energy given by the file or the user"),
        "mode": (_STR, "", "XAS detection mode: 'transmission', 'fluorescence', 'tey', ..."),
        "mu_expression": (_STR, "", "how mu was built from the columns, e.g. 'ln(i0/itrans)'"),
        "monochromator": (_STR, "", "monochromator crystal, e.g. 'Si(111)'"),
        # --- NMR
        "nucleus": (_STR, "", "observed nucleus, e.g. '7Li'"),
        "sfo1_mhz": (_NUM, "MHz", "transmitter (observe) frequency"),
        "bf1_mhz": (_NUM, "MHz", "basic spectrometer frequency"),
        "sf_mhz": (_NUM, "MHz", "spectrum reference frequency (ppm scale)"),
        "spectral_width_hz": (_NUM, "Hz", "spectral width"),
        "n_points": (_INT, "1", "number of complex points acquired"),
        "offset_ppm": (_NUM, "ppm", "chemical shift of the first point (TopSpin OFFSET)"),
        "mas_rate_hz": (_NUM, "Hz", "magic-angle spinning rate"),
        "pulse_program": (_STR, "", "pulse programme name"),
        "digital_filter": ((dict,), "", "Bruker digital filter: decim, dspfvs, grpdly"),
        # --- Raman
        "laser_wavelength_nm": (_NUM, "nm", "excitation laser wavelength"),
        "laser_power_mw": (_NUM, "mW", "laser power at the sample"),
        "exposure_time_s": (_NUM, "s", "detector exposure per accumulation"),
        "n_accumulations": (_INT, "1", "accumulations per spectrum"),
        "grating": (_STR, "", "grating, e.g. '1800 l/mm'"),
        "objective": (_STR, "", "objective, e.g. '50x'"),
        "measurement_type": (_STR, "", "'single', 'series', 'map', 'line' ..."),
    }
)


def meta_key_table() -> str:
    """Return the :data:`META_KEYS` table as Markdown (used by the docs and ``specssb formats``).

    Returns
    -------
    str
        A Markdown table with columns key, unit and meaning.
    """
    rows = ["| key | unit | meaning |", "|---|---|---|"]
    rows += [f"| `{key}` | {unit} | {text} |" for key, (_, unit, text) in META_KEYS.items()]
    return "\n".join(rows)


def _readonly(values: Any, *, dtype: Any = None) -> np.ndarray:
    """Return a read-only copy of ``values`` (a copy, so the caller's array stays writable).

    An array handed over with :func:`owned` (read-only, owning its memory) is kept as it is.
    """
    if (isinstance(values, np.ndarray) and not values.flags.writeable
            and (values.flags.owndata or is_mapped(values))
            and (dtype is None or values.dtype == np.dtype(dtype))):
        return values
    array = np.array(values, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array


def is_mapped(array: np.ndarray) -> bool:
    """True for a view of a file mapped read-only into memory (a ``numpy.memmap`` opened with
    ``mode="r"``, or an array on an ``mmap`` of ``ACCESS_READ``): its pages are read from the
    file on demand and can always be dropped again, so it is never copied into memory whole."""
    import mmap

    base: Any = array
    while base is not None:
        if isinstance(base, np.memmap) and base.mode == "r":
            return True
        if isinstance(base, mmap.mmap):
            return True
        base = getattr(base, "base", None)
    return False


def owned(array: np.ndarray) -> np.ndarray:
    """Hand a freshly computed array to a Spectrum without a copy (it becomes read-only).

    For processing code that has just computed ``array`` and keeps no other reference to it:
    the new Spectrum then holds this very array instead of a copy, which saves one pass over
    the data per step of a chain (16 ms for a 256 × 8192 complex series). An array that does not
    own its memory (a view) is still copied by the Spectrum.
    """
    array = np.asarray(array)
    if array.flags.owndata:
        array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Axis:
    """The spectral axis: a name from :data:`AXIS_UNITS`, its unit, and 1-D float64 values.

    Values are kept in measured order (an NMR ppm axis decreases, an XPS binding-energy axis
    recorded from high to low binding energy decreases).

    Parameters
    ----------
    name : str
        One of :data:`AXIS_UNITS`.
    unit : str
        Must be the unit :data:`AXIS_UNITS` gives for ``name``.
    values : array_like of shape (n,)
        Finite axis values.

    Raises
    ------
    ValueError
        For an unknown name, a wrong unit, or values that are not 1-D, empty or not finite.

    Examples
    --------
    >>> Axis("raman_shift", "cm-1", [100.0, 101.0, 102.0])
    Axis(raman_shift, 100–102 cm-1, n=3)
    """

    name: str
    unit: str
    values: np.ndarray

    def __post_init__(self) -> None:
        if self.name not in AXIS_UNITS:
            raise ValueError(f"unknown axis name {self.name!r}; expected one of {list(AXIS_UNITS)}")
        if self.unit != AXIS_UNITS[self.name]:
            raise ValueError(
                f"axis {self.name!r} is stored in {AXIS_UNITS[self.name]!r}, not {self.unit!r}"
            )
        values = _readonly(self.values, dtype=np.float64)
        if values.ndim != 1 or values.size == 0:
            raise ValueError(f"axis values must be 1-D and non-empty, got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("axis values must be finite")
        object.__setattr__(self, "values", values)

    @property
    def size(self) -> int:
        """Number of points."""
        return int(self.values.size)

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Axis):
            return NotImplemented
        return (
            self.name == other.name
            and self.unit == other.unit
            and np.array_equal(self.values, other.values)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        lo, hi = float(self.values.min()), float(self.values.max())
        return f"Axis({self.name}, {_fmt(lo)}–{_fmt(hi)} {self.unit}, n={self.size})"


@dataclass(frozen=True, eq=False)
class Coord:
    """Coordinates along one leading dimension (stage position, time, cycle, sputter depth …).

    Parameters
    ----------
    dim : str
        The leading dimension the values run along.
    values : array_like of shape (n_dim,)
        One value per index of that dimension.
    unit : str
        Unit of the values, e.g. ``"um"``, ``"s"``, ``"1"``.
    """

    dim: str
    values: np.ndarray
    unit: str = ""

    def __post_init__(self) -> None:
        values = _readonly(self.values)
        if values.ndim != 1:
            raise ValueError(f"coordinate values must be 1-D, got shape {values.shape}")
        object.__setattr__(self, "values", values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Coord):
            return NotImplemented
        return (
            self.dim == other.dim
            and self.unit == other.unit
            and self.values.shape == other.values.shape
            and bool(np.all(self.values == other.values))
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Source:
    """Where a Spectrum came from.

    Parameters
    ----------
    path : str
        The file or folder read, as given.
    sha256 : str
        SHA-256 of the file's bytes (for a folder, of its files; see
        :func:`specssb.parsers.sha256_of`).
    format : str
        Registered format name, e.g. ``"vamas"``.
    block : str or int or None
        Which part of the file: a VAMAS block label, a Bruker ``pdata`` number, None for a
        single-spectrum file.
    parser_version : str
        specssb version (and reader library version) that parsed it.
    """

    path: str
    sha256: str
    format: str
    block: str | int | None = None
    parser_version: str = __version__


@dataclass(frozen=True)
class Step:
    """One processing step in a Spectrum's history.

    Parameters
    ----------
    operation : str
        What was done, e.g. ``"kinetic_to_binding_energy"``.
    parameters : Mapping
        Every parameter needed to redo it exactly.
    versions : Mapping of str to str
        Versions of the code that did it (specssb and any library).
    """

    operation: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    versions: Mapping[str, str] = field(default_factory=lambda: {"specssb": __version__})

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "versions", MappingProxyType(dict(self.versions)))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form, for JSON and tables."""
        return {
            "operation": self.operation,
            "parameters": dict(self.parameters),
            "versions": dict(self.versions),
        }


def _check_meta(meta: Mapping[str, Any]) -> None:
    for key, value in meta.items():
        if key not in META_KEYS:
            raise ValueError(
                f"meta key {key!r} is not a normalized key; put vendor keys in raw_meta "
                f"(normalized keys: {', '.join(META_KEYS)})"
            )
        types = META_KEYS[key][0]
        if value is not None and not isinstance(value, types):
            raise ValueError(
                f"meta[{key!r}] must be {' or '.join(t.__name__ for t in types)}, "
                f"got {type(value).__name__}"
            )
        if key == "acquired_at" and value is not None and value.utcoffset() is None:
            raise ValueError("meta['acquired_at'] must be timezone-aware (UTC)")


@dataclass(frozen=True, eq=False)
class Spectrum:
    """One spectrum, or an N-D stack of spectra sharing one spectral axis.

    Parameters
    ----------
    axis : Axis
        The spectral axis; ``data.shape[-1] == axis.size``.
    data : array_like of shape (*leading, n)
        Real or complex values; stored as a read-only copy, except a read-only array mapped
        from a file (``numpy.load(path, mmap_mode="r")``, ``numpy.memmap(..., mode="r")``),
        which is kept as it is: a map larger than memory stays on disk, and
        :func:`specssb.fit` reads it chunk by chunk.
    technique : str
        One of :data:`TECHNIQUES`.
    signal : str
        What ``data`` is, a key of :data:`SIGNALS` (``counts``, ``mu``, ``fid`` …).
    signal_unit : str, optional
        Unit of ``data``; defaults to the unit :data:`SIGNALS` gives for ``signal``.
    dims : tuple of str
        Names of the leading dimensions, e.g. ``("y", "x")`` for a map.
    coords : Mapping of str to Coord
        Coordinates along leading dimensions.
    meta : Mapping
        Normalized metadata, keys from :data:`META_KEYS` only.
    raw_meta : Mapping
        The vendor header, untouched.
    source : Source
        Provenance of the file.
    history : tuple of Step
        Every processing step applied since reading.

    Examples
    --------
    >>> import numpy as np
    >>> s = Spectrum(axis=Axis("raman_shift", "cm-1", np.linspace(100, 1000, 901)),
    ...              data=np.zeros(901), technique="raman", signal="counts")
    >>> s.shape, s.n_spectra
    ((901,), 1)
    >>> s.crop(400, 500).axis.size
    101
    """

    axis: Axis
    data: np.ndarray
    technique: str
    signal: str
    signal_unit: str = ""
    dims: tuple[str, ...] = ()
    coords: Mapping[str, Coord] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    raw_meta: Mapping[str, Any] = field(default_factory=dict)
    source: Source | None = None
    history: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.axis, Axis):
            raise TypeError(f"axis must be an Axis, got {type(self.axis).__name__}")
        if self.technique not in TECHNIQUES:
            raise ValueError(f"unknown technique {self.technique!r}; expected one of {TECHNIQUES}")
        if self.signal not in SIGNALS:
            raise ValueError(f"unknown signal {self.signal!r}; expected one of {list(SIGNALS)}")
        data = np.asarray(self.data)
        if data.dtype.kind not in "fc":
            data = data.astype(np.float64)
        data = _readonly(data)
        if data.ndim == 0 or data.shape[-1] != self.axis.size:
            raise ValueError(
                f"data shape {data.shape} does not end with the axis length {self.axis.size}"
            )
        dims = tuple(self.dims)
        if len(dims) != data.ndim - 1:
            raise ValueError(f"dims {dims} do not name the {data.ndim - 1} leading dimensions")
        if len(set(dims)) != len(dims) or self.axis.name in dims:
            raise ValueError(f"dims {dims} must be unique and differ from the axis name")
        coords = dict(self.coords)
        for name, coord in coords.items():
            if not isinstance(coord, Coord):
                raise TypeError(f"coords[{name!r}] must be a Coord")
            if coord.dim not in dims:
                raise ValueError(f"coordinate {name!r} runs along unknown dim {coord.dim!r}")
            length = data.shape[dims.index(coord.dim)]
            if coord.values.size != length:
                raise ValueError(
                    f"coordinate {name!r} has {coord.values.size} values but dim "
                    f"{coord.dim!r} has {length}"
                )
        _check_meta(self.meta)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "dims", dims)
        object.__setattr__(self, "coords", MappingProxyType(coords))
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        object.__setattr__(self, "raw_meta", MappingProxyType(dict(self.raw_meta)))
        object.__setattr__(self, "history", tuple(self.history))
        if not self.signal_unit:
            object.__setattr__(self, "signal_unit", SIGNALS[self.signal])

    # ------------------------------------------------------------------ shape
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``data``: ``(*leading, n)``."""
        return tuple(self.data.shape)

    @property
    def leading_shape(self) -> tuple[int, ...]:
        """Shape of the leading (non-spectral) dimensions."""
        return tuple(self.data.shape[:-1])

    @property
    def n_spectra(self) -> int:
        """Number of 1-D spectra held (1 for a single spectrum)."""
        return int(math.prod(self.leading_shape))

    # ------------------------------------------------------------- operations
    def replace(self, **changes: Any) -> Spectrum:
        """Return a copy with fields replaced (no history step; see :meth:`with_step`)."""
        return dataclasses.replace(self, **changes)

    def with_step(
        self,
        operation: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        versions: Mapping[str, str] | None = None,
        **changes: Any,
    ) -> Spectrum:
        """Return a copy with ``changes`` applied and one :class:`Step` appended to history.

        Parameters
        ----------
        operation : str
            Name of the operation.
        parameters : Mapping, optional
            Everything needed to redo it.
        versions : Mapping of str to str, optional
            Library versions used besides specssb.
        **changes
            Fields to replace (``axis``, ``data``, ``meta`` …).
        """
        all_versions = {"specssb": __version__, **(versions or {})}
        step = Step(operation, dict(parameters or {}), all_versions)
        return dataclasses.replace(self, history=(*self.history, step), **changes)

    def with_meta(self, **keys: Any) -> Spectrum:
        """Return a copy with normalized ``meta`` keys added or changed (recorded in history)."""
        return self.with_step(
            "set_meta", {k: _plain(v) for k, v in keys.items()}, meta={**self.meta, **keys}
        )

    def crop(self, low: float, high: float) -> Spectrum:
        """Keep the points with ``low <= axis <= high`` (axis units), in measured order.

        Raises
        ------
        ValueError
            If no point lies in the range.
        """
        lo, hi = min(low, high), max(low, high)
        keep = (self.axis.values >= lo) & (self.axis.values <= hi)
        if not keep.any():
            raise ValueError(
                f"no {self.axis.name} point in [{lo}, {hi}] {self.axis.unit}; "
                f"the axis spans {self.axis!r}"
            )
        return self.with_step(
            "crop",
            {"low": lo, "high": hi, "unit": self.axis.unit},
            axis=Axis(self.axis.name, self.axis.unit, self.axis.values[keep]),
            data=self.data[..., keep],
        )

    def isel(self, **indexers: int) -> Spectrum:
        """Select one index along named leading dimensions, e.g. ``s.isel(y=2, x=5)``.

        Raises
        ------
        KeyError
            For a dimension the Spectrum does not have.
        IndexError
            For an index out of range.
        """
        index: list[Any] = [slice(None)] * len(self.dims)
        for dim, i in indexers.items():
            if dim not in self.dims:
                raise KeyError(f"no leading dimension {dim!r}; dims are {self.dims}")
            size = self.leading_shape[self.dims.index(dim)]
            if not -size <= i < size:
                raise IndexError(f"index {i} out of range for dim {dim!r} of size {size}")
            index[self.dims.index(dim)] = int(i)
        dims = tuple(d for d in self.dims if d not in indexers)
        coords = {n: c for n, c in self.coords.items() if c.dim in dims}
        selected = {
            f"{n}": _plain(c.values[indexers[c.dim]])
            for n, c in self.coords.items()
            if c.dim in indexers
        }
        return self.with_step(
            "select",
            {"indexers": dict(indexers), "coords": selected},
            data=self.data[tuple(index)],
            dims=dims,
            coords=coords,
        )

    def iter_spectra(self) -> Iterator[tuple[tuple[int, ...], Spectrum]]:
        """Yield ``(index, spectrum)`` for every 1-D spectrum held, in C order."""
        for index in np.ndindex(*self.leading_shape):
            yield index, self.isel(**dict(zip(self.dims, index)))

    def summary(self) -> dict[str, Any]:
        """A JSON-safe description: technique, format, signal, axis, shape, dims, coords, meta,
        source and history (what ``specssb info --json`` prints for each spectrum)."""
        from specssb._io import jsonable

        values = self.axis.values
        return jsonable(
            {
                "technique": self.technique,
                "format": self.source.format if self.source else None,
                "signal": self.signal,
                "signal_unit": self.signal_unit,
                "dtype": "complex" if np.iscomplexobj(self.data) else "real",
                "axis": {
                    "name": self.axis.name,
                    "unit": self.axis.unit,
                    "size": self.axis.size,
                    "min": float(values.min()),
                    "max": float(values.max()),
                    "first": float(values[0]),
                    "last": float(values[-1]),
                },
                "shape": list(self.shape),
                "dims": [*self.dims, self.axis.name],
                "coords": {
                    name: {
                        "dim": c.dim,
                        "unit": c.unit,
                        "size": int(c.values.size),
                        "first": c.values[0] if c.values.size else None,
                        "last": c.values[-1] if c.values.size else None,
                    }
                    for name, c in self.coords.items()
                },
                "meta": dict(self.meta),
                "source": self.source,
                "history": [step.to_dict() for step in self.history],
            },
            max_array=16,
        )

    # ------------------------------------------------------------------ repr
    def __repr__(self) -> str:
        label = ", ".join(
            f"{key}={self.meta[key]}"
            for key in ("region", "element", "edge", "nucleus")
            if self.meta.get(key)
        )
        shape = " × ".join(
            [f"{d}={n}" for d, n in zip(self.dims, self.leading_shape)] + [str(self.axis.size)]
        )
        where = ""
        if self.source is not None:
            where = f" from {self.source.path}"
            if self.source.block is not None:
                where += f" [{self.source.block}]"
        kind = "complex " if np.iscomplexobj(self.data) else ""
        return (
            f"<Spectrum {self.technique.upper()} {kind}{self.signal} ({self.signal_unit})"
            f"{' ' + label if label else ''}; {self.axis.name} "
            f"{_fmt(float(self.axis.values[0]))}→{_fmt(float(self.axis.values[-1]))} "
            f"{self.axis.unit}; shape {shape}{where}; {len(self.history)} steps>"
        )

    # --------------------------------------------------------------- interop
    def to_xarray(self) -> xr.DataArray:
        """Return an :class:`xarray.DataArray` with dims ``(*dims, axis.name)``.

        Units are in each coordinate's ``attrs["units"]``; everything else (technique, signal,
        meta, raw_meta, source, history) is in ``attrs`` so :meth:`from_xarray` restores it.
        """
        from specssb import _interop

        return _interop.to_xarray(self)

    @classmethod
    def from_xarray(cls, array: xr.DataArray) -> Spectrum:
        """Build a Spectrum from a DataArray made by :meth:`to_xarray` (or shaped like one).

        The last dimension must be an axis name from :data:`AXIS_UNITS`.
        """
        from specssb import _interop

        return _interop.from_xarray(array)

    def to_dataframe(self) -> pd.DataFrame:
        """Return a tidy DataFrame: one row per point, leading coordinates as columns.

        Columns are the leading dims (index values), their coordinates, the axis name and
        ``signal`` (complex data give ``<signal>_real`` and ``<signal>_imag``). Units are in
        ``df.attrs["units"]``.
        """
        from specssb import _interop

        return _interop.to_dataframe(self)

    def to_larch(self) -> Any:
        """Return a Larch ``Group`` for a 1-D spectrum (``energy``/``mu`` for XAS, else ``x``/``y``)."""
        from specssb import _interop

        return _interop.to_larch(self)

    @classmethod
    def from_larch(cls, group: Any, *, template: Spectrum | None = None) -> Spectrum:
        """Rebuild a Spectrum from a Larch group made by :meth:`to_larch`."""
        from specssb import _interop

        return _interop.from_larch(group, template=template)

    def to_nmrglue(self) -> tuple[dict[str, Any], np.ndarray]:
        """Return ``(udic, data)``: an nmrglue universal dictionary and the data array."""
        from specssb import _interop

        return _interop.to_nmrglue(self)

    @classmethod
    def from_nmrglue(
        cls, udic: Mapping[str, Any], data: np.ndarray, *, template: Spectrum | None = None
    ) -> Spectrum:
        """Build an NMR Spectrum from an nmrglue universal dictionary and data."""
        from specssb import _interop

        return _interop.from_nmrglue(udic, data, template=template)

    def to_ramanspy(self) -> Any:
        """Return a RamanSPy container: ``Spectrum`` (1-D), ``SpectralImage`` (2 leading dims)
        or ``SpectralContainer`` (other shapes). RamanSPy keeps no metadata."""
        from specssb import _interop

        return _interop.to_ramanspy(self)

    @classmethod
    def from_ramanspy(cls, container: Any, *, template: Spectrum | None = None) -> Spectrum:
        """Build a Spectrum from a RamanSPy container; ``template`` restores metadata, dims
        and coordinates that RamanSPy does not keep."""
        from specssb import _interop

        return _interop.from_ramanspy(container, template=template)


def stack(
    spectra: Sequence[Spectrum],
    *,
    dim: str = "scan",
    coord: Sequence[Any] | None = None,
    coord_unit: str = "",
    axis: Axis | None = None,
) -> Spectrum:
    """Stack Spectra of one technique along a new leading dimension.

    Parameters
    ----------
    spectra : sequence of Spectrum
        At least one; all of the same technique, signal and axis name. Their leading
        dimensions must agree.
    dim : str, default "scan"
        Name of the new leading dimension.
    coord : sequence, optional
        One coordinate value per spectrum (time, cycle …).
    coord_unit : str, optional
        Unit of ``coord``.
    axis : Axis, optional
        Common axis to resample onto (linear interpolation). Without it, all axes must be
        identical; with it, the resampling is recorded in ``history``.

    Returns
    -------
    Spectrum
        Shape ``(len(spectra), *leading, n)``. Meta keys that agree across inputs are kept;
        the first input's source is kept and every input's source is listed in history.

    Raises
    ------
    ValueError
        If the inputs are empty or disagree and no ``axis`` is given.
    """
    if not spectra:
        raise ValueError("stack() needs at least one Spectrum")
    first = spectra[0]
    for s in spectra[1:]:
        if (s.technique, s.signal, s.axis.name) != (first.technique, first.signal, first.axis.name):
            raise ValueError(
                "stack() needs one technique, signal and axis name; got "
                f"{(first.technique, first.signal, first.axis.name)} and "
                f"{(s.technique, s.signal, s.axis.name)}"
            )
        if s.dims != first.dims or s.leading_shape != first.leading_shape:
            raise ValueError(f"leading dims differ: {first.dims}{first.leading_shape} "
                             f"vs {s.dims}{s.leading_shape}")
    if dim in first.dims or dim == first.axis.name:
        raise ValueError(f"dim {dim!r} already exists")
    steps: list[Step] = []
    if axis is None:
        for s in spectra[1:]:
            if s.axis != first.axis:
                raise ValueError(
                    "axes differ; pass axis=... to resample onto a common axis "
                    f"({first.axis!r} vs {s.axis!r})"
                )
        target = first.axis
        arrays = [s.data for s in spectra]
    else:
        if axis.name != first.axis.name:
            raise ValueError(f"axis {axis.name!r} does not match {first.axis.name!r}")
        target = axis
        arrays = [_resample(s, axis.values) for s in spectra]
        steps.append(Step("resample", {"method": "linear", "axis": repr(axis)}))
    coords = dict(first.coords)
    if coord is not None:
        if len(coord) != len(spectra):
            raise ValueError(f"{len(coord)} coordinate values for {len(spectra)} spectra")
        coords[dim] = Coord(dim, np.asarray(coord), coord_unit)
    common = {
        k: v for k, v in first.meta.items() if all(_same(s.meta.get(k), v) for s in spectra)
    }
    sources = [dataclasses.asdict(s.source) if s.source else None for s in spectra]
    steps.append(Step("stack", {"dim": dim, "n": len(spectra), "sources": sources}))
    return Spectrum(
        axis=target,
        data=np.stack(arrays),
        technique=first.technique,
        signal=first.signal,
        signal_unit=first.signal_unit,
        dims=(dim, *first.dims),
        coords=coords,
        meta=common,
        raw_meta={"stacked": [dict(s.raw_meta) for s in spectra]},
        source=first.source,
        history=(*first.history, *steps),
    )


def _resample(spectrum: Spectrum, target: np.ndarray) -> np.ndarray:
    x = spectrum.axis.values
    order = np.argsort(x)
    flat = spectrum.data.reshape(-1, x.size)[:, order]
    out = np.empty((flat.shape[0], target.size), dtype=flat.dtype)
    for i, row in enumerate(flat):
        if np.iscomplexobj(row):
            out[i] = np.interp(target, x[order], row.real) + 1j * np.interp(
                target, x[order], row.imag
            )
        else:
            out[i] = np.interp(target, x[order], row)
    return out.reshape(*spectrum.leading_shape, target.size)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return False


def _plain(value: Any) -> Any:
    """Turn numpy scalars and datetimes into plain Python values for history parameters."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


def _fmt(value: float) -> str:
    return f"{value:.6g}"
