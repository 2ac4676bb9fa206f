"""Round trips between Spectrum and xarray, pandas, Larch, nmrglue and RamanSPy."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Coord, Source, Spectrum


@pytest.fixture
def raman_map() -> Spectrum:
    rng = np.random.default_rng(1)
    return Spectrum(
        axis=Axis("raman_shift", "cm-1", np.linspace(150.0, 650.0, 101)),
        data=rng.poisson(100, size=(3, 4, 101)).astype(float),
        technique="raman",
        signal="counts",
        dims=("y", "x"),
        coords={"x": Coord("x", np.arange(4) * 0.5, "um"), "y": Coord("y", np.arange(3) * 0.5, "um")},
        meta={"laser_wavelength_nm": 532.0},
        raw_meta={"vendor": {"a": 1}},
        source=Source("m.wdf", "a" * 64, "wdf"),
    )


@pytest.fixture
def xas() -> Spectrum:
    energy = np.linspace(2450.0, 2550.0, 201)
    mu = 1.0 / (1.0 + np.exp(-(energy - 2472.0) / 1.5))
    return Spectrum(
        axis=Axis("energy", "eV", energy),
        data=mu,
        technique="xas",
        signal="mu",
        meta={"element": "S", "edge": "K", "e0_ev": 2472.0},
    )


def test_xarray_round_trip_keeps_everything(raman_map):
    array = raman_map.to_xarray()
    assert array.dims == ("y", "x", "raman_shift")
    assert array.coords["x"].attrs["units"] == "um"
    back = Spectrum.from_xarray(array)
    assert back.axis == raman_map.axis and back.coords == raman_map.coords
    np.testing.assert_array_equal(back.data, raman_map.data)
    assert dict(back.meta) == dict(raman_map.meta)
    assert back.source == raman_map.source and back.dims == raman_map.dims


def test_from_xarray_refuses_a_non_spectral_last_dim(raman_map):
    array = raman_map.to_xarray().transpose("raman_shift", "y", "x")
    with pytest.raises(ValueError, match="not a spectral axis"):
        Spectrum.from_xarray(array)


def test_dataframe_is_tidy_with_coordinates_and_units(raman_map):
    frame = raman_map.to_dataframe()
    assert len(frame) == 3 * 4 * 101
    assert list(frame.columns) == ["x", "y", "raman_shift", "counts"]
    assert frame.attrs["units"]["x"] == "um" and frame.attrs["units"]["raman_shift"] == "cm-1"
    pixel = frame[(frame.y == 1.0) & (frame.x == 1.5)]
    np.testing.assert_array_equal(pixel["counts"].to_numpy(), raman_map.data[2, 3])
    np.testing.assert_array_equal(pixel["raman_shift"].to_numpy(), raman_map.axis.values)


def test_dataframe_splits_complex_fids():
    fid = Spectrum(
        axis=Axis("time", "s", np.arange(8) * 1e-5),
        data=np.exp(1j * np.arange(8)),
        technique="nmr",
        signal="fid",
    )
    frame = fid.to_dataframe()
    np.testing.assert_allclose(frame["fid_real"] + 1j * frame["fid_imag"], fid.data)


def test_larch_round_trip_and_larch_names(xas):
    group = xas.to_larch()
    np.testing.assert_array_equal(group.energy, xas.axis.values)
    np.testing.assert_array_equal(group.mu, xas.data)
    assert group.atsym == "S" and group.edge == "K" and group.e0 == 2472.0
    back = Spectrum.from_larch(group)
    assert back.axis == xas.axis and dict(back.meta) == dict(xas.meta)
    np.testing.assert_array_equal(back.data, xas.data)


def test_larch_group_works_with_larch_pre_edge(xas):
    from larch.xafs import pre_edge

    group = xas.to_larch()
    pre_edge(group)
    assert abs(group.e0 - 2472.0) < 1.0 and group.edge_step == pytest.approx(1.0, abs=0.05)


def test_to_larch_refuses_stacks(raman_map):
    with pytest.raises(ValueError, match="iter_spectra"):
        raman_map.to_larch()


def test_nmrglue_round_trip_reproduces_the_ppm_axis():
    n = 2048
    sw_hz, sf_mhz, offset_ppm = 50_000.0, 155.5, 200.0
    ppm = offset_ppm - np.arange(n) * (sw_hz / sf_mhz) / n
    spectrum = Spectrum(
        axis=Axis("chemical_shift", "ppm", ppm),
        data=np.random.default_rng(2).normal(size=n),
        technique="nmr",
        signal="spectrum",
        meta={"nucleus": "7Li", "sf_mhz": sf_mhz},
    )
    udic, data = spectrum.to_nmrglue()
    assert udic[0]["sw"] == pytest.approx(sw_hz) and udic[0]["label"] == "7Li"
    back = Spectrum.from_nmrglue(udic, data)
    np.testing.assert_allclose(back.axis.values, ppm, atol=1e-9)
    np.testing.assert_array_equal(back.data, spectrum.data)
    assert back.meta["nucleus"] == "7Li" and back.meta["sf_mhz"] == sf_mhz


def test_nmrglue_round_trip_of_a_fid():
    dwell = 1.0 / 20_000.0
    fid = Spectrum(
        axis=Axis("time", "s", np.arange(512) * dwell),
        data=np.exp((2j * np.pi * 1000.0 - 50.0) * np.arange(512) * dwell),
        technique="nmr",
        signal="fid",
        meta={"nucleus": "7Li", "sfo1_mhz": 155.5},
    )
    udic, data = fid.to_nmrglue()
    assert udic[0]["time"] and udic[0]["sw"] == pytest.approx(20_000.0)
    back = Spectrum.from_nmrglue(udic, data, template=fid)
    np.testing.assert_allclose(back.axis.values, fid.axis.values, atol=1e-12)
    assert back.signal == "fid" and back.history[-1].operation == "from_nmrglue"


def test_ramanspy_round_trip_keeps_map_layout(raman_map):
    import ramanspy

    image = raman_map.to_ramanspy()
    assert isinstance(image, ramanspy.SpectralImage)
    np.testing.assert_array_equal(image.spectral_data, raman_map.data)
    back = Spectrum.from_ramanspy(image, template=raman_map)
    assert back.coords == raman_map.coords and back.dims == ("y", "x")
    np.testing.assert_array_equal(back.data, raman_map.data)
    bare = Spectrum.from_ramanspy(image)
    assert bare.dims == ("y", "x") and bare.axis == raman_map.axis


def test_ramanspy_step_applies_and_comes_back(raman_map):
    """A RamanSPy step that works on current numpy (notes/raman.md) round-trips through us."""
    import ramanspy

    image = raman_map.to_ramanspy()
    normalised = ramanspy.preprocessing.normalise.MinMax().apply(image)
    back = Spectrum.from_ramanspy(normalised, template=raman_map)
    assert back.data.min() == pytest.approx(0.0) and back.data.max() == pytest.approx(1.0)
    assert back.history[-1].operation == "from_ramanspy"


def test_ramanspy_refuses_a_wavelength_axis(raman_map):
    nm = raman_map.replace(axis=Axis("wavelength", "nm", np.linspace(540.0, 560.0, 101)))
    with pytest.raises(ValueError, match="Raman-shift axis"):
        nm.to_ramanspy()
