"""Merging with standard errors, and rebinning against Larch's rebin_xafs."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Source, Spectrum, stack
from specssb.errors import ConfigError
from specssb.fitting.xas.merge import merge, rebin, rebin_grid


def xas(energy, mu, **kw) -> Spectrum:
    return Spectrum(axis=Axis("energy", "eV", energy), data=mu, technique="xas", signal="mu",
                    **kw)


def nio_scans(shared_data, names):
    from larch.io import read_athena

    project = read_athena(str(shared_data("xas", "larch", "athena", "NiO.prj")),
                          do_preedge=False, do_bkg=False, do_fft=False)
    return [project.groups[n] for n in names]


def test_merge_real_scans_matches_larch_merge_groups(shared_data):
    from larch.io import merge_groups

    groups = nio_scans(shared_data, ["NiO_006", "NiO_007", "NiO_008", "NiO_009"])
    scans = [xas(g.energy, g.mu, source=Source("NiO.prj", "0" * 64, "athena", block=name))
             for g, name in zip(groups, ["NiO_006", "NiO_007", "NiO_008", "NiO_009"])]
    merged = merge(scans, interpolation="cubic")
    larch = merge_groups(groups, kind="cubic", trim=True)
    # Larch trims the last point; compare on its grid
    n = larch.energy.size
    np.testing.assert_allclose(merged.spectrum.axis.values[:n], larch.energy)
    np.testing.assert_allclose(merged.spectrum.data[:n], larch.mu, rtol=1e-10)
    # Larch's mu_std is the population std; ours is the sample std and its standard error
    np.testing.assert_allclose(merged.std[:n] * np.sqrt(3 / 4), larch.mu_std, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(merged.stderr, merged.std / 2.0)
    assert merged.spectrum.meta["n_scans"] == 4 and merged.n_spectra == 4
    step = merged.spectrum.history[-1]
    assert step.operation == "merge" and [s["block"] for s in step.parameters["sources"]] == [
        "NiO_006", "NiO_007", "NiO_008", "NiO_009"]


def test_standard_error_of_synthetic_noise_and_common_grid():
    rng = np.random.default_rng(7)
    e = np.arange(7000.0, 7300.0, 0.5)
    sigma = 0.01

    def edge(energy):
        return 0.5 + np.arctan((energy - 7112.0) / 2.0) / np.pi

    offsets = rng.uniform(-0.2, 0.2, 50)  # each scan on its own, slightly moved grid
    scans = [xas(e + d, edge(e + d) + rng.normal(0, sigma, e.size)) for d in offsets]
    merged = merge(scans)
    grid = merged.spectrum.axis.values
    assert grid[0] >= e[0] + offsets.max() and grid[-1] <= e[-1] + offsets.min()
    # the error bars are right: about 68 % of points within one standard error of the truth
    z = (merged.spectrum.data - edge(grid)) / merged.stderr
    assert 0.6 < np.mean(np.abs(z) < 1) < 0.76
    same = merge([xas(e, edge(e) + rng.normal(0, sigma, e.size)) for _ in range(50)])
    assert np.median(same.stderr) == pytest.approx(sigma / np.sqrt(50), rel=0.1)
    # one stacked Spectrum merges the same as the list
    same_grid = [xas(e, edge(e) + rng.normal(0, sigma, e.size)) for _ in range(3)]
    np.testing.assert_allclose(merge(stack(same_grid)).spectrum.data,
                               merge(same_grid).spectrum.data)
    with pytest.raises(ConfigError, match="at least two"):
        merge(same_grid[:1])
    with pytest.raises(ConfigError, match="no energy range"):
        merge([xas(e, edge(e)), xas(e + 1000.0, edge(e))])


@pytest.mark.parametrize("group", ["Mn_foil", "Pyrolusite"])
def test_rebin_matches_larch_rebin_xafs(shared_data, group):
    from larch import Group
    from larch.io import read_athena
    from larch.xafs import pre_edge, rebin_xafs

    project = read_athena(str(shared_data("xas", "larch", "athena", "Mn.prj")),
                          do_preedge=False, do_bkg=False, do_fft=False)
    a = project.groups[group]
    g = Group(energy=1.0 * a.energy, mu=1.0 * a.mu)
    pre_edge(g)
    for options in ({}, {"pre_step": 2.0, "pre2": -30.0, "exafs1": 15.0}):
        full = {"pre_step": 5.0, "pre2": -20.0, "exafs1": 30.0, **options}
        rebin_xafs(g, e0=g.e0, **full)
        ours = rebin(xas(g.energy, g.mu), g.e0, **full)
        np.testing.assert_allclose(ours.axis.values, g.rebinned.energy, rtol=0, atol=1e-9)
        difference = np.abs(ours.data - g.rebinned.mu) / g.edge_step
        assert np.median(difference) < 5e-4 and difference.max() < 0.02
        step = ours.history[-1]
        assert step.operation == "rebin" and step.parameters["pre_step"] == full["pre_step"]
    # the regions: 5 eV below e0-20, 0.3 eV (Mn: 0.05*int(6540/1250)) to e0+30, dk = 0.05 above
    grid = rebin_grid(g.energy, g.e0)
    steps = np.diff(grid)
    assert np.allclose(steps[grid[:-1] < g.e0 - 20.5], 5.0, atol=0.2)
    xanes = (grid[:-1] > g.e0 - 19.5) & (grid[:-1] < g.e0 + 29.5)
    assert np.allclose(steps[xanes], 0.25, atol=0.01)
    k = np.sqrt((grid[grid > g.e0 + 30.5] - g.e0) / 3.80998)
    assert np.allclose(np.diff(k), 0.05, atol=1e-3)


def test_rebin_is_vectorized_over_a_stack():
    e = np.arange(8800.0, 9600.0, 0.1)
    rows = [np.sin(e / 50.0) + i for i in range(3)]
    stacked = stack([xas(e, r) for r in rows])
    out = rebin(stacked, 8979.0)
    single = rebin(xas(e, rows[1]), 8979.0)
    assert out.shape[0] == 3 and out.axis == single.axis
    np.testing.assert_allclose(out.data[1], single.data)
    with pytest.raises(ConfigError, match="method"):
        rebin(stacked, 8979.0, method="spline")
