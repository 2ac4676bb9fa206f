"""Linear combination fitting: exact constrained solutions, Larch's lincombo_fit as the oracle,
and recovery of known fractions from mixtures of real Fe K-edge references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import nnls
from xas_analysis_data import GRID, norm_spectrum, series, synthetic_references

from specssb.errors import ConfigError, FitError, PhysicsWarning
from specssb.fitting.xas.lcf import combinations, fit_lcf
from specssb.spectrum import Axis, Spectrum

MIXED = ("fe_metal_rt", "feo_rt1", "fe2o3_rt")


def _refs(basis, labels, energy=GRID):
    return {label: norm_spectrum(energy, basis[label]) for label in labels}


def _mixtures(basis, labels, n, noise, seed=0):
    rng = np.random.default_rng(seed)
    fractions = rng.dirichlet(np.full(len(labels), 2.0), size=n)
    matrix = np.array([basis[label] for label in labels])
    return fractions, fractions @ matrix + rng.normal(0.0, noise, (n, matrix.shape[1]))


# ------------------------------------------------------------------ synthetic (always run)
def test_noise_free_weights_are_exact():
    basis = synthetic_references(GRID)
    truth = np.array([[0.2, 0.5, 0.3], [0.0, 0.25, 0.75], [1.0, 0.0, 0.0]])
    data = truth @ np.array(list(basis.values()))
    result = fit_lcf(series(GRID, data), _refs(basis, basis))
    np.testing.assert_allclose(result.weights, truth, atol=1e-10)
    np.testing.assert_allclose(result.chisqr, 0.0, atol=1e-18)
    assert result.at_bound[1, 0] and np.isnan(result.stderr[1, 0])
    assert result.at_bound.sum() == 3


def test_nonnegative_sum_to_one_is_the_exact_constrained_optimum():
    """Against an independent solver: scipy NNLS with the sum constraint as a heavy extra row."""
    rng = np.random.default_rng(3)
    energy = np.linspace(0.0, 1.0, 80)
    basis = rng.random((5, energy.size))
    data = rng.random((40, energy.size))  # arbitrary data: many weights end on the bound
    refs = {f"r{i}": norm_spectrum(energy, row) for i, row in enumerate(basis)}
    result = fit_lcf(series(energy, data), refs)
    penalty = 1e5
    matrix = np.vstack([basis.T, penalty * np.ones(5)])
    for row, weights in zip(data, result.weights):
        expected, _ = nnls(matrix, np.append(row, penalty), maxiter=2000)
        np.testing.assert_allclose(weights, expected, atol=2e-6)
    assert np.all(result.weights >= 0)
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, atol=1e-12)
    assert result.at_bound.any()


def test_nonnegative_without_sum_matches_scipy_nnls():
    rng = np.random.default_rng(4)
    energy = np.linspace(0.0, 1.0, 60)
    basis = rng.random((4, energy.size))
    data = rng.random((30, energy.size)) - 0.3
    refs = {f"r{i}": norm_spectrum(energy, row) for i, row in enumerate(basis)}
    result = fit_lcf(series(energy, data), refs, sum_to_one=False)
    for row, weights in zip(data, result.weights):
        np.testing.assert_allclose(weights, nnls(basis.T, row)[0], atol=1e-10)


def test_stderr_is_the_scaled_covariance_of_the_constrained_fit():
    """Independent route: substitute w_k = 1 - sum(others), ordinary least squares on k-1
    parameters, covariance redchi (J^T J)^-1 propagated to the last weight."""
    basis = np.array(list(synthetic_references(GRID).values()))
    rng = np.random.default_rng(5)
    data = np.array([0.3, 0.45, 0.25]) @ basis + rng.normal(0, 0.01, GRID.size)
    result = fit_lcf(norm_spectrum(GRID, data), _refs(dict(zip("abc", basis)), "abc"))
    jacobian = (basis[:2] - basis[2]).T
    free, *_ = np.linalg.lstsq(jacobian, data - basis[2], rcond=None)
    residual = data - basis[2] - jacobian @ free
    redchi = residual @ residual / (GRID.size - 2)
    covariance = redchi * np.linalg.inv(jacobian.T @ jacobian)
    gradient = np.array([[1, 0], [0, 1], [-1, -1]])
    expected = np.sqrt(np.diag(gradient @ covariance @ gradient.T))
    np.testing.assert_allclose(result.weights[0, :2], free, atol=1e-12)
    np.testing.assert_allclose(result.stderr[0], expected, rtol=1e-9)
    np.testing.assert_allclose(result.redchi[0], redchi, rtol=1e-10)
    assert result.n_varys[0] == 2
    np.testing.assert_allclose(result.rfactor[0], residual @ residual / (data @ data), rtol=1e-10)


def test_table_curves_and_window_relative_to_e0():
    basis = synthetic_references(GRID)
    truth = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    data = truth @ np.array(list(basis.values()))
    spectrum = series(GRID, data)
    relative = fit_lcf(spectrum, _refs(basis, basis), e0=7112.0, emin=-20.0, emax=30.0)
    absolute = fit_lcf(spectrum, _refs(basis, basis), emin=7092.0, emax=7142.0)
    np.testing.assert_array_equal(relative.energy, absolute.energy)
    assert relative.energy[0] == 7092.0 and relative.energy[-1] == 7142.0
    np.testing.assert_allclose(relative.weights, absolute.weights, atol=1e-12)
    table = relative.table
    assert list(table.columns) == ["spectrum", "scan", "time", "reference", "weight", "stderr",
                                   "at_bound", "chisqr", "redchi", "rfactor", "n_points", "n_varys"]
    assert len(table) == 6 and table["time"].tolist() == [0.0] * 3 + [60.0] * 3
    np.testing.assert_allclose(table.pivot(index="spectrum", columns="reference", values="weight")
                               [list(basis)].to_numpy(), truth, atol=1e-10)
    curves = relative.curves(1)
    np.testing.assert_allclose(sum(curves["components"].values()), curves["fit"], atol=1e-12)
    np.testing.assert_allclose(curves["data"] - curves["fit"], curves["residual"])
    np.testing.assert_allclose(relative.fitted()[1], curves["fit"])


def test_combinations_rank_every_feasible_subset():
    basis = synthetic_references(GRID)
    rng = np.random.default_rng(2)
    data = np.array([0.35, 0.65, 0.0]) @ np.array(list(basis.values())) + rng.normal(0, 0.003, GRID.size)
    ranking = combinations(norm_spectrum(GRID, data), _refs(basis, basis))
    assert ranking["rank"].tolist() == list(range(1, len(ranking) + 1))
    assert ranking["redchi"].is_monotonic_increasing
    assert ranking.loc[0, "combination"] == "metal + oxide2"
    # least chi-square over all feasible subsets = the non-negative optimum of fit_lcf
    best = fit_lcf(norm_spectrum(GRID, data), _refs(basis, basis))
    by_chisqr = combinations(norm_spectrum(GRID, data), _refs(basis, basis), sort_by="chisqr")
    top = by_chisqr.loc[0, ["weight_metal", "weight_oxide2", "weight_oxide3"]].to_numpy(float)
    np.testing.assert_allclose(np.nan_to_num(top), best.weights[0], atol=1e-12)
    np.testing.assert_allclose(by_chisqr.loc[0, "chisqr"], best.chisqr[0], rtol=1e-12)
    weights = ranking.filter(like="weight_").to_numpy(float)
    assert np.all(np.nan_to_num(weights) >= 0)  # infeasible (negative) subsets are left out
    singles = ranking[ranking["n_references"] == 1]
    assert len(singles) == 3 and np.allclose(singles.filter(like="weight_").sum(axis=1), 1.0)
    by_r = combinations(norm_spectrum(GRID, data), _refs(basis, basis), sort_by="rfactor", min_size=2)
    assert by_r["n_references"].min() == 2 and by_r["rfactor"].is_monotonic_increasing


def test_mu_and_collinear_references_warn():
    basis = synthetic_references(GRID)
    mu = Spectrum(Axis("energy", "eV", GRID), basis["metal"], "xas", "mu")
    with pytest.warns(PhysicsWarning, match="un-normalized"):
        fit_lcf(mu, _refs(basis, basis))
    collinear = {**_refs(basis, basis), "twice": norm_spectrum(GRID, 2 * basis["metal"])}
    with pytest.warns(PhysicsWarning, match="linearly dependent"):
        fit_lcf(norm_spectrum(GRID, basis["oxide2"]), collinear)


def test_bad_input_gives_clear_errors():
    basis = synthetic_references(GRID)
    refs = _refs(basis, basis)
    data = basis["metal"].copy()
    data[100] = np.nan
    with pytest.raises(FitError, match=r"NaN.*at 7130.00 eV"):
        fit_lcf(norm_spectrum(GRID, data), refs)
    far = {"far": norm_spectrum(GRID + 1000.0, basis["metal"])}
    with pytest.raises(FitError, match="do not overlap"):
        fit_lcf(norm_spectrum(GRID, basis["metal"]), far)
    short = {"short": norm_spectrum(GRID[:200], basis["metal"][:200])}
    with pytest.raises(FitError, match="narrow the window"):
        fit_lcf(norm_spectrum(GRID, basis["metal"]), short)
    with pytest.raises(FitError, match="no data point"):
        fit_lcf(norm_spectrum(GRID, basis["metal"]), refs, emin=8000.0, emax=8100.0)
    with pytest.raises(ConfigError, match="window is empty"):
        fit_lcf(norm_spectrum(GRID, basis["metal"]), refs, emin=30.0, emax=-20.0, e0=7112.0)
    with pytest.raises(ConfigError, match="interpolation"):
        fit_lcf(norm_spectrum(GRID, basis["metal"]), refs, interpolation="spline5")
    many = {f"r{i}": norm_spectrum(GRID, basis["metal"] * (1 + i)) for i in range(13)}
    with pytest.raises(ConfigError, match="at most 12"):
        fit_lcf(norm_spectrum(GRID, basis["metal"]), many)


# ------------------------------------------------------------------- real Fe references
@pytest.mark.shared_data
def test_recovers_fractions_of_real_mixtures(fe_basis):
    fractions, data = _mixtures(fe_basis, MIXED, 60, noise=0.005)
    result = fit_lcf(series(GRID, data), _refs(fe_basis, MIXED), e0=7112.0, emin=-30.0, emax=80.0)
    assert np.abs(result.weights - fractions).max() < 0.02
    assert np.all(result.rfactor < 1e-3)
    # the stderr is realistic: the errors are of the size it states
    assert 0.3 < np.std((result.weights - fractions) / result.stderr) < 3.0


@pytest.mark.shared_data
def test_absent_decoy_reference_gets_no_weight(fe_basis):
    """Fe3C (whose XANES resembles Fe metal's) is offered but absent from the mixtures."""
    fractions, data = _mixtures(fe_basis, MIXED, 60, noise=0.002, seed=3)
    result = fit_lcf(series(GRID, data), _refs(fe_basis, (*MIXED, "fe3c_rt")), e0=7112.0,
                     emin=-30.0, emax=80.0)
    assert np.abs(result.weights[:, :3] - fractions).max() < 0.02
    assert result.weights[:, 3].max() < 0.02
    assert result.at_bound[:, 3].sum() > 10  # often exactly zero, by the non-negativity


@pytest.mark.shared_data
def test_references_on_their_own_grids(fe_references_native, fe_basis):
    """References passed on each file's native grid (FeO's differs) are interpolated."""
    fractions, data = _mixtures(fe_basis, MIXED, 20, noise=0.003, seed=1)
    refs = {name: norm_spectrum(*fe_references_native[name]) for name in MIXED}
    for kind in ("linear", "cubic"):
        result = fit_lcf(series(GRID, data), refs, emin=7090.0, emax=7200.0, interpolation=kind)
        assert np.abs(result.weights - fractions).max() < 0.02


@pytest.mark.shared_data
def test_batched_equals_larch_lincombo_fit(fe_basis):
    from larch import Group
    from larch.math import lincombo_fit

    fractions, data = _mixtures(fe_basis, MIXED, 4, noise=0.005, seed=7)
    emin, emax = 7095.0, 7180.0  # grid energies: Larch's window then starts at the same point
    result = fit_lcf(series(GRID, data), _refs(fe_basis, MIXED), emin=emin, emax=emax,
                     nonnegative=False)
    components = [Group(energy=GRID, norm=fe_basis[name], filename=name) for name in MIXED]
    for row, spectrum in enumerate(data):
        larch = lincombo_fit(Group(energy=GRID, norm=spectrum), components, xmin=emin, xmax=emax,
                             sum_to_one=True, vary_e0=False)
        np.testing.assert_array_equal(larch.xdata, result.energy)
        weights = np.array([larch.weights[name] for name in MIXED])
        stderr = np.array([larch.params[name].stderr for name in MIXED])
        np.testing.assert_allclose(result.weights[row], weights, atol=1e-6)
        np.testing.assert_allclose(result.stderr[row], stderr, rtol=1e-4)
        np.testing.assert_allclose(result.redchi[row], larch.redchi, rtol=1e-8)
        np.testing.assert_allclose(result.rfactor[row], larch.rfactor, rtol=1e-8)
    # interior fractions: the non-negative fit is the same fit
    bounded = fit_lcf(series(GRID, data), _refs(fe_basis, MIXED), emin=emin, emax=emax)
    np.testing.assert_allclose(bounded.weights, result.weights, atol=1e-12)
    assert np.abs(result.weights - fractions).max() < 0.02
