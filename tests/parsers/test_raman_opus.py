"""Bruker OPUS reader: the real FT-Raman file, synthetic files, damaged input."""

from __future__ import annotations

import datetime as dt
import struct

import numpy as np
import pytest

import specssb
from specssb import ParseError
from specssb.parsers._common import make_source
from specssb.parsers.raman_opus import parse_opus

RAMAN_DATA, RAMAN_STATUS, INSTRUMENT, ACQUISITION = 0x280F, 0x281F, 0x20, 0x30


def _params(items: list[tuple[str, object]]) -> bytes:
    out = b""
    for key, value in items:
        if isinstance(value, int):
            out += key.encode() + b"\0" + struct.pack("<hh", 0, 2) + struct.pack("<i", value)
        elif isinstance(value, float):
            out += key.encode() + b"\0" + struct.pack("<hh", 1, 4) + struct.pack("<d", value)
        else:
            text = value.encode() + b"\0"
            text += b"\0" * (-len(text) % 4)
            out += key.encode() + b"\0" + struct.pack("<hh", 2, len(text) // 2) + text
    return out + b"END\0" + b"\0" * 4


def write_opus(y: np.ndarray, *, first: float = 3500.0, last: float = 100.0, csf: float = 2.0,
               instrument: list | None = None, status_extra: list | None = None,
               with_status: bool = True) -> bytes:
    """Bytes of an OPUS file with one Raman block, its status block and parameter blocks."""
    status = [("DPF", 1), ("NPT", int(y.size)), ("FXV", first), ("LXV", last), ("CSF", csf),
              ("DAT", "06/05/2024"), ("TIM", "07:08:09.500 (GMT+1)"), ("DXU", "WN")]
    blocks = [(RAMAN_DATA, y.astype("<f4").tobytes())]
    if with_status:
        blocks.append((RAMAN_STATUS, _params(status + (status_extra or []))))
    blocks.append((INSTRUMENT, _params(instrument if instrument is not None else
                                       [("LWN", 15798.0), ("RLW", 9394.0), ("INS", "MultiRAM")])))
    blocks.append((ACQUISITION, _params([("NSS", 64)])))
    directory_at = 24
    offset = directory_at + 12 * len(blocks)
    directory, body = b"", b""
    for kind, payload in blocks:
        directory += struct.pack("<Iii", kind, len(payload) // 4, offset + len(body))
        body += payload
    header = b"\x0a\x0a\xfe\xfe" + struct.pack("<diii", 920622.0, directory_at, 40, len(blocks))
    return header + directory + body


def _parse(data: bytes):
    return parse_opus(data, source=make_source("synthetic.0", "opus", sha256="0" * 64))


def test_real_ft_raman_file(shared_data):
    [s] = specssb.read(shared_data("raman", "ramanchada2", "test_opus.0"))
    assert s.source.format == "opus" and s.source.block == 5
    assert s.axis.name == "raman_shift" and s.axis.size == 4096
    assert s.axis.values[0] == pytest.approx(4000.6609666878658)
    assert s.axis.values[-1] == pytest.approx(51.892564645935636)
    assert s.data[0] == pytest.approx(0.00231467, rel=1e-5)
    assert s.data.max() == pytest.approx(0.07590587437152863, rel=1e-6)  # the file's MXY
    # RLW 9394.9 cm-1 (Nd:YAG) is the excitation; LWN 15798.93 is the HeNe reference
    assert s.meta["laser_wavelength_nm"] == pytest.approx(1e7 / 9394.900390625)
    assert s.raw_meta["instrument"]["LWN"] == pytest.approx(15798.930769)
    assert s.meta["acquired_at"] == dt.datetime(2023, 7, 4, 16, 59, 10, 608996,
                                                tzinfo=dt.timezone.utc)
    assert s.meta["n_scans"] == 50 and s.meta["instrument"] == "VERTEX 70"


def test_synthetic_scaling_axis_and_laser():
    y = np.array([1.0, 4.0, 9.0, 2.0])
    [s] = _parse(write_opus(y, csf=2.0))
    np.testing.assert_allclose(s.data, 2.0 * y)
    np.testing.assert_allclose(s.axis.values, np.linspace(3500, 100, 4))
    assert s.meta["laser_wavelength_nm"] == pytest.approx(1e7 / 9394.0)
    assert s.meta["n_scans"] == 64
    # no SRT: DAT/TIM read on the UTC clock
    assert s.meta["acquired_at"] == dt.datetime(2024, 5, 6, 7, 8, 9, 500000,
                                                tzinfo=dt.timezone.utc)


def test_lwn_is_used_only_when_it_is_not_the_hene_line():
    [hene_only] = _parse(write_opus(np.ones(3), instrument=[("LWN", 15798.0)]))
    assert "laser_wavelength_nm" not in hene_only.meta
    [excitation] = _parse(write_opus(np.ones(3), instrument=[("LWN", 12738.85)]))
    assert excitation.meta["laser_wavelength_nm"] == pytest.approx(785.0, abs=0.01)


@pytest.mark.parametrize(("damage", "message"), [
    (lambda d: d[:20], "OPUS header needs 24 bytes"),
    (lambda d: b"XXXX" + d[4:], "magic"),
    (lambda d: d[:90], "runs past the end"),
    (lambda d: d[:20] + struct.pack("<i", 99999) + d[24:], "does not fit"),
])
def test_damaged_files(damage, message):
    with pytest.raises(ParseError, match=message):
        _parse(damage(write_opus(np.arange(1.0, 5.0))))


def test_missing_status_wrong_npt_and_no_raman_block():
    with pytest.raises(ParseError, match="no data-status parameter block"):
        _parse(write_opus(np.ones(4), with_status=False))
    with pytest.raises(ParseError, match="NPT=9 does not fit"):
        _parse(write_opus(np.ones(4), status_extra=[]).replace(
            b"NPT\0" + struct.pack("<hhi", 0, 2, 4), b"NPT\0" + struct.pack("<hhi", 0, 2, 9)))
    data = bytearray(write_opus(np.ones(4)))
    struct.pack_into("<I", data, 24, 0x040F)  # an interferogram-like block, not Raman
    with pytest.raises(ParseError, match="no Raman data block"):
        _parse(bytes(data))
