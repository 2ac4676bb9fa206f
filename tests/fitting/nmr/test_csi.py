"""Chemical-shift imaging: centring, field of view, profiles, change vs pristine, T2, caveats.

Synthetic data only (no public raw 7Li CSI data set exists, see the NMR notes §2): point objects
built in memory, and the Li|LLZO|Li session of ``sample_data/csi_sample.py`` written to a
temporary folder and read back through the Bruker reader.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb.errors import ConfigError, FitError, MetadataWarning
from specssb.fitting.nmr.csi import (
    LI_WINDOWS_PPM,
    csi_profiles,
    profiles_from_recipe,
    reconstruct_csi,
)
from specssb.fitting.nmr.csi_compare import compare_to_pristine, locate_peak, t2_map
from specssb.fitting.nmr.csi_kspace import (
    PhaseEncoding,
    phase_encode_fov_mm,
    phase_encoding,
    skin_depth_m,
    spatial_transform,
)
from specssb.fitting.recipe import Recipe, load_recipe
from specssb.spectrum import Axis, Spectrum

REPO = Path(__file__).resolve().parents[3]
BF1, CARRIER, SW, N_POINTS = 155.5, 100.0, 100_000.0, 256
SFO1 = BF1 + CARRIER * BF1 * 1e-6


def _load_sample_module():
    path = REPO / "sample_data" / "csi_sample.py"
    spec = importlib.util.spec_from_file_location("csi_sample", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fid(data: np.ndarray, dims: tuple[str, ...] = ("phase_encode",), **meta) -> Spectrum:
    return Spectrum(axis=Axis("time", "s", np.arange(data.shape[-1]) / SW), data=data,
                    technique="nmr", signal="fid", dims=dims,
                    meta={"nucleus": "7Li", "sfo1_mhz": SFO1, "bf1_mhz": BF1, **meta})


def _line(shift_ppm: float = 258.0, fwhm_hz: float = 1500.0) -> np.ndarray:
    t = np.arange(N_POINTS) / SW
    return np.exp(2j * np.pi * (shift_ppm - CARRIER) * SFO1 * t - np.pi * fwhm_hz * t)


def _point_fid(x0_mm: float, n_steps: int, fov_mm: float, *, offset: float = 0.0) -> Spectrum:
    k = (np.arange(n_steps) - n_steps // 2 + offset) / (fov_mm * 1e-3)
    rows = np.exp(-2j * np.pi * k * x0_mm * 1e-3)[:, None] * _line()[None, :]
    return _fid(rows)


# ------------------------------------------------------------------------------ k-space
@pytest.mark.parametrize("n_steps", [32, 31])
@pytest.mark.parametrize("window", ["none", "hamming"])
@pytest.mark.parametrize("zero_fill", [1, 2])
def test_point_object_lands_at_its_voxel(n_steps, window, zero_fill):
    fov = 4.0
    step = fov / (zero_fill * n_steps)  # voxel grid after zero filling
    for x0 in (0.0, 6 * step, -9 * step):
        image = reconstruct_csi(_point_fid(x0, n_steps, fov), fov_mm=fov, window=window,
                                zero_fill=zero_fill)
        profiles = csi_profiles(image, noise_window=(-200, -100))
        x, metal, _ = profiles.profile("li_metal")
        assert x[np.argmax(metal)] == pytest.approx(x0, abs=1e-9)
        if x0 == 0.0:  # k = 0 and x = 0 sit at the middle index M/2
            assert np.argmax(metal) == x.size // 2 and x[x.size // 2] == 0.0
    assert x[1] - x[0] == pytest.approx(step)


def test_spatial_transform_equals_the_direct_fourier_sum():
    """Oracle: ρ(x_j) = (1/M) Σ_n w_n S_n exp(+2πi k_n x_j), also on a grid without k = 0."""
    rng = np.random.default_rng(0)
    for offset in (0.0, 0.5):
        k = (np.arange(16) - 8 + offset) * 250.0
        rows = rng.normal(size=(16, 5)) + 1j * rng.normal(size=(16, 5))
        encoding = PhaseEncoding("phase_encode", k, "test")
        voxels, (x_mm,), _ = spatial_transform(rows, [encoding], window="hann", zero_fill=2)
        w = 0.5 * (1 + np.cos(np.pi * np.clip(k / (16 * 250.0 / 2), -1, 1)))
        direct = np.exp(2j * np.pi * np.outer(x_mm * 1e-3, k)) @ (w[:, None] * rows) / 32
        np.testing.assert_allclose(voxels, direct, atol=1e-12)
        if offset == 0:  # the voxels share the k = 0 signal
            np.testing.assert_allclose(voxels.sum(axis=0), rows[8], atol=1e-12)


def test_half_step_grid_keeps_position_and_phase():
    """A grid without k = 0 (k = (m + ½)Δk) needs the phase ramp exp(2πi c Δk x)."""
    x0 = 0.5
    images = []
    for offset in (0.0, 0.5):
        k = (np.arange(32) - 16 + offset) / 4e-3
        fid = _fid(np.exp(-2j * np.pi * k * x0 * 1e-3)[:, None] * _line()[None, :])
        images.append(reconstruct_csi(fid, PhaseEncoding("phase_encode", k, "grid"),
                                      phase_deg=0.0))
    for image in images:
        metal = csi_profiles(image, noise_window=(-200, -100)).integrals["li_metal"]
        assert image.coords["position"].values[np.argmax(metal)] == pytest.approx(x0)
    centre = images[0].coords["position"].values.tolist().index(x0)
    ratio = images[1].data[centre].sum() / images[0].data[centre].sum()
    assert abs(np.degrees(np.angle(ratio))) < 0.5  # without the ramp: 22.5°
    assert abs(ratio) == pytest.approx(1.0, abs=0.02)


def test_two_dimensional_point_object():
    fov_y, fov_x, ny, nx = 4.0, 8.0, 16, 32
    ky = (np.arange(ny) - ny // 2) / (fov_y * 1e-3)
    kx = (np.arange(nx) - nx // 2) / (fov_x * 1e-3)
    y0, x0 = -0.5, 1.5
    phase = np.exp(-2j * np.pi * (ky[:, None] * y0 + kx[None, :] * x0) * 1e-3)
    fid = _fid(phase[..., None] * _line()[None, None, :], dims=("pe_y", "pe_x"))
    image = reconstruct_csi(fid, fov_mm=(fov_y, fov_x))
    assert image.dims == ("y", "x") and image.coords["x"].unit == "mm"
    profiles = csi_profiles(image, noise_window=(-200, -100))
    metal = profiles.integrals["li_metal"]
    iy, ix = np.unravel_index(np.argmax(metal), metal.shape)
    assert profiles.positions_mm("y")[iy] == pytest.approx(y0)
    assert profiles.positions_mm("x")[ix] == pytest.approx(x0)
    table = profiles.table
    assert {"y_mm", "x_mm", "window", "integral", "stderr"} <= set(table.columns)
    assert len(table) == metal.size * len(LI_WINDOWS_PPM)


# ------------------------------------------------------------------------------ FOV
def test_fov_from_gradient_parameters():
    # NMR notes example: 7Li, N = 64, δ = 0.5 ms, g_max = 1 T/m -> FOV 3.87 mm, voxel 60 µm
    assert phase_encode_fov_mm(2.0 / 64, 0.5e-3, "7Li") == pytest.approx(3.868, abs=1e-3)
    step = 0.02
    assert phase_encode_fov_mm(step, 1e-3, "23Na") == pytest.approx(1e3 / (11.262e6 * step * 1e-3))
    # GPZ route: 40 % of a 1.5 T/m probe on the -1 … 1 ramp, δ from acqus P[16] = 400 µs
    pulses = [0.0] * 32
    pulses[16] = 400.0
    fid = _fid(np.ones((32, 8), complex)).replace(
        raw_meta={"acqus": {"GPZ": [0.0, 40.0] + [0.0] * 30, "P": pulses}})
    encoding = phase_encoding(fid, gradient_max_t_per_m=1.5)
    g_step = 0.4 * 1.5 / 16
    assert encoding.fov_mm == pytest.approx(1e3 / (16.546e6 * g_step * 400e-6))
    assert encoding.voxel_mm == pytest.approx(encoding.fov_mm / 32)
    with pytest.raises(ConfigError, match="gradient_max_t_per_m"):
        phase_encoding(fid)


def test_bad_encodings_are_refused():
    fid = _point_fid(0.0, 8, 4.0)
    with pytest.raises(FitError, match="uniform grid"):
        reconstruct_csi(fid, PhaseEncoding("phase_encode", np.array([0, 1, 2, 3, 5, 6, 7, 8.3])
                                           * 100.0, "bad"))
    with pytest.raises(ConfigError, match="k values for 8"):
        reconstruct_csi(fid, PhaseEncoding("phase_encode", np.arange(4) * 100.0, "short"))
    with pytest.raises(FitError, match="raw NMR FID"):
        reconstruct_csi(reconstruct_csi(fid, fov_mm=4.0), fov_mm=4.0)
    with pytest.raises(ConfigError, match="window"):
        reconstruct_csi(fid, fov_mm=4.0, window="blackman")


# ------------------------------------------------------------------------------ phase, noise
def test_one_phase_from_the_summed_spectrum_for_all_voxels():
    fid = _point_fid(0.75, 32, 4.0)
    reference = csi_profiles(reconstruct_csi(fid, fov_mm=4.0), noise_window=(-200, -100))
    tilted = fid.replace(data=fid.data * np.exp(1j * np.radians(40.0)))
    image = reconstruct_csi(tilted, fov_mm=4.0)
    assert image.history[-1].parameters["phase_deg"] == pytest.approx(-40.0, abs=0.5)
    profiles = csi_profiles(image, noise_window=(-200, -100))
    np.testing.assert_allclose(profiles.integrals["li_metal"], reference.integrals["li_metal"],
                               atol=1e-3 * reference.integrals["li_metal"].max())


def test_noisy_profiles_carry_uncertainties_that_match_the_scatter():
    """The noise-based stderr equals the scatter of integrals over noise realizations."""
    rng = np.random.default_rng(7)
    signal = _point_fid(0.5, 16, 4.0).data * 50.0
    values, errors = [], []
    for _ in range(60):
        noise = rng.normal(0, 1, signal.shape) + 1j * rng.normal(0, 1, signal.shape)
        fid = _fid(signal + noise, digital_filter={"grpdly": 12.4})
        fid = fid.replace(data=np.roll(fid.data, 12, axis=-1))
        image = reconstruct_csi(fid, fov_mm=4.0, line_broadening_hz=300.0, phase_deg=0.0)
        profiles = csi_profiles(image, noise_window=(-200, -100))
        values.append(profiles.integrals["li_metal"])
        errors.append(profiles.stderr["li_metal"])
    values, errors = np.array(values), np.array(errors)
    assert np.all(errors > 0) and np.all(np.isfinite(errors))
    scatter = values.std(axis=0, ddof=1).mean()
    assert scatter / errors.mean() == pytest.approx(1.0, abs=0.12)
    assert values.mean(axis=0).max() > 20 * errors.mean()  # the point object stands out


def test_windows_must_hold_points_and_avoid_the_noise():
    image = reconstruct_csi(_point_fid(0.0, 8, 4.0), fov_mm=4.0)
    with pytest.raises(FitError, match="no point"):
        csi_profiles(image, {"far": (900.0, 950.0)}, noise_window=(-200, -100))
    with pytest.raises(ConfigError, match="overlaps"):
        csi_profiles(image, {"li_metal": (245.0, 270.0)}, noise_window=(240, 300))


# ------------------------------------------------------------------------------ caveats
def test_skin_depth_caveat_is_in_the_metadata():
    expected_um = math.sqrt(2 * 9.28e-8 / (2 * math.pi * SFO1 * 1e6 * 4e-7 * math.pi)) * 1e6
    assert skin_depth_m(SFO1 * 1e6) * 1e6 == pytest.approx(expected_um)
    assert 10.0 < expected_um < 15.0
    profiles = csi_profiles(reconstruct_csi(_point_fid(0.0, 8, 4.0), fov_mm=4.0),
                            noise_window=(-200, -100))
    meta = profiles.metadata
    assert meta["skin_depth_um"] == pytest.approx(expected_um)
    assert any("surface" in c and "not volume" in c for c in meta["caveats"])
    assert any("Chandrashekar" in r for r in meta["references"])
    assert any("Ilott" in r for r in meta["references"])
    assert profiles.table.attrs["metadata"]["skin_depth_um"] == pytest.approx(expected_um)


# ------------------------------------------------------------------------------ sample cell
@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The pristine/cycled Li|LLZO|Li 1D-CSI session, written and read back."""
    module = _load_sample_module()
    root = tmp_path_factory.mktemp("csi")
    truth = module.write_csi_session(root)
    names = sorted(truth)
    fids = [specssb.read(root / name)[0] for name in names]
    noise = tuple(truth[names[0]]["noise_window_ppm"])
    profiles = [csi_profiles(reconstruct_csi(f, line_broadening_hz=200.0), noise_window=noise)
                for f in fids]
    return {"root": root, "truth": truth, "names": names, "fids": fids, "profiles": profiles,
            "common": truth[names[0]]}


def test_written_csi_reads_as_pseudo_2d_with_gradients(session):
    fid = session["fids"][0]
    truth = session["common"]
    assert fid.dims == ("phase_encode",) and fid.shape == (64, 512)
    gradient = fid.coords["phase_encode"]
    assert gradient.unit == "G/cm"
    assert gradient.values[32] == 0.0
    assert np.diff(gradient.values) == pytest.approx(truth["gradient_step_g_per_cm"], abs=2e-6)
    assert fid.meta["nucleus"] == "7Li" and fid.meta["sfo1_mhz"] == pytest.approx(SFO1)
    assert "gradlist" in fid.raw_meta and fid.raw_meta["acqus"]["P"][16] == pytest.approx(500.0)
    encoding = phase_encoding(fid)
    assert encoding.fov_mm == pytest.approx(truth["fov_mm"], rel=1e-5)
    assert encoding.voxel_mm == pytest.approx(truth["voxel_mm"], rel=1e-5)
    assert encoding.duration_s == pytest.approx(truth["gradient_duration_s"])


def test_filament_position_recovered_within_one_voxel(session):
    pristine, cycled = session["profiles"][:2]
    truth = session["common"]
    comparison = compare_to_pristine(cycled, pristine)
    low, high = truth["cell"]["electrolyte_mm"]
    peak = locate_peak(comparison.difference, pristine.positions_mm(),
                       within=(low + 0.2, high - 0.2))
    assert abs(peak["position_mm"] - truth["filament_position_mm"]) <= truth["voxel_mm"]
    assert abs(peak["refined_mm"] - truth["filament_position_mm"]) <= truth["voxel_mm"] / 2
    assert peak["value"] > 50 * comparison.difference_stderr.max()


def test_interfacial_loss_within_three_points(session):
    pristine, cycled = session["profiles"][:2]
    truth = session["common"]
    loss = truth["loss_region_mm"]
    top = (-loss[1], -loss[0])  # the mirror region at the untouched electrode
    comparison = compare_to_pristine(cycled, pristine, window="li_metal",
                                     regions={"bottom": loss, "top": top})
    regions = comparison.regions.set_index("region")
    assert regions.loc["bottom", "percent"] == pytest.approx(truth["interfacial_loss_percent"],
                                                              abs=3.0)
    assert regions.loc["top", "percent"] == pytest.approx(0.0, abs=3.0)
    assert 0 < regions.loc["bottom", "percent_stderr"] < 1.0
    assert regions.loc["bottom", "n_voxels"] == 12
    # per voxel: masked (NaN) where the pristine cell has no metal, finite on the electrodes
    percent = comparison.percent
    x = pristine.positions_mm()
    assert np.all(np.isnan(percent[np.abs(x) < 0.6]))
    deep_in_layer = (x > loss[0] + 0.1) & (x < loss[1] - 0.1)
    assert np.nanmean(percent[deep_in_layer]) == pytest.approx(-30.0, abs=2.0)
    assert np.all(comparison.percent_stderr[deep_in_layer] > 0)
    assert "skin_depth_um" in comparison.metadata
    assert {"position_mm", "percent", "percent_stderr"} <= set(comparison.table.columns)


def test_per_voxel_t2_separates_filament_from_bulk_metal(session):
    _, cycled_short, cycled_long = session["profiles"]
    truth = session["common"]
    echo_times = [session["truth"][n]["echo_time_s"] for n in session["names"][1:]]
    t2 = t2_map([cycled_short, cycled_long], echo_times, window="li_metal")
    x = cycled_short.positions_mm()
    top = truth["cell"]["top_electrode_mm"]
    bulk = (x > top[0] + 0.15) & (x < top[1] - 0.15)
    assert np.nanmedian(t2.t2_s[bulk]) == pytest.approx(truth["cell"]["metal"]["t2_s"], rel=0.03)
    filament = np.argmin(np.abs(x - truth["filament_position_mm"]))
    assert t2.t2_s[filament] == pytest.approx(truth["cell"]["filament"]["t2_s"], rel=0.1)
    assert t2.t2_stderr_s[filament] > 0
    assert np.isnan(t2.t2_s[np.abs(x) > 1.8]).all()  # outside the cell: no signal, no T2
    assert "t2_s" in t2.table.columns


def test_recipe_drives_the_same_processing(session):
    recipe = load_recipe("nmr-csi-li-profile")
    fid = session["fids"][0]
    assert recipe.applies_to(fid)
    from_recipe = profiles_from_recipe(fid, recipe)
    np.testing.assert_allclose(from_recipe.integrals["li_metal"],
                               session["profiles"][0].integrals["li_metal"])
    bad = recipe.to_toml().replace("k_window", "kwindow")
    with pytest.raises(ConfigError, match="kwindow"):
        Recipe.from_text(bad)


def test_different_voxel_grids_are_not_compared(session):
    pristine = session["profiles"][0]
    other = csi_profiles(reconstruct_csi(session["fids"][1], zero_fill=1),
                         noise_window=(-200, -100))
    with pytest.raises(ConfigError, match="voxel grid"):
        compare_to_pristine(other, pristine)


# ------------------------------------------------------------------------------ reader
def test_gradient_list_unit_and_bad_list(session, tmp_path):
    import shutil

    folder = tmp_path / "1"
    shutil.copytree(session["root"] / session["names"][0], folder)
    text = (folder / "gradlist").read_text()
    values = [float(v) for v in text.splitlines() if not v.startswith("#")]
    (folder / "gradlist").write_text("# unit: T/m\n" + "\n".join(f"{v / 100:.8f}" for v in values))
    fid = specssb.read(folder)[0]
    assert fid.coords["phase_encode"].unit == "T/m"
    assert phase_encoding(fid).fov_mm == pytest.approx(session["common"]["fov_mm"], rel=1e-5)
    (folder / "gradlist").write_text("1.0\nnot a number\n")
    with pytest.warns(MetadataWarning, match="gradlist"):
        fid = specssb.read(folder)[0]
    assert fid.dims == ("increment",) and not fid.coords
    with pytest.raises(ConfigError, match="gradient"):
        phase_encoding(fid.replace(raw_meta={}), duration_s=0.5e-3)
