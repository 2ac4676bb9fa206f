"""Integration over named ppm ranges: exact areas, the noise error matching the scatter, series,
fractions with propagated errors, and nmrglue's integration example as the oracle."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Coord, Spectrum
from specssb.errors import ConfigError, FitError, PhysicsWarning
from specssb.fitting.nmr.integrate import estimate_noise, integrate, integrate_arrays, relative_integrals
from specssb.fitting.result import FitTable

X = np.linspace(12.0, -12.0, 3001)  # ppm, decreasing as TopSpin writes it
RANGES = {"li2s": (4.0, 1.0), "argyrodite": (-0.5, -4.0)}


def gaussian(x: np.ndarray, area: float, center: float, fwhm: float) -> np.ndarray:
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    return area / (sigma * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((x - center) / sigma) ** 2)


def two_lines(areas=(6.0, 4.0), noise: float = 0.0, seed: int = 0, shape=()) -> np.ndarray:
    clean = gaussian(X, areas[0], 2.5, 0.6) + gaussian(X, areas[1], -2.2, 0.8)
    return clean + np.random.default_rng(seed).normal(0.0, noise, (*shape, X.size))


def test_exact_area_of_a_line_on_a_decreasing_axis():
    out = integrate_arrays(X, two_lines(), RANGES, noise_regions=[(8, 12)])
    np.testing.assert_allclose(out["integral"], [6.0, 4.0], rtol=1e-6)
    np.testing.assert_allclose(out["n_points"], [376, 438])


def test_noise_error_matches_the_scatter_of_integrals():
    """σ_I = rms · Δδ · √n: over 400 noise draws the integrals scatter by the stated error."""
    noise = 0.05
    y = two_lines(noise=noise, seed=1, shape=(400,))
    out = integrate_arrays(X, y, RANGES)
    np.testing.assert_allclose(out["noise_rms"].mean(), noise, rtol=0.02)  # automatic regions
    expected = noise * (24.0 / 3000) * np.sqrt(out["n_points"])
    np.testing.assert_allclose(out["stderr"].mean(axis=0), expected, rtol=0.02)
    np.testing.assert_allclose(out["integral"].std(axis=0), expected, rtol=0.1)


def test_noise_on_a_sloping_baseline_and_given_regions():
    y = two_lines(noise=0.02, seed=2) + 0.3 * X  # a tilted baseline is not noise
    assert estimate_noise(X, y, regions=[(6, 12), (-12, -6)]) == pytest.approx(0.02, rel=0.05)
    assert estimate_noise(X, y, exclude=list(RANGES.values())) == pytest.approx(0.02, rel=0.05)


def series() -> Spectrum:
    delays = np.array([0.1, 0.5, 2.0])
    data = np.stack([two_lines((6.0 * (1 - np.exp(-d)), 4.0), noise=0.01, seed=i) for i, d in enumerate(delays)])
    return Spectrum(Axis("chemical_shift", "ppm", X), data, technique="nmr", signal="intensity", dims=("delay",),
                    coords={"delay": Coord("delay", delays, "s")})


def test_series_table_with_fractions():
    table = integrate(series(), RANGES)
    assert isinstance(table, FitTable) and table.n_spectra == 3
    frame = table.frame
    assert set(frame["quantity"]) == {"integral", "fraction"}
    rows = frame[frame["quantity"] == "integral"]
    assert (rows["unit"] == "arb. units·ppm").all() and (rows["engine"] == "integrate").all()
    np.testing.assert_allclose(rows.loc[rows["species"] == "li2s", "delay"], [0.1, 0.5, 2.0])
    np.testing.assert_allclose(table.values("integral")["li2s"], 6.0 * (1 - np.exp(-np.array([0.1, 0.5, 2.0]))),
                               atol=0.01)
    fractions = table.values("fraction")
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0)
    # propagated error: independent integrals, f = I_a / (I_a + I_b)
    last = frame[(frame["spectrum"] == 2)].set_index(["species", "quantity"])
    ia, ib = last.loc[("li2s", "integral"), "value"], last.loc[("argyrodite", "integral"), "value"]
    sa, sb = last.loc[("li2s", "integral"), "stderr"], last.loc[("argyrodite", "integral"), "stderr"]
    expected = np.hypot(ib * sa, ia * sb) / (ia + ib) ** 2
    assert last.loc[("li2s", "fraction"), "stderr"] == pytest.approx(expected, rel=1e-9)


def test_ratio_to_a_reference_range():
    ratios = relative_integrals(integrate(series(), RANGES), reference="argyrodite").frame
    reference = ratios[ratios["species"] == "argyrodite"]
    assert (reference["value"] == 1.0).all() and (reference["stderr"] == 0.0).all()
    li2s = ratios[ratios["species"] == "li2s"]
    np.testing.assert_allclose(li2s["value"], 1.5 * (1 - np.exp(-np.array([0.1, 0.5, 2.0]))), atol=0.01)


def test_bad_inputs():
    spectrum = Spectrum(Axis("chemical_shift", "ppm", X), two_lines(), technique="nmr", signal="intensity")
    with pytest.raises(ConfigError, match="holds 0 points"):
        integrate(spectrum, {"far": (100.0, 120.0)})
    with pytest.raises(ConfigError, match="two different"):
        integrate(spectrum, {"bad": (1.0, 1.0)})
    with pytest.raises(PhysicsWarning, match="past the axis"):
        integrate(spectrum, {"edge": (10.0, 14.0)}, noise_regions=[(-12, -8)])
    with pytest.raises(ConfigError, match="overlap"):
        integrate(spectrum, {"a": (4.0, 0.0), "b": (1.0, -4.0)})
    fid = Spectrum(Axis("time", "s", np.arange(8.0)), np.ones(8, complex), technique="nmr", signal="fid")
    with pytest.raises(FitError, match="chemical_shift"):
        integrate(fid, RANGES)


@pytest.mark.shared_data
def test_nmrglue_integration_example(shared_data):
    """nmrglue's integrate_1d example (13C, NMRPipe): its areas are plain sums of points
    (nmrglue issue #44), so area.out × Δδ is our integral. Limits are converted to points by
    rounding in nmrglue, so a range may differ by its edge point: agreement to 1 % with the
    file; exact (1e-9) with nmrglue's own sum over the same points."""
    import specssb

    folder = shared_data("nmr", "nmrglue_examples", "integrate_1d")
    spectrum = specssb.read(folder / "1d_data.ft")[0]
    rows = [line.split() for line in (folder / "area.out").read_text().splitlines() if not line.startswith("#")]
    ranges = {name: (float(start), float(stop)) for name, start, stop, _ in rows}
    table = integrate(spectrum, ranges).values("integral").iloc[0]
    spacing = abs(spectrum.axis.values[1] - spectrum.axis.values[0])
    ratios = np.array([table[name] / spacing / float(area) for name, _, _, area in rows])
    np.testing.assert_allclose(ratios, 1.0, atol=0.01)
    ng = pytest.importorskip("nmrglue")
    dic, data = ng.pipe.read(str(folder / "1d_data.ft"))
    uc = ng.pipe.make_uc(dic, data)
    x = spectrum.axis.values
    for name, start, stop, _ in rows:
        first, last = sorted((uc(f"{start} ppm"), uc(f"{stop} ppm")))
        ours = integrate(spectrum, {name: (x[first], x[last])}).values("integral").iloc[0, 0]
        assert ours / spacing == pytest.approx(data[first:last + 1].astype(float).sum(), rel=1e-9)
