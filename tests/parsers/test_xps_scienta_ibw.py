"""Scienta SES Igor binary wave reader: the two real Ag waves against their ``.txt`` twins,
synthetic version 2 and 5 waves in both byte orders (written field by field from the PTN003
structures, independently of the reader's offsets), 2-D waves, and damaged inputs."""

from __future__ import annotations

import struct

import numpy as np
import pytest

import specssb
from specssb.errors import ParseError
from specssb.parsers import sniff
from specssb.parsers.xps_scienta_ibw import parse_scienta_ibw
from specssb.spectrum import Source

SOURCE = Source(path="synthetic.ibw", sha256="0" * 64, format="scienta-ibw")

NOTE = "\r".join([
    "[SES]", "Version=1.2.5", "Region Name=Ti2p", "Lens Mode=Transmission", "Pass Energy=20",
    "Number of Sweeps=4", "Excitation Energy=1486.6", "Energy Scale=Kinetic",
    "Acquisition Mode=Swept", "Step Time=100", "Sample=LLTO", "Date=2026-02-03",
    "Time=08:00:00", "[Run Mode Information]", "Name=Normal", "",
])


# ------------------------------------------------------------------------------ real files
@pytest.mark.parametrize("pair", [("Ag_0001.txt", "Ag_0001Ag__001.ibw"),
                                  ("Ag_0002.txt", "Ag_0002Ag__002.ibw")])
def test_ibw_and_txt_exports_of_one_region_agree(pair, shared_data):
    txt, ibw = (shared_data("xps", "pynxtools-xps", name) for name in pair)
    assert sniff(ibw).name == "scienta-ibw"
    [a] = specssb.read(txt)
    [b] = specssb.read(ibw)
    # Axis: the .ibw stores start + step (sfA = -0.05000000000001137 eV), the .txt decimal
    # values; they agree to 1e-9 eV (found: 4e-12 eV). Counts: the .ibw holds float64, the
    # .txt prints them with 15 significant digits; they agree to 1e-12 relative.
    np.testing.assert_allclose(b.axis.values, a.axis.values, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b.data, a.data, rtol=1e-12, atol=0)
    assert b.axis.name == a.axis.name == "binding_energy"
    assert dict(b.meta) == dict(a.meta)
    assert b.raw_meta["Lens Mode"] == a.raw_meta["Lens Mode"] == "Transmission"
    igor = b.raw_meta["igor"]
    assert (igor["version"], igor["type"], igor["byte order"]) == (5, "float64", "little")
    assert igor["data units"] == "Counts [a.u.]"
    assert igor["dimension units"] == ["Binding Energy [eV]"]
    assert b.source.block == b.raw_meta["Spectrum Name"]  # wave name = SES spectrum name


def test_real_ag3d_wave_values_read_off_the_file(shared_data):
    [s] = specssb.read(shared_data("xps", "pynxtools-xps", "Ag_0001Ag__001.ibw"))
    assert s.shape == (361,) and s.meta["excitation_energy_ev"] == 520.0
    assert s.axis.values[0] == 382.0 and s.axis.values[-1] == pytest.approx(364.0, abs=1e-9)
    # first double at byte 384: 0x402F7FBD20000000
    assert s.data[0] == struct.unpack("<d", bytes.fromhex("00000020bd7f2f40"))[0]


@pytest.mark.parametrize("where", [2, 100, 200])
def test_corrupt_header_fails_the_checksum(where, shared_data, tmp_path):
    data = bytearray(shared_data("xps", "pynxtools-xps", "Ag_0001Ag__001.ibw").read_bytes())
    data[where] ^= 0x10
    with pytest.raises(ParseError, match="checksum mismatch"):
        parse_scienta_ibw(bytes(data), source=SOURCE)


def test_truncated_real_wave_is_refused(shared_data):
    data = shared_data("xps", "pynxtools-xps", "Ag_0001Ag__001.ibw").read_bytes()
    for size in (1, 300, 2000, len(data) - 1):
        with pytest.raises(ParseError, match="truncated"):
            parse_scienta_ibw(data[:size], source=SOURCE)


# ------------------------------------------------------------------------------ synthetic
def _checksum_field(header: bytes, order: str) -> int:
    total = sum(struct.unpack(f"{order}{len(header) // 2}h", header)) & 0xFFFF
    return struct.unpack(f"{order}h", struct.pack(f"{order}H", (-total) & 0xFFFF))[0]


def _v5(values: np.ndarray, *, order="<", type_code=4, dims=None, sf_a=(1.0,) * 4,
        sf_b=(0.0,) * 4, units=("", "", "", ""), ext_units=("", "", "", ""),
        note=NOTE, data_units="Counts", npnts=None) -> bytes:
    """An Igor version 5 wave, packed field by field (TN003 BinHeader5 and WaveHeader5)."""
    dtype = {2: "f4", 4: "f8", 0x10: "i2", 0x20: "i4", 0x60: "u4"}[type_code]
    dims = tuple(dims or values.shape[::-1])  # Igor dims: dimension 0 fastest
    raw = np.asarray(values).astype(order + dtype).tobytes()  # C order of (.., n1, n0)
    n_dim = list(dims) + [0] * (4 - len(dims))
    wave = struct.pack(
        f"{order}i I I i h h 6s h 32s i i 4i 4d 4d 4s 16s h h d d i 4i 4i i 64s"
        "h h h b b i i h h i i",
        0, 0, 0, npnts or int(np.prod(dims)), type_code, 0, b"", 1, b"Ti2p_wave", 0, 0, *n_dim,
        *sf_a, *sf_b, b"cts", b"".join(u.encode()[:3].ljust(4, b"\0") for u in units),
        0, 0, 0.0, 0.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b"", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    assert len(wave) == 320
    note_b, data_eu = note.encode("latin-1"), data_units.encode()
    ext = [u.encode() for u in ext_units]
    sizes = [len(wave) + len(raw), 0, len(note_b), len(data_eu), *map(len, ext), 0, 0, 0, 0,
             0, 0, 0]
    header = struct.pack(f"{order}hh15i", 5, 0, *sizes)
    check = _checksum_field(header + wave, order)
    header = struct.pack(f"{order}hh15i", 5, check, *sizes)
    return header + wave + raw + note_b + data_eu + b"".join(ext)


def _v2(values: np.ndarray, *, order="<", hs_a=0.1, hs_b=100.0, x_units="eV",
        note=NOTE) -> bytes:
    """An Igor version 2 wave, packed field by field (TN003 BinHeader2 and WaveHeader2)."""
    raw = np.asarray(values).astype(order + "f4").tobytes()
    wave = struct.pack(
        f"{order}hi20shhi4s4sihddhhhddbbiiI2sIi",
        2, 0, b"Ti2p_v2", 0, 0, 0, b"cts", x_units.encode(), values.size, 0, hs_a, hs_b,
        0, 0, 0, 0.0, 0.0, 0, 0, 0, 0, 3_800_000_000, b"", 3_800_000_100, 0)
    assert len(wave) == 110
    body = raw + b"\0" * 16  # 16 bytes of padding after the data (wfmSize counts them)
    note_b = note.encode("latin-1")
    sizes = (len(wave) + len(body), len(note_b), 0)
    header = struct.pack(f"{order}h3ih", 2, *sizes, 0)
    check = _checksum_field(header + wave + body[:16], order)
    header = struct.pack(f"{order}h3ih", 2, *sizes, check)
    return header + wave + body + note_b


COUNTS = 500.0 + 40.0 * np.exp(-((np.arange(41) - 20.0) / 4.0) ** 2)


@pytest.mark.parametrize("order", ["<", ">"])
@pytest.mark.parametrize("type_code", [2, 4, 0x20, 0x60])
def test_version5_one_dimensional_in_both_byte_orders_and_types(order, type_code):
    data = _v5(np.round(COUNTS), order=order, type_code=type_code, sf_a=(0.1, 1, 1, 1),
               sf_b=(1020.0, 0, 0, 0), ext_units=("Kinetic Energy [eV]", "", "", ""))
    [s] = parse_scienta_ibw(data, source=SOURCE)
    assert s.axis.name == "binding_energy"
    np.testing.assert_allclose(s.axis.values, 1486.6 - (1020.0 + 0.1 * np.arange(41)), atol=1e-9)
    np.testing.assert_array_equal(s.data, np.round(COUNTS))
    assert s.history[0].operation == "kinetic_to_binding_energy"
    assert (s.meta["region"], s.meta["element"], s.meta["n_scans"]) == ("Ti 2p", "Ti", 4)
    assert s.raw_meta["Run Mode Information"] == ["Name=Normal"]
    assert s.raw_meta["igor"]["byte order"] == ("little" if order == "<" else "big")


@pytest.mark.parametrize("order", ["<", ">"])
def test_version2_wave_uses_hs_scaling_and_the_note(order):
    [s] = parse_scienta_ibw(_v2(COUNTS, order=order), source=SOURCE, energy="kinetic")
    assert s.axis.name == "kinetic_energy"  # Energy Scale=Kinetic in the note
    np.testing.assert_allclose(s.axis.values, 100.0 + 0.1 * np.arange(41), atol=1e-12)
    np.testing.assert_allclose(s.data, COUNTS, rtol=1e-7)  # float32 wave
    igor = s.raw_meta["igor"]
    assert (igor["version"], igor["type"], igor["wave name"]) == (2, "float32", "Ti2p_v2")
    assert igor["creation date (local)"] == "2024-05-31T11:33:20"  # 3.8e9 s after 1904-01-01


def test_two_dimensional_wave_puts_the_angle_first():
    energies, angles = 5, 3
    image = np.arange(energies * angles, dtype=float).reshape(angles, energies)  # (n1, n0)
    data = _v5(image, sf_a=(0.5, 2.0, 1, 1), sf_b=(100.0, -2.0, 0, 0),
               ext_units=("Kinetic Energy [eV]", "Y-Scale [deg]", "", ""))
    [s] = parse_scienta_ibw(data, source=SOURCE, energy="kinetic")
    assert s.shape == (3, 5) and s.dims == ("angle",)
    np.testing.assert_array_equal(s.coords["angle"].values, [-2.0, 0.0, 2.0])
    np.testing.assert_array_equal(s.axis.values, 100.0 + 0.5 * np.arange(5))
    np.testing.assert_array_equal(s.data[1], image[1])  # point (e, a) at e + a * n0


def test_sniffer_needs_a_valid_checksum(tmp_path):
    good = tmp_path / "good.ibw"
    good.write_bytes(_v5(COUNTS, ext_units=("Binding Energy [eV]", "", "", "")))
    bad = tmp_path / "bad.ibw"
    damaged = bytearray(good.read_bytes())
    damaged[150] ^= 1
    bad.write_bytes(bytes(damaged))
    info = specssb.parsers.get_format("scienta-ibw")
    assert info.matches_content(good, good.read_bytes()[:4096])
    assert not info.matches_content(bad, bad.read_bytes()[:4096])


# ------------------------------------------------------------------------------ bad input
def _bad(data: bytes, match: str) -> None:
    with pytest.raises(ParseError, match=match) as info:
        parse_scienta_ibw(data, source=SOURCE)
    assert info.value.path == "synthetic.ibw"


def test_unknown_version_text_and_complex_waves_are_refused():
    _bad(struct.pack("<h", 3) + b"\0" * 500, r"byte 0: not a supported Igor binary wave: "
         r"version field 3")
    _bad(b"", r"empty")
    for code, reason in ((0, "text waves"), (5, "complex waves"), (0x03, "complex")):
        data = bytearray(_v5(COUNTS, ext_units=("Binding Energy [eV]", "", "", "")))
        struct.pack_into("<h", data, 64 + 16, code)
        struct.pack_into("<h", data, 2, 0)
        struct.pack_into("<h", data, 2, _checksum_field(bytes(data[:384]), "<"))
        _bad(bytes(data), reason)


def test_non_energy_axis_and_inconsistent_sizes_are_refused():
    _bad(_v5(COUNTS, units=("s", "", "", ""), note="[SES]\rRegion Name=x\r"),
         r"dimension 0 is not an energy axis")
    _bad(_v5(COUNTS, npnts=40, ext_units=("Binding Energy [eV]", "", "", "")),
         r"does not multiply to npnts")
    _bad(_v5(COUNTS, npnts=42, dims=(42,), ext_units=("Binding Energy [eV]", "", "", "")),
         r"wfmSize \d+ is too small for 42 points")


def test_damaged_or_truncated_version2_wave_is_refused():
    data = _v2(COUNTS)
    damaged = bytearray(data)
    damaged[130] ^= 4  # inside the first 16 data bytes, which the version 2 checksum covers
    _bad(bytes(damaged), "checksum mismatch")
    _bad(data[:100], "truncated")
    _bad(data[:-5], "truncated")


def test_nan_counts_and_zero_step_are_refused():
    counts = COUNTS.copy()
    counts[4] = np.nan
    _bad(_v5(counts, ext_units=("Binding Energy [eV]", "", "", "")), r"non-finite")
    _bad(_v5(COUNTS, sf_a=(0.0, 1, 1, 1), ext_units=("Binding Energy [eV]", "", "", "")),
         r"not strictly monotonic")
