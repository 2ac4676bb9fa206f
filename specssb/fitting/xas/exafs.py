"""EXAFS through Larch: background removal (AUTOBK), χ(k), its Fourier transform, first shell.

specssb does not reimplement EXAFS extraction: :func:`exafs` calls Larch's ``autobk`` and
``xftf`` (xraylarch, the reference implementation, Newville 2001 / 2013) on each spectrum and
returns the arrays with the numbers a series table needs: the first-shell peak position of
``|χ(R)|`` (phase-uncorrected, on the R grid and refined by a parabola through the three
points around the maximum) and its height.

e0 and the edge step are taken from :func:`specssb.fitting.xas.normalize.normalize` unless
given, so a series report uses one e0 for normalization, edge position and EXAFS. With
Larch's own ``pre_edge`` defaults the result equals Larch's chain ``pre_edge; autobk; xftf``
(the tests compare with ``../shared/data/xas/EXPECTED.md`` §4).

Conventions (Larch 2026.3.1, ``../shared/notes/xas.md`` §1): ``k = sqrt(2 m (E − e0)) / ħ`` in
Å⁻¹ on a 0.05 Å⁻¹ grid; the R grid step is ``π / (kstep · nfft)`` = 0.0307 Å; AUTOBK
defaults ``kweight=1, dk=0.1, win='hanning', nclamp=3``; here the common EXAFS choices
``rbkg=1 Å``, ``kweight=2`` and a Hanning window over 3–12 Å⁻¹ with ``dk=1`` are the
defaults, and every option used is recorded in ``ExafsResult.options``.

References
----------
M. Newville, *J. Synchrotron Rad.* 8, 322 (2001) (IFEFFIT, AUTOBK);
M. Newville, *J. Phys.: Conf. Ser.* 430, 012007 (2013) (Larch);
M. Newville, P. Līviņš, Y. Yacoby, J. J. Rehr, E. A. Stern, *Phys. Rev. B* 47, 14126 (1993).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import FitError
from specssb.spectrum import Spectrum

__all__ = ["ExafsResult", "exafs", "first_shell"]


@dataclass(frozen=True)
class ExafsResult:
    """χ(k) and χ(R) of every spectrum, with the first-shell figures.

    Attributes
    ----------
    k : ndarray (nk,), Å⁻¹
    chi : ndarray (..., nk)
        χ(k) (unweighted), one row per spectrum (leading shape of the input).
    r : ndarray (nr,), Å
    chir_mag : ndarray (..., nr), Å⁻³ for kweight 2
        ``|χ(R)|``.
    e0, edge_step : ndarray (...,)
        Values used (eV; absorbance units).
    table : pandas.DataFrame
        One row per spectrum: ``index``, ``e0``, ``edge_step``, ``r_peak`` (grid, Å),
        ``r_peak_refined`` (parabolic, Å), ``chir_max``, ``nknots``.
    options : dict
        The AUTOBK and FT options used, and the Larch version.
    """

    k: np.ndarray
    chi: np.ndarray
    r: np.ndarray
    chir_mag: np.ndarray
    e0: np.ndarray
    edge_step: np.ndarray
    table: pd.DataFrame
    options: dict[str, Any] = field(default_factory=dict)


def first_shell(r: np.ndarray, magnitude: np.ndarray, *, rmin: float = 1.0,
                rmax: float = 3.5) -> tuple[float, float, float]:
    """Position and height of the largest ``|χ(R)|`` peak between ``rmin`` and ``rmax``.

    Parameters
    ----------
    r : ndarray (nr,), Å
    magnitude : ndarray (nr,)
        ``|χ(R)|``.
    rmin, rmax : float, Å
        Search range; the default skips the low-R background residue below 1 Å.

    Returns
    -------
    r_grid : float, Å
        The grid point of the maximum.
    r_refined : float, Å
        The vertex of the parabola through it and its two neighbours (the grid point when
        the maximum sits at the edge of the range).
    height : float
        ``|χ(R)|`` at the grid maximum.
    """
    inside = np.flatnonzero((r >= rmin) & (r <= rmax))
    if inside.size == 0:
        raise FitError(f"no R point between {rmin} and {rmax} Å")
    i = int(inside[np.argmax(magnitude[inside])])
    refined = float(r[i])
    if 0 < i < r.size - 1:
        left, centre, right = magnitude[i - 1], magnitude[i], magnitude[i + 1]
        curvature = left - 2.0 * centre + right
        if curvature < 0:
            refined = float(r[i] + 0.5 * (left - right) / curvature * (r[i + 1] - r[i]))
    return float(r[i]), refined, float(magnitude[i])


def exafs(
    spectrum: Spectrum,
    *,
    e0: float | np.ndarray | None = None,
    edge_step: float | np.ndarray | None = None,
    rbkg: float = 1.0,
    bkg_kweight: float = 2.0,
    kmin: float = 3.0,
    kmax: float = 12.0,
    kweight: float = 2.0,
    dk: float = 1.0,
    window: str = "hanning",
    rmin: float = 1.0,
    rmax: float = 3.5,
) -> ExafsResult:
    """AUTOBK background removal and forward Fourier transform of every spectrum.

    Parameters
    ----------
    spectrum : Spectrum
        μ(E) on an ``energy`` axis in eV (one spectrum, or a series with leading dims).
    e0, edge_step : float or array of the leading shape, optional
        Default: from :func:`specssb.fitting.xas.normalize.normalize` with its defaults (Larch's
        ``pre_edge`` choices).
    rbkg : float, Å
        AUTOBK's R cut-off.
    bkg_kweight : float
        k-weight of the AUTOBK fit (``kweight`` of Larch's ``autobk``).
    kmin, kmax, kweight, dk, window
        Forward-transform options (Larch ``xftf``); ``kmax`` is clipped to the data's k range.
    rmin, rmax : float, Å
        Range searched for the first shell (:func:`first_shell`).

    Returns
    -------
    ExafsResult

    Raises
    ------
    FitError
        Not an energy axis, or data that do not reach the EXAFS region (kmax of the data below
        ``kmin + 2`` Å⁻¹).
    """
    if spectrum.axis.name != "energy":
        raise FitError(f"EXAFS needs an energy axis, not {spectrum.axis.name!r}")
    from larch import Group
    from larch.xafs import autobk, xftf

    energy = np.asarray(spectrum.axis.values, float)
    rows = np.asarray(spectrum.data, float).reshape(-1, energy.size)
    lead = spectrum.leading_shape
    e0s, steps = _edge(spectrum, e0, edge_step, rows.shape[0])
    ks, chis, mags, records = [], [], [], []
    r = None
    for i, mu in enumerate(rows):
        group = Group(energy=energy.copy(), mu=mu.copy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            autobk(group, rbkg=rbkg, kweight=bkg_kweight, ek0=float(e0s[i]), edge_step=float(steps[i]))
        k_data = float(group.k[-1])
        if k_data < kmin + 2.0:
            raise FitError(f"spectrum {i}: the data reach k = {k_data:.2f} Å⁻¹ only; EXAFS needs "
                           f"more than kmin + 2 = {kmin + 2:.1f} Å⁻¹")
        xftf(group, kweight=kweight, kmin=kmin, kmax=min(kmax, k_data), dk=dk, window=window)
        r = group.r
        ks.append(group.k)
        chis.append(group.chi)
        mags.append(group.chir_mag)
        r_grid, r_refined, height = first_shell(group.r, group.chir_mag, rmin=rmin, rmax=rmax)
        records.append({
            "index": ",".join(map(str, np.unravel_index(i, lead))) if lead else "",
            "e0": float(e0s[i]), "edge_step": float(steps[i]), "r_peak": r_grid,
            "r_peak_refined": r_refined, "chir_max": height,
            "nknots": int(getattr(group.autobk_details, "nknots", -1)),
        })
    shape_k = max(len(c) for c in chis)
    chi = np.full((len(chis), shape_k), np.nan)
    for i, c in enumerate(chis):
        chi[i, : len(c)] = c
    import larch

    options = {"rbkg": rbkg, "bkg_kweight": bkg_kweight, "kmin": kmin, "kmax": kmax,
               "kweight": kweight, "dk": dk, "window": window, "rmin": rmin, "rmax": rmax,
               "larch_version": getattr(larch, "__version__", "unknown")}
    longest = int(np.argmax([len(c) for c in chis]))
    return ExafsResult(
        k=np.asarray(ks[longest]), chi=chi.reshape(*lead, shape_k),
        r=np.asarray(r), chir_mag=np.array(mags).reshape(*lead, -1),
        e0=np.asarray(e0s).reshape(lead), edge_step=np.asarray(steps).reshape(lead),
        table=pd.DataFrame.from_records(records), options=options,
    )


def _edge(spectrum: Spectrum, e0: Any, edge_step: Any, m: int) -> tuple[np.ndarray, np.ndarray]:
    """e0 and edge step per spectrum: given, or from our Larch-compatible normalization."""
    if e0 is None or edge_step is None:
        from specssb.fitting.xas.normalize import normalize

        found = normalize(spectrum, e0=e0)
        e0 = found.e0 if e0 is None else e0
        edge_step = found.edge_step if edge_step is None else edge_step
    return (np.broadcast_to(np.asarray(e0, float), spectrum.leading_shape).reshape(m),
            np.broadcast_to(np.asarray(edge_step, float), spectrum.leading_shape).reshape(m))
