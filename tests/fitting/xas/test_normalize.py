"""Larch-compatible XAS normalization: the real files of EXPECTED.md, Larch as the oracle, the
vectorized path against the per-spectrum one, synthetic edges of known step, and bad input."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb import Axis, PhysicsWarning, Spectrum
from specssb.fitting.xas._e0 import remove_dups
from specssb.fitting.xas.normalize import (
    LARCH_COMPATIBLE,
    default_ranges,
    edge_positions,
    find_e0,
    normalize,
)

#: As tests/conftest.py finds it; only used to list the expected rows at collection time (the
#: files themselves are read through the ``shared_data`` fixture, which skips when absent).
SHARED_DATA = Path(os.environ.get("SPECSSB_SHARED_DATA",
                                  Path(__file__).resolve().parents[3].parent / "shared" / "data"))
RANGE_NAMES = ("pre1", "pre2", "norm1", "norm2", "nnorm", "nvict")


def xas(energy, mu, dims=()):
    return Spectrum(axis=Axis("energy", "eV", energy), data=mu, technique="xas", signal="mu",
                    dims=dims)


def larch_pre_edge(energy, mu, **options):
    from larch import Group
    from larch.xafs import pre_edge

    group = Group(energy=np.array(energy, float), mu=np.array(mu, float))
    group.atsym, group.edge = "X", "K"  # no xraydb lookup
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # Larch's find_energy_step, < 100 points
        pre_edge(group, **options)
    return group


def expected_rows(kind):
    path = SHARED_DATA / "xas" / "expected_larch_2026.3.1.json"
    if not path.exists():
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/data absent"))]
    rows = json.loads(path.read_text())[kind]
    return [pytest.param(r, id=f"{r['file'].split('/')[-1]}:{r.get('group', r.get('mu'))}")
            for r in rows]


def check_against_expected(result, row):
    assert abs(result.e0 - row["e0"]) < 0.01
    assert result.edge_step == pytest.approx(row["edge_step"], rel=1e-4)
    for name in RANGE_NAMES:  # the JSON rounds to 3 decimals
        assert getattr(result.ranges, name) == pytest.approx(row[name], abs=1.5e-3), name


def read_columns(path, expression):
    """mu from a file as EXPECTED.md builds it: XDI through specssb, ASCII through Larch."""
    if path.suffix == ".xdi":
        spectrum = specssb.read(path)[0]
        return np.array(spectrum.axis.values), np.array(spectrum.data)
    from larch.io import read_ascii

    group = read_ascii(str(path))
    columns = {label: np.asarray(getattr(group, label), float) for label in group.array_labels}
    energy = columns.get("energy", columns.get("e"))
    if expression.startswith("ln("):
        top, bottom = expression[3:-1].split("/")
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero count gives NaN, kept
            return energy, np.log(columns[top] / columns[bottom])
    return energy, columns[expression]


# ------------------------------------------------------------------ EXPECTED.md §3, real files
@pytest.mark.parametrize("row", expected_rows("pre_edge_default"))
def test_files_match_expected_larch_values(shared_data, row):
    path = shared_data("xas", *row["file"].split("/"))
    energy, mu = read_columns(path, row["mu"])
    if path.suffix == ".xdi":  # the XDI reader builds the same mu as EXPECTED.md
        larch = larch_pre_edge(energy, mu)
        assert larch.e0 == row["e0"] or abs(larch.e0 - row["e0"]) < 1e-3
    result = normalize(xas(energy, mu))
    check_against_expected(result, row)
    assert result.ranges.npre == 1
    assert result.norm.size == row["npts"]


@pytest.mark.parametrize("row", expected_rows("athena_pre_edge_default"))
def test_athena_groups_match_expected_larch_values(shared_data, row):
    from larch.io import read_athena

    project = read_athena(str(shared_data("xas", *row["file"].split("/"))), do_preedge=False,
                          do_bkg=False, do_fft=False)
    group = project.groups[row["group"]]
    result = normalize(xas(np.asarray(group.energy, float), np.asarray(group.mu, float)))
    check_against_expected(result, row)


def test_curves_equal_larch_on_file_with_repeated_energies(shared_data):
    energy, mu = read_columns(shared_data("xas", "larch", "beamlines", "APS10BM_2019.dat"),
                              "ln(io/it)")
    assert np.any(np.diff(energy) == 0)
    result = normalize(xas(energy, mu))
    larch = larch_pre_edge(energy, mu)
    assert result.e0 == larch.e0
    for name in ("norm", "flat", "pre_edge", "post_edge"):
        np.testing.assert_allclose(getattr(result, name), getattr(larch, name), atol=1e-10)


def test_nan_points_are_dropped_like_larch(shared_data):
    energy, mu = read_columns(shared_data("xas", "larch", "beamlines", "NSLS6BM_2019.dat"),
                              "ln(i0/it)")
    finite = np.isfinite(mu)
    assert not finite.all()
    result = normalize(xas(energy, mu))
    larch = larch_pre_edge(energy, mu)
    assert np.isnan(result.norm[~finite]).all()
    np.testing.assert_allclose(result.norm[finite], larch.norm, atol=1e-10)
    assert result.e0 == larch.e0


# -------------------------------------------------------------- vectorized path, real stack
@pytest.fixture
def nio_stack(shared_data):
    """The NiO.prj groups that share one 522-point grid, stacked along ``scan``."""
    from larch.io import read_athena

    project = read_athena(str(shared_data("xas", "larch", "athena", "NiO.prj")),
                          do_preedge=False, do_bkg=False, do_fft=False)
    groups = [g for g in project.groups.values() if len(g.energy) == 522]
    energy = np.asarray(groups[0].energy, float)
    assert all(np.array_equal(g.energy, energy) for g in groups) and len(groups) >= 10
    return xas(energy, np.array([g.mu for g in groups], float), dims=("scan",))


def test_vectorized_equals_single_and_larch_with_found_e0(nio_stack):
    result = normalize(nio_stack)
    energy = nio_stack.axis.values
    assert result.e0.shape == (nio_stack.n_spectra,)
    for i in range(nio_stack.n_spectra):
        single = normalize(nio_stack.isel(scan=i))
        larch = larch_pre_edge(energy, nio_stack.data[i])
        assert result.e0[i] == single.e0 == pytest.approx(larch.e0, abs=1e-9)
        assert result.edge_step[i] == pytest.approx(single.edge_step, rel=1e-12)
        assert result.edge_step[i] == pytest.approx(larch.edge_step, rel=1e-9)
        for name in RANGE_NAMES:
            assert getattr(result.ranges, name)[i] == pytest.approx(
                getattr(larch.pre_edge_details, name), abs=1e-9)
        np.testing.assert_allclose(result.flat[i], larch.flat, atol=1e-9)
        np.testing.assert_allclose(result.norm[i], single.norm, atol=1e-12)


@pytest.mark.parametrize("nnorm", [None, 3])
def test_vectorized_with_own_e0_per_spectrum_equals_larch(nio_stack, nnorm):
    """Each spectrum its own e0: windows differ, the fits take the masked path."""
    first = normalize(nio_stack)
    e0 = first.e0 + np.linspace(-3.0, 3.0, nio_stack.n_spectra)
    options = {"pre1": -150.0, "norm1": 40.0, "nnorm": nnorm}
    result = normalize(nio_stack, e0=e0, **options)
    assert not result.e0_found.any()
    energy = nio_stack.axis.values
    for i in range(nio_stack.n_spectra):
        larch = larch_pre_edge(energy, nio_stack.data[i], e0=e0[i], **options)
        assert result.e0[i] == larch.e0
        assert result.edge_step[i] == pytest.approx(larch.edge_step, rel=1e-9)
        assert result.ranges.norm2[i] == pytest.approx(larch.pre_edge_details.norm2, abs=1e-9)
        np.testing.assert_allclose(result.norm[i], larch.norm, atol=1e-9)
        np.testing.assert_allclose(result.post_edge[i], larch.post_edge, rtol=1e-9)


def test_default_ranges_equal_larch_details(shared_data):
    spectrum = specssb.read(shared_data("xas", "xdi", "data", "cu_metal_rt.xdi"))[0]
    energy = spectrum.axis.values
    e0 = np.array([8979.0, 8980.5, 8983.25, 8800.0])
    ranges = default_ranges(energy, e0)
    for i, value in enumerate(e0):
        larch = larch_pre_edge(energy, spectrum.data, e0=value)
        for name in RANGE_NAMES:
            assert getattr(ranges, name)[i] == pytest.approx(
                getattr(larch.pre_edge_details, name), abs=1e-9), name


def test_find_e0_equals_larch(shared_data):
    from larch.xafs import find_e0 as larch_find_e0

    for name in ("cu_metal_rt", "fe_metal_rt", "fe2o3_rt", "ni_metal_rt"):
        spectrum = specssb.read(shared_data("xas", "xdi", "data", f"{name}.xdi"))[0]
        energy, mu = np.array(spectrum.axis.values), np.array(spectrum.data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            assert find_e0(energy, mu) == larch_find_e0(energy, mu)


# -------------------------------------------------------------------------- synthetic cases
def erf_edge(energy, e0, step, width=1.0):
    from scipy.special import erf

    return 0.3 + 2e-5 * (energy - 8800.0) + step * 0.5 * (1 + erf((energy - e0) / width))


def test_synthetic_edges_recover_known_step_and_e0():
    energy = np.arange(8800.0, 9500.0, 0.5)
    e0_true = np.array([8978.0, 8979.5, 8981.0, 8985.5])
    steps = np.array([0.5, 1.0, 2.5, 7.0])
    stack = xas(energy, np.array([erf_edge(energy, e, s) for e, s in zip(e0_true, steps)]),
                dims=("scan",))
    result = normalize(stack, pre1=-150.0, pre2=-50.0, norm1=50.0, norm2=500.0, nnorm=1)
    np.testing.assert_allclose(result.e0, e0_true, atol=0.25)  # a grid point: 0.5 eV steps
    np.testing.assert_allclose(result.edge_step, steps, rtol=1e-9)
    above = energy > e0_true.max() + 10
    np.testing.assert_allclose(result.norm[:, above], 1.0, atol=1e-9)
    np.testing.assert_allclose(result.flat[:, above], 1.0, atol=1e-9)


def test_synthetic_arctan_edge_step_within_one_percent():
    energy = np.arange(8700.0, 9700.0, 0.5)
    mu = 0.2 + 1.7 * (0.5 + np.arctan((energy - 8979.0) / 0.8) / np.pi)
    result = normalize(xas(energy, mu))
    assert abs(result.e0 - 8979.0) <= 0.5
    assert result.edge_step == pytest.approx(1.7, rel=0.01)
    assert result.ranges.nnorm == 2 and result.ranges.norm1 == 25.0


def test_repeated_energies_are_handled_like_larch():
    from larch.math import remove_dups as larch_remove_dups

    rng = np.random.default_rng(3)
    energy = np.sort(np.round(rng.uniform(8800, 9200, 600), 1))  # many repeats, runs up to 4
    assert (np.diff(energy) == 0).sum() > 10
    np.testing.assert_array_equal(remove_dups(energy), larch_remove_dups(energy, tiny=0.0005))
    np.testing.assert_array_equal(remove_dups(remove_dups(energy)),
                                  larch_remove_dups(larch_remove_dups(energy, 0.0005), 0.0005))
    mu = erf_edge(energy, 8990.0, 1.3) + rng.normal(0, 1e-3, energy.size)
    result = normalize(xas(energy, mu))
    larch = larch_pre_edge(energy, mu)
    assert result.e0 == larch.e0
    assert result.edge_step == pytest.approx(larch.edge_step, rel=1e-9)
    np.testing.assert_allclose(result.flat, larch.flat, atol=1e-9)


def test_unsorted_axis_gives_the_sorted_result():
    energy = np.arange(8800.0, 9300.0, 1.0)
    mu = erf_edge(energy, 8980.0, 1.0)
    forward = normalize(xas(energy, mu))
    backward = normalize(xas(energy[::-1], mu[::-1]))
    assert backward.e0 == forward.e0
    np.testing.assert_array_equal(backward.spectrum.axis.values, energy)
    np.testing.assert_allclose(backward.norm, forward.norm, atol=1e-12)


def test_result_spectrum_and_history():
    energy = np.arange(8800.0, 9300.0, 1.0)
    spectrum = xas(energy, erf_edge(energy, 8980.0, 2.0))
    result = normalize(spectrum, output="flat")
    assert result.spectrum.signal == "flat"
    np.testing.assert_array_equal(result.spectrum.data, result.flat)
    step = result.spectrum.history[-1]
    assert step.operation == "xas_normalize"
    assert step.parameters["compatible_with"] == LARCH_COMPATIBLE
    assert step.parameters["e0"] == result.e0 and step.parameters["e0_found"] is True
    assert {n: step.parameters[n] for n in RANGE_NAMES} == {
        n: getattr(result.ranges, n) for n in RANGE_NAMES}
    assert spectrum.history == ()  # input untouched
    unflat = normalize(spectrum, make_flat=False)
    np.testing.assert_array_equal(unflat.flat, unflat.norm)


def test_edge_positions_of_synthetic_series():
    energy = np.arange(8900.0, 9300.0, 0.25)
    centres = np.array([8979.0, 8980.5, 8982.0])
    peaks = centres + 9.0
    rows = [erf_edge(energy, c, 1.0) + 0.4 * np.exp(-0.5 * ((energy - p) / 2.0) ** 2)
            for c, p in zip(centres, peaks)]
    stack = xas(energy, np.array(rows), dims=("scan",))
    result = normalize(stack, pre1=-70.0, pre2=-20.0, norm1=60.0, norm2=300.0, nnorm=1)
    positions = edge_positions(result, window=25.0)
    np.testing.assert_allclose(positions.e0, centres, atol=0.13)
    np.testing.assert_allclose(positions.half_height_energy, centres, atol=0.05)
    np.testing.assert_allclose(positions.white_line_energy, peaks, atol=0.05)
    np.testing.assert_allclose(positions.white_line_height, 1.4, atol=0.01)
    one = edge_positions(normalize(stack.isel(scan=1), pre1=-70.0, pre2=-20.0, norm1=60.0,
                                   norm2=300.0, nnorm=1), window=25.0)
    assert one.half_height_energy == pytest.approx(positions.half_height_energy[1], abs=1e-12)
    assert list(positions.to_frame().columns) == [
        "e0", "half_height_energy", "white_line_energy", "white_line_height"]


# --------------------------------------------------------------------------------- bad input
def test_all_zero_mu_is_a_clear_error():
    energy = np.arange(8800.0, 9300.0, 1.0)
    with pytest.raises(ValueError, match="constant"):
        normalize(xas(energy, np.zeros(energy.size)))
    stack = np.array([erf_edge(energy, 8980.0, 1.0), np.zeros(energy.size)])
    with pytest.raises(ValueError, match="spectrum 1: mu is constant"):
        normalize(xas(energy, stack, dims=("scan",)))


def test_all_nan_mu_is_a_clear_error():
    energy = np.arange(8800.0, 9300.0, 1.0)
    with pytest.raises(ValueError, match="finite points"):
        normalize(xas(energy, np.full(energy.size, np.nan)))


def test_bad_options_and_axes():
    energy = np.arange(8800.0, 9300.0, 1.0)
    spectrum = xas(energy, erf_edge(energy, 8980.0, 1.0))
    with pytest.raises(ValueError, match="output"):
        normalize(spectrum, output="mu")
    with pytest.raises(ValueError, match="leading shape"):
        normalize(xas(energy, np.tile(spectrum.data, (2, 1)), dims=("scan",)), e0=[1.0, 2.0, 3.0])
    xps = Spectrum(axis=Axis("binding_energy", "eV", energy), data=spectrum.data,
                   technique="xps", signal="counts")
    with pytest.raises(ValueError, match="energy"):
        normalize(xps)


def test_e0_outside_the_data_warns_and_is_found():
    energy = np.arange(8800.0, 9300.0, 1.0)
    spectrum = xas(energy, erf_edge(energy, 8980.0, 1.0))
    with pytest.warns(PhysicsWarning, match="outside the data"):
        result = normalize(spectrum, e0=7000.0)
    assert result.e0 == pytest.approx(8980.0, abs=1.0) and result.e0_found


def test_e0_far_from_the_tabulated_edge_is_a_physics_warning():
    from specssb import Axis, Spectrum
    from specssb.errors import PhysicsWarning

    energy = np.linspace(8200.0, 9000.0, 801)
    mu = 0.1 + 1.2 * (0.5 + np.arctan((energy - 8333.0) / 1.5) / np.pi)
    spectrum = Spectrum(axis=Axis("energy", "eV", energy), data=mu, technique="xas", signal="mu",
                        meta={"element": "Ni", "edge": "K"})
    result = normalize(spectrum)  # Ni K is tabulated at 8333 eV: no warning
    assert result.spectrum.history[-1].parameters["tabulated_edge_ev"] == 8333.0
    with pytest.warns(PhysicsWarning, match="tabulated Cu K edge"):
        normalize(spectrum.with_meta(element="Cu"))  # the metadata name the wrong element
