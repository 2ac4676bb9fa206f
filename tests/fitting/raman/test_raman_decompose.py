"""PCA, NMF (HALS from NNDSVDa) and k-means of maps (specssb.fitting.raman.decompose), on
synthetic mixtures whose pure spectra and abundances are known."""

from __future__ import annotations

import numpy as np
import pytest

from specssb.fitting.raman.decompose import kmeans, nmf, pca
from specssb.spectrum import Axis, Coord, Spectrum

X = np.linspace(300.0, 700.0, 401)


def band(center, fwhm):
    return 1.0 / (1 + ((X - center) / (fwhm / 2)) ** 2)


PURE = np.array([band(425, 9) + 0.3 * band(575, 20),  # "argyrodite"
                 0.6 * band(485, 18) + band(595, 14),  # "LCO"
                 band(374, 8) + 0.8 * band(407, 10)])  # "interphase"


def mixture_map(rng, noise=0.01, nan_pixel=False):
    ny, nx = 12, 15
    yy, xx = np.mgrid[0:ny, 0:nx]
    lco = np.clip(1.2 - np.hypot(yy - 5, xx - 6) / 4, 0, 1)
    interphase = np.exp(-((np.hypot(yy - 5, xx - 6) - 4.5) ** 2) / 2) * 0.5
    abundances = np.stack([1 - lco, lco, interphase])  # (3, ny, nx)
    data = np.einsum("kyx,kn->yxn", abundances * 1000, PURE) + rng.normal(0, noise * 1000, (ny, nx, X.size))
    if nan_pixel:
        data[0, 0] = np.nan
    spectrum = Spectrum(axis=Axis("raman_shift", "cm-1", X), data=data, technique="raman",
                        signal="counts", dims=("y", "x"),
                        coords={"y": Coord("y", np.arange(ny) * 0.5, "um"),
                                "x": Coord("x", np.arange(nx) * 0.5, "um")})
    return spectrum, abundances


def test_pca_finds_the_rank_and_orthonormal_loadings():
    spectrum, _ = mixture_map(np.random.default_rng(0), noise=0.002)
    result = pca(spectrum, 4)
    ratio = result.explained_variance_ratio
    # three sources, but argyrodite + LCO = 1 everywhere: rank 2 after centring, then noise
    assert ratio[:2].sum() > 0.999 and ratio[2] < 1e-4 and ratio[2] / ratio[3] < 1.5
    loadings = result.components.data
    np.testing.assert_allclose(loadings @ loadings.T, np.eye(4), atol=1e-10)
    assert result.components.dims == ("component",) and result.components.axis == spectrum.axis
    assert result.maps[0].name == "pc1" and result.maps[0].dims == ("y", "x")
    # scores × loadings + mean rebuild the data to the noise level
    rebuilt = np.einsum("kyx,kn->yxn", result.scores, loadings) + result.mean.data
    assert np.abs(rebuilt - spectrum.data).std() < 2.5
    assert result.components.history[-1].operation == "pca"
    assert np.all(np.abs(loadings).argmax(axis=1) == loadings.argmax(axis=1))  # sign convention


def test_nmf_recovers_pure_spectra_and_abundances():
    spectrum, abundances = mixture_map(np.random.default_rng(1))
    result = nmf(spectrum, 3)
    clipped = np.clip(spectrum.data, 0, None)
    noise_floor = 10.0 * np.sqrt(clipped.size) / np.linalg.norm(clipped)  # noise σ = 10 counts
    assert 0.8 * noise_floor < result.relative_error < noise_floor and result.n_iterations > 1
    components = result.components.data
    assert np.all(components >= 0) and np.allclose(components.max(axis=1), 1.0)
    pure = PURE / PURE.max(axis=1, keepdims=True)
    match = np.corrcoef(np.vstack([components, pure]))[:3, 3:]  # (found, true)
    best = match.argmax(axis=0)
    assert sorted(best) == [0, 1, 2] and match.max(axis=0).min() > 0.98
    for true, found in enumerate(best):
        fitted = result.maps[found].values.ravel()
        expected = abundances[true].ravel() * 1000 * PURE[true].max()
        assert np.corrcoef(fitted, expected)[0, 1] > 0.98
    again = nmf(spectrum, 3)
    np.testing.assert_array_equal(again.components.data, components)  # deterministic start


def test_nmf_reports_clipped_negative_data():
    spectrum, _ = mixture_map(np.random.default_rng(2), noise=0.05)
    result = nmf(spectrum, 3, max_iterations=50)
    assert 0 < result.clipped_fraction < 0.5
    with pytest.raises(ValueError, match="all zero"):
        nmf(spectrum.replace(data=np.zeros(spectrum.shape)), 2)
    with pytest.raises(ValueError, match="n_components"):
        nmf(spectrum, 0)


def test_kmeans_separates_regions_and_numbers_clusters_by_size():
    spectrum, abundances = mixture_map(np.random.default_rng(3), nan_pixel=True)
    clusters = kmeans(spectrum, 2, normalize=True)
    labels = clusters.labels.values
    assert labels[0, 0] == -1 and clusters.counts.sum() == labels.size - 1
    assert clusters.counts[0] >= clusters.counts[1]
    lco_cluster = labels[5, 6]  # the particle centre
    clear = (labels >= 0) & ((abundances[1] > 0.7) | (abundances[1] < 0.3))  # away from the edge
    agree = (labels == lco_cluster) == (abundances[1] > 0.5)
    assert agree[clear].all() and clear.sum() > 100
    centre = clusters.centers.data[lco_cluster]
    assert X[centre.argmax()] == pytest.approx(595, abs=1)  # the cluster mean is an LCO spectrum
    assert clusters.centers.dims == ("cluster",)
    np.testing.assert_array_equal(kmeans(spectrum, 2, normalize=True).labels.values, labels)
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans(spectrum, 0)


def test_kmeans_finds_discrete_phases_whatever_the_seed():
    rng = np.random.default_rng(4)
    truth = rng.integers(0, 3, (10, 10))
    data = 1000 * PURE[truth] + rng.normal(0, 20, (10, 10, X.size))
    spectrum = Spectrum(axis=Axis("raman_shift", "cm-1", X), data=data, technique="raman",
                        signal="counts", dims=("y", "x"))
    for seed in (0, 7, 123):
        clusters = kmeans(spectrum, 3, seed=seed)
        labels = clusters.labels.values
        for phase in range(3):  # each true phase is exactly one cluster
            assert len(np.unique(labels[truth == phase])) == 1
        assert len(np.unique(labels)) == 3
        sizes = np.bincount(truth.ravel())
        np.testing.assert_array_equal(clusters.counts, np.sort(sizes)[::-1])
