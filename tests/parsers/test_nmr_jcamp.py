"""JCAMP-DX NMR reader: files generated here (AFFN, SQZ, DIF/DUP, NTUPLES), checked against
the generating vectors and nmrglue's JCAMP-DX reader; damaged input."""

from __future__ import annotations

import warnings
from pathlib import Path

import nmrglue as ng
import numpy as np
import pytest

import specssb
from specssb import ParseError
from specssb.parsers import sniff
from specssb.parsers.nmr_jcamp import decode_asdf, parse_jcamp, sniff_jcamp
from specssb.spectrum import Source

SOURCE = Source("memory", "0" * 64, "jcamp-nmr")
SF = 155.4512  # 7Li at 9.4 T, MHz


# ------------------------------------------------------------------------ encoder (test-only)
def _digits(value: int, positive: str, negative: str, zero_based_negative: bool) -> str:
    text = str(abs(value))
    if value >= 0:
        return positive[int(text[0])] + text[1:]
    return negative[int(text[0]) - (1 if zero_based_negative else 0)] + text[1:]


def sqz(value: int) -> str:
    return _digits(value, "@ABCDEFGHI", "abcdefghi", True)


def dif(value: int) -> str:
    return _digits(value, "%JKLMNOPQR", "jklmnopqr", True)


def dup(count: int) -> str:
    text = str(count)
    return "STUVWXYZs"[int(text[0]) - 1] + text[1:]


def encode_difdup(y: np.ndarray, per_line: int = 10) -> list[str]:
    """(X++(Y..Y)) lines in DIF/DUP form with Y checks; the abscissa is the point index."""
    y = [int(v) for v in y]
    lines, start = [], 0
    while start < len(y) - 1:
        stop = min(start + per_line, len(y) - 1)
        tokens = [sqz(y[start])]
        diffs = np.diff(y[start:stop + 1]).tolist()
        i = 0
        while i < len(diffs):
            run = 1
            while i + run < len(diffs) and diffs[i + run] == diffs[i]:
                run += 1
            tokens.append(dif(diffs[i]) + (dup(run) if run > 1 else ""))
            i += run
        lines.append(f"{start}" + "".join(tokens))
        start = stop
    lines.append(f"{len(y) - 1} {sqz(y[-1])}")  # the closing Y-check line
    return lines


def _spectrum_y(n: int = 64) -> np.ndarray:
    ppm = np.linspace(300, -50, n)
    lorentz = lambda c, w: 1 / (1 + ((ppm - c) / w) ** 2)  # noqa: E731
    return np.round(50000 * lorentz(0.0, 3) + 20000 * lorentz(255.0, 8) - 40).astype(int)


def _jcamp(lines: list[str], y_count: int, *, first_hz: float, last_hz: float,
           yfactor: float = 0.5, extra: str = "") -> str:
    return "\n".join([
        "##TITLE= 7Li Li metal test", "##JCAMP-DX= 5.01", "##DATA TYPE= NMR SPECTRUM",
        "##DATA CLASS= XYDATA", "##ORIGIN= specssb tests", "##OWNER= tester",
        f"##.OBSERVE FREQUENCY= {SF}", "##.OBSERVE NUCLEUS= ^7Li", "##$SW_h= 54409.9",
        "##$TD= 2048", "##$NS= 16", "##$MASR= 20000", "##XUNITS= HZ", "##YUNITS= ARBITRARY UNITS",
        "##XFACTOR= 1.0", f"##YFACTOR= {yfactor}", f"##FIRSTX= {first_hz}",
        f"##LASTX= {last_hz}", f"##NPOINTS= {y_count}", extra,
        "##XYDATA= (X++(Y..Y))", *lines, "##END=", ""])


def _affn(y: np.ndarray, per_line: int = 8) -> list[str]:
    return [f"{i} " + " ".join(str(v) for v in y[i:i + per_line])
            for i in range(0, len(y), per_line)]


# ------------------------------------------------------------------------ tests
@pytest.mark.parametrize("form", ["affn", "difdup"])
def test_generated_spectrum_reads_back(tmp_path, form):
    y = _spectrum_y()
    lines = _affn(y) if form == "affn" else encode_difdup(y)
    first, last = 300 * SF, -50 * SF
    path = tmp_path / f"li_{form}.jdx"
    path.write_text(_jcamp(lines, y.size, first_hz=first, last_hz=last))
    spectrum, = specssb.read(path)
    assert spectrum.source.format == "jcamp-nmr" and sniff(path).name == "jcamp-nmr"
    np.testing.assert_array_equal(spectrum.data, y * 0.5)
    assert spectrum.axis.name == "chemical_shift" and spectrum.axis.unit == "ppm"
    np.testing.assert_allclose(spectrum.axis.values, np.linspace(300, -50, y.size), atol=1e-9)
    # the Li-metal line (Knight shift ~255 ppm) and the diamagnetic line at 0 ppm
    ppm = spectrum.axis.values
    assert abs(ppm[np.argmax(spectrum.data)]) < 6
    metal = spectrum.data[(ppm > 230) & (ppm < 280)]
    assert metal.max() > 0.3 * spectrum.data.max()
    assert spectrum.meta["nucleus"] == "7Li" and spectrum.meta["sfo1_mhz"] == SF
    assert spectrum.meta["spectral_width_hz"] == 54409.9 and spectrum.meta["n_points"] == 1024
    assert spectrum.meta["n_scans"] == 16 and spectrum.meta["mas_rate_hz"] == 20000
    assert spectrum.meta["operator"] == "tester"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, nmrglue_y = ng.jcampdx.read(str(path))
    np.testing.assert_allclose(np.ravel(nmrglue_y), y * 0.5)  # an independent decoder agrees


def test_asdf_tokens_sqz_dif_dup_and_negative_values():
    # SQZ with DUP of a value (U = 3 in all), negative SQZ, DIF runs, a two-digit DUP (S2 = 12)
    x, y = decode_asdf([(1, "0A0Ub5"), (2, "4 b5j0JS2"), (3, "17 b3%S2")])
    assert x.tolist() == [0, 4, 17]
    assert y[:4].tolist() == [10, 10, 10, -25]
    assert y[4:7].tolist() == [-25, -35, -34]  # j0 = -10, J = +1
    assert y[7:18].tolist() == list(range(-33, -22))  # the +1 counted 12 times in all
    assert y[18:].tolist() == [-23] * 12 and y.size == 30  # Y check -23 dropped, then % x 12
    with pytest.raises(ParseError, match="unexpected character '!'"):
        decode_asdf([(7, "0 A1!")])
    with pytest.raises(ParseError, match="DIF value with no ordinate") as info:
        decode_asdf([(9, "0 J1")])
    assert info.value.position == "line 9"


def test_y_check_mismatch_and_point_count_are_parse_errors(tmp_path):
    y = _spectrum_y()
    lines = encode_difdup(y)
    broken = lines[:3] + lines[4:]  # a data line lost
    text = _jcamp(broken, y.size, first_hz=1.0, last_hz=0.0)
    with pytest.raises(ParseError, match="Y-check value") as info:
        parse_jcamp(text, source=SOURCE)
    assert info.value.position.startswith("line ")
    with pytest.raises(ParseError, match="ordinates read; ##NPOINTS=65"):
        parse_jcamp(_jcamp(_affn(y), y.size + 1, first_hz=1.0, last_hz=0.0), source=SOURCE)
    with pytest.raises(ParseError, match="no ##END="):
        parse_jcamp(_jcamp(_affn(y), y.size, first_hz=1.0, last_hz=0.0).replace("##END=", ""),
                    source=SOURCE)
    with pytest.raises(ParseError, match="missing ##FIRSTX"):
        parse_jcamp(_jcamp(_affn(y), y.size, first_hz=1.0, last_hz=0.0).replace("##FIRSTX=",
                                                                               "##XFIRST="),
                    source=SOURCE)
    with pytest.raises(ParseError, match="not an NMR"):
        parse_jcamp(_jcamp(_affn(y), y.size, first_hz=1, last_hz=0).replace("NMR SPECTRUM",
                                                                           "INFRARED SPECTRUM"),
                    source=SOURCE)


def test_ntuples_complex_fid():
    rng = np.random.default_rng(3)
    real, imag = rng.integers(-5000, 5000, 40), rng.integers(-5000, 5000, 40)
    text = "\n".join([
        "##TITLE= fid", "##JCAMP-DX= 5.01", "##DATA TYPE= NMR FID", "##DATA CLASS= NTUPLES",
        "##.OBSERVE FREQUENCY= 116.6", "##.OBSERVE NUCLEUS= ^7Li", "##NTUPLES= NMR FID",
        "##VAR_NAME= TIME, FID/REAL, FID/IMAG, PAGE NUMBER", "##SYMBOL= X, R, I, N",
        "##VAR_FORM= AFFN, ASDF, ASDF, AFFN", "##VAR_DIM= 40, 40, 40, 2",
        "##UNITS= SECONDS, ARBITRARY UNITS, ARBITRARY UNITS,",
        "##FIRST= 0, 0, 0, 1", "##LAST= 0.00039, 0, 0, 2", "##FACTOR= 1e-5, 2, 2, 1",
        "##PAGE= N=1", "##DATA TABLE= (X++(R..R)), XYDATA", *encode_difdup(real),
        "##PAGE= N=2", "##DATA TABLE= (X++(I..I)), XYDATA", *_affn(imag),
        "##END NTUPLES= NMR FID", "##END=", ""])
    fid, = parse_jcamp(text, source=SOURCE)
    np.testing.assert_array_equal(fid.data, 2 * real + 2j * imag)
    assert fid.axis.name == "time" and fid.signal == "fid"
    assert fid.axis.values[1] == pytest.approx(1e-5)
    assert fid.meta["spectral_width_hz"] == pytest.approx(1e5) and fid.meta["n_points"] == 40
    with pytest.raises(ParseError, match="40 values read for column R; VAR_DIM=39"):
        parse_jcamp(text.replace("##VAR_DIM= 40, 40", "##VAR_DIM= 40, 39"), source=SOURCE)


def test_sniffer_takes_nmr_jcamp_only(tmp_path):
    assert sniff_jcamp(Path("x.jdx"), b"##TITLE= a\n##JCAMP-DX= 5.01\n##DATA TYPE= NMR SPECTRUM\n")
    assert not sniff_jcamp(Path("acqus"), b"##TITLE= Parameter file\n##JCAMPDX= 5.0\n"
                                          b"##DATATYPE= Parameter Values\n")
    assert not sniff_jcamp(Path("ir.jdx"), b"##TITLE= ir\n##DATA TYPE= INFRARED SPECTRUM\n")


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.9, 0.98])
def test_truncated_or_random_files_raise_parse_error(tmp_path, fraction):
    """What the contract test does for formats with samples (jcamp-nmr has none there)."""
    y = _spectrum_y()
    text = _jcamp(encode_difdup(y), y.size, first_hz=300 * SF, last_hz=-50 * SF)
    path = tmp_path / "cut.jdx"
    path.write_text(text[: int(len(text) * fraction)])
    with pytest.raises(ParseError):
        specssb.read(path, format="jcamp-nmr")
    rng = np.random.default_rng(int(fraction * 100))
    path.write_bytes(rng.integers(0, 256, len(text), dtype=np.uint8).tobytes())
    with pytest.raises(ParseError):
        specssb.read(path, format="jcamp-nmr")
