"""RamanSPy interoperability (specssb.fitting.raman.interop): round trips keep what RamanSPy
drops, and every known defect of RamanSPy 0.2.10 on today's numpy/scipy/matplotlib
(notes/raman.md §3) is either worked around (the right answer through our wrapper, where
RamanSPy alone fails or is silently wrong) or refused with a ConfigError naming it."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ramanspy = pytest.importorskip("ramanspy")

import specssb  # noqa: E402
from specssb.errors import ConfigError  # noqa: E402
from specssb.fitting.raman.interop import apply_ramanspy, from_ramanspy, to_ramanspy  # noqa: E402
from specssb.spectrum import Axis, Coord, Spectrum  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
P = ramanspy.preprocessing


def raman_map(*, decreasing=True, seed=0):
    x = np.linspace(200.0, 800.0, 301)
    if decreasing:
        x = x[::-1]  # as WiRE stores it
    rng = np.random.default_rng(seed)
    data = 100 + 0.1 * x + 1000 / (1 + ((x - 425) / 5) ** 2) + rng.normal(0, 3, (4, 5, x.size))
    return Spectrum(axis=Axis("raman_shift", "cm-1", x), data=data, technique="raman", signal="counts",
                    dims=("y", "x"), coords={"y": Coord("y", np.arange(4) * 2.0, "um"),
                                             "x": Coord("x", np.arange(5) * 2.0, "um")},
                    meta={"laser_wavelength_nm": 532.0})


def test_round_trip_restores_order_coords_and_meta():
    spectrum = raman_map()
    container = to_ramanspy(spectrum)
    assert isinstance(container, ramanspy.SpectralImage)
    assert container.spectral_axis[0] == 200.0  # RamanSPy sorts its axis
    back = from_ramanspy(container, template=spectrum)
    assert back.axis == spectrum.axis  # measured (decreasing) order restored
    np.testing.assert_array_equal(back.data, spectrum.data)
    assert back.coords == spectrum.coords and back.meta["laser_wavelength_nm"] == 532.0
    cropped = from_ramanspy(P.misc.Cropper(region=(400, 450)).apply(container), template=spectrum)
    assert cropped.axis.size == 26 and cropped.dims == ("y", "x")  # 2 cm-1 steps
    assert cropped.axis.values[0] == 450.0  # the template's (decreasing) direction


def test_plain_steps_run_unchanged():
    spectrum = raman_map()
    out = apply_ramanspy(spectrum, P.normalise.MinMax())
    assert out.data.min(axis=-1) == pytest.approx(0.0) and out.data.max(axis=-1) == pytest.approx(1.0)
    step = out.history[-1]
    assert step.operation == "ramanspy" and step.parameters["step"] == "MinMax"
    assert step.versions["ramanspy"] == "0.2.10" or step.versions["ramanspy"]
    assert out.axis == spectrum.axis and out.coords == spectrum.coords


def test_gaussian_smooths_along_the_spectral_axis_only():
    # defect: denoise.Gaussian runs scipy gaussian_filter over every axis of a SpectralImage
    x = np.linspace(200.0, 800.0, 301)
    data = np.zeros((3, 3, x.size))
    data[1, 1, 150] = 1.0  # one unit spike in the centre pixel
    spectrum = Spectrum(axis=Axis("raman_shift", "cm-1", x), data=data, technique="raman",
                        signal="counts", dims=("y", "x"))
    direct = P.denoise.Gaussian(sigma=1).apply(to_ramanspy(spectrum)).spectral_data
    assert direct[0, 1].max() > 0.01  # RamanSPy alone: the spike leaks into the neighbour pixel
    ours = apply_ramanspy(spectrum, P.denoise.Gaussian(sigma=1))
    assert ours.data[0, 1].max() == 0.0 and ours.data[1, 0].max() == 0.0
    single = P.denoise.Gaussian(sigma=1).apply(ramanspy.Spectrum(data[1, 1], x)).spectral_data
    np.testing.assert_allclose(ours.data[1, 1], single)  # = RamanSPy on one spectrum
    assert "sigma 0 on the map axes" in ours.history[-1].parameters["workaround"]


def test_auc_normalization_works_on_numpy_2_4():
    spectrum = raman_map()
    with pytest.raises(AttributeError, match="trapz"):  # RamanSPy alone: np.trapz is gone
        P.normalise.AUC().apply(to_ramanspy(spectrum))
    out = apply_ramanspy(spectrum, P.normalise.AUC())
    areas = np.trapezoid(out.data[..., ::-1], spectrum.axis.values[::-1], axis=-1)
    np.testing.assert_allclose(areas, 1.0)  # positive, although the axis decreases
    whole = apply_ramanspy(spectrum, P.normalise.AUC(pixelwise=False))
    areas = np.trapezoid(whole.data[..., ::-1], spectrum.axis.values[::-1], axis=-1)
    assert areas.max() == pytest.approx(1.0) and areas.min() < 1.0


def test_georgiev2023_p1_protocol_runs_step_by_step():
    spectrum = raman_map().crop(300, 600)
    with pytest.raises(AttributeError):
        P.protocols.georgiev2023_P1(fingerprint=False).apply(to_ramanspy(spectrum))
    out = apply_ramanspy(spectrum, P.protocols.georgiev2023_P1(fingerprint=False))
    assert [s.parameters["step"] for s in out.history[-4:]] == ["WhitakerHayes", "Gaussian", "ASLS", "AUC"]
    assert np.isfinite(out.data).all() and out.coords == spectrum.coords


def test_whitaker_hayes_on_integer_low_count_data():
    # defect: MAD of the differences = 0 -> division by zero, every non-zero difference is a "spike"
    rng = np.random.default_rng(0)
    x = np.arange(100.0)
    data = np.round(rng.normal(0, 0.3, (2, 3, 100)))
    data[0, 1, 50] = 1000.0
    spectrum = Spectrum(axis=Axis("raman_shift", "cm-1", x), data=data, technique="raman",
                        signal="counts", dims=("y", "x"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        direct = P.despike.WhitakerHayes().apply(to_ramanspy(spectrum)).spectral_data
    assert (direct != data).sum() > 30  # RamanSPy alone alters many noise points
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        out = apply_ramanspy(spectrum, P.despike.WhitakerHayes())
    assert out.data[0, 1, 50] < 5  # the spike is gone
    assert (out.data != data).sum() <= 4  # and little else changed
    assert "mean absolute deviation" in out.history[-1].parameters["workaround"]


def test_broken_steps_are_refused_with_the_defect_named():
    spectrum = raman_map()
    with pytest.raises(TypeError):  # RamanSPy alone
        P.baseline.FABC().apply(to_ramanspy(spectrum))
    with pytest.raises(ConfigError, match="FABC passes x_data twice"):
        apply_ramanspy(spectrum, P.baseline.FABC())
    with pytest.raises(ConfigError, match="NFINDR fails.*_flinalg"):
        apply_ramanspy(spectrum, ramanspy.analysis.unmix.NFINDR(n_endmembers=2))
    with pytest.raises(ConfigError, match="analysis step"):
        apply_ramanspy(spectrum, ramanspy.analysis.decompose.PCA(n_components=2))
    with pytest.raises(ConfigError, match="not a RamanSPy preprocessing step"):
        apply_ramanspy(spectrum, "SavGol")


def test_a_step_that_creates_nan_is_refused():
    spectrum = raman_map()
    data = np.array(spectrum.data)
    data[0, 0] = 0.0  # an empty pixel: zero area
    with pytest.raises(ConfigError, match="AUC turned finite data into NaN .* in 1 spectra"):
        apply_ramanspy(spectrum.replace(data=data), P.normalise.AUC())


def test_renishaw_loader_nm_axis_keeps_its_name_through_the_template(tmp_path):
    # defect: ramanspy.load.renishaw returns a nm axis as if it were Raman shift
    sys.path.insert(0, str(REPO / "sample_data"))
    try:
        spec = importlib.util.spec_from_file_location("wdf_writer", REPO / "sample_data" / "writers" / "wdf.py")
        writer = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(writer)
    finally:
        sys.path.remove(str(REPO / "sample_data"))
    nm = np.linspace(560.0, 540.0, 201)
    counts = np.random.default_rng(1).poisson(100, (2, 3, 201)).astype(float)
    path = writer.write_wdf(tmp_path / "pl.wdf", counts, nm, axis_unit="wavelength",
                            laser_wavelength_nm=532.0, x_um=np.arange(3.0), y_um=np.arange(2.0),
                            title="PL", acquired_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    container = ramanspy.load.renishaw(str(path))
    assert 540 <= container.spectral_axis.min() < 541  # nm values, to RamanSPy "cm-1"
    assert from_ramanspy(container).axis.name == "raman_shift"  # without a template: wrong
    [template] = specssb.read(path)
    back = from_ramanspy(container, template=template)
    assert back.axis.name == "wavelength" and back.axis == template.axis
    np.testing.assert_array_equal(back.data, template.data)
    with pytest.raises(ValueError, match="Raman-shift axis"):
        to_ramanspy(template)


def test_unraised_axis_checks_are_made_here():
    good = ramanspy.SpectralImage(np.ones((2, 2, 5)), np.arange(5.0))
    good.spectral_axis = np.array([0.0, 1.0, np.nan, 3.0, 4.0])  # as load.labspec on WITec tables
    with pytest.raises(ValueError, match="non-finite axis values"):
        from_ramanspy(good)
    good.spectral_axis = np.arange(4.0)
    with pytest.raises(ValueError, match="axis of shape"):
        from_ramanspy(good)
