"""2D (y, x) chemical-shift imaging from a Bruker folder: written, read, reconstructed, located.

The Li|LLZO|Li cell of ``sample_data/csi_sample.py`` (``write_csi_2d``: 16 × 16 phase-encode
steps, FOV 4 mm × 6 mm, a 60 µm Li filament at (y, x) = (0.25, -0.75) mm) goes through the
Bruker reader (3D ``ser`` with acqu2s/acqu3s and two gradient lists), ``reconstruct_csi`` and
``csi_profiles``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb.fitting.nmr.csi import csi_profiles, reconstruct_csi
from specssb.fitting.nmr.csi_kspace import GAMMA_BAR_MHZ_PER_T, phase_encoding

REPO = Path(__file__).resolve().parents[3]


def _load_sample_module():
    path = REPO / "sample_data" / "csi_sample.py"
    spec = importlib.util.spec_from_file_location("csi_sample_2d", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cell(tmp_path_factory):
    """The 2D CSI written (loop order 321), read back, reconstructed and integrated."""
    module = _load_sample_module()
    root = tmp_path_factory.mktemp("csi2d")
    (name, truth), = module.write_csi_2d(root).items()
    fid, = specssb.read(root / name)
    image = reconstruct_csi(fid, line_broadening_hz=200.0)
    profiles = csi_profiles(image, noise_window=truth["noise_window_ppm"])
    return {"module": module, "root": root, "truth": truth, "fid": fid, "image": image,
            "profiles": profiles}


def test_reads_as_two_phase_encode_dims_with_gradients(cell):
    fid, truth = cell["fid"], cell["truth"]
    assert fid.shape == truth["shape"] == (16, 16, 256)
    assert fid.dims == truth["dims"] == ("phase_encode_y", "phase_encode_x")
    for dim, step in zip(fid.dims, truth["gradient_step_g_per_cm"]):
        coord = fid.coords[dim]
        assert coord.unit == "G/cm" and coord.values[8] == 0.0  # k = 0 at step N/2
        np.testing.assert_allclose(np.diff(coord.values), step, atol=2e-6)
    assert fid.meta["nucleus"] == "7Li"


def test_fov_follows_from_the_gradients(cell):
    fid, truth = cell["fid"], cell["truth"]
    for dim, fov, voxel, step in zip(fid.dims, truth["fov_mm"], truth["voxel_mm"],
                                     truth["gradient_step_g_per_cm"]):
        encoding = phase_encoding(fid, dim)
        assert "coordinate" in encoding.source and "P[16]" in encoding.source
        assert encoding.duration_s == pytest.approx(truth["gradient_duration_s"])
        # FOV = 1/(γ̄ G_step δ), independently of the package's code
        expected = 1e3 / (GAMMA_BAR_MHZ_PER_T["7Li"] * 1e6 * step * 1e-2 * 0.5e-3)
        assert encoding.fov_mm == pytest.approx(expected, rel=1e-6)
        assert encoding.fov_mm == pytest.approx(fov, rel=1e-5)
        assert encoding.voxel_mm == pytest.approx(voxel, rel=1e-5)
    spatial = cell["profiles"].metadata["spatial"]
    assert [s["fov_mm"] for s in spatial] == pytest.approx(list(truth["fov_mm"]), rel=1e-5)


def test_voxel_grid_of_the_image(cell):
    image, truth = cell["image"], cell["truth"]
    assert image.dims == ("y", "x") and image.leading_shape == (32, 32)
    for dim, step in zip(("y", "x"), truth["voxel_step_mm_zero_fill_2"]):
        positions = image.coords[dim].values
        assert image.coords[dim].unit == "mm"
        np.testing.assert_allclose(np.diff(positions), step, rtol=1e-5)
        assert positions[16] == 0.0


def test_filament_lands_in_its_true_voxel(cell):
    profiles, truth = cell["profiles"], cell["truth"]
    metal, error = profiles.integrals["li_metal"], profiles.stderr["li_metal"]
    y, x = profiles.positions_mm("y"), profiles.positions_mm("x")
    low, high = truth["cell"]["electrolyte_mm"][:2]
    inside = (y > low + 0.3) & (y < high - 0.3)  # clear of the electrodes' main lobes
    masked = np.where(inside[:, None], metal, -np.inf)
    iy, ix = np.unravel_index(np.argmax(masked), metal.shape)
    y0, x0 = truth["filament_position_mm"]
    assert y[iy] == pytest.approx(y0, abs=1e-4) and x[ix] == pytest.approx(x0, abs=1e-4)
    assert metal[iy, ix] > 100 * error[iy, ix]
    # the mirror positions (a flipped gradient sign would put it there) hold no filament
    for my, mx in ((-y0, x0), (y0, -x0), (-y0, -x0)):
        jy, jx = np.argmin(np.abs(y - my)), np.argmin(np.abs(x - mx))
        assert metal[jy, jx] < 0.1 * metal[iy, ix]


def test_electrodes_and_electrolyte_are_where_the_cell_puts_them(cell):
    profiles, truth = cell["profiles"], cell["truth"]
    y, x = profiles.positions_mm("y"), profiles.positions_mm("x")
    metal_rows = profiles.integrals["li_metal"].sum(axis=1)
    for name in ("bottom_electrode_mm", "top_electrode_mm"):
        low, high, _, _ = truth["cell"][name]
        rows = (y > low) & (y < high)
        assert metal_rows[rows].min() > 5 * np.abs(metal_rows[np.abs(y) < 0.1]).max()
    diamagnetic = profiles.integrals["diamagnetic"]
    iy, ix = np.unravel_index(np.argmax(diamagnetic), diamagnetic.shape)
    assert abs(y[iy]) < 0.9 and abs(x[ix]) < 2.0  # inside the LLZO rectangle
    columns = diamagnetic.sum(axis=0)
    assert np.abs(columns[np.abs(x) > 2.5]).max() < 0.1 * columns.max()  # nothing beyond x = ±2


def test_loop_order_does_not_change_the_image(cell, tmp_path):
    (name, _), = cell["module"].write_csi_2d(tmp_path, aqseq=1).items()
    other, = specssb.read(tmp_path / name)
    np.testing.assert_array_equal(other.data, cell["fid"].data)
    assert other.raw_meta["acqus"]["AQSEQ"] == 1
