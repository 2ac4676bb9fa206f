"""The common object: immutability, validation, operations and history, stack()."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from specssb import Axis, Coord, Source, Spectrum, Step, stack
from specssb.spectrum import AXIS_UNITS, META_KEYS, meta_key_table


def make_raman(shape=(2, 3), n=51, **changes) -> Spectrum:
    rng = np.random.default_rng(0)
    fields = dict(
        axis=Axis("raman_shift", "cm-1", np.linspace(100.0, 600.0, n)),
        data=rng.normal(size=(*shape, n)),
        technique="raman",
        signal="counts",
        dims=("y", "x")[: len(shape)],
        coords={"x": Coord("x", np.arange(shape[-1]) * 2.0, "um")} if shape else {},
        meta={"laser_wavelength_nm": 532.0, "sample": "LPSCl|NMC"},
        source=Source("map.wdf", "0" * 64, "wdf"),
    )
    fields.update(changes)
    return Spectrum(**fields)


def test_arrays_are_read_only_copies():
    values = np.linspace(0, 1, 5)
    data = np.ones(5)
    spectrum = Spectrum(axis=Axis("energy", "eV", values), data=data, technique="xas", signal="mu")
    data[0] = 99.0  # the caller's array stays theirs
    values[0] = 99.0
    assert spectrum.data[0] == 1.0 and spectrum.axis.values[0] == 0.0
    with pytest.raises(ValueError):
        spectrum.data[0] = 5.0
    with pytest.raises(ValueError):
        spectrum.axis.values[0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        spectrum.technique = "xps"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spectrum.meta["sample"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"technique": "uv-vis"}, "unknown technique"),
        ({"signal": "volts"}, "unknown signal"),
        ({"data": np.zeros((2, 3, 50))}, "does not end with the axis length"),
        ({"dims": ("y",)}, "do not name"),
        ({"dims": ("y", "y")}, "unique"),
        ({"meta": {"laser_nm": 532.0}}, "not a normalized key"),
        ({"meta": {"laser_wavelength_nm": "532"}}, "must be int or float"),
        ({"meta": {"acquired_at": dt.datetime(2026, 1, 1)}}, "timezone-aware"),
        ({"coords": {"x": Coord("x", [0.0, 1.0], "um")}}, "has 2 values"),
        ({"coords": {"t": Coord("time", [0.0, 1.0, 2.0], "s")}}, "unknown dim"),
    ],
)
def test_invalid_spectra_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        make_raman(**changes)


@pytest.mark.parametrize(
    ("name", "unit", "values", "message"),
    [
        ("shift", "cm-1", [1.0, 2.0], "unknown axis name"),
        ("raman_shift", "1/cm", [1.0, 2.0], "stored in"),
        ("energy", "eV", [], "non-empty"),
        ("energy", "eV", [[1.0, 2.0]], "1-D"),
        ("energy", "eV", [1.0, np.nan], "finite"),
    ],
)
def test_invalid_axes_are_refused(name, unit, values, message):
    with pytest.raises(ValueError, match=message):
        Axis(name, unit, values)


def test_every_axis_name_has_a_unit_and_meta_table_documents_every_key():
    assert set(AXIS_UNITS) >= {"binding_energy", "energy", "chemical_shift", "raman_shift", "time"}
    table = meta_key_table()
    for key in META_KEYS:
        assert f"`{key}`" in table


def test_operations_return_new_objects_and_record_history():
    original = make_raman()
    cropped = original.crop(200.0, 300.0)
    assert cropped is not original
    assert original.axis.size == 51 and len(original.history) == 0
    assert cropped.axis.values.min() >= 200.0 and cropped.axis.values.max() <= 300.0
    assert cropped.shape == (2, 3, cropped.axis.size)
    assert cropped.history[-1].operation == "crop"
    assert cropped.history[-1].parameters["low"] == 200.0
    assert "specssb" in cropped.history[-1].versions
    tagged = cropped.with_meta(cycle=3)
    assert tagged.meta["cycle"] == 3 and "cycle" not in cropped.meta
    assert [s.operation for s in tagged.history] == ["crop", "set_meta"]


def test_crop_outside_the_axis_says_where_the_axis_is():
    with pytest.raises(ValueError, match="no raman_shift point"):
        make_raman().crop(2000, 3000)


def test_isel_and_iter_spectra_walk_every_pixel():
    spectrum = make_raman()
    pixel = spectrum.isel(y=1, x=2)
    assert pixel.shape == (51,) and pixel.dims == ()
    np.testing.assert_array_equal(pixel.data, spectrum.data[1, 2])
    assert pixel.history[-1].parameters["coords"] == {"x": 4.0}
    assert [index for index, _ in spectrum.iter_spectra()] == [(i, j) for i in range(2) for j in range(3)]
    with pytest.raises(KeyError):
        spectrum.isel(z=0)
    with pytest.raises(IndexError):
        spectrum.isel(y=5)


def test_repr_tells_a_person_what_they_hold():
    text = repr(make_raman())
    for part in ("RAMAN", "counts", "raman_shift", "100→600 cm-1", "y=2 × x=3 × 51", "map.wdf"):
        assert part in text
    xps = Spectrum(
        axis=Axis("binding_energy", "eV", np.linspace(170, 155, 151)),
        data=np.zeros(151),
        technique="xps",
        signal="counts",
        meta={"region": "S 2p"},
        source=Source("c3.vms", "0" * 64, "vamas", block="S 2p"),
    )
    assert "region=S 2p" in repr(xps) and "170→155 eV" in repr(xps) and "[S 2p]" in repr(xps)
    assert repr(xps.axis) == "Axis(binding_energy, 155–170 eV, n=151)"


def test_summary_is_json_safe():
    import json

    summary = make_raman(meta={"acquired_at": dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)}).summary()
    text = json.dumps(summary)
    assert summary["axis"] == {
        "name": "raman_shift", "unit": "cm-1", "size": 51, "min": 100.0, "max": 600.0,
        "first": 100.0, "last": 600.0,
    }
    assert summary["shape"] == [2, 3, 51] and summary["dims"] == ["y", "x", "raman_shift"]
    assert "2026-03-01T12:00:00+00:00" in text


def test_stack_builds_a_series_with_coordinates():
    singles = [make_raman(shape=(), data=np.full(51, float(i)), dims=(), coords={}) for i in range(4)]
    series = stack(singles, dim="cycle", coord=[1, 2, 3, 4], coord_unit="1")
    assert series.shape == (4, 51) and series.dims == ("cycle",)
    np.testing.assert_array_equal(series.coords["cycle"].values, [1, 2, 3, 4])
    np.testing.assert_array_equal(series.data[:, 0], [0, 1, 2, 3])
    assert series.meta["laser_wavelength_nm"] == 532.0
    assert series.history[-1].operation == "stack"


def test_stack_refuses_different_axes_unless_asked_to_resample():
    a = make_raman(shape=(), dims=(), coords={}, data=np.linspace(0, 1, 51))
    b = a.replace(axis=Axis("raman_shift", "cm-1", np.linspace(100.0, 600.0, 51) + 0.5))
    with pytest.raises(ValueError, match="axes differ"):
        stack([a, b])
    common = Axis("raman_shift", "cm-1", np.linspace(110.0, 590.0, 25))
    series = stack([a, b], axis=common)
    assert series.shape == (2, 25)
    assert [s.operation for s in series.history[-2:]] == ["resample", "stack"]
    # a straight line resamples exactly: b is a shifted by 0.5 cm-1 on the axis
    slope = 1.0 / 500.0
    np.testing.assert_allclose(series.data[0] - series.data[1], 0.5 * slope, rtol=1e-9)


def test_stack_refuses_mixed_techniques_and_empty_input():
    xas = Spectrum(axis=Axis("energy", "eV", [1.0, 2.0]), data=[1.0, 2.0], technique="xas", signal="mu")
    with pytest.raises(ValueError):
        stack([])
    with pytest.raises(ValueError, match="one technique"):
        stack([xas, make_raman(shape=(), dims=(), coords={})])


def test_step_parameters_are_frozen():
    step = Step("shift", {"by": 1.0})
    with pytest.raises(TypeError):
        step.parameters["by"] = 2.0  # type: ignore[index]
    assert step.to_dict()["parameters"] == {"by": 1.0}


def test_owned_arrays_are_adopted_without_a_copy_and_stay_read_only():
    from specssb.spectrum import owned

    axis = Axis("raman_shift", "cm-1", np.arange(4.0))
    fresh = owned(np.ones((2, 4)))
    spectrum = Spectrum(axis=axis, data=fresh, technique="raman", signal="intensity", dims=("y",))
    assert spectrum.data is fresh and not fresh.flags.writeable
    with pytest.raises(ValueError):
        fresh[0, 0] = 5.0
    mine = np.ones((2, 4))  # a caller's writable array is copied, so it stays the caller's
    copied = Spectrum(axis=axis, data=mine, technique="raman", signal="intensity", dims=("y",))
    assert copied.data is not mine and mine.flags.writeable
    base = np.ones((3, 4))
    view = owned(base[1:])  # a view does not own its memory: still copied
    assert Spectrum(axis=axis, data=view, technique="raman", signal="intensity",
                    dims=("y",)).data is not view


def test_notebook_api_names_load_on_first_use():
    import importlib
    import subprocess
    import sys

    code = ("import sys, specssb; light = 'specssb.fitting.engine' not in sys.modules; "
            "print(light, specssb.fit.__module__, specssb.Recipe.__name__, specssb.Session.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "specssb.fitting.engine", "Recipe", "Session"]
    specssb = importlib.import_module("specssb")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        specssb.nope  # noqa: B018
