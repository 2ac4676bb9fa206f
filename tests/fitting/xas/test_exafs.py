"""EXAFS through Larch gives Larch's first-shell numbers (``shared/data/xas/EXPECTED.md`` §4)."""

from __future__ import annotations

import numpy as np
import pytest

import specssb
from specssb.errors import FitError
from specssb.fitting.xas.exafs import exafs, first_shell

#: file -> (kmax of the transform, R of max |chi(R)| on the grid, parabolic R, max |chi(R)|, knots)
EXPECTED = {
    ("xdi", "data", "cu_metal_rt.xdi"): (12.0, 2.2396, 2.2324, 3.6827, 12),
    ("xdi", "data", "fe_metal_rt.xdi"): (12.0, 2.2089, 2.2018, 3.9628, 10),
    ("xdi", "data", "ni_metal_rt.xdi"): (12.0, 2.1783, 2.1697, 5.0327, 12),
}


def _read(path):
    spectra = specssb.read(path)
    return spectra[0] if isinstance(spectra, list) else spectra


@pytest.mark.parametrize("parts", sorted(EXPECTED))
def test_first_shell_matches_larch_with_larchs_e0_and_step(shared_data, parts):
    from larch import Group
    from larch.xafs import pre_edge

    spectrum = _read(shared_data("xas", *parts))
    group = Group(energy=np.array(spectrum.axis.values), mu=np.array(spectrum.data))
    pre_edge(group)
    kmax, r_grid, r_refined, height, knots = EXPECTED[parts]
    result = exafs(spectrum, e0=group.e0, edge_step=group.edge_step, kmax=kmax)
    row = result.table.iloc[0]
    assert row["r_peak"] == pytest.approx(r_grid, abs=1e-4)
    assert row["r_peak_refined"] == pytest.approx(r_refined, abs=1e-4)
    assert row["chir_max"] == pytest.approx(height, rel=1e-4)
    assert row["nknots"] == knots
    assert result.options["larch_version"] and result.options["kmax"] == kmax


def test_cu_10k_with_a_longer_transform(shared_data):
    spectrum = _read(shared_data("xas", "larch", "xafsdata", "cu_10k.xmu"))
    from larch import Group
    from larch.xafs import pre_edge

    group = Group(energy=np.array(spectrum.axis.values), mu=np.array(spectrum.data))
    pre_edge(group)
    row = exafs(spectrum, e0=group.e0, edge_step=group.edge_step, kmax=16.0).table.iloc[0]
    assert row["r_peak"] == pytest.approx(2.2703, abs=1e-4)
    assert row["chir_max"] == pytest.approx(8.3084, rel=1e-4)


def test_a_series_gives_one_row_per_spectrum(shared_data):
    spectrum = _read(shared_data("xas", "xdi", "data", "cu_metal_rt.xdi"))
    series = spectrum.replace(data=np.stack([spectrum.data, 0.5 * spectrum.data]), dims=("scan",))
    result = exafs(series, e0=8980.5, edge_step=np.array([2.7294, 0.5 * 2.7294]))
    assert len(result.table) == 2 and result.chi.shape[0] == 2 and result.chir_mag.shape[0] == 2
    # chi is mu normalized by the edge step: halving both leaves it unchanged
    np.testing.assert_allclose(result.chi[1], result.chi[0], rtol=1e-6, atol=1e-9)
    assert list(result.table["index"]) == ["0", "1"]


def test_first_shell_refines_a_parabola_exactly():
    r = np.arange(0.0, 6.0, 0.0307)
    magnitude = 5.0 - 3.0 * (r - 2.2)**2  # the parabola's vertex is the answer
    r_grid, r_refined, height = first_shell(r, np.clip(magnitude, 0.0, None))
    assert abs(r_grid - 2.2) <= 0.0307 / 2
    assert r_refined == pytest.approx(2.2, abs=1e-9) and height <= 5.0
    with pytest.raises(FitError, match="no R point"):
        first_shell(r, magnitude, rmin=7.0, rmax=8.0)


def test_a_xanes_only_scan_is_refused_with_the_k_range(shared_data):
    spectrum = _read(shared_data("xas", "xdi", "data", "cu_metal_rt.xdi"))
    short = spectrum.crop(float(spectrum.axis.values.min()), 9030.0)
    with pytest.raises(FitError, match="k ="):
        exafs(short, e0=8980.5, edge_step=2.73)
