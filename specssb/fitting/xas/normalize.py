"""XAS normalization compatible with xraylarch 2026.3.1 ``pre_edge``, for one spectrum or a series.

:func:`normalize` reproduces ``larch.xafs.pre_edge`` (e0, the pre-edge line, the post-edge
polynomial, the edge step, ``norm`` and ``flat``) without calling Larch, and does it for a whole
stack of spectra on one energy grid at once. The defaults are those of Larch's *code*, which
differ from its documentation (``notes/xas.md`` §1):

==========  ===================================================================================
``e0``      :func:`find_e0`: maximum of dμ/dE, coarse then smoothed (see :mod:`._e0`); a given
            e0 outside ``[E[1], E[-2]]`` is replaced by it, as Larch does (with a warning here)
``pre1``    ``E[1] - e0`` rounded to 5 eV (to 2 eV when e0 is within the first 20 points),
            then at least ``min(E) - e0``
``pre2``    ``0.5 * pre1``
``norm2``   ``max(E) - e0`` rounded to 5 eV, at most ``max(E) - e0``
``norm1``   ``min(25, 5 * round(norm2 / 15))``, then at most ``norm2 - 2``
``nnorm``   2 if ``norm2 - norm1 >= 300`` eV, 1 if ``>= 30``, else 0 (at most 5); lowered to 1
            when the post-edge window has fewer than 5 points, 0 below 2
``nvict``   0 (the pre-edge line is fitted to ``mu * E**nvict``); with fewer than 3 points
            between pre1 and pre2, ``nvict = 0`` and the pre-edge is a constant (``npre = 0``)
==========  ===================================================================================

The pre-edge line is fitted over ``E[index_of(pre1 + e0) : index_nearest(pre2 + e0)]``, the
post-edge polynomial (to ``mu - pre_edge``) over ``E[index_of(norm1 + e0) :
index_nearest(norm2 + e0)]`` (the last index excluded, as Larch slices). ``edge_step`` is
``post_edge - pre_edge`` at the grid point nearest e0, ``norm = (mu - pre_edge) / edge_step``.

Flattening: Larch's ``flat`` is ``norm - r + r[ie0]`` above e0 and ``norm`` below, with
``r = (post_edge - pre_edge) / edge_step`` — reproduced here. Larch also fits a quadratic to
``norm`` with lmfit and stores ``norm`` minus it as ``flat_alt``; that alternative is *not*
reproduced (it is not ``flat``, and it costs most of ``pre_edge``'s time).

Repeated energies are made distinct as Larch's ``remove_dups`` does (+0.5 meV per repeat) for
the computation; non-finite mu values are dropped for that spectrum only (Larch's
``remove_nans2``) and come back as NaN in the outputs. The output curves are on the input axis
(sorted, if it was not).

Vectorized path: a Spectrum with leading dimensions is normalized in one pass: e0 for all
spectra together (:mod:`._e0`), ranges as arrays, and the pre- and post-edge fits as one batched
least-squares problem (:mod:`._window_fit`: a shared design matrix when every spectrum has the
same windows, window masks when each has its own e0). It gives the numbers of the single
spectrum path (and of Larch) to rounding.

References
----------
M. Newville, *Larch: An Analysis Package for XAFS and Related Spectroscopies*, J. Phys.: Conf.
Ser. 430, 012007 (2013); xraylarch 2026.3.1, ``larch/xafs/pre_edge.py`` (``pre_edge``,
``preedge``, ``find_e0``) and ``larch/math/utils.py`` (``remove_dups``, ``smooth``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from specssb.errors import PhysicsWarning
from specssb.fitting.xas._e0 import find_e0_rows
from specssb.fitting.xas._edge_positions import EdgePositions, edge_positions
from specssb.fitting.xas._pre_edge import (
    block_curves,
    larch_grid,
    normalize_block,
    plan_ranges,
)
from specssb.spectrum import Axis, Spectrum

__all__ = [
    "LARCH_COMPATIBLE",
    "EdgePositions",
    "NormRanges",
    "Normalization",
    "default_ranges",
    "edge_positions",
    "find_e0",
    "normalize",
]

#: The Larch release whose ``pre_edge`` this module reproduces.
LARCH_COMPATIBLE = "xraylarch 2026.3.1 pre_edge"

_MIN_POINTS = 12
_OUTPUTS = ("norm", "flat")
_CURVES = ("pre_edge", "post_edge", "norm", "flat")

Number = float | np.ndarray


@dataclass(frozen=True)
class NormRanges:
    """Normalization ranges as used, relative to e0 (eV); arrays of the leading shape for a stack.

    Attributes
    ----------
    pre1, pre2 : float or ndarray, eV
        Pre-edge fit range, ``pre1 < pre2`` (negative: below e0).
    norm1, norm2 : float or ndarray, eV
        Post-edge fit range.
    nnorm : int or ndarray
        Degree of the post-edge polynomial actually fitted.
    nvict : int or ndarray
        Energy exponent of the pre-edge fit (``mu * E**nvict`` is fitted).
    npre : int or ndarray
        Degree of the pre-edge fit: 1 (a line) or 0 (a constant, when the range holds fewer
        than 3 points). Larch computes it but does not report it.
    """

    pre1: Number
    pre2: Number
    norm1: Number
    norm2: Number
    nnorm: int | np.ndarray
    nvict: int | np.ndarray
    npre: int | np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Plain values (lists for a stack), for history and JSON."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class Normalization:
    """Result of :func:`normalize`.

    Attributes
    ----------
    e0 : float or ndarray of the leading shape, eV
    edge_step : float or ndarray of the leading shape
        In the units of mu.
    e0_found : bool or ndarray of bool
        True where e0 came from :func:`find_e0`, False where it was given.
    ranges : NormRanges
        The ranges actually used.
    energy : ndarray of shape (n,), eV
        The energy grid of the curves (the input axis, sorted).
    pre_edge, post_edge : ndarray of the data shape
        Pre-edge line and post-edge curve (pre-edge plus polynomial), in the units of mu.
    norm : ndarray of the data shape
        ``(mu - pre_edge) / edge_step``.
    flat : ndarray of the data shape
        Flattened ``norm`` (Larch's ``flat``; ``norm`` itself when ``make_flat=False``).
    spectrum : Spectrum
        The input with ``norm`` (or ``flat``) as data and one history step.
    output : str
        Which curve is the spectrum's data.

    The curves are read-only; the one that is not the output (and the pre/post-edge curves)
    are computed on first access from the fitted windows, then kept.
    """

    e0: Number
    edge_step: Number
    e0_found: bool | np.ndarray
    ranges: NormRanges
    energy: np.ndarray
    spectrum: Spectrum
    output: str = "norm"
    _compute: Callable[[tuple[str, ...]], dict[str, np.ndarray]] | None = field(
        default=None, repr=False
    )
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def _curve(self, name: str) -> np.ndarray:
        """The curve ``name``: the spectrum's data for the output one, the others computed on
        first use (and kept), so a large stack allocates only what is asked for."""
        if name == self.output:
            return self.spectrum.data
        if name not in self._cache:
            others = tuple(n for n in _CURVES if n != self.output and n not in self._cache)
            assert self._compute is not None
            for key, value in self._compute(others).items():
                value = value.reshape(self.spectrum.shape)
                value.setflags(write=False)
                self._cache[key] = value
        return self._cache[name]

    @property
    def pre_edge(self) -> np.ndarray:
        """Pre-edge line, in the units of mu (data shape)."""
        return self._curve("pre_edge")

    @property
    def post_edge(self) -> np.ndarray:
        """Post-edge curve (pre-edge plus the fitted polynomial), in the units of mu."""
        return self._curve("post_edge")

    @property
    def norm(self) -> np.ndarray:
        """``(mu - pre_edge) / edge_step``."""
        return self._curve("norm")

    @property
    def flat(self) -> np.ndarray:
        """Larch's ``flat`` (``norm`` itself when ``make_flat=False``)."""
        return self._curve("flat")


# ------------------------------------------------------------------------------- public API
def find_e0(energy: np.ndarray, mu: np.ndarray) -> float | np.ndarray:
    """Edge energy as Larch 2026.3.1's ``find_e0``: the maximum of dμ/dE, with glitch checks.

    Parameters
    ----------
    energy : array_like of shape (n,), eV
    mu : array_like of shape (n,) or (..., n)
        Absorption; several spectra on the same grid are done together.

    Returns
    -------
    float or ndarray of the leading shape, eV
        A grid energy (after Larch's handling of repeated energies).

    Raises
    ------
    ValueError
        For mismatched shapes, fewer than 12 finite points, or a constant mu.

    Examples
    --------
    >>> energy = np.linspace(8900.0, 9100.0, 401)
    >>> mu = np.arctan((energy - 8979.3) / 2.0)
    >>> find_e0(energy, mu)
    8979.5
    """
    energy, mu, single = _as_rows(energy, mu)
    e0 = np.empty(mu.shape[0])
    for rows, grid, values, _ in _blocks(energy, mu):
        e0[rows] = find_e0_rows(grid, values)
    return float(e0[0]) if single else e0.reshape(np.shape(mu)[:-1])


def default_ranges(
    energy: np.ndarray,
    e0: float | np.ndarray,
    *,
    pre1: float | None = None,
    pre2: float | None = None,
    norm1: float | None = None,
    norm2: float | None = None,
    nnorm: int | None = None,
    nvict: int = 0,
) -> NormRanges:
    """The normalization ranges Larch 2026.3.1's ``pre_edge`` uses for this grid and e0.

    Parameters
    ----------
    energy : array_like of shape (n,), eV
        The energy grid (sorted and made free of repeats here as Larch does).
    e0 : float or array_like, eV
        Edge energy, one per spectrum for arrays.
    pre1, pre2, norm1, norm2, nnorm, nvict : optional
        Values to impose; the others get Larch's defaults (module docstring). Imposed values
        are still clipped to the data as Larch clips them.

    Returns
    -------
    NormRanges
        Floats for a scalar e0, arrays of e0's shape otherwise.

    Examples
    --------
    >>> r = default_ranges(np.linspace(8779.0, 10145.86, 408), 8980.5)
    >>> r.pre1, r.pre2, r.norm1, r.norm2, r.nnorm
    (-200.0, -100.0, 25.0, 1165.0, 2)
    """
    grid = larch_grid(np.sort(np.asarray(energy, dtype=np.float64)))[1]
    e0_array = np.asarray(e0, dtype=np.float64)
    plan = plan_ranges(grid, e0_array.ravel(), pre1, pre2, norm1, norm2, nnorm, nvict)
    return _ranges(plan, e0_array.shape)


def normalize(
    spectrum: Spectrum,
    *,
    e0: float | np.ndarray | None = None,
    pre1: float | None = None,
    pre2: float | None = None,
    norm1: float | None = None,
    norm2: float | None = None,
    nnorm: int | None = None,
    nvict: int = 0,
    make_flat: bool = True,
    output: str = "norm",
) -> Normalization:
    """Pre-edge subtraction and normalization, as xraylarch 2026.3.1's ``pre_edge``.

    Parameters
    ----------
    spectrum : Spectrum
        XAS Spectrum on an ``energy`` axis (eV); leading dimensions are independent spectra
        on that grid and are all normalized in one vectorized pass.
    e0 : float or array_like of the leading shape, optional, eV
        Edge energy; found per spectrum by :func:`find_e0` when omitted (or NaN).
    pre1, pre2 : float, optional, eV
        Pre-edge fit range relative to e0 (Larch's defaults when omitted).
    norm1, norm2 : float, optional, eV
        Post-edge fit range relative to e0.
    nnorm : int, optional
        Degree of the post-edge polynomial, 0–5.
    nvict : int, default 0
        Energy exponent of the pre-edge fit.
    make_flat : bool, default True
        Compute ``flat`` (else ``flat`` equals ``norm``).
    output : {"norm", "flat"}
        Which curve becomes the data of ``result.spectrum``.

    Returns
    -------
    Normalization

    Raises
    ------
    ValueError
        Not an XAS energy axis, an unknown ``output``, an ``e0`` of the wrong shape, or a
        spectrum with fewer than 12 finite points or a constant (e.g. all-zero) mu.

    Warns
    -----
    PhysicsWarning
        A given e0 outside the data (it is then found from the data, as Larch does).

    Examples
    --------
    >>> from specssb import Axis, Spectrum
    >>> energy = np.linspace(8800.0, 9600.0, 801)
    >>> mu = 0.1 + 1e-5 * energy + 1.5 * (0.5 + np.arctan((energy - 8979.0) / 1.5) / np.pi)
    >>> s = Spectrum(axis=Axis("energy", "eV", energy), data=mu, technique="xas", signal="mu")
    >>> result = normalize(s, pre1=-150, pre2=-50, norm1=150, norm2=600, nnorm=1)
    >>> result.e0, round(result.edge_step, 2)   # the arctan tails take 1.5 % off the step
    (8979.0, 1.48)
    """
    if output not in _OUTPUTS:
        raise ValueError(f"output must be one of {_OUTPUTS}, not {output!r}")
    if spectrum.axis.name != "energy":
        raise ValueError(
            f"normalize() needs an XAS spectrum on an 'energy' axis, got {spectrum.axis.name!r}"
        )
    if np.iscomplexobj(spectrum.data):
        raise ValueError("normalize() needs real mu(E), got complex data")
    energy = spectrum.axis.values
    order = np.argsort(energy)
    resorted = bool(np.any(np.diff(order) != 1))
    if resorted:
        energy = energy[order]
    mu = np.asarray(spectrum.data, dtype=np.float64).reshape(-1, energy.size)
    if resorted:
        mu = mu[:, order]
    leading = spectrum.leading_shape
    given = _given_e0(e0, leading, mu.shape[0])
    options = dict(pre1=pre1, pre2=pre2, norm1=norm1, norm2=norm2, nnorm=nnorm, nvict=nvict)

    pieces = []
    e0_all, step_all = np.empty(mu.shape[0]), np.empty(mu.shape[0])
    found = np.zeros(mu.shape[0], dtype=bool)
    for rows, grid, values, columns in _blocks(energy, mu):
        block = normalize_block(grid, values, given[rows], options, (output,), make_flat)
        e0_all[rows], step_all[rows], found[rows] = block["e0"], block["edge_step"], block["found"]
        pieces.append((rows, columns, grid, values, block))
    ranges = _ranges(_merge_plans([(p[0], p[4]["plan"]) for p in pieces], mu.shape[0]), leading)

    def compute(names: tuple[str, ...]) -> dict[str, np.ndarray]:
        return _assemble(pieces, mu.shape, names, make_flat)

    def shaped(values: np.ndarray) -> Any:
        return float(values[0]) if not leading else values.reshape(leading)

    result_e0, result_step = shaped(e0_all), shaped(step_all)
    e0_found: Any = bool(found[0]) if not leading else found.reshape(leading)
    tabulated = check_tabulated_edge(spectrum, e0_all)
    parameters = {
        "e0": _plain(result_e0),
        "e0_found": _plain(e0_found),
        "edge_step": _plain(result_step),
        **ranges.to_dict(),
        "make_flat": make_flat,
        "output": output,
        "sorted_energy": resorted,
        "compatible_with": LARCH_COMPATIBLE,
        "tabulated_edge_ev": tabulated,
    }
    if len(pieces) == 1 and pieces[0][0].size == mu.shape[0] and pieces[0][1].size == mu.shape[1]:
        data = pieces[0][4].pop("first")[output]
    else:
        data = np.full(mu.shape, np.nan)
        for rows, columns, *_, block in pieces:
            data[np.ix_(rows, columns)] = block.pop("first")[output]
    data = data.reshape(spectrum.shape)
    changes: dict[str, Any] = {"data": data, "signal": output, "signal_unit": ""}
    if resorted:
        changes["axis"] = Axis("energy", "eV", energy)
    normalized = spectrum.with_step("xas_normalize", parameters, **changes)
    del data
    energy_out = np.array(energy)
    energy_out.setflags(write=False)
    return Normalization(
        e0=result_e0,
        edge_step=result_step,
        e0_found=e0_found,
        ranges=ranges,
        energy=energy_out,
        spectrum=normalized,
        output=output,
        _compute=compute,
    )


#: Largest |e0 − tabulated edge| (eV) accepted without a PhysicsWarning. Metal foils sit
#: within ±2 eV; oxides and chemical shifts reach about 15–20 eV (``shared notes/xas.md`` §2).
EDGE_TOLERANCE_EV = 20.0


def check_tabulated_edge(spectrum: Spectrum, e0: np.ndarray) -> float | None:
    """Compare e0 with the tabulated edge of the element and edge in ``spectrum.meta``.

    The element and edge come from the file's metadata (XDI ``Element.*``, Athena, a beamline
    header) or the user, never from e0 itself: ``guess_edge(7126 eV)`` answers Nd L1 for an
    Fe2O3 spectrum (``shared notes/xas.md`` §4).

    Returns
    -------
    float or None
        The tabulated edge energy (eV, xraydb), or None when the metadata do not name both.

    Warns
    -----
    PhysicsWarning
        When any e0 is more than :data:`EDGE_TOLERANCE_EV` from it: the wrong edge or element
        in the metadata, an uncalibrated monochromator, or an e0 found on a pre-edge feature
        or a glitch (pass ``e0`` explicitly then).
    """
    element, edge = spectrum.meta.get("element"), spectrum.meta.get("edge")
    if not element or not edge:
        return None
    try:
        import xraydb

        tabulated = float(xraydb.xray_edge(str(element), str(edge)).energy)
    except Exception:  # noqa: BLE001 - an unknown element/edge pair is the reader's business
        return None
    distance = np.abs(np.asarray(e0, float) - tabulated)
    far = np.flatnonzero(distance > EDGE_TOLERANCE_EV)
    if far.size:
        worst = int(far[np.argmax(distance[far])])
        name = spectrum.source.path if spectrum.source is not None else "<memory>"
        warnings.warn(
            f"{name}: e0 {float(np.ravel(e0)[worst]):.1f} eV is {distance[worst]:.1f} eV from the "
            f"tabulated {element} {edge} edge ({tabulated:.1f} eV) in {far.size} of {distance.size} "
            "spectra: check the element/edge metadata and the energy calibration, or pass e0",
            PhysicsWarning, stacklevel=3)
    return tabulated


# ------------------------------------------------------------------------------- internals
def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_rows(energy: Any, mu: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    energy = np.asarray(energy, dtype=np.float64)
    values = np.asarray(mu, dtype=np.float64)
    if energy.ndim != 1 or values.shape[-1:] != energy.shape:
        raise ValueError(
            f"energy must be 1-D and mu end with the same length; got {energy.shape}, "
            f"{values.shape}"
        )
    order = np.argsort(energy)
    if np.any(np.diff(order) != 1):
        energy, values = energy[order], values[..., order]
    return energy, values.reshape(-1, energy.size), values.ndim == 1


def _given_e0(e0: Any, leading: tuple[int, ...], count: int) -> np.ndarray:
    if e0 is None:
        return np.full(count, np.nan)
    values = np.asarray(e0, dtype=np.float64)
    if values.ndim == 0:
        return np.full(count, float(values))
    if values.shape != leading:
        raise ValueError(f"e0 has shape {values.shape}; the spectra have leading shape {leading}")
    return values.ravel()


def _blocks(energy: np.ndarray, mu: np.ndarray):
    """Yield ``(rows, grid, mu_rows, columns)``: all-finite rows together, others one by one."""
    finite = np.isfinite(mu)
    complete = finite.all(axis=1)
    everything = np.arange(energy.size)
    if complete.any():
        rows = np.flatnonzero(complete)
        _check_rows(energy, mu[rows], rows)
        yield rows, energy, mu[rows], everything
    for row in np.flatnonzero(~complete):
        columns = np.flatnonzero(finite[row])
        rows = np.array([row])
        _check_rows(energy[columns], mu[rows][:, columns], rows)
        yield rows, energy[columns], mu[rows][:, columns], columns


def _check_rows(energy: np.ndarray, mu: np.ndarray, rows: np.ndarray) -> None:
    if energy.size < _MIN_POINTS:
        raise ValueError(
            f"spectrum {int(rows[0])} has {energy.size} finite points; normalization needs at "
            f"least {_MIN_POINTS} (is mu all NaN?)"
        )
    flat = np.ptp(mu, axis=1) == 0
    if flat.any():
        row = int(rows[np.flatnonzero(flat)[0]])
        raise ValueError(
            f"spectrum {row}: mu is constant ({float(mu[flat][0, 0])!r} everywhere), so it has "
            "no absorption edge to normalize"
        )


_RANGE_FIELDS = ("pre1", "pre2", "norm1", "norm2", "nnorm", "nvict", "npre")


def _ranges(plan: dict[str, np.ndarray], shape: tuple[int, ...]) -> NormRanges:
    values: dict[str, Any] = {}
    for name in _RANGE_FIELDS:
        array = np.asarray(plan[name])
        if name in ("nnorm", "nvict", "npre"):
            array = array.astype(np.int64)
        else:
            array = array.astype(np.float64)
        if shape == ():
            values[name] = array.ravel()[0].item()
        else:
            array = array.reshape(shape)
            array.setflags(write=False)
            values[name] = array
    return NormRanges(**values)


def _merge_plans(plans: list[tuple[np.ndarray, dict[str, np.ndarray]]], count: int) -> dict:
    merged = {name: np.empty(count) for name in _RANGE_FIELDS}
    for rows, plan in plans:
        for name in _RANGE_FIELDS:
            merged[name][rows] = plan[name]
    return merged


def _assemble(
    pieces: list, shape: tuple[int, int], names: tuple[str, ...], make_flat: bool
) -> dict[str, np.ndarray]:
    """Full (spectra × points) curves from the blocks; NaN where a block dropped a point."""
    if len(pieces) == 1 and pieces[0][0].size == shape[0] and pieces[0][1].size == shape[1]:
        _, _, _, values, block = pieces[0]
        return block_curves(values, block, names, make_flat)
    out = {name: np.full(shape, np.nan) for name in names}
    for rows, columns, _, values, block in pieces:
        for name, curve in block_curves(values, block, names, make_flat).items():
            out[name][np.ix_(rows, columns)] = curve
    return out
