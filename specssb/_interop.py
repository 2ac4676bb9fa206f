"""Conversions between :class:`~specssb.spectrum.Spectrum` and other libraries' objects.

Each library is imported only when its conversion is called (Larch and RamanSPy take seconds to
import). The methods on :class:`Spectrum` are the public face; this module holds the work.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from specssb.spectrum import AXIS_UNITS, SIGNALS, Axis, Coord, Spectrum, Step

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr

_ATTR_KEY = "specssb"


# ----------------------------------------------------------------------------- xarray
def to_xarray(spectrum: Spectrum) -> xr.DataArray:
    import xarray as xr

    coords: dict[str, Any] = {
        spectrum.axis.name: xr.Variable(
            spectrum.axis.name, spectrum.axis.values, attrs={"units": spectrum.axis.unit}
        )
    }
    for name, coord in spectrum.coords.items():
        coords[name] = xr.Variable(coord.dim, coord.values, attrs={"units": coord.unit})
    attrs = {
        "units": spectrum.signal_unit,
        "long_name": spectrum.signal,
        _ATTR_KEY: {
            "technique": spectrum.technique,
            "signal": spectrum.signal,
            "signal_unit": spectrum.signal_unit,
            "meta": dict(spectrum.meta),
            "raw_meta": dict(spectrum.raw_meta),
            "source": spectrum.source,
            "history": spectrum.history,
        },
    }
    return xr.DataArray(
        np.array(spectrum.data),
        dims=(*spectrum.dims, spectrum.axis.name),
        coords=coords,
        attrs=attrs,
        name=spectrum.signal,
    )


def from_xarray(array: xr.DataArray) -> Spectrum:
    axis_name = array.dims[-1]
    if axis_name not in AXIS_UNITS:
        raise ValueError(
            f"the last dimension {axis_name!r} is not a spectral axis name; "
            f"expected one of {list(AXIS_UNITS)}"
        )
    if axis_name not in array.coords:
        raise ValueError(f"the DataArray has no coordinate values for {axis_name!r}")
    saved: Mapping[str, Any] = array.attrs.get(_ATTR_KEY, {})
    coords = {
        str(name): Coord(str(var.dims[0]), np.asarray(var.values), var.attrs.get("units", ""))
        for name, var in array.coords.items()
        if name != axis_name and var.ndim == 1
    }
    signal = saved.get("signal", array.name if array.name in SIGNALS else "intensity")
    return Spectrum(
        axis=Axis(str(axis_name), AXIS_UNITS[str(axis_name)], array.coords[axis_name].values),
        data=np.asarray(array.values),
        technique=saved.get("technique", _technique_for_axis(str(axis_name))),
        signal=signal,
        signal_unit=saved.get("signal_unit", array.attrs.get("units", "")),
        dims=tuple(str(d) for d in array.dims[:-1]),
        coords=coords,
        meta=saved.get("meta", {}),
        raw_meta=saved.get("raw_meta", {}),
        source=saved.get("source"),
        history=tuple(saved.get("history", ())),
    )


def _technique_for_axis(axis_name: str) -> str:
    return {
        "binding_energy": "xps",
        "kinetic_energy": "xps",
        "energy": "xas",
        "chemical_shift": "nmr",
        "frequency": "nmr",
        "time": "nmr",
        "raman_shift": "raman",
        "wavelength": "raman",
        "channel": "raman",
    }[axis_name]


# ---------------------------------------------------------------------------- pandas
def to_dataframe(spectrum: Spectrum) -> pd.DataFrame:
    import pandas as pd

    grids = np.meshgrid(
        *[np.arange(n) for n in spectrum.leading_shape],
        np.arange(spectrum.axis.size),
        indexing="ij",
    )
    columns: dict[str, Any] = {}
    units: dict[str, str] = {}
    for dim, grid in zip(spectrum.dims, grids[:-1]):
        if dim not in spectrum.coords:  # no coordinate of that name: the index stands in
            columns[dim] = grid.ravel()
            units[dim] = "index"
    for name, coord in spectrum.coords.items():
        columns[name] = coord.values[grids[spectrum.dims.index(coord.dim)].ravel()]
        units[name] = coord.unit
    columns[spectrum.axis.name] = spectrum.axis.values[grids[-1].ravel()]
    units[spectrum.axis.name] = spectrum.axis.unit
    values = spectrum.data.ravel()
    if np.iscomplexobj(values):
        columns[f"{spectrum.signal}_real"] = values.real
        columns[f"{spectrum.signal}_imag"] = values.imag
        units[f"{spectrum.signal}_real"] = units[f"{spectrum.signal}_imag"] = spectrum.signal_unit
    else:
        columns[spectrum.signal] = values
        units[spectrum.signal] = spectrum.signal_unit
    frame = pd.DataFrame(columns)
    frame.attrs["units"] = units
    frame.attrs["technique"] = spectrum.technique
    return frame


# ----------------------------------------------------------------------------- larch
_LARCH_NAMES = {"xas": ("energy", "mu")}


def to_larch(spectrum: Spectrum) -> Any:
    from larch import Group

    if spectrum.data.ndim != 1:
        raise ValueError(
            f"to_larch() takes one spectrum; this one has shape {spectrum.shape}: "
            "use iter_spectra() and convert each"
        )
    xname, yname = _LARCH_NAMES.get(spectrum.technique, ("x", "y"))
    group = Group()
    setattr(group, xname, np.array(spectrum.axis.values))
    setattr(group, yname, np.array(spectrum.data))
    group.filename = spectrum.source.path if spectrum.source else ""
    group.specssb = {
        "axis_name": spectrum.axis.name,
        "technique": spectrum.technique,
        "signal": spectrum.signal,
        "signal_unit": spectrum.signal_unit,
        "meta": dict(spectrum.meta),
    }
    if spectrum.technique == "xas":
        for key, attr in (("element", "atsym"), ("edge", "edge"), ("e0_ev", "e0")):
            if key in spectrum.meta:
                setattr(group, attr, spectrum.meta[key])
    return group


def from_larch(group: Any, *, template: Spectrum | None = None) -> Spectrum:
    saved = getattr(group, "specssb", None) or {}
    technique = saved.get("technique") or (template.technique if template else "xas")
    xname, yname = _LARCH_NAMES.get(technique, ("x", "y"))
    axis_name = saved.get("axis_name") or (template.axis.name if template else "energy")
    base = template
    fields: dict[str, Any] = {
        "axis": Axis(axis_name, AXIS_UNITS[axis_name], getattr(group, xname)),
        "data": getattr(group, yname),
        "technique": technique,
        "signal": saved.get("signal", base.signal if base else "mu"),
        "signal_unit": saved.get("signal_unit", base.signal_unit if base else ""),
        "meta": saved.get("meta", dict(base.meta) if base else {}),
    }
    if base is not None:
        return base.with_step("from_larch", {}, **fields)
    return Spectrum(**fields, history=(Step("from_larch", {}),))


# --------------------------------------------------------------------------- nmrglue
def to_nmrglue(spectrum: Spectrum) -> tuple[dict[str, Any], np.ndarray]:
    """Universal dictionary for the last (spectral) dimension; leading dims get plain entries."""
    import nmrglue as ng

    if spectrum.technique != "nmr":
        raise ValueError(f"to_nmrglue() needs an NMR spectrum, not {spectrum.technique}")
    udic = ng.fileiobase.create_blank_udic(spectrum.data.ndim)
    last = spectrum.data.ndim - 1
    dim = udic[last]
    values = spectrum.axis.values
    n = spectrum.axis.size
    meta = spectrum.meta
    obs = float(meta.get("sf_mhz") or meta.get("sfo1_mhz") or 0.0)
    dim["size"] = n
    dim["complex"] = bool(np.iscomplexobj(spectrum.data))
    dim["label"] = str(meta.get("nucleus", "1H"))
    dim["obs"] = obs if obs else 1.0
    if spectrum.axis.name == "time":
        dwell = float(values[1] - values[0]) if n > 1 else 1.0
        dim["sw"] = 1.0 / dwell
        dim["time"], dim["freq"] = True, False
        if "sfo1_mhz" in meta and "bf1_mhz" in meta:  # carrier offset O1 in Hz
            dim["car"] = (float(meta["sfo1_mhz"]) - float(meta["bf1_mhz"])) * 1e6
    else:
        hz = values * dim["obs"] if spectrum.axis.name == "chemical_shift" else values
        # nmrglue's frequency scale: point i at car + sw/2 - i*sw/n (decreasing, like TopSpin)
        step = (hz[0] - hz[-1]) / (n - 1) if n > 1 else 1.0
        dim["sw"] = float(step * n)
        dim["car"] = float(hz[0] - dim["sw"] / 2.0)
        dim["time"], dim["freq"] = False, True
    for i, name in enumerate(spectrum.dims):
        udic[i]["size"] = spectrum.leading_shape[i]
        udic[i]["label"] = name
    return udic, np.array(spectrum.data)


def from_nmrglue(
    udic: Mapping[int | str, Any], data: np.ndarray, *, template: Spectrum | None = None
) -> Spectrum:
    import nmrglue as ng

    data = np.asarray(data)
    last = data.ndim - 1
    dim = udic[last]
    uc = ng.fileiobase.uc_from_udic(udic, last)
    if dim.get("time"):
        axis = Axis("time", "s", uc.sec_scale())
        signal = "fid"
    elif dim.get("obs") and dim["obs"] != 1.0:
        axis = Axis("chemical_shift", "ppm", uc.ppm_scale())
        signal = "spectrum"
    else:
        axis = Axis("frequency", "Hz", uc.hz_scale())
        signal = "spectrum"
    dims = tuple(str(udic[i].get("label") or f"dim{i}") for i in range(last))
    fields: dict[str, Any] = {"axis": axis, "data": data, "dims": dims}
    if template is not None:
        coords = {n: c for n, c in template.coords.items() if c.dim in dims}
        return template.with_step("from_nmrglue", {}, coords=coords, **fields)
    meta: dict[str, Any] = {"nucleus": str(dim.get("label", ""))}
    if dim.get("obs") and dim["obs"] != 1.0:
        meta["sf_mhz"] = float(dim["obs"])
    meta["spectral_width_hz"] = float(dim["sw"])
    return Spectrum(
        **fields,
        technique="nmr",
        signal=signal,
        meta=meta,
        raw_meta={"udic": copy.deepcopy(dict(udic))},
        history=(Step("from_nmrglue", {}),),
    )


# -------------------------------------------------------------------------- ramanspy
def to_ramanspy(spectrum: Spectrum) -> Any:
    import ramanspy

    if spectrum.axis.name != "raman_shift":
        raise ValueError(
            f"RamanSPy containers assume a Raman-shift axis in cm-1; this spectrum's axis is "
            f"{spectrum.axis.name} ({spectrum.axis.unit}). Convert it first."
        )
    data = np.array(spectrum.data, dtype=float)
    axis = np.array(spectrum.axis.values)
    if data.ndim == 1:
        return ramanspy.Spectrum(data, axis)
    if data.ndim == 3:
        return ramanspy.SpectralImage(data, axis)
    return ramanspy.SpectralContainer(data, axis)


def from_ramanspy(container: Any, *, template: Spectrum | None = None) -> Spectrum:
    """A Spectrum from a RamanSPy container.

    RamanSPy keeps no units, metadata or coordinates, and sorts every axis to increasing
    values. With ``template`` (the Spectrum the container came from, or the same file read by
    specssb) the result takes the template's axis *name* (RamanSPy's ``load.renishaw`` labels a
    nm axis as cm-1: the template's ``wavelength`` wins), its dims, coords and metadata, and its
    axis direction (a decreasing WiRE axis stays decreasing). The checks RamanSPy 0.2.10
    builds but never raises (``ValueError`` objects created and dropped in its axis checks) are
    made here: a non-finite axis (its ``load.labspec`` on a WITec table) or an axis whose length
    differs from the data is refused.
    """
    data = np.asarray(container.spectral_data, dtype=float)
    values = np.asarray(container.spectral_axis, dtype=float)
    kind = type(container).__name__
    if values.ndim != 1 or values.size != data.shape[-1]:
        raise ValueError(
            f"RamanSPy {kind} has an axis of shape {values.shape} for data of shape {data.shape} "
            "(RamanSPy 0.2.10 does not raise its own axis-alignment errors)"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"RamanSPy {kind} has {int((~np.isfinite(values)).sum())} non-finite axis values "
            "(RamanSPy 0.2.10 load.labspec returns a NaN axis for WITec tables): read the file "
            "with specssb.read instead"
        )
    if template is not None:
        if data.shape[:-1] != template.leading_shape:
            raise ValueError(
                f"RamanSPy data have leading shape {data.shape[:-1]}, the template "
                f"{template.leading_shape}"
            )
        measured = template.axis.values
        if measured.size > 1 and values.size > 1 and measured[0] > measured[-1] and values[0] < values[-1]:
            values, data = values[::-1], data[..., ::-1]  # back to the template's direction
        axis = Axis(template.axis.name, template.axis.unit, values)
        return template.with_step("from_ramanspy", {"container": kind}, axis=axis, data=data)
    axis = Axis("raman_shift", "cm-1", values)
    dims = {1: (), 2: ("point",), 3: ("y", "x"), 4: ("z", "y", "x")}.get(data.ndim)
    if dims is None:
        raise ValueError(f"cannot map RamanSPy data of shape {data.shape} to dims")
    return Spectrum(
        axis=axis,
        data=data,
        technique="raman",
        signal="intensity",
        dims=dims,
        history=(Step("from_ramanspy", {"container": kind}),),
    )
