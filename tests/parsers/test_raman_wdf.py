"""Renishaw WiRE .wdf reader: real files, writer round trips, map layouts, damaged input."""

from __future__ import annotations

import datetime as dt
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest
from renishawWiRE import WDFReader

import specssb
from specssb import MetadataWarning, ParseError
from specssb.parsers._common import make_source
from specssb.parsers.raman_wdf import parse_wdf, read_wdf

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("wdf_writer", REPO / "sample_data/writers/wdf.py")
wdf_writer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wdf_writer)  # type: ignore[union-attr]

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
AXIS = np.linspace(1800.0, 100.0, 64)  # decreasing, as WiRE stores Raman shift
X_UM, Y_UM = np.array([0.0, 5.0, 10.0, 15.0]), np.array([-2.0, 0.0, 2.0])


# ------------------------------------------------------------------------------ helpers
def _cube() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.poisson(200, (3, 4, AXIS.size)).astype(np.float32).astype(np.float64)


def _write(tmp_path: Path, *, single: bool = False, **changes) -> Path:
    args = dict(axis_unit="raman_shift", laser_wavelength_nm=532.0, title="LPSCl map",
                acquired_at=T0, exposure_time_s=0.5, n_accumulations=3)
    args.update(changes)
    if single:
        return wdf_writer.write_wdf(tmp_path / "one.wdf", _cube()[1, 2], AXIS, **args)
    return wdf_writer.write_wdf(tmp_path / "map.wdf", _cube(), AXIS, x_um=X_UM, y_um=Y_UM, **args)


def _blocks(data: bytes) -> dict[str, int]:
    found, pos = {}, 0
    while pos < len(data):
        name, _, size = struct.unpack_from("<4sIQ", data, pos)
        found[name.decode()] = pos
        pos += size
    return found


def _patch(data: bytes, offset: int, fmt: str, *values) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def _parse(data: bytes, name: str = "synthetic.wdf"):
    [spectrum] = parse_wdf(data, source=make_source(name, "wdf", sha256="0" * 64))
    return spectrum


def _reorder(data: bytes, order: np.ndarray, *, flags: int) -> bytes:
    """Rewrite a writer map so spectra (and their X/Y/Time origins) come in ``order``."""
    blocks, out = _blocks(data), bytearray(data)
    count, npoints = len(order), AXIS.size
    start = blocks["DATA"] + 16
    spectra = np.frombuffer(data, "<f4", count * npoints, start).reshape(count, npoints)
    out[start:start + spectra.nbytes] = spectra[order].tobytes()
    lists = blocks["ORGN"] + 20
    for i in range(3):
        values_at = lists + i * (24 + 8 * count) + 24
        values = np.frombuffer(data, "<f8" if i < 2 else "<i8", count, values_at)
        out[values_at:values_at + 8 * count] = values[order].tobytes()
    struct.pack_into("<I", out, blocks["WMAP"] + 16, flags)
    return bytes(out)


# -------------------------------------------------------------------------- real files
@pytest.mark.shared_data
def test_datalab_single_633nm_matches_wire_text_export(shared_data):
    [s] = read_wdf(shared_data("raman", "datalab", "raman_example.wdf"))
    assert s.shape == (1011,) and s.dims == ()
    assert (s.axis.name, s.axis.unit) == ("raman_shift", "cm-1")
    assert s.axis.values[0] == pytest.approx(1879.4492, abs=1e-3)
    assert s.axis.values[-1] == pytest.approx(0.38086, abs=1e-4)
    assert np.all(np.diff(s.axis.values) < 0)  # measured order kept
    assert (s.signal, s.signal_unit) == ("counts", "counts")
    assert s.meta["laser_wavelength_nm"] == pytest.approx(632.8, abs=0.01)
    assert s.meta["acquired_at"] == dt.datetime(2023, 6, 21, 10, 19, 35, 415341, tzinfo=UTC)
    assert s.meta["measurement_type"] == "single"
    assert s.meta["exposure_time_s"] == 3.0 and s.meta["n_accumulations"] == 1
    assert s.meta["title"] == "Single scan measurement 2"
    export = np.loadtxt(shared_data("raman", "datalab", "raman_example.txt"), skiprows=1)
    np.testing.assert_allclose(s.axis.values, export[:, 0], atol=1e-5)
    np.testing.assert_allclose(s.data, export[:, 1], atol=1e-5)
    assert s.raw_meta["application_version"] == "4.4.0.6602"


@pytest.mark.shared_data
def test_ramanchada2_ncal_785nm(shared_data):
    [s] = read_wdf(shared_data("raman", "ramanchada2", "Renishaw",
                               "nCal_Qontor785_z005H12_100_1x3s.wdf"))
    assert s.shape == (1021,) and s.axis.name == "raman_shift"
    assert s.axis.values[0] == pytest.approx(1111.108, abs=1e-3)
    assert s.axis.values[-1] == pytest.approx(-154.502, abs=1e-3)
    assert s.meta["laser_wavelength_nm"] == pytest.approx(785.016, abs=1e-3)
    assert s.meta["exposure_time_s"] == 3.0  # "1x3s" in the file name
    assert s.meta["instrument"] == "InVia"
    assert s.data[:3] == pytest.approx([1729.1606, 1805.5493, 1754.2449], abs=1e-3)


@pytest.mark.shared_data
def test_rosettasciio_spectrum_is_wavelength_not_raman_shift(shared_data):
    [s] = read_wdf(shared_data("raman", "rosettasciio", "renishaw", "renishaw_test_spectrum.wdf"))
    assert (s.axis.name, s.axis.unit, s.shape) == ("wavelength", "nm", (36,))
    assert s.axis.values[0] == pytest.approx(328.98077, abs=1e-4)
    assert s.axis.values[-1] == pytest.approx(326.01633, abs=1e-4)
    assert s.meta["laser_wavelength_nm"] == pytest.approx(325.0, abs=1e-3)
    # rosettasciio shows this spectrum with the axis reversed; its last values are our first
    assert s.data[:3] == pytest.approx([68.10285, 67.45442, 59.75822], abs=1e-4)
    assert s.meta["acquired_at"] == dt.datetime(2022, 2, 16, 13, 1, 31, 439252, tzinfo=UTC)
    assert s.meta["exposure_time_s"] == 180.0 and s.meta["n_accumulations"] == 2
    assert s.raw_meta["accumulation_count"] == 4  # header count: twice the set value (CRR)
    assert s.meta["grating"].startswith("1200 l/mm")


@pytest.mark.shared_data
def test_rosettasciio_map_grid_and_coordinates(shared_data):
    path = shared_data("raman", "rosettasciio", "renishaw", "renishaw_test_map.wdf")
    [s] = read_wdf(path)
    assert s.dims == ("y", "x") and s.shape == (3, 3, 47)
    assert s.shape[:2] == (s.coords["y"].values.size, s.coords["x"].values.size)
    for name in ("x", "y"):
        assert s.coords[name].unit == "um"
        np.testing.assert_array_equal(s.coords[name].values, [-100.0, 0.0, 100.0])
    assert s.axis.name == "wavelength"
    assert (s.axis.values[0], s.axis.values[-1]) == pytest.approx((350.6773, 346.7728), abs=1e-4)
    assert s.meta["measurement_type"] == "map" and s.raw_meta["map_placement"] == "wmap_grid"
    # rosettasciio's expected values (its axis increasing: reversed here), inav[x, y]
    assert s.data[0, 0, -2:][::-1] == pytest.approx([2.722048, 2.3829105], abs=1e-5)
    assert s.data[0, 1, -2:][::-1] == pytest.approx([1.361024, 2.0424948], abs=1e-5)
    assert s.data[1, 0, -2:][::-1] == pytest.approx([0.680512, 1.702079], abs=1e-5)
    assert s.data[2, 2, -2:][::-1] == pytest.approx([0.680512, 1.3616632], abs=1e-5)
    reference = WDFReader(str(path))
    try:
        np.testing.assert_array_equal(s.data, reference.spectra)
        grid = s.data.reshape(9, -1)
        for k in range(9):  # each spectrum sits at its own ORGN stage position
            iy = list(s.coords["y"].values).index(reference.ypos[k])
            ix = list(s.coords["x"].values).index(reference.xpos[k])
            np.testing.assert_array_equal(s.data[iy, ix], grid[k])
    finally:
        reference.close()


@pytest.mark.shared_data
def test_every_real_wdf_reads_cleanly(shared_data):
    files = sorted(shared_data("raman").rglob("*.wdf"))
    assert len(files) >= 4
    for path in files:
        [s] = specssb.read(path)
        assert s.source.format == "wdf" and s.axis.name in ("raman_shift", "wavelength")
        assert np.isfinite(s.data).all() and s.meta["laser_wavelength_nm"] > 300
        assert s.raw_meta["property_sets"]


# ------------------------------------------------------------------------ writer round trip
def test_round_trip_single_spectrum(tmp_path):
    path = _write(tmp_path, single=True, axis_unit="wavelength", laser_wavelength_nm=325.0)
    assert specssb.sniff(path).name == "wdf"
    [s] = specssb.read(path)
    assert s.dims == () and (s.axis.name, s.axis.unit) == ("wavelength", "nm")
    np.testing.assert_array_equal(s.axis.values, AXIS.astype(np.float32))
    np.testing.assert_array_equal(s.data, _cube()[1, 2])
    assert s.meta["laser_wavelength_nm"] == pytest.approx(325.0, rel=1e-6)
    assert s.meta["acquired_at"] == T0 and s.meta["title"] == "LPSCl map"
    assert (s.meta["exposure_time_s"], s.meta["n_accumulations"]) == (0.5, 3)


def test_round_trip_map_3x4(tmp_path, capsys):
    path = _write(tmp_path)
    (tmp_path / "again").mkdir()
    assert path.read_bytes() == _write(tmp_path / "again").read_bytes()  # deterministic
    [s] = read_wdf(path)
    assert capsys.readouterr() == ("", "")  # renishawWiRE stays quiet
    assert s.dims == ("y", "x") and s.shape == (3, 4, AXIS.size)
    np.testing.assert_array_equal(s.data, _cube())
    np.testing.assert_array_equal(s.coords["x"].values, X_UM)
    np.testing.assert_array_equal(s.coords["y"].values, Y_UM)
    assert s.meta["laser_wavelength_nm"] == pytest.approx(532.0, rel=1e-6)
    assert s.meta["measurement_type"] == "map"
    reference = WDFReader(str(path))  # renishawWiRE reads the writer's file on its own
    try:
        assert reference.map_shape == (4, 3) and reference.count == 12
        assert reference.map_info["x_pad"] == 5.0 and reference.map_info["y_start"] == -2.0
        assert reference.laser_length == pytest.approx(532.0, rel=1e-6)
        np.testing.assert_array_equal(reference.spectra, _cube())
    finally:
        reference.close()


# ------------------------------------------------------------------------------ map layouts
@pytest.mark.parametrize("flags", [2, 2 | 4, 4])  # column-major, column snake, row snake
def test_map_order_follows_stage_positions(tmp_path, flags):
    data = _write(tmp_path).read_bytes()
    k = np.arange(12)
    iy, ix = (k % 3, k // 3) if flags & 2 else (k // 4, k % 4)
    if flags & 4 and flags & 2:
        iy = np.where(ix % 2 == 1, 2 - iy, iy)
    elif flags & 4:
        ix = np.where(iy % 2 == 1, 3 - ix, ix)
    order = iy * 4 + ix  # acquisition k measured grid cell (iy, ix)
    s = _parse(_reorder(data, order, flags=flags))
    np.testing.assert_array_equal(s.data, _cube())
    assert s.raw_meta["map_placement"] == "wmap_grid"
    # without usable positions the WMAP flags give the same placement, with a warning
    blocks = _blocks(data)
    broken = _reorder(data, order, flags=flags)
    for i in range(2):
        start = blocks["ORGN"] + 20 + i * (24 + 8 * 12) + 24
        broken = broken[:start] + np.zeros(12).tobytes() + broken[start + 96:]
    with pytest.warns(MetadataWarning, match="acquisition order"):
        s = _parse(broken)
    np.testing.assert_array_equal(s.data, _cube())


def test_positions_offset_from_wmap_use_their_own_grid(tmp_path):
    data = _write(tmp_path).read_bytes()
    s = _parse(_patch(data, _blocks(data)["WMAP"] + 24, "<f", 2.0))  # WMAP x origin 0 -> 2 µm
    assert s.raw_meta["map_placement"] == "orgn_grid"
    np.testing.assert_array_equal(s.data, _cube())
    np.testing.assert_array_equal(s.coords["x"].values, X_UM)


def test_map_area_not_matching_the_count_gives_points(tmp_path):
    data = _write(tmp_path).read_bytes()
    with pytest.warns(MetadataWarning, match="list of points"):
        s = _parse(_patch(data, _blocks(data)["WMAP"] + 48, "<II", 5, 5))
    assert s.dims == ("point",) and s.shape == (12, AXIS.size)
    np.testing.assert_array_equal(s.coords["y"].values, np.repeat(Y_UM, 4))


def test_incomplete_map_is_nan_padded(tmp_path):
    data = _patch(_write(tmp_path).read_bytes(), 72, "<Q", 10)  # 10 of 12 collected
    with pytest.warns(MetadataWarning, match="incomplete"):
        s = _parse(data)
    assert s.shape == (3, 4, AXIS.size) and s.dims == ("y", "x")
    assert np.isnan(s.data[2, 2:]).all() and not np.isnan(s.data[:2]).any()
    np.testing.assert_array_equal(s.data[2, :2], _cube()[2, :2])


def test_series_has_scan_dim_with_time_and_positions(tmp_path):
    data = _patch(_write(tmp_path).read_bytes(), 132, "<I", 2)  # measurement type Series
    s = _parse(data)
    assert s.dims == ("scan",) and s.shape == (12, AXIS.size)
    assert s.meta["measurement_type"] == "series"
    np.testing.assert_allclose(s.coords["time"].values, 1.5 * np.arange(12))  # 0.5 s × 3
    assert s.coords["time"].unit == "s" and s.coords["x"].unit == "um"
    np.testing.assert_array_equal(s.coords["x"].values, np.tile(X_UM, 3))


def test_line_scan_has_position_dim_and_distance(tmp_path):
    data = _write(tmp_path).read_bytes()
    s = _parse(_patch(data, _blocks(data)["WMAP"] + 16, "<I", 0x80))  # WdfMapArea XyLine
    assert s.dims == ("position",) and s.meta["measurement_type"] == "line"
    x, y = np.tile(X_UM, 3), np.repeat(Y_UM, 4)
    np.testing.assert_allclose(s.coords["distance"].values, np.hypot(x - x[0], y - y[0]))


# ------------------------------------------------------------------------ axis and metadata
@pytest.mark.parametrize(("code", "name"), [(2, "Wavenumber"), (4, "ElectronVolt"), (0, "Arbitrary")])
def test_unsupported_x_unit_is_named(tmp_path, code, name):
    data = _write(tmp_path, single=True).read_bytes()
    with pytest.raises(ParseError, match=name):
        _parse(_patch(data, _blocks(data)["XLST"] + 20, "<I", code))


def test_pixel_axis_is_channel(tmp_path):
    data = _write(tmp_path, single=True).read_bytes()
    s = _parse(_patch(data, _blocks(data)["XLST"] + 20, "<I", 16))
    assert (s.axis.name, s.axis.unit) == ("channel", "1")


def test_zero_laser_and_time_warn_but_read(tmp_path):
    data = _patch(_write(tmp_path, single=True).read_bytes(), 156, "<f", 0.0)
    with pytest.warns(MetadataWarning, match="laser"):
        s = _parse(data)
    assert "laser_wavelength_nm" not in s.meta
    with pytest.warns(MetadataWarning, match="FILETIME"):
        s = _parse(_patch(data[:156] + struct.pack("<f", 15797.8) + data[160:], 136, "<Q", 0))
    assert "acquired_at" not in s.meta and s.meta["laser_wavelength_nm"] > 0


def test_malformed_property_set_only_warns(tmp_path):
    data = _write(tmp_path, single=True).read_bytes()
    start = _blocks(data)["WXDM"] + 24
    with pytest.warns(MetadataWarning, match="property set"):
        s = _parse(data[:start] + b"Z" + data[start + 1:])
    assert "exposure_time_s" not in s.meta and s.shape == (AXIS.size,)


# ---------------------------------------------------------------------------- damaged input
def test_non_finite_data_and_bad_axis_raise(tmp_path):
    data = _write(tmp_path, single=True).read_bytes()
    with pytest.raises(ParseError, match="non-finite") as info:
        _parse(_patch(data, _blocks(data)["DATA"] + 16 + 4 * 5, "<f", np.nan))
    assert "DATA" in info.value.position
    x = _blocks(data)["XLST"] + 24
    with pytest.raises(ParseError, match="monotonic"):
        _parse(_patch(data, x + 4 * 10, "<f", 5000.0))


@pytest.mark.parametrize(("offset", "fmt", "value"), [
    (72, "<Q", 10**12), (64, "<Q", 10**12), (60, "<I", 2**31), (92, "<I", 10**6), (60, "<I", 0),
])
def test_absurd_header_counts_raise(tmp_path, offset, fmt, value):
    data = _write(tmp_path).read_bytes()
    with pytest.raises(ParseError):
        _parse(_patch(data, offset, fmt, value))


def test_unknown_enum_in_header_is_parse_error(tmp_path):
    data = _write(tmp_path, single=True).read_bytes()
    with pytest.raises(ParseError, match="WDF1") as info:
        _parse(_patch(data, 128, "<I", 99))  # scan type
    assert type(info.value) is ParseError


def test_truncated_copies_raise_unless_cut_between_blocks(tmp_path):
    data = _write(tmp_path).read_bytes()
    boundaries = set(_blocks(data).values())
    for cut in sorted({0, 3, 100, 511, 512, 600, *range(700, len(data), 97), len(data) - 1}):
        if cut in boundaries and cut > 0:
            continue
        with pytest.raises(ParseError):
            _parse(data[:cut])
    with pytest.raises(ParseError, match="XLST"):  # a cut between blocks, before the axis
        _parse(data[:_blocks(data)["XLST"]])


def test_random_bytes_raise_parse_error(tmp_path):
    rng = np.random.default_rng(11)
    for n in (10, 600, 5000):
        with pytest.raises(ParseError):
            _parse(b"WDF1" + rng.integers(0, 256, n, dtype=np.uint8).tobytes())
    path = tmp_path / "noise.wdf"
    path.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ParseError):
        specssb.read(path)
