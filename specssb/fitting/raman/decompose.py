"""Decomposition and clustering of Raman maps: PCA, NMF and k-means.

Each function takes a map (a :class:`~specssb.spectrum.Spectrum` with leading dims; every
spectrum it holds is one sample) and returns the component spectra as a Spectrum with dims
``("component",)`` or ``("cluster",)`` on the map's axis, and one
:class:`~specssb.fitting.raman.bands.QuantityMap` per component (scores, abundances) or a
label map, on the map's dims and coordinates. Pixels holding NaN (cells a map never measured)
are left out; their scores are NaN and their label is -1. Everything is deterministic: the
same input gives the same output on every run.

:func:`pca`
    Principal components by singular value decomposition of the mean-centred data. Signs are
    fixed so that each component's largest-magnitude loading is positive.
:func:`nmf`
    Non-negative matrix factorization ``X ≈ W H`` by hierarchical alternating least squares
    (HALS; Cichocki & Phan 2009, Gillis & Glineur 2012), started from NNDSVDa (Boutsidis &
    Gallopoulos 2008): no random start. Negative data (noise after a baseline) are clipped to
    zero, and the clipped fraction is reported. Components are scaled to unit maximum, so
    abundances are in signal units (the height each component contributes).
:func:`kmeans`
    k-means clustering: k-means++ seeding from a fixed seed, Lloyd iterations, best of
    ``n_init`` starts by inertia; clusters are numbered by decreasing size. ``normalize=True``
    clusters spectra by shape (each divided by its Euclidean norm) rather than intensity. The
    cluster spectra returned are the means of the *input* spectra in each cluster.

References
----------
A. Cichocki, A.-H. Phan, IEICE Trans. Fundam. E92-A, 708 (2009) (HALS).
N. Gillis, F. Glineur, Neural Comput. 24, 1085 (2012) (accelerated HALS).
C. Boutsidis, E. Gallopoulos, Pattern Recognit. 41, 1350 (2008) (NNDSVD).
D. Arthur, S. Vassilvitskii, Proc. SODA 2007, 1027 (k-means++).
S. Lloyd, IEEE Trans. Inf. Theory 28, 129 (1982).

Examples
--------
>>> import numpy as np
>>> from specssb.spectrum import Axis, Spectrum
>>> x = np.linspace(300.0, 700.0, 201)
>>> a, b = np.exp(-((x - 425) / 8) ** 2), np.exp(-((x - 595) / 8) ** 2)
>>> weights = np.linspace(0, 1, 30)
>>> data = (weights[:, None] * a + (1 - weights)[:, None] * b).reshape(5, 6, -1)
>>> raman = Spectrum(axis=Axis("raman_shift", "cm-1", x), data=data, technique="raman",
...                  signal="counts", dims=("y", "x"))
>>> result = pca(raman, 2)
>>> round(float(result.explained_variance_ratio[0]), 6)
1.0
>>> kmeans(raman, 2).labels.values.ravel()[[0, -1]].tolist()
[0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from specssb.fitting.raman.bands import QuantityMap
from specssb.spectrum import Coord, Spectrum

__all__ = ["Clustering", "Decomposition", "kmeans", "nmf", "pca"]


@dataclass(frozen=True, eq=False)
class Decomposition:
    """Component spectra and their maps.

    Attributes
    ----------
    method : str
        ``"pca"`` or ``"nmf"``.
    components : Spectrum
        Shape ``(k, n)``, dims ``("component",)`` (coordinate 1 … k), the map's axis. PCA:
        orthonormal loadings; NMF: non-negative spectra of unit maximum.
    maps : tuple of QuantityMap
        One per component: ``"pc1"``… quantity ``score`` (PCA) or ``"c1"``… quantity
        ``abundance`` (NMF), on the map's dims.
    mean : Spectrum or None
        The mean spectrum subtracted before PCA (None for NMF).
    explained_variance_ratio : ndarray of shape (k,) or None
        PCA: each component's share of the total variance.
    relative_error : float
        ``‖X − X̂‖_F / ‖X‖_F`` of the rank-k reconstruction (PCA: of the centred data).
    n_iterations : int
        NMF iterations run (0 for PCA).
    clipped_fraction : float
        NMF: fraction of data values below zero that were clipped to zero.
    """

    method: str
    components: Spectrum
    maps: tuple[QuantityMap, ...]
    mean: Spectrum | None
    explained_variance_ratio: np.ndarray | None
    relative_error: float
    n_iterations: int = 0
    clipped_fraction: float = 0.0

    @property
    def scores(self) -> np.ndarray:
        """All maps stacked: shape ``(k, *leading)``."""
        return np.stack([m.values for m in self.maps])


@dataclass(frozen=True, eq=False)
class Clustering:
    """k-means clusters of a map.

    Attributes
    ----------
    labels : QuantityMap
        Cluster number of each pixel (0 … k−1, by decreasing size; −1 where not analysed).
    centers : Spectrum
        Mean input spectrum of each cluster, shape ``(k, n)``, dims ``("cluster",)``.
    counts : ndarray of shape (k,)
        Pixels per cluster.
    inertia : float
        Sum of squared distances of the (normalized, when asked) spectra to their centre.
    """

    labels: QuantityMap
    centers: Spectrum
    counts: np.ndarray
    inertia: float

    def mask(self, cluster: int) -> np.ndarray:
        """Boolean map of the pixels in ``cluster``."""
        return self.labels.values == cluster


# ---------------------------------------------------------------------- helpers
def _rows(spectrum: Spectrum, minimum: int) -> tuple[np.ndarray, np.ndarray]:
    """The finite spectra as rows (m, n) and the mask of the pixels they come from."""
    if np.iscomplexobj(spectrum.data):
        raise ValueError("complex data (an FID?) must be processed first")
    rows = np.asarray(spectrum.data, float).reshape(-1, spectrum.axis.size)
    usable = np.isfinite(rows).all(axis=1)
    if usable.sum() < minimum:
        raise ValueError(f"{int(usable.sum())} spectra with finite data; need at least {minimum}")
    return rows[usable], usable


def _check_k(k: int, m: int, n: int, what: str) -> None:
    if not 1 <= k <= min(m, n):
        raise ValueError(f"{what} must be between 1 and min(spectra, points) = {min(m, n)}, got {k}")


def _laid_out(spectrum: Spectrum, usable: np.ndarray, values: np.ndarray, fill: float) -> np.ndarray:
    out = np.full(usable.size, fill, dtype=np.result_type(values, type(fill)))
    out[usable] = values
    return out.reshape(spectrum.leading_shape)


def _component_spectrum(spectrum: Spectrum, data: np.ndarray, dim: str, operation: str,
                        parameters: dict) -> Spectrum:
    k = data.shape[0]
    return spectrum.with_step(operation, parameters, data=data, dims=(dim,),
                              coords={dim: Coord(dim, np.arange(1, k + 1) if dim == "component"
                                                 else np.arange(k), "1")})


# ---------------------------------------------------------------------- PCA
def pca(spectrum: Spectrum, n_components: int) -> Decomposition:
    """Principal component analysis of the spectra of a map.

    Parameters
    ----------
    spectrum : Spectrum
        A map or series (every spectrum held is one sample).
    n_components : int
        Components kept (1 … min(spectra, points)).

    Returns
    -------
    Decomposition
        ``components`` (orthonormal loadings), score maps ``pc1`` …, ``mean``,
        ``explained_variance_ratio``, ``relative_error``.

    Raises
    ------
    ValueError
        Fewer than 2 finite spectra, or ``n_components`` out of range.
    """
    X, usable = _rows(spectrum, 2)
    _check_k(n_components, *X.shape, "n_components")
    mean = X.mean(axis=0)
    centred = X - mean
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    k = n_components
    signs = np.sign(vt[np.arange(k), np.argmax(np.abs(vt[:k]), axis=1)])
    signs[signs == 0] = 1.0
    loadings = vt[:k] * signs[:, None]
    scores = u[:, :k] * s[:k] * signs
    total = float((s**2).sum())
    ratio = s[:k] ** 2 / total if total > 0 else np.zeros(k)
    residual = float(np.sqrt(max(total - (s[:k] ** 2).sum(), 0.0) / total)) if total > 0 else 0.0
    maps = tuple(
        QuantityMap(f"pc{i + 1}", "score", spectrum.signal_unit,
                    _laid_out(spectrum, usable, scores[:, i], np.nan), spectrum.dims, dict(spectrum.coords))
        for i in range(k))
    components = _component_spectrum(spectrum, loadings, "component", "pca",
                                     {"n_components": k, "n_spectra": int(X.shape[0])})
    components = components.replace(signal="intensity", signal_unit="1")
    mean_spectrum = spectrum.with_step("mean_spectrum", {"n_spectra": int(X.shape[0])}, data=mean,
                                       dims=(), coords={})
    return Decomposition("pca", components, maps, mean_spectrum, ratio, residual)


# ---------------------------------------------------------------------- NMF
def _nndsvda(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """NNDSVD start (Boutsidis & Gallopoulos 2008) with zeros filled by the data mean ("a")."""
    u, s, vt = np.linalg.svd(X, full_matrices=False)
    W = np.zeros((X.shape[0], k))
    H = np.zeros((k, X.shape[1]))
    W[:, 0] = np.sqrt(s[0]) * np.abs(u[:, 0])
    H[0] = np.sqrt(s[0]) * np.abs(vt[0])
    for j in range(1, k):
        x, y = u[:, j], vt[j]
        xp, xn, yp, yn = np.maximum(x, 0), np.maximum(-x, 0), np.maximum(y, 0), np.maximum(-y, 0)
        norms = [np.linalg.norm(v) for v in (xp, yp, xn, yn)]
        positive, negative = norms[0] * norms[1], norms[2] * norms[3]
        if positive >= negative:
            uu, vv, sigma = xp / max(norms[0], 1e-300), yp / max(norms[1], 1e-300), positive
        else:
            uu, vv, sigma = xn / max(norms[2], 1e-300), yn / max(norms[3], 1e-300), negative
        W[:, j] = np.sqrt(s[j] * sigma) * uu
        H[j] = np.sqrt(s[j] * sigma) * vv
    fill = X.mean()
    W[W == 0] = fill
    H[H == 0] = fill
    return W, H


def nmf(
    spectrum: Spectrum,
    n_components: int,
    *,
    max_iterations: int = 1000,
    tolerance: float = 1e-6,
) -> Decomposition:
    """Non-negative matrix factorization of the spectra of a map (HALS from NNDSVDa).

    Parameters
    ----------
    spectrum : Spectrum
        A map or series, baseline-corrected (NMF assumes additive, non-negative parts).
    n_components : int
        Number of components k.
    max_iterations : int, default 1000
        HALS sweeps at most.
    tolerance : float, default 1e-6
        Stop when the relative error changes by less than this between sweeps.

    Returns
    -------
    Decomposition
        ``components`` (non-negative, unit maximum), abundance maps ``c1`` …,
        ``relative_error``, ``n_iterations``, ``clipped_fraction``.

    Raises
    ------
    ValueError
        Fewer than 2 finite spectra, ``n_components`` out of range, or all-zero data.
    """
    X, usable = _rows(spectrum, 2)
    _check_k(n_components, *X.shape, "n_components")
    clipped = float((X < 0).mean())
    X = np.clip(X, 0.0, None)
    norm_x = float(np.linalg.norm(X))
    if norm_x == 0:
        raise ValueError("the data are all zero (or negative): nothing to factorize")
    k = n_components
    W, H = _nndsvda(X, k)
    eps = 1e-12 * X.max()
    previous, error, iteration = np.inf, np.inf, 0
    for iteration in range(1, max_iterations + 1):
        WtX, WtW = W.T @ X, W.T @ W
        for j in range(k):
            H[j] = np.maximum(eps, H[j] + (WtX[j] - WtW[j] @ H) / max(WtW[j, j], 1e-300))
        XHt, HHt = X @ H.T, H @ H.T
        for j in range(k):
            W[:, j] = np.maximum(eps, W[:, j] + (XHt[:, j] - W @ HHt[:, j]) / max(HHt[j, j], 1e-300))
        # ‖X − WH‖² = ‖X‖² − 2 tr(Wᵀ X Hᵀ) + tr(WᵀW HHᵀ), without forming WH
        squared = norm_x**2 - 2 * np.sum(W * (X @ H.T)) + np.sum((W.T @ W) * (H @ H.T))
        error = float(np.sqrt(max(squared, 0.0)) / norm_x)
        if abs(previous - error) < tolerance:
            break
        previous = error
    scale = H.max(axis=1)
    scale[scale == 0] = 1.0
    H, W = H / scale[:, None], W * scale[None, :]
    maps = tuple(
        QuantityMap(f"c{i + 1}", "abundance", spectrum.signal_unit,
                    _laid_out(spectrum, usable, W[:, i], np.nan), spectrum.dims, dict(spectrum.coords))
        for i in range(k))
    components = _component_spectrum(
        spectrum, H, "component", "nmf",
        {"n_components": k, "method": "hals", "init": "nndsvda", "iterations": iteration,
         "tolerance": tolerance, "clipped_fraction": clipped})
    components = components.replace(signal="intensity", signal_unit="1")
    return Decomposition("nmf", components, maps, None, None, error, iteration, clipped)


# ---------------------------------------------------------------------- k-means
def _squared_distances(X: np.ndarray, centers: np.ndarray, x_norms: np.ndarray) -> np.ndarray:
    d = x_norms[:, None] - 2.0 * X @ centers.T + (centers**2).sum(axis=1)[None, :]
    return np.maximum(d, 0.0)


def _plus_plus(X: np.ndarray, k: int, rng: np.random.Generator, x_norms: np.ndarray) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007)."""
    centers = np.empty((k, X.shape[1]))
    centers[0] = X[rng.integers(X.shape[0])]
    closest = _squared_distances(X, centers[:1], x_norms)[:, 0]
    for j in range(1, k):
        total = closest.sum()
        index = rng.choice(X.shape[0], p=closest / total) if total > 0 else rng.integers(X.shape[0])
        centers[j] = X[index]
        closest = np.minimum(closest, _squared_distances(X, centers[j : j + 1], x_norms)[:, 0])
    return centers


def _lloyd(X: np.ndarray, centers: np.ndarray, x_norms: np.ndarray,
           max_iterations: int) -> tuple[np.ndarray, np.ndarray, float]:
    labels = np.full(X.shape[0], -1)
    for _ in range(max_iterations):
        distances = _squared_distances(X, centers, x_norms)
        new = distances.argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(centers.shape[0]):
            members = labels == j
            if members.any():
                centers[j] = X[members].mean(axis=0)
            else:  # an empty cluster takes the spectrum farthest from its centre
                far = int(distances[np.arange(X.shape[0]), labels].argmax())
                centers[j] = X[far]
    distances = _squared_distances(X, centers, x_norms)
    labels = distances.argmin(axis=1)
    return labels, centers, float(distances[np.arange(X.shape[0]), labels].sum())


def kmeans(
    spectrum: Spectrum,
    n_clusters: int,
    *,
    normalize: bool = False,
    seed: int = 0,
    n_init: int = 4,
    max_iterations: int = 300,
) -> Clustering:
    """k-means clustering of the spectra of a map (k-means++ seeding, Lloyd iterations).

    Parameters
    ----------
    spectrum : Spectrum
        A map or series.
    n_clusters : int
        Number of clusters k.
    normalize : bool, default False
        Divide each spectrum by its Euclidean norm first: cluster by band shape and position,
        not by intensity.
    seed : int, default 0
        Seed of the k-means++ draws (the result depends only on the data and the seed).
    n_init : int, default 4
        Starts; the one with the lowest inertia is kept.
    max_iterations : int, default 300
        Lloyd iterations per start at most.

    Returns
    -------
    Clustering
        ``labels`` map (clusters numbered by decreasing size, ties by first pixel), cluster
        mean spectra ``centers`` (of the input data), ``counts``, ``inertia``.

    Raises
    ------
    ValueError
        ``n_clusters`` out of range or ``n_init < 1``.
    """
    X, usable = _rows(spectrum, 1)
    _check_k(n_clusters, X.shape[0], X.shape[0], "n_clusters")
    if n_init < 1:
        raise ValueError(f"n_init must be at least 1, got {n_init}")
    features = X
    if normalize:
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        features = X / np.where(norms > 0, norms, 1.0)
    x_norms = (features**2).sum(axis=1)
    rng = np.random.default_rng(seed)
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for _ in range(n_init):
        start = _plus_plus(features, n_clusters, rng, x_norms)
        result = _lloyd(features, start, x_norms, max_iterations)
        if best is None or result[2] < best[2]:
            best = result
    assert best is not None
    labels, _, inertia = best
    counts = np.bincount(labels, minlength=n_clusters)
    first_pixel = np.array([np.flatnonzero(labels == j)[0] if counts[j] else labels.size
                            for j in range(n_clusters)])
    order = np.lexsort((first_pixel, -counts))  # by decreasing size, then by first pixel
    renumber = np.empty(n_clusters, dtype=int)
    renumber[order] = np.arange(n_clusters)
    labels = renumber[labels]
    counts = counts[order]
    means = np.array([X[labels == j].mean(axis=0) if counts[j] else np.full(X.shape[1], np.nan)
                      for j in range(n_clusters)])
    label_map = QuantityMap("cluster", "label", "1", _laid_out(spectrum, usable, labels, -1),
                            spectrum.dims, dict(spectrum.coords))
    centers = _component_spectrum(spectrum, means, "cluster", "kmeans",
                                  {"n_clusters": n_clusters, "normalize": normalize, "seed": seed,
                                   "n_init": n_init, "inertia": inertia,
                                   "counts": counts.tolist()})
    return Clustering(label_map, centers, counts, inertia)
