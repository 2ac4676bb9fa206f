"""JCAMP-DX Raman reader: the real Ocean Optics file, synthetic AFFN/ASDF files, sniffing
against NMR JCAMP, damaged input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import specssb
from specssb import ParseError
from specssb.parsers import get_format
from specssb.parsers._common import make_source
from specssb.parsers.raman_jcamp import parse_raman_jcamp

HEAD = """##TITLE=LPSCl reference
##JCAMP-DX=4.24
##DATA TYPE=RAMAN SPECTRUM
##$LASER WAVELENGTH=532.0
##XUNITS=1/CM
##YUNITS=COUNTS
##FIRSTX=100
##LASTX=140
##XFACTOR=1.0
##YFACTOR=0.5
##NPOINTS=5
"""


def _parse(text: str, **options):
    return parse_raman_jcamp(text, source=make_source("s.jdx", "jcamp-raman", sha256="0" * 64),
                             **options)


def test_real_tannic_acid(shared_data):
    path = shared_data("raman", "jcamp", "tannic_acid.jdx")
    [s] = specssb.read(path)
    assert s.source.format == "jcamp-raman"
    assert s.axis.name == "raman_shift" and s.axis.size == 1949
    assert s.axis.values[[0, 1, -1]].tolist() == [100.595, 102.805, 2854.713]
    assert s.data[[0, 1, -1]].tolist() == [42.644, 44.511, 4.667]
    assert s.data.max() == pytest.approx(300.889)  # ##MAXY
    assert s.meta["instrument"] == "Ocean Optics R2000"
    assert s.meta["acquired_at"] == dt.datetime(2000, 10, 4, 14, 47, tzinfo=dt.timezone.utc)


def test_sniffing_separates_raman_from_nmr_jcamp(tmp_path):
    raman, nmr = get_format("jcamp-raman"), get_format("jcamp-nmr")
    raman_head = (HEAD + "##XYDATA=(X++(Y..Y))\n100 1 2 3 4 5\n##END=\n").encode()
    nmr_head = raman_head.replace(b"RAMAN SPECTRUM", b"NMR SPECTRUM")
    ir_head = raman_head.replace(b"RAMAN SPECTRUM", b"INFRARED SPECTRUM")
    path = tmp_path / "x.jdx"
    assert raman.matches_content(path, raman_head) and not nmr.matches_content(path, raman_head)
    assert nmr.matches_content(path, nmr_head) and not raman.matches_content(path, nmr_head)
    assert not raman.matches_content(path, ir_head)
    path.write_bytes(raman_head)
    assert specssb.parsers.sniff(path).name == "jcamp-raman"


def test_affn_and_asdf_y_tables():
    [affn] = _parse(HEAD + "##XYDATA=(X++(Y..Y))\n100 10 12 14\n130 16 18\n##END=\n")
    np.testing.assert_allclose(affn.axis.values, [100, 110, 120, 130, 140])
    np.testing.assert_allclose(affn.data, [5, 6, 7, 8, 9])
    assert affn.signal == "counts" and affn.meta["laser_wavelength_nm"] == 532.0
    # ASDF: 10, DIF +2 (K) repeated (DUP T=2), then Y check 14 and +2 twice
    [asdf] = _parse(HEAD + "##XYDATA=(X++(Y..Y))\n100 A0KT\n120 A4KT\n##END=\n")
    np.testing.assert_allclose(asdf.data, affn.data)


def test_xy_pairs_and_nanometre_axis():
    text = HEAD.replace("1/CM", "NANOMETERS") + \
        "##XYPOINTS=(XY..XY)\n540.0, 2; 541.0, 4\n542.0, 6; 543.0, 8; 544.0, 10\n##END=\n"
    [s] = _parse(text, timezone="Europe/Paris")
    assert s.axis.name == "wavelength" and s.axis.values.tolist() == [540, 541, 542, 543, 544]
    np.testing.assert_allclose(s.data, [1, 2, 3, 4, 5])


@pytest.mark.parametrize(("text", "message"), [
    (HEAD + "##XYDATA=(XY..XY)\n100, 1\n110, 2\n##END=\n", "2 ordinates read; ##NPOINTS=5"),
    (HEAD + "##XYDATA=(XY..XY)\n100, 1\n110, 2\n120\n##END=\n", "odd number"),
    (HEAD + "##XYDATA=(XY..XY)\n100, 1\n", "no ##END"),
    (HEAD.replace("RAMAN", "NMR") + "##XYDATA=(XY..XY)\n##END=\n", "not a Raman JCAMP-DX"),
    (HEAD.replace("1/CM", "SECONDS") + "##XYDATA=(X++(Y..Y))\n100 1 2 3 4 5\n##END=\n",
     "unsupported XUNITS"),
    (HEAD + "##XYDATA=(XY..XY)\n100, 1; 110, 2; 105, 3; 130, 4; 140, 5\n##END=\n",
     "not strictly monotonic"),
    (HEAD + "##XYDATA=(X++(Y..Y))\n100 1 2 3 4 5 #\n##END=\n", "unexpected character"),
])
def test_bad_input(text, message):
    with pytest.raises(ParseError, match=message):
        _parse(text)
