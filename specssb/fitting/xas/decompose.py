"""Factor analysis of XAS series: PCA (number of components, target transformation) and MCR-ALS.

Both work on the data matrix of a stack of normalized spectra on one energy grid, inside an
optional fit window (``emin``/``emax`` relative to ``e0`` when given, else absolute, inclusive,
as in :func:`specssb.fitting.xas.lcf.fit_lcf`).

PCA
    SVD of the (m spectra × n energies) matrix, raw (default, as in Malinowski's factor
    analysis) or mean-centred. In Malinowski's notation the data matrix is r × c with r = n
    energies and c = m spectra; ``s = min(r, c)`` (``min(r, c − 1)`` after centring) and
    ``l = max(r, c)``. The eigenvalues are the squared singular values ``λ_j``.

    * real error ``RE(n) = sqrt(Σ_{j>n} λ_j / (l (s − n)))`` and the indicator function
      ``IND(n) = RE(n) / (s − n)²``; its minimum estimates the number of components
      (Malinowski, Anal. Chem. 49 (1977) 612).
    * the F-test on reduced eigenvalues (Malinowski, J. Chemometrics 3 (1988) 49; *Factor
      Analysis in Chemistry*, 3rd ed. (2002) §4.5): eigenvalue n against the pool of the
      smaller ones,
      ``F(1, s − n) = Σ_{j>n} (r − j + 1)(c − j + 1) · λ_n
      / ((r − n + 1)(c − n + 1) Σ_{j>n} λ_j)``;
      the number of components is the number of leading eigenvalues significant at level
      ``alpha`` (tested from the largest down, stopping at the first that is not).
    * target transformation of a candidate reference ``t``: its projection onto the first n
      components (``mean + V_n V_n^T (t − mean)`` when centred), with the apparent error
      ``AET = rms(t − t̂)``, the error expected from the data ``REP = RE(n) |T|`` (``T`` the
      transformation vector in the basis ``V_n S_n``), ``EET = sqrt(AET² − REP²)`` and
      ``SPOIL = EET / REP`` (Malinowski, Anal. Chim. Acta 103 (1978) 339: < 3 good, 3–6
      acceptable, > 6 reject), plus chi-square ``Σ (t − t̂)²`` and R-factor ``chisqr / Σ t²``.

MCR-ALS
    ``D ≈ C Sᵀ`` (C: m × k concentrations, S: n × k spectra), alternating least squares in
    which every half-step is solved exactly: concentrations of each spectrum by the batched
    non-negative, sum-to-one solver of LCF (:mod:`specssb.fitting.xas._linear`), spectra at
    each energy by the same solver without the sum constraint. Both half-steps are exact
    minimizers, so the sum of squared residuals never increases; iteration stops when its
    relative decrease falls below ``tol`` (``converged=True``) or after ``max_iter``
    iterations (a :class:`~specssb.errors.ConvergenceWarning`). Initial values: given reference
    spectra; ``"simplisma"``, the purest spectra of the series by SIMPLISMA (Windig & Guilment,
    Anal. Chem. 63 (1991) 1425) applied to the spectra as variables; or ``"pca-varimax"``, the
    first k left singular vectors (unit-length scores) rotated by varimax (Kaiser, Psychometrika
    23 (1958) 187), sign-fixed, clipped at zero and closed, as initial concentrations. Lack of
    fit is ``100 sqrt(Σ e² / Σ d²)`` % (Tauler's definition, as in
    MCR-ALS GUI and pyMCR). Closure removes the scale ambiguity; rotational ambiguity remains
    unless the series holds (nearly) pure spectra or zero-concentration windows, so check the
    recovered spectra against references before reading concentrations as fractions.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, ConvergenceWarning, FitError
from specssb.fitting.xas._linear import (
    best_subsets,
    check_basis_size,
    check_finite,
    energy_window,
    interpolate_references,
    leading_labels,
    sorted_energy,
)
from specssb.spectrum import Spectrum

__all__ = ["MCRResult", "PCAResult", "mcr_als", "pca", "target_transform"]


# ------------------------------------------------------------------------------- PCA
@dataclass(frozen=True, eq=False)
class PCAResult:
    """Principal components of a series and the statistics for their number.

    Attributes
    ----------
    energy : ndarray of shape (n,), eV
    data : ndarray of shape (m, n)
    centered : bool
    mean : ndarray of shape (n,)
        Mean spectrum subtracted (zeros when not centred).
    eigenvalues : ndarray of shape (s,)
        Squared singular values, largest first.
    components : ndarray of shape (s, n)
        Orthonormal abstract spectra (right singular vectors).
    scores : ndarray of shape (m, s)
        ``U S``: data (minus mean) = ``scores @ components``.
    real_error, ind, f_statistic, f_pvalue : ndarray of shape (s - 1,)
        For n = 1 … s − 1 components.
    n_components_ind : int
        Position of the IND minimum.
    n_components_f : int
        Number of eigenvalues significant by the F-test at level ``alpha``.
    alpha : float
    """

    energy: np.ndarray
    data: np.ndarray
    centered: bool
    mean: np.ndarray
    eigenvalues: np.ndarray
    components: np.ndarray
    scores: np.ndarray
    real_error: np.ndarray
    ind: np.ndarray
    f_statistic: np.ndarray
    f_pvalue: np.ndarray
    n_components_ind: int
    n_components_f: int
    alpha: float

    def scree(self) -> pd.DataFrame:
        """One row per component: ``component`` (1-based), ``eigenvalue``, ``variance_ratio``,
        ``cumulative``, ``real_error``, ``ind``, ``f_statistic``, ``f_pvalue`` (NaN for the last)."""
        s = self.eigenvalues.size
        ratio = self.eigenvalues / self.eigenvalues.sum()
        pad = lambda a: np.concatenate([a, np.full(s - a.size, np.nan)])  # noqa: E731
        return pd.DataFrame({
            "component": np.arange(1, s + 1), "eigenvalue": self.eigenvalues,
            "variance_ratio": ratio, "cumulative": np.cumsum(ratio),
            "real_error": pad(self.real_error), "ind": pad(self.ind),
            "f_statistic": pad(self.f_statistic), "f_pvalue": pad(self.f_pvalue),
        })

    def reconstruct(self, n_components: int) -> np.ndarray:
        """The data rebuilt from the first ``n_components``, shape (m, n)."""
        n = _check_n(n_components, self.eigenvalues.size)
        return self.mean + self.scores[:, :n] @ self.components[:n]


def pca(
    spectrum: Spectrum,
    *,
    emin: float | None = None,
    emax: float | None = None,
    e0: float | None = None,
    center: bool = False,
    alpha: float = 0.05,
) -> PCAResult:
    """Principal component analysis of a stack of normalized spectra.

    Parameters
    ----------
    spectrum : Spectrum
        A stack (at least 3 spectra) on an ``energy`` axis.
    emin, emax, e0 : float, optional
        Window (see the module docstring).
    center : bool, default False
        Subtract the mean spectrum first (then one degree of freedom fewer in IND and F).
    alpha : float, default 0.05
        Significance level of the F-test.

    Returns
    -------
    PCAResult

    Raises
    ------
    FitError
        Fewer than 3 spectra or points, NaN in the window.
    """
    energy, data = _window(spectrum, emin, emax, e0, what="PCA")
    m, n = data.shape
    if m < 3 or n < 3:
        raise FitError(f"PCA needs at least 3 spectra and 3 points in the window, got {m} × {n}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must lie in (0, 1), got {alpha}", key="alpha")
    mean = data.mean(axis=0) if center else np.zeros(n)
    u, singular, vt = np.linalg.svd(data - mean, full_matrices=False)
    columns = m - 1 if center else m
    s = min(n, columns)
    eigenvalues = singular[:s] ** 2
    real_error, ind = _ind(eigenvalues, rows=n, columns=columns)
    f_statistic, f_pvalue = _f_test(eigenvalues, rows=n, columns=columns)
    significant = f_pvalue < alpha
    n_f = int(np.argmin(significant)) if not significant.all() else int(significant.size)
    return PCAResult(
        energy=energy, data=data, centered=center, mean=mean, eigenvalues=eigenvalues,
        components=vt[:s], scores=u[:, :s] * singular[:s], real_error=real_error, ind=ind,
        f_statistic=f_statistic, f_pvalue=f_pvalue, n_components_ind=int(np.argmin(ind)) + 1,
        n_components_f=n_f, alpha=alpha,
    )


def target_transform(
    result: PCAResult,
    references: Mapping[str, Spectrum],
    *,
    n_components: int,
    interpolation: str = "linear",
) -> pd.DataFrame:
    """Target-transform candidate references with the first ``n_components`` of a PCA.

    Parameters
    ----------
    result : PCAResult
    references : Mapping of str to Spectrum
        Candidate spectra, interpolated onto ``result.energy`` (they must span it).
    n_components : int
    interpolation : {"linear", "cubic"}

    Returns
    -------
    pandas.DataFrame
        One row per reference: ``reference``, ``chisqr``, ``rfactor``, ``aet``, ``rep``,
        ``eet``, ``spoil`` (see the module docstring; ``eet`` and ``spoil`` are 0 when the
        target is reproduced within the data's own error).
    """
    n = _check_n(n_components, result.eigenvalues.size - 1)
    labels, targets = interpolate_references(references, result.energy,
                                             interpolation=interpolation, what="target transform")
    basis = result.components[:n]
    singular = np.sqrt(result.eigenvalues[:n])
    centred = targets - result.mean
    coefficients = centred @ basis.T
    predicted = result.mean + coefficients @ basis
    residual = targets - predicted
    chisqr = np.einsum("ij,ij->i", residual, residual)
    aet = np.sqrt(chisqr / result.energy.size)
    rep = result.real_error[n - 1] * np.linalg.norm(coefficients / singular, axis=1)
    eet = np.sqrt(np.maximum(aet**2 - rep**2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        spoil = np.where(rep > 0, eet / rep, np.inf)
    return pd.DataFrame({"reference": labels, "chisqr": chisqr,
                         "rfactor": chisqr / np.einsum("ij,ij->i", targets, targets),
                         "aet": aet, "rep": rep, "eet": eet, "spoil": spoil})


def _ind(eigenvalues: np.ndarray, *, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    s, large = eigenvalues.size, max(rows, columns)
    n = np.arange(1, s)
    tail = np.cumsum(eigenvalues[::-1])[::-1][1:]  # Σ_{j>n} λ_j for n = 1 … s-1
    real_error = np.sqrt(tail / (large * (s - n)))
    return real_error, real_error / (s - n) ** 2


def _f_test(eigenvalues: np.ndarray, *, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import f as f_distribution

    s = eigenvalues.size
    j = np.arange(1, s + 1)
    dof = (rows - j + 1.0) * (columns - j + 1.0)
    pooled_lambda = np.cumsum(eigenvalues[::-1])[::-1][1:]
    pooled_dof = np.cumsum(dof[::-1])[::-1][1:]
    n = np.arange(1, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = pooled_dof * eigenvalues[:-1] / (dof[:-1] * pooled_lambda)
    statistic = np.where(np.isfinite(statistic), statistic, np.inf)
    return statistic, f_distribution.sf(statistic, 1, s - n)


def _check_n(n_components: int, largest: int) -> int:
    if not 1 <= int(n_components) <= largest:
        raise ConfigError(f"n_components must be 1 to {largest}, got {n_components}",
                          key="n_components")
    return int(n_components)


# --------------------------------------------------------------------------- MCR-ALS
@dataclass(frozen=True, eq=False)
class MCRResult:
    """Concentrations and spectra from MCR-ALS.

    Attributes
    ----------
    labels : tuple of str
        Component names (the reference labels when initialised from references).
    energy : ndarray of shape (n,), eV
    data : ndarray of shape (m, n)
    concentrations : ndarray of shape (m, k)
    spectra : ndarray of shape (k, n)
    lack_of_fit : float
        ``100 sqrt(Σ e² / Σ d²)``, percent.
    explained_variance : float
        ``100 (1 − Σ e² / Σ d²)``, percent.
    n_iter : int
    converged : bool
    sse_history : ndarray
        Sum of squared residuals after each iteration.
    parameters : dict
        Options of the run, for provenance.
    table : pandas.DataFrame
        Tidy: ``spectrum``, one column per leading dim and coordinate, ``component``,
        ``concentration``, ``lack_of_fit`` (per spectrum, %), ``converged``.
    """

    labels: tuple[str, ...]
    energy: np.ndarray
    data: np.ndarray
    concentrations: np.ndarray
    spectra: np.ndarray
    lack_of_fit: float
    explained_variance: float
    n_iter: int
    converged: bool
    sse_history: np.ndarray
    parameters: dict[str, Any]
    table: pd.DataFrame = field(repr=False)

    def fitted(self) -> np.ndarray:
        """``concentrations @ spectra``, shape (m, n)."""
        return self.concentrations @ self.spectra

    def curves(self, spectrum: int = 0) -> dict[str, Any]:
        """``energy``, ``data``, ``fit``, ``residual`` and ``components`` (label -> (n,)) of one
        spectrum, for plots."""
        c = self.concentrations[spectrum]
        fit = c @ self.spectra
        return {"energy": self.energy, "data": self.data[spectrum], "fit": fit,
                "residual": self.data[spectrum] - fit,
                "components": {label: w * row for label, w, row in zip(self.labels, c, self.spectra)}}


def mcr_als(
    spectrum: Spectrum,
    n_components: int | None = None,
    *,
    init: str | Mapping[str, Spectrum] = "simplisma",
    emin: float | None = None,
    emax: float | None = None,
    e0: float | None = None,
    closure: bool = True,
    nonnegative_concentrations: bool = True,
    nonnegative_spectra: bool = True,
    fix_spectra: Sequence[str] = (),
    max_iter: int = 1000,
    tol: float = 1e-7,
    simplisma_offset: float = 0.05,
    interpolation: str = "linear",
) -> MCRResult:
    """Multivariate curve resolution by alternating least squares.

    Parameters
    ----------
    spectrum : Spectrum
        A stack of normalized spectra on an ``energy`` axis.
    n_components : int, optional
        Number of components; required unless ``init`` is a mapping of references (then
        their number). Estimate it with :func:`pca`.
    init : {"simplisma", "pca-varimax"} or Mapping of str to Spectrum
        Initial spectra (references, interpolated onto the data grid) or how to find them.
    emin, emax, e0 : float, optional
        Window (see the module docstring).
    closure : bool, default True
        Concentrations of each spectrum sum to one.
    nonnegative_concentrations, nonnegative_spectra : bool, default True
    fix_spectra : sequence of str
        Labels of reference spectra held fixed (only with references as ``init``).
    max_iter : int, default 1000
    tol : float, default 1e-7
        Converged when the relative decrease of the sum of squared residuals is below this.
    simplisma_offset : float, default 0.05
        SIMPLISMA's noise offset as a fraction of the largest mean.
    interpolation : {"linear", "cubic"}
        For references given as ``init``.

    Returns
    -------
    MCRResult

    Raises
    ------
    FitError
        For NaN in the window or too few spectra/points.
    ConfigError
        For bad options.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` iterations did not converge (the result has ``converged=False``).
    """
    energy, data = _window(spectrum, emin, emax, e0, what="MCR-ALS")
    m, n = data.shape
    if max_iter < 1 or not tol > 0:
        raise ConfigError(f"need max_iter >= 1 and tol > 0, got {max_iter}, {tol}", key="max_iter")
    spectra, concentrations, labels = _initial(data, energy, n_components, init, simplisma_offset,
                                               interpolation)
    k = len(labels)
    check_basis_size(k, what="MCR-ALS")
    if m < k or n <= k:
        raise FitError(f"MCR-ALS: {k} components need at least {k} spectra and {k + 1} points, "
                       f"got {m} × {n}")
    fixed = _fixed_mask(fix_spectra, labels, init)
    total = float(np.einsum("ij,ij->", data, data))
    history: list[float] = []
    converged = False
    for iteration in range(max_iter):
        if spectra is not None:
            concentrations = _solve_concentrations(data, spectra, closure, nonnegative_concentrations)
        spectra = _solve_spectra(data, concentrations, spectra, fixed, nonnegative_spectra)
        residual = data - concentrations @ spectra
        sse = float(np.einsum("ij,ij->", residual, residual))
        history.append(sse)
        if len(history) > 1 and history[-2] - sse <= tol * max(history[-2], 1e-300):
            converged = True
            break
    if not converged:
        warnings.warn(f"MCR-ALS did not converge in {max_iter} iterations (last relative change "
                      f"{_last_change(history):.2e}, tol {tol:g}); results have converged=False",
                      ConvergenceWarning, stacklevel=2)
    # the reported concentrations are the exact constrained fit of the data to the final spectra
    concentrations = _solve_concentrations(data, spectra, closure, nonnegative_concentrations)
    residual = data - concentrations @ spectra
    sse = float(np.einsum("ij,ij->", residual, residual))
    parameters = {"n_components": k, "init": init if isinstance(init, str) else list(labels),
                  "emin": emin, "emax": emax, "e0": e0, "closure": closure,
                  "nonnegative_concentrations": nonnegative_concentrations,
                  "nonnegative_spectra": nonnegative_spectra, "fix_spectra": list(fix_spectra),
                  "max_iter": max_iter, "tol": tol,
                  "window_ev": (float(energy[0]), float(energy[-1]))}
    per_spectrum = 100 * np.sqrt(np.einsum("ij,ij->i", residual, residual)
                                 / np.maximum(np.einsum("ij,ij->i", data, data), 1e-300))
    table = _mcr_table(spectrum, labels, concentrations, per_spectrum, converged)
    return MCRResult(
        labels=tuple(labels), energy=energy, data=data, concentrations=concentrations,
        spectra=spectra, lack_of_fit=100 * np.sqrt(sse / total),
        explained_variance=100 * (1 - sse / total),
        n_iter=len(history), converged=converged, sse_history=np.array(history),
        parameters=parameters, table=table,
    )


def _solve_concentrations(data, spectra, closure, nonnegative):
    gram, projections = spectra @ spectra.T, data @ spectra.T
    norms = np.einsum("ij,ij->i", data, data)
    weights, _, _ = best_subsets(gram, projections, norms, sum_to_one=closure, nonnegative=nonnegative)
    return weights


def _solve_spectra(data, concentrations, previous, fixed, nonnegative):
    k = concentrations.shape[1]
    free = ~fixed
    target = data.T  # (n energies, m spectra): one row per energy point
    if fixed.any():
        target = target - previous[fixed].T @ concentrations[:, fixed].T
    basis = concentrations[:, free].T
    gram, projections = basis @ basis.T, target @ basis.T
    norms = np.einsum("ij,ij->i", target, target)
    solved, _, _ = best_subsets(gram, projections, norms, sum_to_one=False, nonnegative=nonnegative)
    spectra = np.empty((k, data.shape[1])) if previous is None else previous.copy()
    spectra[free] = solved.T
    return spectra


def _initial(data, energy, n_components, init, offset, interpolation):
    if isinstance(init, Mapping):
        labels, spectra = interpolate_references(init, energy, interpolation=interpolation,
                                                 what="MCR-ALS initial spectra")
        if n_components is not None and n_components != len(labels):
            raise ConfigError(f"n_components={n_components} but {len(labels)} initial spectra",
                              key="n_components")
        return spectra, None, labels
    if n_components is None:
        raise ConfigError("n_components is needed unless init is a mapping of references "
                          "(estimate it with pca())", key="n_components")
    k = int(n_components)
    labels = [f"component_{i + 1}" for i in range(k)]
    if not 1 <= k <= min(data.shape):
        raise ConfigError(f"n_components must be 1 to {min(data.shape)}, got {n_components}",
                          key="n_components")
    if init == "simplisma":
        return data[simplisma(data.T, k, offset=offset)].copy(), None, labels
    if init == "pca-varimax":
        # unit-length score vectors (left singular vectors): the large first eigenvalue of
        # raw XAS data would otherwise dominate the rotation
        u = np.linalg.svd(data, full_matrices=False)[0]
        rotated = varimax(u[:, :k])
        rotated *= np.where(rotated.sum(axis=0) < 0, -1.0, 1.0)
        rotated = np.maximum(rotated, 0.0) + 1e-12
        return None, rotated / rotated.sum(axis=1, keepdims=True), labels
    raise ConfigError(f"unknown init {init!r}; choose 'simplisma', 'pca-varimax' or a mapping of "
                      "references", key="init")


def _fixed_mask(fix_spectra, labels, init):
    fixed = np.zeros(len(labels), dtype=bool)
    if fix_spectra:
        if not isinstance(init, Mapping):
            raise ConfigError("fix_spectra needs references as init", key="fix_spectra")
        unknown = sorted(set(fix_spectra) - set(labels))
        if unknown:
            raise ConfigError(f"fix_spectra names unknown labels {unknown}; known: {labels}",
                              key="fix_spectra")
        fixed[[labels.index(label) for label in fix_spectra]] = True
        if fixed.all():
            raise ConfigError("every spectrum is fixed: that is an LCF, use fit_lcf()",
                              key="fix_spectra")
    return fixed


def simplisma(matrix: np.ndarray, n_pure: int, *, offset: float = 0.05) -> list[int]:
    """Indices of the ``n_pure`` purest columns of ``matrix`` (SIMPLISMA).

    Parameters
    ----------
    matrix : ndarray of shape (rows, columns)
        Columns are the variables whose purity is ranked (spectra, for MCR-ALS initial values).
    n_pure : int
    offset : float
        Noise offset as a fraction of the largest column mean (Windig's "f", 1–5 %).

    Returns
    -------
    list of int

    References
    ----------
    Windig, W. & Guilment, J., Anal. Chem. 63 (1991) 1425.
    """
    mean, std = matrix.mean(axis=0), matrix.std(axis=0)
    alpha = offset * float(np.abs(mean).max())
    purity = std / (np.abs(mean) + alpha)
    scaled = matrix / np.sqrt(mean**2 + (std + alpha) ** 2)
    origin = scaled.T @ scaled / matrix.shape[0]
    chosen: list[int] = []
    for _ in range(n_pure):
        weights = np.array([
            np.linalg.det(origin[np.ix_(chosen + [j], chosen + [j])]) if j not in chosen else 0.0
            for j in range(matrix.shape[1])
        ])
        chosen.append(int(np.argmax(weights * purity)))
    return chosen


def varimax(loadings: np.ndarray, *, max_iter: int = 500, tol: float = 1e-10) -> np.ndarray:
    """Varimax rotation (Kaiser 1958) of the columns of ``loadings`` (p × k), returned rotated."""
    p, k = loadings.shape
    rotation = np.eye(k)
    previous = 0.0
    for _ in range(max_iter):
        rotated = loadings @ rotation
        u, singular, vt = np.linalg.svd(
            loadings.T @ (rotated**3 - rotated @ np.diag(np.sum(rotated**2, axis=0)) / p))
        rotation = u @ vt
        if singular.sum() < previous * (1 + tol):
            break
        previous = singular.sum()
    return loadings @ rotation


def _last_change(history: list[float]) -> float:
    if len(history) < 2:
        return float("nan")
    return (history[-2] - history[-1]) / max(history[-2], 1e-300)


def _window(spectrum, emin, emax, e0, *, what):
    energy, rows = sorted_energy(spectrum, label=f"{what} data")
    keep, low, high = energy_window(energy, emin=emin, emax=emax, e0=e0)
    if not keep.any():
        raise FitError(f"{what}: no data point in the window {low:.2f}–{high:.2f} eV; the data "
                       f"span {energy[0]:.2f}–{energy[-1]:.2f} eV")
    data = rows[:, keep]
    check_finite(data, label=f"{what} data", energy=energy[keep])
    return energy[keep], data


def _mcr_table(spectrum, labels, concentrations, per_spectrum, converged) -> pd.DataFrame:
    m, k = concentrations.shape
    columns: dict[str, Any] = {"spectrum": np.repeat(np.arange(m), k)}
    for name, values in leading_labels(spectrum).items():
        if name not in ("spectrum", "component"):
            columns[name] = np.repeat(values, k)
    columns.update({"component": np.tile(np.asarray(labels, dtype=object), m),
                    "concentration": concentrations.ravel(),
                    "lack_of_fit": np.repeat(per_spectrum, k),
                    "converged": np.full(m * k, converged)})
    return pd.DataFrame(columns)
