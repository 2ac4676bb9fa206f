"""Asymmetric XPS line shapes convolved with a Gaussian: LA, LF and Doniach–Šunjić (private).

The public objects and their documentation live in :mod:`specssb.fitting.lineshapes`; this module
holds the unconvolved profiles, their analytic derivatives and areas, and the functions the
registry wraps. Orientation: the spectral axis is **binding energy**, so the tail (``alpha`` for
LA/LF, the Doniach–Šunjić tail) is on the high-``x`` side, ``x > center``, as in CasaXPS.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, hyperu

from specssb.fitting._convolved import RawProfile, normalized, peak_value

__all__: list[str] = []

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
_K = 4.0 * np.log(2.0)


# ----------------------------------------------------------------------------- LA
def _lorentz(s: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + 4.0 * s * s)


def _la_value(s, alpha, beta):
    p = np.where(s > 0, alpha, beta)
    return _lorentz(s) ** p


def _la_d_s(s, alpha, beta):
    p = np.where(s > 0, alpha, beta)
    lor = _lorentz(s)
    return -8.0 * p * s * lor ** (p + 1.0)


def _la_d_ss(s, alpha, beta):
    p = np.where(s > 0, alpha, beta)
    lor = _lorentz(s)
    return (-8.0 * p * lor + 64.0 * p * (p + 1.0) * s * s * lor * lor) * lor**p


def _la_d_theta(s, alpha, beta):
    p = np.where(s > 0, alpha, beta)
    lor = _lorentz(s)
    part = np.log(lor) * lor**p
    return np.where(s > 0, part, 0.0), np.where(s > 0, 0.0, part)


def _half_width(power):
    """Half width at half maximum of ``(1 + 4 s²)^-power`` (in units of the Lorentzian FWHM)."""
    return 0.5 * np.sqrt(2.0 ** (1.0 / np.asarray(power, float)) - 1.0)


def _la_feature(alpha, beta):
    return np.minimum(_half_width(alpha), _half_width(beta))


def _la_max_step(alpha, beta):
    """Quadrature step. With alpha ≠ beta the joint at s = 0 (a jump in f'') limits the
    trapezoid rule to O(h³): 1/8 of the narrower half width keeps it to a few 1e-6. With
    alpha = beta the profile is analytic (branch points at s = ±i/2) and the error falls as
    exp(-πh⁻¹): h ≤ 0.1 gives ≈1e-13."""
    feature = _la_feature(alpha, beta)
    symmetric = np.asarray(alpha) == np.asarray(beta)
    return np.where(symmetric, np.minimum(0.1, 0.5 * feature), 0.125 * feature)


LA_RAW = RawProfile(_la_value, _la_d_s, _la_d_ss, _la_d_theta, _la_max_step)


def _half_area(power):
    """∫_0^∞ (1 + 4 s²)^-power ds = (√π/4) Γ(p - ½)/Γ(p); ``inf`` for p ≤ ½."""
    power = np.asarray(power, float)
    safe = np.where(power > 0.5, power, 1.0)
    value = 0.25 * np.sqrt(np.pi) * np.exp(gammaln(safe - 0.5) - gammaln(safe))
    return np.where(power > 0.5, value, np.inf)


def _span(sigma, feature):
    return 4.0 * sigma + 2.0 * feature + 1e-3


def la_evaluate(x, height, center, fwhm, alpha, beta, gauss_ratio):
    """CasaXPS-style LA(α, β, m): asymmetric Lorentzian convolved with a Gaussian.

    Unconvolved profile, ``u = (x - center)/fwhm``::

        f(u) = (1 + 4u²)^-alpha   for u > 0   (high binding energy: the tail side)
        f(u) = (1 + 4u²)^-beta    for u ≤ 0

    convolved with a normalized Gaussian of FWHM ``gauss_ratio · fwhm`` and scaled so that
    its maximum is ``height``. ``center`` is the position of the Lorentzian before tails and
    convolution (CasaXPS's Position); when ``alpha < beta`` the maximum lies on the tail side.
    ``fwhm`` is the FWHM of the Lorentzian core ``1/(1 + 4u²)``, not of the final curve.
    ``alpha``/``beta`` are CasaXPS's α (spread of the high-BE tail; smaller is longer) and β
    (low-BE side) [casa], [biesinger], [harwell]. ``alpha = beta = 1`` is the Voigt
    profile with Lorentzian FWHM ``fwhm`` and Gaussian FWHM ``gauss_ratio · fwhm``.

    CasaXPS gives the Gaussian as an index m = 0–499 whose mapping to a width is not
    published; ``gauss_ratio`` is the width itself. The one CasaXPS curve available
    (LF(…, m = 100), see :func:`lf_evaluate`) matches ``fwhm ≈ 0.518 F`` and
    ``gauss_ratio ≈ 1.56`` (Gaussian FWHM ≈ 0.81 F) for CasaXPS's FWHM ``F``; other ``m``
    are not verified.

    Area (closed form; the convolution preserves it)::

        height · fwhm · (√π/4) [Γ(α-½)/Γ(α) + Γ(β-½)/Γ(β)] / P_max

    with ``P_max`` the numerically located maximum of the convolved unit profile; ``inf`` when
    ``alpha ≤ ½`` or ``beta ≤ ½`` (CasaXPS recommends α, β > 1 to keep tail areas small).
    The convolution is a Gaussian quadrature (:mod:`specssb.fitting._convolved`), accurate
    to ≈1e-6 of the peak against adaptive quadrature.
    """
    u = (x - center) / fwhm
    sigma = gauss_ratio / FWHM_PER_SIGMA
    span = _span(sigma, _la_feature(alpha, beta))
    return height * normalized(LA_RAW, u, sigma, (alpha, beta), span)["value"]


def la_derivatives(x, height, center, fwhm, alpha, beta, gauss_ratio):
    u = (x - center) / fwhm
    sigma = gauss_ratio / FWHM_PER_SIGMA
    span = _span(sigma, _la_feature(alpha, beta))
    out = normalized(LA_RAW, u, sigma, (alpha, beta), span, derivatives=True)
    d_u = height * out["d_t"]
    d_alpha, d_beta = (height * part for part in out["d_theta"])
    return (
        out["value"],
        -d_u / fwhm,
        -d_u * u / fwhm,
        d_alpha,
        d_beta,
        height * out["d_sigma"] / FWHM_PER_SIGMA,
    )


def la_area(height, center, fwhm, alpha, beta, gauss_ratio):
    sigma = gauss_ratio / FWHM_PER_SIGMA
    span = _span(sigma, _la_feature(alpha, beta))
    peak = peak_value(LA_RAW, sigma, (alpha, beta), span)
    return height * fwhm * (_half_area(alpha) + _half_area(beta)) / peak


# ----------------------------------------------------------------------------- LF
def _damping(s, width):
    return np.where(s > 0, np.exp(-_K * (s / width) ** 2), 1.0)


def _lf_value(s, alpha, beta, width):
    return _la_value(s, alpha, beta) * _damping(s, width)


def _lf_d_s(s, alpha, beta, width):
    damp = _damping(s, width)
    slope = np.where(s > 0, -2.0 * _K * s / width**2, 0.0)
    return (_la_d_s(s, alpha, beta) + _la_value(s, alpha, beta) * slope) * damp


def _lf_d_ss(s, alpha, beta, width):
    damp = _damping(s, width)
    slope = np.where(s > 0, -2.0 * _K * s / width**2, 0.0)
    bend = np.where(s > 0, -2.0 * _K / width**2, 0.0)
    value, d_s = _la_value(s, alpha, beta), _la_d_s(s, alpha, beta)
    return (_la_d_ss(s, alpha, beta) + 2.0 * d_s * slope + value * (slope**2 + bend)) * damp


def _lf_d_theta(s, alpha, beta, width):
    damp = _damping(s, width)
    d_alpha, d_beta = _la_d_theta(s, alpha, beta)
    d_width = np.where(s > 0, 2.0 * _K * s * s / width**3, 0.0)
    return d_alpha * damp, d_beta * damp, _la_value(s, alpha, beta) * damp * d_width


def _lf_max_step(alpha, beta, width):
    """As for LA; the one-sided damping adds a (small) jump in f'' at s = 0."""
    return 0.125 * np.minimum(_la_feature(alpha, beta), 0.5 * np.asarray(width, float))


LF_RAW = RawProfile(_lf_value, _lf_d_s, _lf_d_ss, _lf_d_theta, _lf_max_step)


def _damped_half_area(power, width):
    """∫_0^∞ (1 + 4 s²)^-p exp(-4 ln2 s²/w²) ds = (√π/4) U(½, 3/2 - p, ln2/w²).

    U is Tricomi's confluent hypergeometric function (scipy.special.hyperu); substitute
    v = 4 s² in the integral representation
    U(a, b, z) Γ(a) = ∫ e^{-zv} v^{a-1} (1+v)^{b-a-1} dv.
    """
    power = np.asarray(power, float)
    return 0.25 * np.sqrt(np.pi) * hyperu(0.5, 1.5 - power, _K / (4.0 * width**2))


def _lf_span(sigma, alpha, beta, width):
    return _span(sigma, np.minimum(_half_width(alpha), _half_width(beta)))


def lf_evaluate(x, height, center, fwhm, alpha, beta, tail_damping, gauss_ratio):
    """LF-like shape: LA with a Gaussian-damped tail, so the area stays finite.

    Unconvolved profile, ``u = (x - center)/fwhm``::

        f(u) = (1 + 4u²)^-alpha · exp(-4 ln2 u²/tail_damping²)   for u > 0 (high BE, tail)
        f(u) = (1 + 4u²)^-beta                                  for u ≤ 0

    convolved with a Gaussian of FWHM ``gauss_ratio · fwhm``, maximum ``height``; ``center``,
    ``fwhm``, ``alpha``, ``beta``, ``gauss_ratio`` as in :func:`la_evaluate`.
    ``tail_damping`` is the FWHM of the damping envelope in units of ``fwhm``.

    CasaXPS's LF(α, β, w, m) damps the LA tail with an index w = 0–499 (smaller damps more)
    [harwell]; its damping function and the mappings of w and m are not published, so this
    is a documented stand-in that reproduces CasaXPS closely but not exactly.

    CasaXPS check, ``FeO_analyzed_lineshapes_cols.txt`` (components 1 and 3,
    ``LF(0.54,10,80,100,6)``; the fifth number is not documented): with ``alpha = 0.54``,
    ``beta = 10`` and the equivalents ``fwhm = 0.5177 F``, ``center = Position - 0.00357 F``,
    ``tail_damping = 16.44``, ``gauss_ratio = 1.556`` (least-squares fit to the shape of
    component 1), both components agree to 0.17 % of their maximum over the 56 eV window;
    with heights from the exported Areas through :func:`lf_area`, to 0.24 % (CasaXPS's Area
    is 0.12 % below the integral of this curve). CasaXPS itself samples LF on a mesh (step
    0.48 F beyond ≈3.6 F from the position, linearly interpolated) and its curve steps by
    ≈0.07 % of the peak where the mesh changes.

    Area (closed form)::

        height · fwhm · (√π/4) [U(½, 3/2 - α, ln2/w²) + Γ(β-½)/Γ(β)] / P_max

    with ``w = tail_damping``, ``U`` Tricomi's confluent hypergeometric function
    (scipy.special.hyperu) and ``P_max`` the numerically located maximum.
    """
    u = (x - center) / fwhm
    sigma = gauss_ratio / FWHM_PER_SIGMA
    span = _lf_span(sigma, alpha, beta, tail_damping)
    return height * normalized(LF_RAW, u, sigma, (alpha, beta, tail_damping), span)["value"]


def lf_derivatives(x, height, center, fwhm, alpha, beta, tail_damping, gauss_ratio):
    u = (x - center) / fwhm
    sigma = gauss_ratio / FWHM_PER_SIGMA
    span = _lf_span(sigma, alpha, beta, tail_damping)
    out = normalized(LF_RAW, u, sigma, (alpha, beta, tail_damping), span, derivatives=True)
    d_u = height * out["d_t"]
    d_alpha, d_beta, d_width = (height * part for part in out["d_theta"])
    return (
        out["value"],
        -d_u / fwhm,
        -d_u * u / fwhm,
        d_alpha,
        d_beta,
        d_width,
        height * out["d_sigma"] / FWHM_PER_SIGMA,
    )


def lf_area(height, center, fwhm, alpha, beta, tail_damping, gauss_ratio):
    sigma = gauss_ratio / FWHM_PER_SIGMA
    span = _lf_span(sigma, alpha, beta, tail_damping)
    peak = peak_value(LF_RAW, sigma, (alpha, beta, tail_damping), span)
    raw_area = _damped_half_area(alpha, tail_damping) + _half_area(beta)
    return height * fwhm * raw_area / peak


# ----------------------------------------------------------------------------- Doniach–Šunjić
def _ds_term(s, power, phase):
    """Re[e^{i·phase} (1 + i s)^power] = ρ^{power/2} cos(phase + power·θ), ρ = 1+s², θ = atan s."""
    return (1.0 + s * s) ** (0.5 * power) * np.cos(phase + power * np.arctan(s))


def _ds_value(t, asymmetry, gamma):
    return _ds_term(t / gamma, asymmetry - 1.0, 0.5 * np.pi * asymmetry)


def _ds_d_t(t, asymmetry, gamma):
    phase = 0.5 * np.pi * (asymmetry + 1.0)
    return (asymmetry - 1.0) * _ds_term(t / gamma, asymmetry - 2.0, phase) / gamma


def _ds_d_tt(t, asymmetry, gamma):
    phase = 0.5 * np.pi * (asymmetry + 2.0)
    factor = (asymmetry - 1.0) * (asymmetry - 2.0)
    return factor * _ds_term(t / gamma, asymmetry - 3.0, phase) / gamma**2


def _ds_d_theta(t, asymmetry, gamma):
    s = t / gamma
    half_phase = 0.5 * np.pi * asymmetry
    # d/dα Re[e^{iπα/2}(1+is)^{α-1}] = Re[… (iπ/2 + ln(1+is))], ln(1+is) = ½ln ρ + iθ
    d_asymmetry = 0.5 * np.log1p(s * s) * _ds_term(s, asymmetry - 1.0, half_phase) + (
        0.5 * np.pi + np.arctan(s)
    ) * _ds_term(s, asymmetry - 1.0, half_phase + 0.5 * np.pi)
    d_s = (asymmetry - 1.0) * _ds_term(s, asymmetry - 2.0, half_phase + 0.5 * np.pi)
    return d_asymmetry, -d_s * s / gamma


def _ds_max_step(asymmetry, gamma):
    """The profile is analytic with its branch point at t = iγ: the trapezoid error falls as
    exp(-2πγ/h), so h = γ/3 gives ≈1e-8."""
    return np.asarray(gamma, float) / 3.0


DS_RAW = RawProfile(_ds_value, _ds_d_t, _ds_d_tt, _ds_d_theta, _ds_max_step)


def _ds_span(sigma, asymmetry, gamma):
    shift = np.tan(0.5 * np.pi * asymmetry / (2.0 - asymmetry))
    return 4.0 * sigma + 2.0 * gamma * (1.0 + shift) + 1e-12


def ds_evaluate(x, height, center, fwhm, asymmetry, lorentz_fwhm):
    """Doniach–Šunjić profile convolved with a Gaussian.

    Unconvolved profile, ``t = x - center``, ``γ = lorentz_fwhm/2``, ``α = asymmetry``::

        DS(t) = cos(πα/2 - (1-α) arctan(t/γ)) / (1 + t²/γ²)^((1-α)/2)
              = Re[e^{iπα/2} (1 + i t/γ)^(α-1)]

    [ds] (the form of CasaXPS and lmfit's ``doniach``, mirrored so that the tail goes to
    ``x > center``: high binding energy). ``α = 0`` is a Lorentzian of FWHM ``lorentz_fwhm``.
    Convolved with a Gaussian of FWHM ``fwhm`` (the instrumental width) and scaled to maximum
    ``height``. ``center`` is the unbroadened line position; the maximum lies on the tail
    side (unconvolved, at ``γ tan(πα/(2(2-α)))``).

    Area: for ``asymmetry > 0`` the tail falls as ``t^(α-1)`` and the integral diverges, so
    :func:`ds_area` returns ``inf``; any window integral depends on the window. **Never use
    Doniach–Šunjić areas for quantification** (CasaXPS recommends LA/LF instead). At
    ``asymmetry = 0`` the area is the Voigt area.
    """
    sigma, gamma = fwhm / FWHM_PER_SIGMA, 0.5 * lorentz_fwhm
    span = _ds_span(sigma, asymmetry, gamma)
    return height * normalized(DS_RAW, x - center, sigma, (asymmetry, gamma), span)["value"]


def ds_derivatives(x, height, center, fwhm, asymmetry, lorentz_fwhm):
    sigma, gamma = fwhm / FWHM_PER_SIGMA, 0.5 * lorentz_fwhm
    span = _ds_span(sigma, asymmetry, gamma)
    out = normalized(DS_RAW, x - center, sigma, (asymmetry, gamma), span, derivatives=True)
    d_asymmetry, d_gamma = (height * part for part in out["d_theta"])
    return (
        out["value"],
        -height * out["d_t"],
        height * out["d_sigma"] / FWHM_PER_SIGMA,
        d_asymmetry,
        0.5 * d_gamma,
    )


def ds_area(height, center, fwhm, asymmetry, lorentz_fwhm):
    sigma, gamma = fwhm / FWHM_PER_SIGMA, 0.5 * lorentz_fwhm
    span = _ds_span(sigma, asymmetry, gamma)
    peak = peak_value(DS_RAW, sigma, (asymmetry, gamma), span)
    finite = height * np.pi * gamma / peak
    return np.where(np.asarray(asymmetry) > 0, np.inf, finite)
