"""PCA (number of components, IND, F-test, target transformation) and MCR-ALS on synthetic
series and on mixture series of real Fe K-edge references."""

from __future__ import annotations

import numpy as np
import pytest
from xas_analysis_data import GRID, norm_spectrum, series, synthetic_references

from specssb.errors import ConfigError, ConvergenceWarning, FitError
from specssb.fitting.xas.decompose import mcr_als, pca, simplisma, target_transform

MIXED = ("fe_metal_rt", "feo_rt1", "fe2o3_rt")


def _reaction(n: int = 31) -> np.ndarray:
    """Consecutive reactions A -> B -> C: pure A, B and C at the start, middle and end."""
    t = np.linspace(0.0, 1.0, n)
    a, c = np.clip(1 - 2 * t, 0, 1), np.clip(2 * t - 1, 0, 1)
    return np.stack([a, 1 - a - c, c], axis=1)


def _series(basis, labels, noise, seed=0, n=31):
    concentrations = _reaction(n)
    rng = np.random.default_rng(seed)
    matrix = np.array([basis[label] for label in labels])
    data = concentrations @ matrix + rng.normal(0.0, noise, (n, matrix.shape[1]))
    return concentrations, matrix, data


def _match(spectra, truth):
    """Order of the recovered components that best matches the true spectra."""
    import itertools

    k = len(truth)
    return min(itertools.permutations(range(k)),
               key=lambda p: sum(np.sum((spectra[p[j]] - truth[j]) ** 2) for j in range(k)))


# ------------------------------------------------------------------ synthetic (always run)
def test_pca_rank_ind_and_f_test_on_synthetic_series():
    basis = synthetic_references(GRID)
    concentrations, _, data = _series(basis, list(basis), noise=0.002)
    result = pca(series(GRID, data))
    assert result.n_components_ind == 3 and result.n_components_f == 3
    centred = pca(series(GRID, data), center=True)
    assert centred.n_components_ind == 2 and centred.n_components_f == 2
    t = np.linspace(0.0, 1.0, data.shape[0])[:, None]  # a two-phase series
    two_phase = (1 - t) * basis["metal"] + t * basis["oxide3"]
    two = pca(series(GRID, two_phase + np.random.default_rng(1).normal(0, 0.002, data.shape)))
    assert two.n_components_ind == 2 and two.n_components_f == 2
    np.testing.assert_allclose(result.reconstruct(result.eigenvalues.size), data, atol=1e-10)
    scree = result.scree()
    assert scree["cumulative"].iloc[-1] == pytest.approx(1.0)
    assert scree["ind"].idxmin() == 2  # row of component 3


def test_ind_and_f_follow_malinowski_formulas():
    """Independent computation for a small matrix: eigenvalues of D^T D, r = points, c = spectra."""
    rng = np.random.default_rng(8)
    data = rng.random((6, 40))
    result = pca(series(np.linspace(7000, 7100, 40), data))
    eig = np.sort(np.linalg.eigvalsh(data @ data.T))[::-1]
    np.testing.assert_allclose(result.eigenvalues, eig, rtol=1e-10)
    r, c, s = 40, 6, 6
    for n in range(1, s):
        re = np.sqrt(eig[n:].sum() / (r * (s - n)))
        assert result.real_error[n - 1] == pytest.approx(re, rel=1e-10)
        assert result.ind[n - 1] == pytest.approx(re / (s - n) ** 2, rel=1e-10)
        dof = [(r - j + 1) * (c - j + 1) for j in range(n + 1, s + 1)]
        f = sum(dof) * eig[n - 1] / ((r - n + 1) * (c - n + 1) * eig[n:].sum())
        assert result.f_statistic[n - 1] == pytest.approx(f, rel=1e-10)


def test_mcr_recovers_synthetic_concentrations_and_spectra():
    basis = synthetic_references(GRID)
    concentrations, matrix, data = _series(basis, list(basis), noise=0.003)
    result = mcr_als(series(GRID, data), 3)
    order = list(_match(result.spectra, matrix))
    assert result.converged and result.lack_of_fit < 1.0
    assert np.abs(result.concentrations[:, order] - concentrations).max() < 0.02
    assert np.all(result.concentrations >= 0) and np.all(result.spectra >= 0)
    np.testing.assert_allclose(result.concentrations.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(np.diff(result.sse_history) <= 1e-12 * result.sse_history[0])  # never increases
    assert result.explained_variance == pytest.approx(100 - result.lack_of_fit**2 / 100, rel=1e-9)
    table = result.table
    assert list(table.columns) == ["spectrum", "scan", "time", "component", "concentration",
                                   "lack_of_fit", "converged"]
    assert len(table) == 93
    curves = result.curves(5)
    np.testing.assert_allclose(sum(curves["components"].values()), curves["fit"], atol=1e-12)


def test_simplisma_finds_the_pure_spectra():
    basis = synthetic_references(GRID)
    _, _, data = _series(basis, list(basis), noise=0.002)
    assert sorted(simplisma(data.T, 3)) == [0, 15, 30]


def test_mcr_fixed_spectrum_and_convergence_warning():
    basis = synthetic_references(GRID)
    concentrations, matrix, data = _series(basis, list(basis), noise=0.003)
    refs = {label: norm_spectrum(GRID, values) for label, values in basis.items()}
    fixed = mcr_als(series(GRID, data), init=refs, fix_spectra=["metal"])
    np.testing.assert_array_equal(fixed.spectra[0], basis["metal"])
    assert np.abs(fixed.concentrations - concentrations).max() < 0.02
    with pytest.warns(ConvergenceWarning, match="did not converge in 2 iterations"):
        short = mcr_als(series(GRID, data), 3, init="pca-varimax", max_iter=2)
    assert not short.converged and not short.table["converged"].any()


def test_bad_input_gives_clear_errors():
    basis = synthetic_references(GRID)
    _, _, data = _series(basis, list(basis), noise=0.002)
    with pytest.raises(ConfigError, match="n_components is needed"):
        mcr_als(series(GRID, data))
    with pytest.raises(ConfigError, match="unknown init"):
        mcr_als(series(GRID, data), 3, init="random")
    with pytest.raises(ConfigError, match="fix_spectra needs references"):
        mcr_als(series(GRID, data), 3, fix_spectra=["metal"])
    bad = data.copy()
    bad[4, 10] = np.nan
    with pytest.raises(FitError, match="spectrum 4, 7085.00 eV"):
        mcr_als(series(GRID, bad), 3)
    with pytest.raises(FitError, match="NaN"):
        pca(series(GRID, bad))
    with pytest.raises(FitError, match="at least 3 spectra"):
        pca(series(GRID, data[:2]))
    result = pca(series(GRID, data))
    with pytest.raises(ConfigError, match="n_components"):
        target_transform(result, {"m": norm_spectrum(GRID, basis["metal"])}, n_components=0)
    with pytest.raises(FitError, match="do not overlap"):
        target_transform(result, {"m": norm_spectrum(GRID + 500, basis["metal"])}, n_components=3)


# ------------------------------------------------------------------- real Fe references
@pytest.mark.shared_data
def test_pca_finds_rank_three_and_target_transform_rejects_absent_reference(fe_basis):
    _, _, data = _series(fe_basis, MIXED, noise=0.005)
    result = pca(series(GRID, data), e0=7112.0, emin=-30.0, emax=100.0)
    assert result.n_components_ind == 3 and result.n_components_f == 3
    refs = {name: norm_spectrum(GRID, values) for name, values in fe_basis.items()}
    table = target_transform(result, refs, n_components=3).set_index("reference")
    assert table.loc[list(MIXED), "spoil"].max() < 3.0  # Malinowski: acceptable
    assert table.loc["fe3c_rt", "spoil"] > 6.0  # unacceptable: Fe3C is not in the series
    assert table.loc["fe3c_rt", "chisqr"] > 20 * table.loc[list(MIXED), "chisqr"].max()


@pytest.mark.shared_data
@pytest.mark.parametrize("init", ["simplisma", "references", "pca-varimax"])
def test_mcr_recovers_fractions_of_real_mixtures(fe_basis, init):
    concentrations, matrix, data = _series(fe_basis, MIXED, noise=0.005)
    spectrum = series(GRID, data)
    if init == "references":
        refs = {name: norm_spectrum(GRID, fe_basis[name]) for name in MIXED}
        result = mcr_als(spectrum, init=refs, emin=7090.0, emax=7240.0)
    else:
        result = mcr_als(spectrum, 3, init=init)
    order = list(_match(result.spectra, matrix[:, np.isin(GRID, result.energy)]))
    assert result.converged and result.lack_of_fit < 1.0
    # varimax starts away from the truth and ends elsewhere on the (equally good) band of
    # rotations that non-negativity and closure leave open: 3.3 percentage points here
    tolerance = 0.04 if init == "pca-varimax" else 0.02
    assert np.abs(result.concentrations[:, order] - concentrations).max() < tolerance
