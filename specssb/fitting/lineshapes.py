"""Peak line shapes: vectorized profiles with analytic derivatives, in one registry.

Every line shape is ``height × unit-height profile``. The first three parameters are always

``height``
    the maximum of the curve, in signal units (counts, CPS, absorbance …);
``center``
    the position parameter, in axis units (eV, cm-1, ppm, Hz); for symmetric shapes the
    maximum, for the asymmetric XPS shapes (``la``, ``lf``, ``ds_gauss``) the position of the
    unconvolved core line, as in CasaXPS (the maximum then lies on the tail side);
``fwhm``
    a width in axis units: the full width at half maximum for ``gaussian``, ``lorentzian``,
    ``pseudo_voigt``, ``gl`` and ``sgl``; the Gaussian FWHM for ``voigt`` and ``ds_gauss``; the
    FWHM of the Lorentzian core for ``la`` and ``lf`` (CasaXPS's "FWHM" of an LA component).

then the shape parameters of :attr:`LineShape.parameters`, each with a documented default and
bounds in :attr:`LineShape.shape_defaults`. ``x`` may have shape ``(n,)`` or ``(..., n)`` and
every parameter any shape that broadcasts with it, e.g. ``(m, 1)`` for ``m`` spectra; the result
has the broadcast shape.

Registered shapes
-----------------
==============  =====================================  ==========================================
name            shape parameters                       profile
==============  =====================================  ==========================================
gaussian        –                                      exp(-4 ln2 u²),  u = (x - center)/fwhm
lorentzian      –                                      1/(1 + 4u²)
voigt           lorentz_fwhm (axis units)              Re w(z)/Re w(z₀) (Faddeeva w)
pseudo_voigt    eta (Lorentzian fraction 0–1)          (1-η) G + η L, equal FWHM
gl              m (% Lorentzian 0–100)                 CasaXPS GL(m), product form
sgl             m (% Lorentzian 0–100)                 CasaXPS SGL(m), sum form
la              alpha, beta, gauss_ratio               CasaXPS-style LA: L^α | L^β ⊗ Gaussian
lf              alpha, beta, tail_damping, gauss_ratio LA with a Gaussian-damped tail (LF)
ds_gauss        asymmetry, lorentz_fwhm (axis units)   Doniach–Šunjić ⊗ Gaussian
==============  =====================================  ==========================================

Orientation of the asymmetric shapes: XPS spectra are fitted on the **binding-energy** axis and
the tails of ``la``, ``lf`` and ``ds_gauss`` go to higher binding energy (``x > center``), as in
CasaXPS. On an increasing kinetic-energy axis, fit on binding energy instead.

Derivatives are analytic for every shape (for the convolved shapes: the same Gaussian quadrature
applied to the analytic derivatives of the unconvolved profile, see
:mod:`specssb.fitting._convolved`); finite differences are only used in the tests.

Notes
-----
*Areas* (:meth:`LineShape.area`) are over the whole real line and closed-form for every shape;
for ``la``, ``lf`` and ``ds_gauss`` the closed-form integral of the unconvolved profile (which
the convolution preserves) is divided by the numerically located maximum. ``ds_gauss`` with
``asymmetry > 0`` has an infinite area (``inf``): never quantify with it. ``la`` with
``alpha`` or ``beta`` ≤ ½ is not integrable either (``inf``).

*CasaXPS agreement*, on ``FeO_analyzed_lineshapes_cols.txt`` (CasaXPS's exported components of
an Fe 2p fit): SGL(30) matches to 1.3e-6 of the peak once CasaXPS's mesh interpolation and
area convention are applied (0.14 % pointwise from the exported Area); LF(0.54,10,80,100,6) is
matched by ``lf`` to 0.17 % of the peak (0.24 % from the exported Area) with equivalent widths
fitted once, because CasaXPS does not publish how its m and w indices map to widths. Details in
the docstrings of ``get_lineshape("sgl").function`` and ``get_lineshape("lf").function``.

*Cost*: the convolved shapes evaluate the unconvolved profile at 57–7169 Gaussian nodes per
point (typically 100–1000; more when the profile is narrow against the Gaussian): about 5–50 ms
per evaluation of 2000 points and 3–4 times that for the derivatives. The others are closed
forms.

References
----------
.. [casa] N. Fairley, CasaXPS manual, "Line Shapes",
   http://www.casaxps.com/help_manual/line_shapes.htm (GL, SGL, LA, DS).
.. [biesinger] M. C. Biesinger, "Line-Shape Definitions" (2009),
   http://www.xpsfitting.com/2009/03/line-shape-definitions.html (GL(p), SGL(p), LA(α,β,m)).
.. [harwell] HarwellXPS, "LA and LF lineshapes",
   https://www.harwellxps.guru/xpskb/la-and-lf-lineshapes/ (α: high-BE tail, LF damping w).
.. [ds] S. Doniach and M. Šunjić, J. Phys. C 3, 285 (1970).
.. [voigt] J. Humlíček, JQSRT 27, 437 (1982); scipy.special.wofz (Faddeeva package,
   S. G. Johnson).
.. [major] G. H. Major, V. Fernandez, N. Fairley, M. R. Linford, Surf. Interface Anal. 54 (3)
   (2022), doi:10.1002/sia.7050: GL sum/product vs the Voigt ("LA(m)") function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from scipy.special import erfcx, wofz

from specssb.errors import ConfigError
from specssb.fitting import _asymmetric as _asym

__all__ = ["LINESHAPES", "LineShape", "get_lineshape", "register_lineshape"]

_BASE = ("height", "center", "fwhm")
_K = 4.0 * np.log(2.0)  # exp(-_K u²) has FWHM 1
_GAUSS_AREA = float(np.sqrt(np.pi / _K))  # ∫ exp(-4 ln2 u²) du = 1.0645
_LORENTZ_AREA = float(np.pi / 2.0)  # ∫ 1/(1 + 4u²) du
_FWHM_PER_SIGMA = float(2.0 * np.sqrt(2.0 * np.log(2.0)))


@dataclass(frozen=True)
class LineShape:
    """A registered peak shape: ``height × unit-height profile`` with analytic derivatives.

    Parameters
    ----------
    name : str
        Registry key, lower case.
    parameters : tuple of str
        ``("height", "center", "fwhm", *shape_parameters)``.
    shape_defaults : mapping
        Shape parameter → ``(default, min, max)``; documented starting values and bounds
        (recipes still state every value explicitly).
    description : str
        One line for listings.
    analytic_area : bool
        True when :meth:`area` is a closed form (it may still divide by a numerically located
        maximum, see the shape's notes); False when it integrates numerically.
    function, gradient, area_function : callable
        ``function(x, *params) -> y``, ``gradient(x, *params) -> tuple`` (one array per
        parameter) and ``area_function(*params)``; called through :meth:`evaluate`,
        :meth:`derivatives` and :meth:`area`. ``shape.function.__doc__`` gives the shape's
        formula, conventions and references.

    Examples
    --------
    >>> import numpy as np
    >>> g = get_lineshape("gaussian")
    >>> g.parameters
    ('height', 'center', 'fwhm')
    >>> float(g.evaluate(np.array([1.5]), 2.0, 1.0, 1.0)[0])
    1.0
    >>> round(float(g.area(2.0, 1.0, 1.0)), 6)
    2.128934
    """

    name: str
    parameters: tuple[str, ...]
    shape_defaults: Mapping[str, tuple[float, float, float]]
    description: str
    analytic_area: bool
    function: Callable[..., np.ndarray] = field(repr=False, compare=False)
    gradient: Callable[..., tuple[np.ndarray, ...]] = field(repr=False, compare=False)
    area_function: Callable[..., np.ndarray] = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.name != self.name.lower() or not self.name.isidentifier():
            raise ValueError(f"line shape name {self.name!r} must be a lower-case identifier")
        if tuple(self.parameters[:3]) != _BASE:
            raise ValueError(
                f"line shape {self.name!r}: parameters must start with {_BASE}, "
                f"got {tuple(self.parameters)}"
            )
        if set(self.shape_defaults) != set(self.parameters[3:]):
            raise ValueError(
                f"line shape {self.name!r}: shape_defaults must cover exactly "
                f"{self.parameters[3:]}, got {tuple(self.shape_defaults)}"
            )
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "shape_defaults", MappingProxyType(dict(self.shape_defaults)))

    def _arrays(self, params: tuple[object, ...]) -> list[np.ndarray]:
        if len(params) != len(self.parameters):
            raise ValueError(
                f"line shape {self.name!r} takes {len(self.parameters)} parameters "
                f"{self.parameters}, got {len(params)}"
            )
        return [np.asarray(p, dtype=float) for p in params]

    def evaluate(self, x: np.ndarray, *params: object) -> np.ndarray:
        """Curve values.

        Parameters
        ----------
        x : ndarray of shape (n,) or (..., n), axis units
        *params : array_like
            One per entry of :attr:`parameters`, each broadcastable with ``x``.

        Returns
        -------
        ndarray
            Shape ``broadcast(x, *params)``, signal units.
        """
        x = np.asarray(x, dtype=float)
        arrays = self._arrays(params)
        shape = np.broadcast_shapes(x.shape, *(a.shape for a in arrays))
        return _writable(self.function(x, *arrays), shape)

    def derivatives(self, x: np.ndarray, *params: object) -> tuple[np.ndarray, ...]:
        """Analytic ``∂y/∂p`` for every parameter, in the order of :attr:`parameters`.

        Returns
        -------
        tuple of ndarray
            Each of shape ``broadcast(x, *params)``.
        """
        x = np.asarray(x, dtype=float)
        arrays = self._arrays(params)
        shape = np.broadcast_shapes(x.shape, *(a.shape for a in arrays))
        return tuple(_writable(d, shape) for d in self.gradient(x, *arrays))

    def area(self, *params: object) -> np.ndarray:
        """Area over the whole real line, ``height · fwhm · c(shape parameters)``.

        Returns
        -------
        ndarray
            Signal units × axis units; ``inf`` where the profile is not integrable.
        """
        return np.asarray(self.area_function(*self._arrays(params)), dtype=float)


def _writable(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` as a writable float array of ``shape`` (a copy only when broadcasting)."""
    values = np.asarray(values, dtype=float)
    if values.shape == shape and values.flags.writeable:
        return values
    return np.array(np.broadcast_to(values, shape))


_REGISTRY: dict[str, LineShape] = {}

#: Read-only view of the registry: name → :class:`LineShape`.
LINESHAPES: Mapping[str, LineShape] = MappingProxyType(_REGISTRY)


def register_lineshape(shape: LineShape) -> LineShape:
    """Add a line shape to :data:`LINESHAPES` and return it.

    Raises
    ------
    ValueError
        When another shape is already registered under the same name.
    """
    existing = _REGISTRY.get(shape.name)
    if existing is not None and existing is not shape:
        raise ValueError(f"a line shape named {shape.name!r} is already registered")
    _REGISTRY[shape.name] = shape
    return shape


def get_lineshape(name: str) -> LineShape:
    """The registered line shape called ``name`` (case-insensitive).

    Raises
    ------
    ConfigError
        ``key='shape'``, naming the known shapes.

    Examples
    --------
    >>> get_lineshape("SGL").parameters
    ('height', 'center', 'fwhm', 'm')
    """
    shape = _REGISTRY.get(str(name).strip().lower())
    if shape is None:
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"unknown line shape {name!r}; known: {known}", key="shape")
    return shape


# ============================================================================ symmetric shapes
def _gauss(u: np.ndarray) -> np.ndarray:
    return np.exp(-_K * u * u)


def _lorentz(u: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + 4.0 * u * u)


def _position_terms(d_u: np.ndarray, u: np.ndarray, fwhm: np.ndarray) -> tuple[np.ndarray, ...]:
    """∂y/∂center and ∂y/∂fwhm from ∂y/∂u with u = (x - center)/fwhm."""
    return -d_u / fwhm, -d_u * u / fwhm


def _gaussian(x, height, center, fwhm):
    """Gaussian: ``height · exp(-4 ln2 u²)``, ``u = (x - center)/fwhm``.

    Area ``height · fwhm · √(π/(4 ln2))`` (= 1.0645 height·fwhm), analytic.
    """
    return height * _gauss((x - center) / fwhm)


def _gaussian_gradient(x, height, center, fwhm):
    u = (x - center) / fwhm
    g = _gauss(u)
    return (g, *_position_terms(-2.0 * _K * u * height * g, u, fwhm))


def _lorentzian(x, height, center, fwhm):
    """Lorentzian (Cauchy): ``height / (1 + 4u²)``, ``u = (x - center)/fwhm``.

    Area ``height · fwhm · π/2``, analytic (tails fall as u⁻²: a window integral is smaller).
    """
    return height * _lorentz((x - center) / fwhm)


def _lorentzian_gradient(x, height, center, fwhm):
    u = (x - center) / fwhm
    lor = _lorentz(u)
    return (lor, *_position_terms(-8.0 * u * height * lor * lor, u, fwhm))


def _mixture(x, height, center, fwhm, eta):
    """Pseudo-Voigt, sum form: ``height · [(1-η) exp(-4 ln2 u²) + η/(1 + 4u²)]``.

    ``eta`` is the Lorentzian fraction (0 Gaussian, 1 Lorentzian); both parts share ``fwhm``,
    so the curve's FWHM is exactly ``fwhm``. Area ``height·fwhm·[(1-η)√(π/4ln2) + η π/2]``.
    Reference: P. Thompson, D. E. Cox, J. B. Hastings, J. Appl. Cryst. 20, 79 (1987) (the
    mixture form; here with one common width).
    """
    u = (x - center) / fwhm
    return height * ((1.0 - eta) * _gauss(u) + eta * _lorentz(u))


def _mixture_gradient(x, height, center, fwhm, eta):
    u = (x - center) / fwhm
    g, lor = _gauss(u), _lorentz(u)
    d_u = height * ((1.0 - eta) * (-2.0 * _K * u * g) + eta * (-8.0 * u * lor * lor))
    return ((1.0 - eta) * g + eta * lor, *_position_terms(d_u, u, fwhm), height * (lor - g))


def _mixture_area(height, center, fwhm, eta):
    return height * fwhm * ((1.0 - eta) * _GAUSS_AREA + eta * _LORENTZ_AREA)


def _sgl(x, height, center, fwhm, m):
    """CasaXPS SGL(m), Gaussian–Lorentzian **sum**: ``(1 - m/100) G(x) + (m/100) L(x)``.

    ``G = exp(-4 ln2 (x-E)²/F²)``, ``L = 1/(1 + 4 (x-E)²/F²)`` with the same ``F``; ``m`` is
    the Lorentzian percentage (SGL(0) Gaussian, SGL(100) Lorentzian) [casa], [biesinger].
    Same function as ``pseudo_voigt`` with ``eta = m/100``; area analytic.

    Checked against CasaXPS: the SGL(30) components of ``FeO_analyzed_lineshapes_cols.txt``
    are reproduced to 1.3e-6 of the peak once two CasaXPS conventions are applied: CasaXPS
    samples the component on a mesh ``E + jF/40`` and interpolates linearly between nodes (up
    to 3.7e-4 of the peak between nodes), and its Area corresponds to a height 0.0921 % below
    ``Area / (F · c(m))`` (CasaXPS Area = 1.000921 × the analytic area, same for both SGL
    components; cause not documented by CasaXPS).
    """
    return _mixture(x, height, center, fwhm, m / 100.0)


def _sgl_gradient(x, height, center, fwhm, m):
    *head, d_eta = _mixture_gradient(x, height, center, fwhm, m / 100.0)
    return (*head, d_eta / 100.0)


def _sgl_area(height, center, fwhm, m):
    return _mixture_area(height, center, fwhm, m / 100.0)


def _gl(x, height, center, fwhm, m):
    """CasaXPS GL(m), Gaussian–Lorentzian **product**.

    ``GL(x) = exp(-4 ln2 (1 - m/100) (x-E)²/F²) / (1 + 4 (m/100) (x-E)²/F²)``; ``m`` is the
    Lorentzian percentage, GL(0) Gaussian, GL(100) Lorentzian [casa], [biesinger], [major].
    For 0 < m < 100 the FWHM is not exactly ``F``. Area analytic:
    ``∫ e^{-a u²}/(1 + b u²) du = (π/√b) erfcx(√(a/b))`` with ``a = 4 ln2 (1-p)``,
    ``b = 4p``, ``p = m/100`` (and ``√(π/a)`` at ``p = 0``).
    """
    u = (x - center) / fwhm
    p = m / 100.0
    return height * np.exp(-_K * (1.0 - p) * u * u) / (1.0 + 4.0 * p * u * u)


def _gl_gradient(x, height, center, fwhm, m):
    # The fit engine calls this for every component at every step, so it makes as few passes
    # over (spectra × points) arrays as the algebra allows: per-spectrum scalars ((m, 1)
    # arrays) are combined first, u² and the Lorentzian factor are shared, and the
    # intermediate arrays are updated in place.
    inverse = 1.0 / fwhm
    p = m / 100.0
    u = (x - center) * inverse
    u2 = u * u
    lor = 1.0 / (1.0 + (4.0 * p) * u2)
    profile = np.exp((-_K * (1.0 - p)) * u2)
    profile *= lor
    scaled = height * profile
    # ∂y/∂u = -scaled · u · (2K(1-p) + 8p·lor), and ∂y/∂center = -∂y/∂u / fwhm
    d_center = lor * (8.0 * p * inverse)
    d_center += 2.0 * _K * (1.0 - p) * inverse
    d_center *= scaled
    d_center *= u
    d_fwhm = d_center * u  # ∂y/∂fwhm = -∂y/∂u · u / fwhm
    d_m = lor * -4.0  # ∂y/∂m = scaled · u² · (K - 4 lor) / 100
    d_m += _K
    d_m *= u2
    d_m *= scaled / 100.0
    return profile, d_center, d_fwhm, d_m


def _gl_area(height, center, fwhm, m):
    """∫ exp(-a u²)/(1 + b u²) du = (π/√b) erfcx(√(a/b)), a = 4 ln2 (1-p), b = 4p."""
    p = np.asarray(m, float) / 100.0
    a, b = _K * (1.0 - p), 4.0 * p
    safe_b = np.where(b > 0, b, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        product = np.pi / np.sqrt(safe_b) * erfcx(np.sqrt(a / safe_b))
    factor = np.where(b > 0, product, np.sqrt(np.pi / np.where(a > 0, a, 1.0)))
    return height * fwhm * factor


# ---------------------------------------------------------------------------- Voigt
def _voigt_parts(x, center, fwhm, lorentz_fwhm):
    sigma = fwhm / _FWHM_PER_SIGMA
    scale = sigma * np.sqrt(2.0)
    z = ((x - center) + 0.5j * lorentz_fwhm) / scale
    z0 = (0.5j * lorentz_fwhm) / scale + 0.0 * z
    return sigma, scale, z, z0


def _voigt(x, height, center, fwhm, lorentz_fwhm):
    """Voigt profile (Gaussian ⊗ Lorentzian) scaled to unit height at ``center``.

    ``V(x) = Re w(z) / Re w(z₀)``, ``z = (x - center + iγ)/(σ√2)``, ``z₀ = iγ/(σ√2)``, with
    the Faddeeva function ``w`` (scipy.special.wofz), ``σ = fwhm/(2√(2 ln2))`` (``fwhm`` is the
    **Gaussian** FWHM) and ``γ = lorentz_fwhm/2`` (axis units). ``lorentz_fwhm = 0`` gives the
    Gaussian. The curve's own FWHM is ≈ 0.5346 f_L + √(0.2166 f_L² + f_G²) (Olivero &
    Longbothum, JQSRT 17, 233 (1977)). Area analytic: ``height · σ√(2π) / Re w(z₀)``.
    Derivatives use ``w'(z) = -2z w(z) + 2i/√π`` [voigt].
    """
    _, _, z, z0 = _voigt_parts(x, center, fwhm, lorentz_fwhm)
    return height * np.real(wofz(z)) / np.real(wofz(z0))


def _voigt_gradient(x, height, center, fwhm, lorentz_fwhm):
    sigma, scale, z, z0 = _voigt_parts(x, center, fwhm, lorentz_fwhm)
    w, w0 = wofz(z), wofz(z0)
    dw = -2.0 * z * w + 2.0j / np.sqrt(np.pi)  # w'(z)
    dw0 = -2.0 * z0 * w0 + 2.0j / np.sqrt(np.pi)
    r, r0 = np.real(w), np.real(w0)
    profile = r / r0
    d_x = np.real(dw) / scale / r0
    # ∂z/∂σ = -z/σ and ∂z/∂γ = i/(σ√2); γ = lorentz_fwhm/2, σ = fwhm/2√(2ln2)
    d_sigma = (np.real(dw * (-z / sigma)) - profile * np.real(dw0 * (-z0 / sigma))) / r0
    d_gamma = (np.real(1j * dw) - profile * np.real(1j * dw0)) / scale / r0
    return (
        profile,
        -height * d_x,
        height * d_sigma / _FWHM_PER_SIGMA,
        0.5 * height * d_gamma,
    )


def _voigt_area(height, center, fwhm, lorentz_fwhm):
    """∫ Re w(z) dx = σ √(2π): the Voigt density Re w(z)/(σ√(2π)) integrates to one."""
    sigma = fwhm / _FWHM_PER_SIGMA
    r0 = erfcx(0.5 * lorentz_fwhm / (sigma * np.sqrt(2.0)))
    return height * sigma * np.sqrt(2.0 * np.pi) / r0


# ============================================================================ the registry
_INF = float("inf")

register_lineshape(
    LineShape(
        "gaussian", _BASE, {}, "Gaussian, exp(-4 ln2 (x-center)²/fwhm²)", True,
        _gaussian, _gaussian_gradient,
        lambda h, c, f: h * f * _GAUSS_AREA,
    )
)
register_lineshape(
    LineShape(
        "lorentzian", _BASE, {}, "Lorentzian (Cauchy), 1/(1 + 4 (x-center)²/fwhm²)", True,
        _lorentzian, _lorentzian_gradient,
        lambda h, c, f: h * f * _LORENTZ_AREA,
    )
)
register_lineshape(
    LineShape(
        "voigt", (*_BASE, "lorentz_fwhm"), {"lorentz_fwhm": (0.2, 0.0, _INF)},
        "Voigt (Gaussian ⊗ Lorentzian) via the Faddeeva function; fwhm is the Gaussian FWHM",
        True, _voigt, _voigt_gradient, _voigt_area,
    )
)
register_lineshape(
    LineShape(
        "pseudo_voigt", (*_BASE, "eta"), {"eta": (0.5, 0.0, 1.0)},
        "pseudo-Voigt (1-eta)·Gaussian + eta·Lorentzian with one FWHM", True,
        _mixture, _mixture_gradient, _mixture_area,
    )
)
register_lineshape(
    LineShape(
        "gl", (*_BASE, "m"), {"m": (30.0, 0.0, 100.0)},
        "CasaXPS GL(m): Gaussian–Lorentzian product, m = % Lorentzian", True,
        _gl, _gl_gradient, _gl_area,
    )
)
register_lineshape(
    LineShape(
        "sgl", (*_BASE, "m"), {"m": (30.0, 0.0, 100.0)},
        "CasaXPS SGL(m): Gaussian–Lorentzian sum, m = % Lorentzian", True,
        _sgl, _sgl_gradient, _sgl_area,
    )
)
register_lineshape(
    LineShape(
        "la", (*_BASE, "alpha", "beta", "gauss_ratio"),
        {"alpha": (1.0, 0.55, 20.0), "beta": (1.0, 0.55, 50.0), "gauss_ratio": (1.0, 0.0, 5.0)},
        "CasaXPS-style LA: asymmetric Lorentzian L^alpha (high-x tail) | L^beta ⊗ Gaussian",
        True, _asym.la_evaluate, _asym.la_derivatives, _asym.la_area,
    )
)
register_lineshape(
    LineShape(
        "lf", (*_BASE, "alpha", "beta", "tail_damping", "gauss_ratio"),
        {
            "alpha": (1.0, 0.05, 20.0),
            "beta": (1.0, 0.55, 50.0),
            "tail_damping": (10.0, 0.2, 1000.0),
            "gauss_ratio": (1.0, 0.0, 5.0),
        },
        "LA with a Gaussian-damped high-x tail (finite area), CasaXPS LF-like",
        True, _asym.lf_evaluate, _asym.lf_derivatives, _asym.lf_area,
    )
)
register_lineshape(
    LineShape(
        "ds_gauss", (*_BASE, "asymmetry", "lorentz_fwhm"),
        {"asymmetry": (0.1, 0.0, 0.9), "lorentz_fwhm": (0.2, 1e-3, _INF)},
        "Doniach–Šunjić ⊗ Gaussian (tail to high x); infinite area, never quantify with it",
        True, _asym.ds_evaluate, _asym.ds_derivatives, _asym.ds_area,
    )
)
