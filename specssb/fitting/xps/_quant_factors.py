"""Correction factors for XPS quantification (private; the public API is :mod:`specssb.fitting.xps.quantify`).

Each factor is a small pure function with its source:

* photoionization cross-sections: xraylib ``CS_Photo_Partial`` (cm² g⁻¹) × A / N_A, which
  reproduces Scofield's (1976) subshell cross-sections (checked: Fe 2p at 1486.6 eV gives
  16.42 relative to C 1s, the CasaXPS/Scofield RSF; ``../shared/notes/xps.md`` §4 lists the
  other lines checked within 0.6 %). ``CSb_Photo_Partial`` is *not* used: in xraylib 4.3 it
  returns values per electron.
* dipole asymmetry parameter β: the empirical parametrisation of Cant, Spencer, Flavell &
  Shard, *Surf. Interface Anal.* 54, 442 (2022), Table 2 (coefficients as digitised in the
  MatBase project, c0deta1ker/MatBase ``xsect_beta_cant2022.m``); fitted to Trzhaskovskaya's
  calculations for Z = 3–98 and 1.5–10 keV, used here down to 1.2 keV (Mg Kα).
* angular factor: Reilman, Msezane & Manson, *J. Electron Spectrosc.* 8, 389 (1976).
* IMFP: TPP-2M, Tanuma, Powell & Penn, *Surf. Interface Anal.* 21, 165 (1994).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xraylib

from specssb.errors import ConfigError, PhysicsWarning

AVOGADRO = 6.02214076e23
MAGIC_ANGLE_DEG = math.degrees(math.acos(1.0 / math.sqrt(3.0)))  # 54.7356°

_LINE = re.compile(r"^\s*([A-Z][a-z]?)\s*(\d)\s*([spdf])\s*(1/2|3/2|5/2|7/2|1|3|5|7)?\s*$")
_SHELL_LETTER = {1: "K", 2: "L", 3: "M", 4: "N", 5: "O", 6: "P"}
_L_OF = {"s": 0, "p": 1, "d": 2, "f": 3}


@dataclass(frozen=True)
class Line:
    """A core level: ``Line.parse("Fe 2p3/2")``.

    Attributes
    ----------
    element : str
    z : int
    n : int
    orbital : str
        ``"s"``, ``"p"``, ``"d"`` or ``"f"``.
    twice_j : tuple of int
        ``2j`` of the subshells the line includes: ``(3,)`` for 2p3/2, ``(1, 3)`` for an
        unresolved 2p, ``(1,)`` for any s level.
    """

    element: str
    z: int
    n: int
    orbital: str
    twice_j: tuple[int, ...]

    @classmethod
    def parse(cls, label: str) -> Line:
        """Parse ``"Fe 2p"``, ``"Fe 2p3/2"``, ``"Fe2p3"``, ``"C 1s"`` …

        Raises
        ------
        ConfigError
            When the label is not an element and a core level, or the level does not exist.
        """
        match = _LINE.match(str(label))
        if match is None:
            raise ConfigError(f"cannot read a core level from {label!r}; write e.g. 'Fe 2p3/2' "
                              "or 'C 1s'", key="line")
        symbol, n_text, orbital, j_text = match.groups()
        try:
            z = int(xraylib.SymbolToAtomicNumber(symbol))
        except ValueError as exc:
            raise ConfigError(f"{label!r}: unknown element {symbol!r}", key="line") from exc
        n, ell = int(n_text), _L_OF[orbital]
        if ell >= n:
            raise ConfigError(f"{label!r}: there is no {n}{orbital} level", key="line")
        possible = (1,) if ell == 0 else (2 * ell - 1, 2 * ell + 1)
        if j_text is None:
            twice_j = possible
        else:
            twice_j = (int(j_text.split("/")[0]),)
            if twice_j[0] not in possible:
                raise ConfigError(f"{label!r}: j = {twice_j[0]}/2 is not possible for a "
                                  f"{orbital} level", key="line")
        return cls(symbol, z, n, orbital, twice_j)

    @property
    def label(self) -> str:
        """Canonical label, e.g. ``"Fe 2p3/2"`` or ``"Fe 2p"``."""
        j = f"{self.twice_j[0]}/2" if len(self.twice_j) == 1 and self.orbital != "s" else ""
        return f"{self.element} {self.n}{self.orbital}{j}"

    def shells(self) -> list[tuple[int, int]]:
        """(xraylib shell constant, 2j) of every subshell in the line."""
        out = []
        for twice_j in self.twice_j:
            # subshell index within the shell: s1/2=1, p1/2=2, p3/2=3, d3/2=4, d5/2=5, f5/2=6 …
            ell = _L_OF[self.orbital]
            index = 1 if ell == 0 else 2 * ell + (twice_j > 2 * ell)
            name = _SHELL_LETTER[self.n] + ("_SHELL" if self.n == 1 else f"{index}_SHELL")
            out.append((getattr(xraylib, name), twice_j))
        return out


def subshell_cross_sections(line: Line, photon_energy_ev: float) -> list[float]:
    """Photoionization cross-section of every subshell of ``line`` in barn per atom.

    Raises
    ------
    ConfigError
        When the photon energy cannot ionize the level, or xraylib has no data for it.
    """
    weight = xraylib.AtomicWeight(line.z)
    out = []
    for shell, _ in line.shells():
        try:
            per_gram = xraylib.CS_Photo_Partial(line.z, shell, photon_energy_ev / 1000.0)
        except ValueError as exc:
            raise ConfigError(f"{line.label} at {photon_energy_ev} eV: xraylib gives no "
                              f"cross-section ({exc})", key="photon_energy_ev") from exc
        out.append(per_gram * weight / AVOGADRO * 1e24)
    return out


def cross_section(line: Line, photon_energy_ev: float) -> float:
    """Photoionization cross-section of ``line`` (summed over its subshells), barn per atom."""
    return float(sum(subshell_cross_sections(line, photon_energy_ev)))


def binding_energy(line: Line) -> float:
    """Free-atom binding energy (xraylib edge energy) of the line, eV; the 2j+1-weighted mean
    for an unresolved doublet."""
    energies = [xraylib.EdgeEnergy(line.z, shell) * 1000.0 for shell, _ in line.shells()]
    weights = [twice_j + 1 for _, twice_j in line.shells()]
    return float(np.average(energies, weights=weights))


# Cant et al. (2022) Table 2. s levels: beta = a + m (Z/100)^q - n exp(s Z/100), with
# a = ca + da k, m = dm k^gm, q = dq k^gq, n = dn k^gn, s = ds k^gs, k = hv / keV.
_CANT_S = {  # n: (ca, da, dm, gm, dq, gq, dn, gn, ds, gs)
    1: (2.00, -1.03e-2, 6.17e-1, 1.58e-1, 1.78, 2.74e-2, 0.0, 0.0, 0.0, 0.0),
    2: (2.01, -1.04e-2, 5.42e-1, 1.18e-1, 1.59, 3.70e-2, 6.40e-3, 3.40e-2, 9.29, -2.04e-1),
    3: (2.00, -2.73e-2, 4.72e-2, 9.01e-1, 2.39e-1, 2.32e-1, 1.72e-3, -1.07e-1, 6.70, -4.52e-2),
    4: (1.44, 1.89e-2, 5.35e-1, -5.01e-2, 1.20e-3, 2.43, 5.87e-5, 1.59, 1.04e1, -2.94e-1),
    5: (1.34, 1.61e-2, 6.27e-1, -1.92e-2, 1.19e-3, 2.30, 1.41e-4, 1.22, 8.77, -2.26e-1),
}
# Other levels: beta = a - m (Z/100 - b)^2 (Z/100)^q - n exp(-(KE/r)^s), with a = ca + da k,
# m = dm k^gm, b = db k^gb, q = dq k, s = cs + ds / k, r = cr + dr k.
_CANT_PDF = {  # (n, orbital, 2j): (ca, da, dm, gm, db, gb, dq, n, cs, ds, cr, dr)
    (2, "p", 1): (1.48, -6.67e-3, 3.98e1, -8.14e-1, 2.24e-1, 4.57e-1, 1.11e-2, 1.10, 5.01e-1, 2.31e-1, 5.76e1, 1.75e1),
    (2, "p", 3): (1.55, 0.0, 3.49e1, -7.85e-1, 2.37e-1, 4.57e-1, 1.07e-2, 1.31, 5.25e-1, 3.31e-3, 6.09e1, 2.51e1),
    (3, "p", 1): (1.64, -4.40e-3, 9.59, -5.60e-1, 3.56e-1, 3.89e-1, 0.0, 1.40, 6.96e-1, 1.35e-1, 2.23e1, 7.56e1),
    (3, "p", 3): (2.21, 0.0, 5.04, -2.87e-1, 4.91e-1, 2.88e-1, 0.0, 2.90, 3.72e-1, 9.16e-2, 7.58e1, 1.37e2),
    (4, "p", 1): (1.74, -1.07e-3, 3.57, -3.56e-1, 4.76e-1, 3.48e-1, 0.0, 2.01, 9.81e-1, 0.0, 0.0, 2.23e2),
    (4, "p", 3): (1.75, 0.0, 5.75, -3.87e-1, 4.56e-1, 3.16e-1, 3.03e-4, 8.94e-1, 1.41, 0.0, 0.0, 2.27e2),
    (5, "p", 1): (1.72, -2.35e-3, 3.52, -3.54e-1, 5.20e-1, 3.12e-1, 3.06e-4, 7.87e-1, 8.11, 0.0, 0.0, 7.37e2),
    (5, "p", 3): (1.77, 0.0, 3.25, -1.86e-1, 4.57e-1, 3.28e-1, 3.05e-4, 7.83e-1, 8.20, 0.0, 0.0, 7.12e2),
    (3, "d", 3): (1.32, 0.0, 6.86, -2.70e-1, 4.67e-1, 3.40e-1, 5.21e-2, 9.45e-1, 1.02, 5.28e-1, 2.06e2, 2.13e2),
    (3, "d", 5): (1.24, 0.0, 8.76, -5.74e-1, 4.22e-1, 4.17e-1, 4.06e-2, 7.36e-1, 1.03, 4.45e-1, 2.12e2, 1.34e2),
    (4, "d", 3): (1.53, 0.0, 5.81, -3.17e-1, 5.28e-1, 3.38e-1, 5.01e-2, 2.34, 2.90e-1, 6.14e-1, 3.44e2, 0.0),
    (4, "d", 5): (1.41, 0.0, 4.88, -6.01e-1, 5.36e-1, 4.09e-1, 1.92e-2, 2.93, 3.96e-1, 3.12e-1, 1.39e2, 0.0),
    (5, "d", 3): (1.44, -2.50e-5, 4.55, -1.82e-1, 6.06e-1, 2.73e-1, 3.96e-2, 3.25, 5.67e-1, 1.36e-2, 1.76e2, 1.35e-3),
    (5, "d", 5): (1.46, -2.49e-5, 2.51, -4.04e-1, 6.60e-1, 3.50e-1, 1.60e-10, 2.92, 4.81e-1, 0.0, 1.30e2, 4.44e-9),
    (4, "f", 5): (1.06, 0.0, 4.41, -6.23e-1, 6.20e-1, 3.95e-1, 6.37e-2, 5.52, 3.54e-1, 1.46, 2.44e2, 0.0),
    (4, "f", 7): (1.05, -4.43e-6, 4.10, -6.43e-1, 6.31e-1, 3.99e-1, 7.21e-2, 5.60, 3.26e-1, 1.34, 2.06e2, 0.0),
}
BETA_ENERGY_RANGE_EV = (1200.0, 10000.0)


def _beta_subshell(z: int, n: int, orbital: str, twice_j: int, photon_energy_ev: float,
                   binding_energy_ev: float) -> float:
    k = photon_energy_ev / 1000.0
    x = z / 100.0
    if orbital == "s":
        if n not in _CANT_S:
            raise ConfigError(f"no asymmetry parameter for {n}s; give beta=", key="beta")
        ca, da, dm, gm, dq, gq, dn, gn, ds, gs = _CANT_S[n]
        q = dq * k**gq
        return (ca + da * k) + dm * k**gm * x**q - dn * k**gn * math.exp(ds * k**gs * x)
    key = (n, orbital, twice_j)
    if key not in _CANT_PDF:
        raise ConfigError(f"no asymmetry parameter for {n}{orbital}{twice_j}/2; give beta=",
                          key="beta")
    ca, da, dm, gm, db, gb, dq, nn, cs, ds, cr, dr = _CANT_PDF[key]
    kinetic = max(photon_energy_ev - binding_energy_ev, 0.0)
    t = (kinetic / (cr + dr * k)) ** (cs + ds / k)
    return ((ca + da * k) - dm * k**gm * (x - db * k**gb) ** 2 * x ** (dq * k)
            - nn * math.exp(-t))


def asymmetry_parameter(line: Line, photon_energy_ev: float) -> float:
    """Dipole asymmetry parameter β of ``line`` (Cant et al. 2022 parametrisation).

    For an unresolved doublet the subshell values are averaged with the subshell
    cross-sections as weights (the angular factor is linear in β, so this is exact).
    A :class:`~specssb.errors.PhysicsWarning` is raised outside 1.2–10 keV.
    """
    low, high = BETA_ENERGY_RANGE_EV
    if not low <= photon_energy_ev <= high:
        warnings.warn(f"asymmetry parameter of {line.label} at {photon_energy_ev} eV: the Cant "
                      f"et al. (2022) parametrisation is fitted for 1.5-10 keV; the value is "
                      "extrapolated (pass beta= to override)", PhysicsWarning, stacklevel=3)
    weights = subshell_cross_sections(line, photon_energy_ev)
    betas = []
    for shell, twice_j in line.shells():
        edge = xraylib.EdgeEnergy(line.z, shell) * 1000.0
        betas.append(_beta_subshell(line.z, line.n, line.orbital, twice_j, photon_energy_ev, edge))
    return float(np.average(betas, weights=weights))


def angular_factor(beta: float, angle_deg: float, *, polarization: str = "unpolarized") -> float:
    """Relative photoemission intensity at ``angle_deg`` for asymmetry parameter ``beta``.

    ``unpolarized`` (laboratory anode; angle between source and analyser, Reilman et al. 1976)::

        L = 1 + (beta / 2) (3/2 sin^2(angle) - 1)

    ``linear`` (synchrotron; angle between polarization vector and analyser)::

        L = 1 + (beta / 2) (3 cos^2(angle) - 1)

    Both equal 1 at the magic angle 54.7°.
    """
    theta = math.radians(angle_deg)
    if polarization == "unpolarized":
        return 1.0 + 0.5 * beta * (1.5 * math.sin(theta) ** 2 - 1.0)
    if polarization == "linear":
        return 1.0 + 0.5 * beta * (3.0 * math.cos(theta) ** 2 - 1.0)
    raise ConfigError(f"polarization must be 'unpolarized' or 'linear', not {polarization!r}",
                      key="polarization")


@dataclass(frozen=True)
class Material:
    """Matrix parameters for TPP-2M.

    Attributes
    ----------
    density_g_cm3 : float
        Density ρ, g cm⁻³.
    valence_electrons : float
        Valence electrons per formula unit N_v.
    band_gap_ev : float
        Band gap E_g, eV (0 for a conductor).
    molar_mass_g_mol : float
        Molar mass of the formula unit M, g mol⁻¹.
    name : str
    """

    density_g_cm3: float
    valence_electrons: float
    band_gap_ev: float
    molar_mass_g_mol: float
    name: str = ""

    def __post_init__(self) -> None:
        values = (self.density_g_cm3, self.valence_electrons, self.molar_mass_g_mol)
        if not all(math.isfinite(v) and v > 0 for v in values) or not (
                math.isfinite(self.band_gap_ev) and self.band_gap_ev >= 0):
            raise ConfigError(f"material {self.name!r}: density, valence electrons and molar mass "
                              "must be positive and the band gap non-negative", key="material")


#: "Average matrix" (N_v 4.684, ρ 6.767 g cm⁻³, M 137.51 g mol⁻¹, E_g 0) attributed to Briggs &
#: Grant in KherveFitting ``libraries/TPP-2M.py``; not checked against the book itself.
GENERIC_MATRIX = Material(6.767, 4.684, 0.0, 137.51, "average matrix (Briggs & Grant)")


def imfp_tpp2m(kinetic_energy_ev: np.ndarray | float, material: Material = GENERIC_MATRIX) -> np.ndarray:
    """Inelastic mean free path by TPP-2M, nm.

    λ [Å] = E / {E_p² [β ln(γE) − C/E + D/E²]}, with E_p = 28.8 (N_v ρ / M)^½,
    β = −0.10 + 0.944 / (E_p² + E_g²)^½ + 0.069 ρ^0.1, γ = 0.191 ρ^−½, C = 1.97 − 0.91 U,
    D = 53.4 − 20.8 U, U = N_v ρ / M (Tanuma, Powell & Penn 1994); E is the kinetic energy in eV.
    """
    energy = np.asarray(kinetic_energy_ev, dtype=float)
    u = material.valence_electrons * material.density_g_cm3 / material.molar_mass_g_mol
    ep2 = 28.8**2 * u
    beta = -0.10 + 0.944 / math.sqrt(ep2 + material.band_gap_ev**2) + 0.069 * material.density_g_cm3**0.1
    gamma = 0.191 / math.sqrt(material.density_g_cm3)
    c = 1.97 - 0.91 * u
    d = 53.4 - 20.8 * u
    angstrom = energy / (ep2 * (beta * np.log(gamma * energy) - c / energy + d / energy**2))
    return angstrom / 10.0


def interpolate_curves(curves: Sequence[tuple[np.ndarray, np.ndarray]], kinetic_energy_ev: float) -> float:
    """Value at ``kinetic_energy_ev`` of the first (KE, T) curve whose range covers it.

    Raises
    ------
    ConfigError
        When no curve covers the energy.
    """
    for energies, values in curves:
        if energies[0] <= kinetic_energy_ev <= energies[-1]:
            return float(np.interp(kinetic_energy_ev, energies, values))
    ranges = ", ".join(f"{e[0]:.2f}-{e[-1]:.2f}" for e, _ in curves) or "none"
    raise ConfigError(f"no transmission curve covers kinetic energy {kinetic_energy_ev:.2f} eV "
                      f"(curves cover {ranges} eV)", key="transmission_curve")
