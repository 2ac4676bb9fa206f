"""The XPS energy scale shared by every XPS reader: kinetic ↔ binding energy.

Photoemission energy balance, with the kinetic energy referenced to the spectrometer's Fermi
level (as SPECS Prodigy, CasaXPS, Kratos ESCApe, PHI MultiPak and Scienta SES write it)::

    BE = hv − KE − phi        KE = hv − BE − phi

``hv`` is the excitation (photon) energy and ``phi`` the spectrometer work function, 0 unless
the file's kinetic energies are referenced to the vacuum level (see
:mod:`specssb.parsers.xps_vamas` for the evidence on real files). The point order is kept, so
a kinetic-energy scan becomes a decreasing binding-energy axis.

Reference: S. Hüfner, *Photoelectron Spectroscopy*, 3rd ed., Springer (2003), §1.1.
"""

from __future__ import annotations

import numpy as np

from specssb.spectrum import Step

__all__ = ["ENERGY_KINDS", "convert_energy"]

#: Values of the readers' ``energy`` option and the axis each gives.
ENERGY_KINDS = {"binding": "binding_energy", "kinetic": "kinetic_energy"}


def convert_energy(
    kind: str, values: np.ndarray, *, hv: float | None, phi: float = 0.0, energy: str = "binding"
) -> tuple[str, np.ndarray, tuple[Step, ...]]:
    """Put an energy axis on the scale a reader was asked for.

    Parameters
    ----------
    kind : {"binding_energy", "kinetic_energy"}
        What the file's abscissa is.
    values : ndarray
        The abscissa, eV.
    hv : float or None
        Excitation energy, eV. ``None`` when the file does not give it: the axis is then
        returned unchanged (the caller warns, naming the file and block).
    phi : float, default 0
        Spectrometer work function to subtract, eV.
    energy : {"binding", "kinetic"}
        The wanted scale.

    Returns
    -------
    kind : str
        The axis name of the returned values.
    values : ndarray
        eV, same point order.
    history : tuple of Step
        ``kinetic_to_binding_energy`` or ``binding_to_kinetic_energy`` with ``hv``, ``phi`` and
        the formula; empty when nothing was converted.
    """
    wanted = ENERGY_KINDS[energy]
    if kind == wanted or hv is None:
        return kind, values, ()
    if kind == "kinetic_energy":
        operation, formula = "kinetic_to_binding_energy", "BE = hv - KE - phi"
    else:
        operation, formula = "binding_to_kinetic_energy", "KE = hv - BE - phi"
    step = Step(operation, {"excitation_energy_ev": float(hv), "work_function_ev": float(phi),
                            "formula": formula})
    with np.errstate(over="ignore", invalid="ignore"):
        return wanted, float(hv) - np.asarray(values, float) - float(phi), (step,)
