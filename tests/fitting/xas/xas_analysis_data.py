"""Helpers shared by the XAS analysis tests (imported by the test modules and conftest)."""

from __future__ import annotations

import numpy as np

from specssb.spectrum import Axis, Coord, Spectrum

#: Fe K references of the XDI test set (APS 13-BM-D / 20BM, transmission).
FE_FILES = ("fe_metal_rt", "feo_rt1", "fe2o3_rt", "fe3c_rt")
#: Common XANES grid for the synthetic mixtures, eV.
GRID = np.arange(7080.0, 7250.0 + 0.25, 0.5)


def norm_spectrum(energy, values, *, dims=(), coords=None) -> Spectrum:
    """A normalized XAS Spectrum (one, or a stack along ``dims``)."""
    return Spectrum(Axis("energy", "eV", energy), values, "xas", "norm", dims=tuple(dims),
                    coords=coords or {})


def series(energy, rows) -> Spectrum:
    """A stack along ``scan`` with a time coordinate (s)."""
    rows = np.asarray(rows)
    return norm_spectrum(energy, rows, dims=("scan",),
                         coords={"time": Coord("scan", 60.0 * np.arange(rows.shape[0]), "s")})


def synthetic_references(energy):
    """Three distinct XANES-like shapes (arctan edges with white lines), label -> values."""
    def edge(e0, width, peak, height):
        return (0.5 + np.arctan((energy - e0) / width) / np.pi
                + height * np.exp(-0.5 * ((energy - peak) / 2.5) ** 2))
    return {"metal": edge(7112.0, 1.5, 7118.0, 0.15),
            "oxide2": edge(7120.0, 1.2, 7125.0, 0.6),
            "oxide3": edge(7124.0, 1.0, 7131.0, 0.9)}
