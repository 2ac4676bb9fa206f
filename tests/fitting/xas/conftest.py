"""Fixtures for the XAS analysis tests: real Fe K-edge references normalized by Larch, and
synthetic edge shapes that need no data."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from xas_analysis_data import FE_FILES, GRID


@functools.lru_cache(maxsize=None)
def _larch_normalized(path: str) -> tuple[np.ndarray, np.ndarray]:
    import specssb
    from larch import Group
    from larch.xafs import pre_edge

    spectrum = specssb.read(path)[0]
    group = Group(energy=np.array(spectrum.axis.values), mu=np.array(spectrum.data))
    pre_edge(group, e0=7112.0, pre1=-150.0, pre2=-50.0, norm1=100.0, norm2=700.0, nnorm=2,
             make_flat=False)
    return np.asarray(group.energy, float), np.asarray(group.norm, float)


@pytest.fixture
def fe_references_native(shared_data):
    """label -> (energy, norm) on each file's own grid, normalized by Larch's ``pre_edge`` with
    explicit ranges (specssb's own normalizer is tested on its own)."""
    return {name: _larch_normalized(str(shared_data("xas", "xdi", "data", f"{name}.xdi")))
            for name in FE_FILES}


@pytest.fixture
def fe_basis(fe_references_native):
    """label -> norm on :data:`GRID` (linear interpolation)."""
    return {name: np.interp(GRID, e, y) for name, (e, y) in fe_references_native.items()}
