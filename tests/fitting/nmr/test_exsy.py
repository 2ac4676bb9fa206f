"""2D EXSY: the closed-form two-site model against a matrix exponential, box volumes, and the
exchange rate recovered from noisy synthetic 2D series (issue 6: within 5 %)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from specssb import Axis, Coord, Spectrum
from specssb.errors import ConfigError, FitError
from specssb.fitting.nmr.exsy import exchange_volumes, exsy_volumes, fit_exchange, initial_rate

MIXING = np.array([0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5])  # s
SITES = {"li2s": (1.85, 2.75), "argyrodite": (0.85, 1.75)}
SHIFTS = (2.30, 1.30)  # ppm: a = li2s, b = argyrodite
TRUTH = {"m0_a": 0.3, "m0_b": 0.7, "k_ab": 4.0, "r1_a": 0.5, "r1_b": 1.0}


@pytest.mark.parametrize("parameters", [TRUTH, {**TRUTH, "m0_b": 0.3, "r1_b": 0.5},
                                        {**TRUTH, "k_ab": 0.0}])
def test_closed_form_equals_matrix_exponential(parameters):
    p = parameters
    k_ba = p["k_ab"] * p["m0_a"] / p["m0_b"]
    rates = np.array([[p["r1_a"] + p["k_ab"], -k_ba], [-p["k_ab"], p["r1_b"] + k_ba]])
    volumes = exchange_volumes(MIXING, **p)
    for tau, v in zip(MIXING, volumes):
        expected = expm(-rates * tau) * np.array([p["m0_a"], p["m0_b"]])[None, :]  # E_ij M_j
        np.testing.assert_allclose(v, expected.T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(volumes[:, 0, 1], volumes[:, 1, 0], rtol=1e-10, atol=1e-15)  # detailed balance


def plane(f1: np.ndarray, f2: np.ndarray, volumes: np.ndarray, fwhm: float = 0.25) -> np.ndarray:
    """One 2D spectrum: a Gaussian peak of the given volume at every (F1 = origin, F2 = destination)."""
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    out = np.zeros((f1.size, f2.size))
    for j, origin in enumerate(SHIFTS):
        for i, destination in enumerate(SHIFTS):
            g1 = np.exp(-0.5 * ((f1 - origin) / sigma) ** 2)
            g2 = np.exp(-0.5 * ((f2 - destination) / sigma) ** 2)
            out += volumes[j, i] / (2 * np.pi * sigma**2) * np.outer(g1, g2)
    return out


def exsy_series(truth: dict[str, float], noise: float, seed: int) -> Spectrum:
    f1 = np.linspace(6.0, -2.0, 128)
    f2 = np.linspace(6.0, -2.0, 256)
    volumes = exchange_volumes(MIXING, **truth)
    data = np.stack([plane(f1, f2, v) for v in volumes])
    data += np.random.default_rng(seed).normal(0.0, noise * data.max(), data.shape)
    return Spectrum(Axis("chemical_shift", "ppm", f2), data, technique="nmr", signal="intensity",
                    dims=("mixing_time", "f1"),
                    coords={"mixing_time": Coord("mixing_time", MIXING * 1e3, "ms"),
                            "f1": Coord("f1", f1, "ppm")},
                    meta={"nucleus": "7Li"})


def test_box_volumes_match_the_peak_volumes():
    series = exsy_series(TRUTH, noise=0.0, seed=0)
    out = exsy_volumes(series, SITES, noise_box=((4.0, 6.0), (4.0, 6.0)))
    np.testing.assert_allclose(out["mixing_times"], MIXING)
    # the boxes hold ±4.2 sigma of each Gaussian in F1 and F2: 5e-5 of every volume lies outside
    np.testing.assert_allclose(out["volumes"], exchange_volumes(MIXING, **TRUTH), rtol=1e-4, atol=1e-9)
    assert list(out["names"]) == ["li2s", "argyrodite"]


@pytest.mark.parametrize("equal", [False, True])
def test_rate_recovered_within_5_percent(equal):
    truth = {**TRUTH, "m0_b": TRUTH["m0_a"], "r1_b": TRUTH["r1_a"]} if equal else TRUTH
    series = exsy_series(truth, noise=0.01, seed=7)
    out = exsy_volumes(series, SITES)
    table = fit_exchange(out["mixing_times"], out["volumes"], out["stderr"], names=out["names"],
                         equal_populations=equal, equal_relaxation=equal)
    frame = table.frame.set_index(["species", "quantity"])
    k_ab = frame.loc[("li2s", "k_exchange")]
    assert k_ab["value"] == pytest.approx(truth["k_ab"], rel=0.05)
    assert abs(k_ab["value"] - truth["k_ab"]) < 3 * k_ab["stderr"]
    k_ba = truth["k_ab"] * truth["m0_a"] / truth["m0_b"]
    assert frame.loc[("argyrodite", "k_exchange"), "value"] == pytest.approx(k_ba, rel=0.05)
    share = truth["m0_a"] / (truth["m0_a"] + truth["m0_b"])
    assert frame.loc[("li2s", "population"), "value"] == pytest.approx(share, abs=0.02)
    assert frame.loc[("argyrodite", "r1"), "value"] == pytest.approx(truth["r1_b"], rel=0.15)
    assert table.frame["converged"].all() and (table.frame["unit"] != "").all()


def test_initial_rate_at_short_mixing_times():
    volumes = exchange_volumes(MIXING, **TRUTH)
    rates = initial_rate(MIXING, volumes, max_mixing_time=0.01)  # k tau <= 0.04
    assert rates["k_ab"] == pytest.approx(4.0, rel=0.05)
    assert rates["k_ba"] == pytest.approx(4.0 * 0.3 / 0.7, rel=0.05)
    # over the whole curve the linear approximation fails: it must not be used there
    assert initial_rate(MIXING, volumes)["k_ab"] < 0.5 * 4.0


def test_bad_inputs():
    series = exsy_series(TRUTH, noise=0.0, seed=0)
    with pytest.raises(ConfigError, match="overlap"):
        exsy_volumes(series, {"a": (1.0, 2.0), "b": (1.5, 3.0)})
    with pytest.raises(ConfigError, match="ppm"):
        exsy_volumes(series, SITES, indirect_dim="mixing_time", mixing_dim="f1")
    with pytest.raises(FitError, match="shape"):
        fit_exchange(MIXING, np.ones((MIXING.size, 3, 3)))
