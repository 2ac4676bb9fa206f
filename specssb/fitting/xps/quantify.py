"""XPS quantification: atomic percentages from fitted component areas.

For every component (row) *i* with raw area ``A_i`` (from a fit or a vendor report) the
corrected intensity and the atomic fraction are::

    I_i = A_i / (S_i · T_i · λ_i · L_i)          x_i = I_i / Σ_j I_j       at.% = 100 x_i

with, each switchable:

``S_i`` — sensitivity (``rsf=``)
    ``"xraylib"`` (alias ``"scofield"``): the photoionization cross-section of the line at the
    actual photon energy, σ_line(hν) / σ_C1s(hν), from xraylib ``CS_Photo_Partial`` (cm² g⁻¹)
    × A / N_A. xraylib's subshell data reproduce Scofield's tables (Fe 2p at 1486.6 eV gives
    16.42, the Scofield RSF CasaXPS uses; C 1s = 1 by construction) and work at any synchrotron
    energy. A mapping gives the RSF per species or per line; ``"column"`` takes the input's
    ``rsf`` column (e.g. CasaXPS's per-component RSF).
``T_i`` — analyser transmission at the line's kinetic energy (``transmission=``)
    ``None`` (1: areas already transmission-corrected), ``"power_law"`` (``KE**exponent``;
    ``transmission_exponent``, default −0.5), ``"file"`` (the instrument's transmission curve,
    e.g. the VAMAS "Transmission" variable written by SPECS Prodigy, linearly interpolated; from
    ``transmission_curve=`` or the input's ``transmission`` column).
``λ_i`` — electron inelastic mean free path (``imfp=``)
    ``"tpp2m"`` (TPP-2M, nm, for the ``material=`` matrix), ``"power_law"``
    (``KE**imfp_exponent``, default 0.6, within the 0.5–0.75 commonly used) or ``None`` (1).
``L_i`` — angular asymmetry (``asymmetry=True``)
    ``1 + (β/2)(3/2 sin²θ − 1)`` for an unpolarized anode at source–analyser angle θ (Reilman,
    Msezane & Manson 1976; ``1 + (β/2)(3cos²θ − 1)`` for linear polarization, θ from the
    polarization vector); β from the Cant et al. (2022) parametrisation (or ``beta=``).
    L = 1 at the magic angle 54.7°, the default.

Kinetic energies are ``KE = hν − BE`` (binding energies referenced to the Fermi level, as
CasaXPS does: its FeO report uses KE + BE = 1486.61 eV).

Uncertainties
-------------
The factors are taken as exact and the areas of different rows as uncorrelated, so::

    σ(I_i) = σ(A_i) / (S_i T_i λ_i L_i)
    σ(x_i)² = [(1 − x_i)² σ(I_i)² + x_i² Σ_{j≠i} σ(I_j)²] / (Σ_j I_j)²

(first-order propagation of ``x_i = I_i / Σ I``; ``σ(at.%) = 100 σ(x_i)``). Components of one
species in a FitTable (a doublet and its tied partner) are summed first and, being fully
correlated, their standard errors add linearly. Covariances between different components of one
fit are not in the FitTable and are neglected.

CasaXPS compatibility
---------------------
CasaXPS divides the raw area by RSF × T(KE) × KE^m, with T the transmission stored in the VAMAS
block (or 1) and m the "MFP exponent" of the block, and applies no asymmetry correction.
:func:`quantify_casaxps` does exactly that. Checked against the CasaXPS report
``FeO_analyzed_results.csv`` (``../shared/data/xps/pynxtools-xps``): with the file's
transmission and m = 0 (as stored in ``FeO_analyzed.vms``) the ``Area/(RSF*T*MFP)`` column is
reproduced to 1e-5 relative; with the combined power law T × MFP ∝ KE^−0.5 the at.% agree to
0.01 at.% (the absolute corrected areas then differ by a constant factor).

References
----------
J. H. Scofield, *J. Electron Spectrosc. Relat. Phenom.* 8, 129 (1976).
T. Schoonjans et al., *Spectrochim. Acta B* 66, 776 (2011) (xraylib).
R. F. Reilman, A. Msezane, S. T. Manson, *J. Electron Spectrosc.* 8, 389 (1976).
D. J. H. Cant, B. F. Spencer, W. R. Flavell, A. G. Shard, *Surf. Interface Anal.* 54, 442 (2022).
S. Tanuma, C. J. Powell, D. R. Penn, *Surf. Interface Anal.* 21, 165 (1994) (TPP-2M).
CasaXPS manual, "Quantification" and FAQ (casaxps.com).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from specssb.errors import ConfigError
from specssb.spectrum import Spectrum
from specssb.fitting.xps._quant_factors import (
    GENERIC_MATRIX,
    MAGIC_ANGLE_DEG,
    Line,
    Material,
    angular_factor,
    asymmetry_parameter,
    binding_energy,
    cross_section,
    imfp_tpp2m,
    interpolate_curves,
)

__all__ = [
    "GENERIC_MATRIX",
    "Line",
    "Material",
    "angular_factor",
    "asymmetry_parameter",
    "imfp_tpp2m",
    "quantify",
    "quantify_casaxps",
    "sensitivity_factor",
    "transmission_curve",
]

#: Columns of the table :func:`quantify` returns (after any ``group_by`` columns).
COLUMNS = (
    "species", "line", "binding_energy", "kinetic_energy", "area", "area_stderr", "rsf",
    "transmission", "imfp", "beta", "angular_factor", "corrected_area", "corrected_area_stderr",
    "atomic_percent", "atomic_percent_stderr",
)

TransmissionCurve = Spectrum | tuple[Any, Any]


def sensitivity_factor(line: str | Line, photon_energy_ev: float) -> float:
    """Cross-section of ``line`` relative to C 1s at the same photon energy (Scofield-type RSF).

    >>> round(sensitivity_factor("Fe 2p", 1486.6), 2)
    16.42
    """
    parsed = line if isinstance(line, Line) else Line.parse(line)
    return cross_section(parsed, photon_energy_ev) / cross_section(Line.parse("C 1s"), photon_energy_ev)


def transmission_curve(
    spectrum: Spectrum, *, photon_energy_ev: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The transmission function stored with a Spectrum, on a rising kinetic-energy axis.

    Looks for a corresponding variable named like "transmission" in
    ``raw_meta["corresponding_variables"]`` (VAMAS reader) or ``raw_meta["transmission"]``.
    A binding-energy axis is converted with ``KE = hν − BE``, hν from
    ``meta["excitation_energy_ev"]`` or ``photon_energy_ev``.

    Returns
    -------
    kinetic_energy : ndarray of shape (n,), eV, increasing
    transmission : ndarray of shape (n,)

    Raises
    ------
    ConfigError
        When the Spectrum holds no transmission or no photon energy is known.
    """
    variables = spectrum.raw_meta.get("corresponding_variables") or {}
    candidates = [*variables.items(), ("transmission", spectrum.raw_meta.get("transmission"))]
    values = next((v for k, v in candidates if "transmission" in str(k).lower() and v is not None), None)
    if values is None:
        raise ConfigError(f"{_name(spectrum)} holds no transmission function", key="transmission_curve")
    values = np.asarray(values, dtype=float)
    axis = np.asarray(spectrum.axis.values, dtype=float)
    if values.shape != axis.shape:
        raise ConfigError(f"{_name(spectrum)}: transmission has {values.size} points, axis {axis.size}",
                          key="transmission_curve")
    if spectrum.axis.name == "binding_energy":
        energy = spectrum.meta.get("excitation_energy_ev", photon_energy_ev)
        if energy is None:
            raise ConfigError(f"{_name(spectrum)}: binding-energy axis and no photon energy",
                              key="transmission_curve")
        axis = float(energy) - axis
    elif spectrum.axis.name != "kinetic_energy":
        raise ConfigError(f"{_name(spectrum)}: axis {spectrum.axis.name!r} is not an electron energy",
                          key="transmission_curve")
    return _sorted_curve(axis, values)


def quantify(
    areas: pd.DataFrame | Any,
    *,
    photon_energy_ev: float,
    rsf: Literal["xraylib", "scofield", "column"] | Mapping[str, float] = "xraylib",
    transmission: Literal["file", "power_law"] | None = None,
    transmission_exponent: float = -0.5,
    transmission_curve: TransmissionCurve | Sequence[TransmissionCurve] | None = None,
    imfp: Literal["tpp2m", "power_law"] | None = "tpp2m",
    imfp_exponent: float = 0.6,
    material: Material = GENERIC_MATRIX,
    asymmetry: bool = True,
    analyser_angle_deg: float = MAGIC_ANGLE_DEG,
    polarization: Literal["unpolarized", "linear"] = "unpolarized",
    beta: Mapping[str, float] | None = None,
    lines: Mapping[str, str] | None = None,
    group_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Atomic percentages from component areas, with every correction factor shown.

    Parameters
    ----------
    areas : pandas.DataFrame or FitTable
        A DataFrame with one row per component: ``species``, ``area`` (any consistent unit,
        e.g. counts·eV or CPS·eV), optional ``area_stderr``, ``line`` (e.g. ``"Fe 2p3/2"``;
        else ``lines[species]`` or the species name itself), ``binding_energy`` or
        ``kinetic_energy`` (eV, the component position; else the free-atom binding energy from
        xraylib), ``rsf``, ``transmission`` and any ``group_by`` columns. Or a FitTable (anything
        with a tidy ``.frame``): its ``area`` and ``center`` rows are used and the components of
        one species (doublet partners) are summed per spectrum.
    photon_energy_ev : float
        Excitation energy hν, eV (Al Kα 1486.6, Mg Kα 1253.6, or a synchrotron energy).
    rsf : {"xraylib", "scofield", "column"} or mapping
        Sensitivity source (module docstring); a mapping is keyed by species or line label.
    transmission : {"file", "power_law"} or None
        Transmission correction; ``"file"`` needs ``transmission_curve`` or a ``transmission``
        column.
    transmission_exponent : float
        Exponent of ``T = KE**transmission_exponent`` (``"power_law"``).
    transmission_curve : Spectrum, (kinetic_energy, T) pair, or a sequence of them
        Curves for ``transmission="file"``; each line uses the first curve covering its KE.
    imfp : {"tpp2m", "power_law"} or None
        Mean-free-path correction.
    imfp_exponent : float
        Exponent of ``λ = KE**imfp_exponent`` (``"power_law"``).
    material : Material
        TPP-2M matrix; default :data:`GENERIC_MATRIX`. Only ratios of λ matter for at.%.
    asymmetry : bool
        Apply the angular asymmetry factor L.
    analyser_angle_deg : float
        Source–analyser angle (unpolarized) or polarization–analyser angle (linear), degrees.
    polarization : {"unpolarized", "linear"}
    beta : mapping, optional
        Asymmetry parameters by species or line, overriding Cant et al. (2022).
    lines : mapping, optional
        Core-level label per species (e.g. ``{"li2s": "S 2p"}``).
    group_by : str or sequence of str, optional
        Columns that split the rows into samples (e.g. ``"index"`` for the levels of a depth
        profile); percentages sum to 100 within each group. Default: one group.

    Returns
    -------
    pandas.DataFrame
        ``group_by`` columns, then :data:`COLUMNS`: ``binding_energy`` and ``kinetic_energy``
        in eV, ``imfp`` in nm (TPP-2M) or eV**imfp_exponent (power law), ``corrected_area`` in
        the area unit; ``attrs["quantification"]`` records every option.

    Raises
    ------
    ConfigError
        For a missing column, unknown line, non-finite or negative area, a kinetic energy ≤ 0,
        an option out of range, or a group whose corrected areas sum to zero.

    Examples
    --------
    >>> table = pd.DataFrame({"species": ["C 1s", "O 1s"], "area": [1000.0, 2931.0],
    ...                       "binding_energy": [284.8, 531.0]})
    >>> result = quantify(table, photon_energy_ev=1486.6, imfp=None)
    >>> [round(v, 1) for v in result["atomic_percent"]]
    [50.0, 50.0]
    """
    hv = _positive(photon_energy_ev, "photon_energy_ev")
    if not 0.0 <= analyser_angle_deg <= 180.0:
        raise ConfigError(f"analyser_angle_deg must be within 0-180, not {analyser_angle_deg}",
                          key="analyser_angle_deg")
    for name, value in (("transmission_exponent", transmission_exponent), ("imfp_exponent", imfp_exponent)):
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be finite", key=name)
    frame = _rows(areas)
    groups = [group_by] if isinstance(group_by, str) else list(group_by or [])
    missing = [c for c in ("species", "area", *groups) if c not in frame.columns]
    if missing:
        raise ConfigError(f"the area table lacks column(s) {missing}; it has {list(frame.columns)}",
                          key="areas")
    curves = _curves(transmission_curve, hv)
    records = []
    for _, row in frame.iterrows():
        record = {g: row[g] for g in groups}
        record.update(_factors(row, hv=hv, rsf=rsf, lines=lines or {}, beta=beta or {},
                               transmission=transmission, transmission_exponent=transmission_exponent,
                               curves=curves, imfp=imfp, imfp_exponent=imfp_exponent,
                               material=material, asymmetry=asymmetry, angle=analyser_angle_deg,
                               polarization=polarization))
        records.append(record)
    result = pd.DataFrame.from_records(records, columns=[*groups, *COLUMNS])
    if groups:
        parts = [_percentages(part) for _, part in result.groupby(groups, sort=False)]
        result = pd.concat(parts).sort_index()
    else:
        result = _percentages(result)
    result.attrs["quantification"] = {
        "photon_energy_ev": hv, "rsf": rsf if isinstance(rsf, str) else dict(rsf),
        "transmission": transmission, "transmission_exponent": transmission_exponent,
        "imfp": imfp, "imfp_exponent": imfp_exponent, "material": material.name,
        "asymmetry": asymmetry, "analyser_angle_deg": analyser_angle_deg,
        "polarization": polarization, "group_by": groups,
    }
    return result


def quantify_casaxps(
    areas: pd.DataFrame | Any,
    *,
    photon_energy_ev: float,
    rsf: Literal["xraylib", "scofield", "column"] | Mapping[str, float] = "column",
    transmission_curve: TransmissionCurve | Sequence[TransmissionCurve] | None = None,
    mfp_exponent: float = 0.0,
    combined_exponent: float = -0.5,
    lines: Mapping[str, str] | None = None,
    group_by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Quantify as CasaXPS does: ``Area / (RSF · T · MFP)``, no asymmetry correction.

    With ``transmission_curve`` (the VAMAS block's transmission), ``T`` is that curve at the
    component's KE and ``MFP = KE**mfp_exponent`` (the block's "MFP Exponent"; 0 in
    ``FeO_analyzed.vms``). Without it, ``T · MFP = KE**combined_exponent`` (default −0.5, the
    combined factor of the CasaXPS FeO report; then only at.% and ratios of corrected areas
    match CasaXPS, the absolute corrected areas differ by a constant). ``rsf="column"`` takes
    CasaXPS's per-component RSF from the ``rsf`` column. Other parameters as :func:`quantify`.

    Examples
    --------
    >>> table = pd.DataFrame({"species": ["Fe 2p"] * 2, "area": [63400.62, 29867.34],
    ...                       "binding_energy": [709.03, 715.73]})
    >>> result = quantify_casaxps(table, photon_energy_ev=1486.61, rsf={"Fe 2p": 16.42})
    >>> [round(v, 2) for v in result["atomic_percent"]]
    [68.07, 31.93]
    """
    if transmission_curve is None:
        return quantify(areas, photon_energy_ev=photon_energy_ev, rsf=rsf, transmission="power_law",
                        transmission_exponent=combined_exponent, imfp=None, asymmetry=False,
                        lines=lines, group_by=group_by)
    return quantify(areas, photon_energy_ev=photon_energy_ev, rsf=rsf, transmission="file",
                    transmission_curve=transmission_curve, imfp="power_law",
                    imfp_exponent=mfp_exponent, asymmetry=False, lines=lines, group_by=group_by)


# ------------------------------------------------------------------ helpers
def _name(spectrum: Spectrum) -> str:
    source = spectrum.source
    return f"{source.path} [{source.block}]" if source is not None else "the Spectrum"


def _positive(value: float, key: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key} must be a number, not {value!r}", key=key) from exc
    if not (math.isfinite(number) and number > 0):
        raise ConfigError(f"{key} must be a positive finite number, not {value!r}", key=key)
    return number


def _sorted_curve(energy: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(energy) & np.isfinite(values)
    if keep.sum() < 2:
        raise ConfigError("a transmission curve needs at least two finite points", key="transmission_curve")
    order = np.argsort(energy[keep])
    return energy[keep][order], values[keep][order]


def _curves(given: Any, hv: float) -> list[tuple[np.ndarray, np.ndarray]]:
    if given is None:
        return []
    if isinstance(given, Spectrum):
        return [transmission_curve(given, photon_energy_ev=hv)]
    if isinstance(given, tuple) and len(given) == 2 and not isinstance(given[0], (Spectrum, tuple)):
        try:
            energy, values = (np.asarray(part, dtype=float) for part in given)
        except (TypeError, ValueError) as exc:
            raise ConfigError("transmission_curve must hold numbers", key="transmission_curve") from exc
        if energy.ndim != 1 or energy.shape != values.shape:
            raise ConfigError("transmission_curve: kinetic energies and values must be 1-D arrays "
                              "of one length", key="transmission_curve")
        return [_sorted_curve(energy, values)]
    return [curve for item in given for curve in _curves(item, hv)]


def _rows(areas: Any) -> pd.DataFrame:
    """The input as a DataFrame of components (FitTable → summed species rows)."""
    if isinstance(areas, pd.DataFrame):
        return areas.reset_index(drop=True)
    frame = getattr(areas, "frame", None)
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"areas must be a DataFrame or a FitTable, not {type(areas).__name__}",
                          key="areas")
    species_of: dict[str, str] = {}
    axis_name = "binding_energy"
    for batch in getattr(areas, "batches", []):
        species_of.update({c.name: c.species for c in batch.model.components})
        axis_name = batch.axis_name
    if axis_name not in ("binding_energy", "kinetic_energy"):
        raise ConfigError(f"the FitTable was fitted on {axis_name!r}, not an electron energy", key="areas")
    rows = []
    keys = [c for c in ("spectrum", "source", "block", "index") if c in frame.columns]
    picked = frame[frame["quantity"].isin(["area", "center"])].copy()
    picked["component"] = picked["species"]
    picked["species"] = picked["component"].map(lambda name: species_of.get(name, name))
    for key, group in picked.groupby([*keys, "species"], sort=False, dropna=False):
        area = group[group["quantity"] == "area"]
        centers = group[group["quantity"] == "center"]
        main = centers[centers["component"] == key[-1]]
        center = (main if len(main) else centers)["value"]
        record = dict(zip([*keys, "species"], key))
        record.update({
            "area": float(area["value"].sum()),
            "area_stderr": float(area["stderr"].sum()),  # tied partners: fully correlated
            axis_name: float(center.iloc[0]) if len(center) else math.nan,
        })
        rows.append(record)
    return pd.DataFrame(rows)


def _lookup(mapping: Mapping[str, float], species: str, line: Line, label: str) -> float | None:
    for key in (species, label, line.label):
        if key in mapping:
            return float(mapping[key])
    return None


def _factors(row: pd.Series, *, hv: float, rsf: Any, lines: Mapping[str, str],
             beta: Mapping[str, float], transmission: str | None, transmission_exponent: float,
             curves: list[tuple[np.ndarray, np.ndarray]], imfp: str | None, imfp_exponent: float,
             material: Material, asymmetry: bool, angle: float, polarization: str) -> dict[str, Any]:
    species = str(row["species"])
    label = lines.get(species) or _get(row, "line") or species
    line = Line.parse(str(label))
    area = _number(row["area"], f"area of {species!r}")
    if area < 0:
        raise ConfigError(f"area of {species!r} is negative ({area})", key="areas")
    stderr = _get(row, "area_stderr")
    stderr = math.nan if stderr is None else float(stderr)
    be, ke = _energies(row, line, hv, species)
    factors = {
        "rsf": _rsf(rsf, row, species, line, str(label), hv),
        "transmission": _transmission(transmission, transmission_exponent, curves, row, ke, species),
        "imfp": _imfp(imfp, imfp_exponent, material, ke),
        "beta": math.nan,
        "angular_factor": 1.0,
    }
    if asymmetry:
        value = _lookup(beta, species, line, str(label))
        factors["beta"] = asymmetry_parameter(line, hv) if value is None else value
        factors["angular_factor"] = angular_factor(factors["beta"], angle, polarization=polarization)
    total = factors["rsf"] * factors["transmission"] * factors["imfp"] * factors["angular_factor"]
    if not (math.isfinite(total) and total > 0):
        raise ConfigError(f"{species!r}: the correction factors multiply to {total}", key="areas")
    return {"species": species, "line": line.label, "binding_energy": be, "kinetic_energy": ke,
            "area": area, "area_stderr": stderr, **factors, "corrected_area": area / total,
            "corrected_area_stderr": stderr / total}


def _get(row: pd.Series, column: str) -> Any:
    value = row.get(column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what} is not a number: {value!r}", key="areas") from exc
    if not math.isfinite(number):
        raise ConfigError(f"{what} is not finite: {value!r}", key="areas")
    return number


def _energies(row: pd.Series, line: Line, hv: float, species: str) -> tuple[float, float]:
    be, ke = _get(row, "binding_energy"), _get(row, "kinetic_energy")
    if be is not None:
        be = _number(be, f"binding energy of {species!r}")
        ke = hv - be
    elif ke is not None:
        ke = _number(ke, f"kinetic energy of {species!r}")
        be = hv - ke
    else:
        be = binding_energy(line)
        ke = hv - be
    if ke <= 0:
        raise ConfigError(f"{species!r} at binding energy {be} eV cannot be excited by {hv} eV "
                          "photons", key="photon_energy_ev")
    return be, ke


def _rsf(rsf: Any, row: pd.Series, species: str, line: Line, label: str, hv: float) -> float:
    if isinstance(rsf, Mapping):
        value = _lookup(rsf, species, line, label)
        if value is None:
            raise ConfigError(f"rsf gives no value for {species!r} (line {line.label})", key="rsf")
    elif rsf in ("xraylib", "scofield"):
        value = sensitivity_factor(line, hv)
    elif rsf == "column":
        value = _get(row, "rsf")
        if value is None:
            raise ConfigError(f"rsf='column' but {species!r} has no rsf value", key="rsf")
    else:
        raise ConfigError(f"rsf must be 'xraylib', 'scofield', 'column' or a mapping, not {rsf!r}",
                          key="rsf")
    return _positive(value, "rsf")


def _transmission(kind: str | None, exponent: float, curves: list[tuple[np.ndarray, np.ndarray]],
                  row: pd.Series, ke: float, species: str) -> float:
    if kind is None:
        return 1.0
    if kind == "power_law":
        return ke**exponent
    if kind == "file":
        if curves:
            return _positive(interpolate_curves(curves, ke), f"transmission of {species!r}")
        value = _get(row, "transmission")
        if value is None:
            raise ConfigError("transmission='file' needs transmission_curve= or a 'transmission' "
                              "column", key="transmission")
        return _positive(value, f"transmission of {species!r}")
    raise ConfigError(f"transmission must be 'file', 'power_law' or None, not {kind!r}", key="transmission")


def _imfp(kind: str | None, exponent: float, material: Material, ke: float) -> float:
    if kind is None:
        return 1.0
    if kind == "tpp2m":
        return float(imfp_tpp2m(ke, material))
    if kind == "power_law":
        return ke**exponent
    raise ConfigError(f"imfp must be 'tpp2m', 'power_law' or None, not {kind!r}", key="imfp")


def _percentages(part: pd.DataFrame) -> pd.DataFrame:
    part = part.copy()
    intensity = part["corrected_area"].to_numpy(dtype=float)
    sigma = part["corrected_area_stderr"].to_numpy(dtype=float)
    total = intensity.sum()
    if not total > 0:
        raise ConfigError("the corrected areas sum to zero; nothing to quantify", key="areas")
    fraction = intensity / total
    variance = sigma**2
    others = variance.sum() - variance
    part["atomic_percent"] = 100.0 * fraction
    sigma_fraction = np.sqrt((1 - fraction) ** 2 * variance + fraction**2 * others) / total
    part["atomic_percent_stderr"] = 100.0 * sigma_fraction
    return part
