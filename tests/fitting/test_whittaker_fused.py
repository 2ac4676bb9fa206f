"""The compiled Whittaker baselines (``_whittaker_fused``) give the numpy path's numbers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb.fitting import _whittaker
from specssb.fitting._whittaker_fused import fused_whittaker

pytest.importorskip("numba")

RNG_SEED = 20261206
#: arPLS/airPLS weights come from libm's exp instead of numpy/scipy's vectorized one (≤ 1 ulp
#: apart); airPLS's weights reach e^50 and zero, so its system is the worst conditioned.
RTOL = {"asls": 0.0, "arpls": 1e-10, "airpls": 1e-9}
OPTIONS = {"asls": {"lam": 1e6, "p": 0.01}, "arpls": {"lam": 1e5}, "airpls": {"lam": 1e6}}


def both_paths(monkeypatch, name, x, y, **options):
    """(fused, numpy) results of ``_whittaker.<name>``; the numpy path solves every block
    with its vectorised banded solver (the LAPACK fallback rounds differently)."""
    monkeypatch.setattr(_whittaker, "LAPACK_BELOW", 0)
    function = getattr(_whittaker, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fused_whittaker() is not None
        fused = function(x, y, **options)
        monkeypatch.setenv("SPECSSB_FUSED_KERNELS", "0")
        assert fused_whittaker() is None
        plain = function(x, y, **options)
    monkeypatch.delenv("SPECSSB_FUSED_KERNELS")
    return fused, plain


def assert_same(fused, plain, rtol):
    (z_fused, info_fused), (z_plain, info_plain) = fused, plain
    scale = np.abs(z_plain).max()
    if rtol == 0.0:  # AsLS: same operations in the same order
        np.testing.assert_array_equal(z_fused, z_plain)
    else:
        assert np.abs(z_fused - z_plain).max() <= rtol * scale
    np.testing.assert_array_equal(info_fused["iterations"], info_plain["iterations"])
    np.testing.assert_array_equal(info_fused["converged"], info_plain["converged"])
    np.testing.assert_allclose(info_fused["weights"], info_plain["weights"], rtol=1e-6, atol=1e-12)


@pytest.fixture(scope="module")
def lco_map() -> specssb.Spectrum:
    path = Path(__file__).resolve().parents[2] / "sample_data" / "raman"
    return specssb.read(path / "cell02_lco_lpscl_map_after.wdf")[0]


@pytest.mark.parametrize("name", ["asls", "arpls", "airpls"])
def test_fused_equals_numpy_on_a_raman_map(name, lco_map, monkeypatch):
    # 24 × 32 pixels, 601 points on a descending axis (both paths sort by x)
    fused, plain = both_paths(monkeypatch, name, lco_map.axis.values, lco_map.data,
                              **OPTIONS[name])
    assert fused[0].shape == lco_map.shape
    assert_same(fused, plain, RTOL[name])
    iterations = fused[1]["iterations"]
    assert iterations.max() > iterations.min() >= 2  # lanes refilled at different times


@pytest.mark.parametrize("diff_order", [1, 3])
def test_fused_equals_numpy_for_other_penalty_orders(diff_order, monkeypatch):
    rng = np.random.default_rng(RNG_SEED)
    x = np.linspace(100.0, 1000.0, 300)
    y = 50 + 0.05 * x + 400 * np.exp(-((x - 500) / 12) ** 2) + rng.normal(0, 3, (11, x.size))
    for name in ("asls", "arpls", "airpls"):
        options = {**OPTIONS[name], "lam": 1e3 if diff_order == 1 else 1e7}
        fused, plain = both_paths(monkeypatch, name, x, y, diff_order=diff_order, **options)
        assert_same(fused, plain, RTOL[name])


def test_fused_edge_cases_equal_numpy(monkeypatch):
    x = np.arange(50.0)
    constant = np.full((3, 50), 7.0)
    ramp = np.vstack([np.linspace(0.0, 1.0, 50), -np.linspace(0.0, 1.0, 50)])  # exact line
    for name in ("asls", "arpls", "airpls"):
        for y in (constant, ramp, constant[0]):  # several spectra, and a single one (1-D)
            fused, plain = both_paths(monkeypatch, name, x, y, **OPTIONS[name])
            assert fused[0].shape == y.shape
            assert_same(fused, plain, RTOL[name])
            np.testing.assert_allclose(fused[0], y, atol=1e-6 * max(1.0, np.abs(y).max()))
        # max_iter = 0: one solve, unconverged, in both paths
        fused, plain = both_paths(monkeypatch, name, x, ramp + np.sin(x), max_iter=0,
                                  **OPTIONS[name])
        assert_same(fused, plain, RTOL[name])
        assert not fused[1]["converged"].any()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_fused_path_still_refuses_non_finite_data(bad):
    y = np.ones((2, 20))
    y[1, 5] = bad
    with pytest.raises(ValueError, match="finite"):
        _whittaker.asls(np.arange(20.0), y)


def test_environment_switch_selects_the_numpy_path(monkeypatch):
    monkeypatch.setenv("SPECSSB_FUSED_KERNELS", "0")
    assert fused_whittaker() is None
    monkeypatch.setenv("SPECSSB_FUSED_KERNELS", "1")
    assert fused_whittaker() is not None
