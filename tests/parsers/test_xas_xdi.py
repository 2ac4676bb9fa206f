"""XDI reader: the XDI test suite (data/ and baddata/), Larch as the oracle, options, robustness."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import specssb
from specssb import ConfigError, ParseError
from specssb.errors import MetadataWarning
from specssb.parsers.xas_xdi import HC_EV_ANGSTROM, parse_xdi, read_xdi
from specssb.spectrum import Source

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sample_data"))
from writers.xdi import write_xdi  # noqa: E402

SOURCE = Source("test.xdi", "0" * 64, "xdi")
DATA_FILES = [
    "cu_metal_10K.xdi", "cu_metal_rt.xdi", "fe2o3_rt.xdi", "fe3c_rt.xdi", "fe_metal_rt.xdi",
    "fen_rt.xdi", "feo_rt1.xdi", "ni_metal_rt.xdi", "nonxafs_1d.xdi", "nonxafs_2d.xdi",
    "nonxafs_negvalues.xdi", "se_na2so4_rt.xdi",
]  # fmt: skip
#: Files of xdi/data that warn: no Element.* fields, and an abscissa that is not an energy.
WARNS = {"nonxafs_1d.xdi", "nonxafs_2d.xdi", "nonxafs_negvalues.xdi"}

#: Expected outcome for every file of xdi/baddata, from BadFiles.txt ("error msg" -> "error",
#: "file read(1..3,7)" -> "warn", "file read(4..6)" and the valid bad_00 -> "ok"), except
#: where marked (!): the XDI 1.0 specification says malformed fields "must be ignored", so they
#: are read with a MetadataWarning (the XDI C library refuses them), and an angle without
#: Mono.d_spacing cannot become an energy axis in eV, so it is a ParseError.
BAD = {
    "bad_00.xdi": "ok",     # valid
    "bad_01.xdi": "error",  # no XDI line at top
    "bad_02.xdi": "warn",   # no Element.edge
    "bad_03.xdi": "warn",   # no Element.symbol
    "bad_04.xdi": "warn",   # invalid Element.edge
    "bad_05.xdi": "warn",   # invalid Element.symbol
    "bad_06.xdi": "warn",   # no '# ----'
    "bad_07.xdi": "warn",   # no Column.N labels (named from the label line)
    "bad_08.xdi": "warn",   # too few Column.N labels
    "bad_09.xdi": "warn",   # too many Column.N labels
    "bad_10.xdi": "warn",   # Column.N indices not continuous
    "bad_11.xdi": "warn",   # unsupported comment character '!'
    "bad_12.xdi": "error",  # (!) angle without Mono.d_spacing: no energy axis
    "bad_13.xdi": "error",  # too few values in a row
    "bad_14.xdi": "error",  # too many values in a row
    "bad_15.xdi": "error",  # nan in the data
    "bad_16.xdi": "error",  # a word in the data
    "bad_17.xdi": "error",  # '1.4.9' in the data
    "bad_18.xdi": "warn",   # (!) field without value (valid XDI: an empty string)
    "bad_19.xdi": "warn",   # (!) field without ':'
    "bad_20.xdi": "warn",   # (!) field with two ':'
    "bad_21.xdi": "warn",   # (!) field without '.'
    "bad_22.xdi": "warn",   # (!) field with two '.'
    "bad_23.xdi": "ok",     # tag starting with a number (allowed)
    "bad_24.xdi": "warn",   # (!) namespace starting with a number
    "bad_25.xdi": "ok",     # no application version
    "bad_26.xdi": "ok",     # no user comment, no '///'
    "bad_27.xdi": "ok",     # '#//////' without comment; date with a space for 'T'
    "bad_28.xdi": "warn",   # malformed date
    "bad_29.xdi": "warn",   # month 26
    "bad_30.xdi": "warn",   # invalid Element.edge and Element.symbol
    "bad_31.xdi": "warn",   # invalid Mono.d_spacing (unused: the abscissa is energy)
    "bad_32.xdi": "warn",   # 'Energie eV', recommended fields missing
    "bad_33.xdi": "warn",   # invalid Sample.temperature
    "bad_34.xdi": "warn",   # invalid Facility.energy
    "bad_35.xdi": "warn",   # invalid Facility.current
}  # fmt: skip
#: Where the ParseError must point.
BAD_POSITIONS = {
    "bad_01.xdi": "line 1",
    "bad_12.xdi": "line 2",
    "bad_13.xdi": "line 31",
    "bad_14.xdi": "line 36",
    "bad_15.xdi": "line 29",
    "bad_16.xdi": "line 30",
    "bad_17.xdi": "line 29",
}


def _read(path: Path, **options):
    if path.name in WARNS:
        with pytest.warns(MetadataWarning):
            return read_xdi(path, **options)
    return read_xdi(path, **options)


@contextlib.contextmanager
def _warns(pattern: str):
    """Expect MetadataWarnings, one of which matches ``pattern`` (a file may warn of several)."""
    with pytest.warns(MetadataWarning) as record:
        yield
    assert any(re.search(pattern, str(w.message)) for w in record), [str(w.message) for w in record]


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetadataWarning)
        return function(*args, **kwargs)


def test_registered_and_sniffed(shared_data):
    info = specssb.parsers.get_format("xdi")
    assert (info.technique, info.extensions) == ("xas", (".xdi",))
    path = shared_data("xas", "xdi", "data", "cu_metal_rt.xdi")
    assert specssb.parsers.sniff(path).name == "xdi"
    assert specssb.read(path)[0].meta["element"] == "Cu"


@pytest.mark.parametrize("name", DATA_FILES)
def test_every_data_file_matches_larch(shared_data, name):
    """Every column equals what Larch's XDI reader (the XDI C library) gives for the file."""
    larch_io = pytest.importorskip("larch.io")
    path = shared_data("xas", "xdi", "data", name)
    spectra = _read(path)
    group = _quiet(larch_io.read_xdi, str(path), use_pyxdi=False)
    columns = spectra[0].raw_meta["columns"]
    assert list(columns) == group.array_labels
    for label in group.array_labels:
        np.testing.assert_array_equal(columns[label], getattr(group, label))
    if hasattr(group, "mutrans") and spectra[0].signal == "mu":  # Larch's -ln(itrans/(i0+1e-12))
        np.testing.assert_allclose(spectra[0].data, group.mutrans, rtol=1e-12, atol=1e-15)
    for spectrum in spectra:
        assert spectrum.technique == "xas" and spectrum.raw_meta["fields"]


def test_cu_foil_values_and_metadata(shared_data):
    [s] = read_xdi(shared_data("xas", "xdi", "data", "cu_metal_rt.xdi"))
    assert (s.axis.name, s.axis.unit, s.axis.size) == ("energy", "eV", 408)
    assert s.axis.values[0] == 8779.0 and s.axis.values[-1] == 10145.86
    assert s.data[0] == -1.3070486 and s.data[-1] == 0.24890911  # the mutrans column
    assert s.meta["mu_expression"] == "mutrans" and s.meta["mode"] == "transmission"
    assert (s.meta["element"], s.meta["edge"], s.meta["e0_ev"]) == ("Cu", "K", 8980.0)
    assert (s.meta["monochromator"], s.meta["sample"], s.meta["instrument"]) == (
        "Si 111",
        "Cu",
        "APS 13ID",
    )
    assert s.meta["acquired_at"] == dt.datetime(2001, 6, 26, 22, 27, 31, tzinfo=dt.UTC)
    assert s.raw_meta["start_time_timezone"] == {"zone": "UTC", "assumed": True}
    assert s.raw_meta["comments"] == ["Cu foil Room Temperature", "measured at beamline 13-ID"]
    assert s.raw_meta["fields"]["GSE.EXTRA"] == "config 1"
    assert s.raw_meta["applications"] == "GSE/1.0" and s.raw_meta["version"] == "1.0"
    assert s.raw_meta["columns"]["i0"][0] == 149013.7
    assert s.source.format == "xdi" and len(s.source.sha256) == 64


def test_temperature_and_fortran_style_numbers(shared_data):
    [s] = read_xdi(shared_data("xas", "xdi", "data", "cu_metal_10K.xdi"))
    assert s.meta["temperature_k"] == 10.0
    assert s.axis.values[0] == 8786.204 and s.axis.values[-1] == 11362.47  # '.8786204E+04'
    assert s.data[0] == 1.013661


def test_mu_from_intensities(shared_data):
    [s] = read_xdi(shared_data("xas", "xdi", "data", "se_na2so4_rt.xdi"))
    assert s.meta["mu_expression"] == "ln(i0/itrans)" and s.meta["mode"] == "transmission"
    assert s.data[0] == pytest.approx(np.log(121961.4 / 559275.4), rel=1e-14)
    assert s.axis.values[-1] == 13404.76


def test_timezone_option(shared_data):
    path = shared_data("xas", "xdi", "data", "cu_metal_rt.xdi")
    [s] = read_xdi(path, timezone="America/Chicago")  # APS: CDT, UTC-5, in June
    assert s.meta["acquired_at"] == dt.datetime(2001, 6, 27, 3, 27, 31, tzinfo=dt.UTC)
    with pytest.raises(ConfigError, match="time zone"):
        read_xdi(path, timezone="Mars/Olympus")


def test_mu_option(shared_data):
    path = shared_data("xas", "xdi", "data", "cu_metal_rt.xdi")
    [s] = read_xdi(path, mu="i0")
    assert s.meta["mu_expression"] == "i0" and "mode" not in s.meta and s.data[0] == 149013.7
    [s] = read_xdi(path, mu="transmission")
    assert s.meta["mu_expression"] == "mutrans"
    with pytest.raises(ParseError, match="cannot build mu='fluorescence'"):
        read_xdi(path, mu="fluorescence")


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files(shared_data, name):
    """Each malformed file gives a clean ParseError, or a valid Spectrum with(out) a warning."""
    path = shared_data("xas", "xdi", "baddata", name)
    outcome = BAD[name]
    if outcome == "error":
        with pytest.raises(ParseError) as info:
            _quiet(read_xdi, path)
        assert info.value.position == BAD_POSITIONS[name]
        return
    if outcome == "warn":
        with pytest.warns(MetadataWarning):
            [s] = read_xdi(path)
    else:
        [s] = read_xdi(path)
    assert s.axis.name == "energy" and s.axis.values[0] == 8779.0 and s.axis.size == 12
    assert s.data[0] == -1.3070486


def test_bad_file_details(shared_data):
    bad = lambda name: shared_data("xas", "xdi", "baddata", name)  # noqa: E731
    with pytest.warns(MetadataWarning, match="line 23: Sample.temperature '300.0a K'"):
        [s] = read_xdi(bad("bad_33.xdi"))
    assert "temperature_k" not in s.meta
    with pytest.warns(MetadataWarning, match="Element.symbol 'Foo'"):
        [s] = read_xdi(bad("bad_05.xdi"))
    assert "element" not in s.meta and s.meta["edge"] == "K"
    with _warns("no Column.N field"):
        [s] = read_xdi(bad("bad_07.xdi"))  # names come from the label line
    assert list(s.raw_meta["columns"]) == ["energy", "i0", "itrans", "mutrans"]
    [s] = read_xdi(bad("bad_27.xdi"))  # '#//////' and a space instead of 'T' are accepted
    assert s.meta["acquired_at"] == dt.datetime(2001, 6, 2, 22, 27, 31, tzinfo=dt.UTC)


def test_non_energy_abscissa_and_no_mu(shared_data):
    with _warns("not an energy"):
        [s] = read_xdi(shared_data("xas", "xdi", "data", "nonxafs_1d.xdi"))
    assert s.axis.name == "channel" and s.axis.values[-1] == 407 and s.signal == "mu"
    assert s.raw_meta["abscissa"] == {"column": "x", "unit": "mm"}
    with _warns("its own 'intensity' Spectrum"):
        spectra = read_xdi(shared_data("xas", "xdi", "data", "nonxafs_negvalues.xdi"))
    assert [s.source.block for s in spectra] == ["Y", "Z"]
    assert spectra[0].signal == "intensity" and spectra[0].data[0] == 0.15
    assert spectra[1].raw_meta["columns"]["X"][0] == -0.5


def test_outer_loop_kept_in_file_order(shared_data):
    with pytest.warns(MetadataWarning):
        [s] = read_xdi(shared_data("xas", "xdi", "data", "nonxafs_2d.xdi"))
    assert s.axis.size == 203 and s.dims == ()
    outer = s.raw_meta["outer"]
    assert outer["name"] == "x2d" and outer["values"][:3] == ["1.0", "1.10", "1.20"]
    assert outer["first_rows"][:3] == [0, 5, 9] and outer["values"][-1] == "5.00"


def _text(rows: list[str], column1: str = "energy eV", extra: str = "") -> str:
    return (
        "# XDI/1.0\n# Column.1: " + column1 + "\n# Column.2: mutrans\n# Element.symbol: Cu\n"
        "# Element.edge: K\n"
        + extra
        + f"#----\n# {column1.split()[0]} mutrans\n"
        + "\n".join(rows)
        + "\n"
    )


def test_outer_loop_with_one_grid_stacks():
    rows = ["8979 0.1", "8980 0.2", "# Outer.value: 2.5", "8979 0.3", "8980 0.4"]
    [s] = parse_xdi(_text(rows, extra="# Outer.name: x\n# Outer.value: 1.5\n"), source=SOURCE)
    assert s.dims == ("outer",) and s.shape == (2, 2)
    np.testing.assert_array_equal(s.coords["outer"].values, [1.5, 2.5])
    np.testing.assert_array_equal(s.data, [[0.1, 0.2], [0.3, 0.4]])


def test_angle_and_kev_abscissae():
    d = 3.13553
    energy = np.array([8900.0, 8979.0, 9100.0])
    theta = np.degrees(np.arcsin(HC_EV_ANGSTROM / (2 * d * energy)))
    rows = [f"{float(t)!r} 0.5" for t in theta]
    [s] = parse_xdi(_text(rows, "angle degrees", f"# Mono.d_spacing: {d}\n"), source=SOURCE)
    np.testing.assert_allclose(s.axis.values, energy, rtol=1e-12)
    assert s.history[0].operation == "angle_to_energy"
    assert s.history[0].parameters["d_spacing_angstrom"] == d
    [s] = parse_xdi(_text(["8.979 0.1", "8.98 0.2"], "energy keV"), source=SOURCE)
    np.testing.assert_allclose(s.axis.values, [8979.0, 8980.0])
    with pytest.raises(ParseError, match="motor steps|degrees or radians"):
        parse_xdi(_text(["100 0.1"], "angle steps", f"# Mono.d_spacing: {d}\n"), source=SOURCE)


def test_data_defects_name_the_line():
    with pytest.raises(ParseError, match="not monotonic") as info:
        parse_xdi(_text(["8979 0.1", "8980 0.2", "8979.5 0.3"]), source=SOURCE)
    assert info.value.position == "line 10"
    with pytest.raises(ParseError, match="expected a number, found 'inf'"):
        parse_xdi(_text(["8979 0.1", "8980 inf"]), source=SOURCE)
    with pytest.raises(ParseError, match="no data"):
        parse_xdi(_text([]), source=SOURCE)
    with pytest.raises(ParseError, match="not finite") as info:
        parse_xdi(
            "# XDI/1.0\n# Column.1: energy eV\n# Column.2: i0\n# Column.3: itrans\n"
            "# Element.symbol: Cu\n# Element.edge: K\n#----\n1 2 3\n2 0 3\n",
            source=SOURCE,
            mu="transmission",
        )
    assert info.value.position == "line 9"
    with pytest.raises(ParseError, match="found 'x8980'") as info:  # a bad first row is data
        parse_xdi(_text(["x8980 0.2", "8981 0.3"]), source=SOURCE)
    assert info.value.position == "line 8"
    [s] = parse_xdi(_text(["8979 0.1", "8979 0.2", "8980 0.3"]), source=SOURCE)  # repeats are fine
    assert s.axis.size == 3


def test_line_ends_and_encoding(tmp_path):
    text = _text(["8979 0.1", "8980 0.2"]).replace("#----", "# ///\n# 25 \u00b0C\n#----")
    for newline in ("\r\n", "\r"):
        [s] = parse_xdi(text.replace("\n", newline), source=SOURCE)
        assert s.axis.values.tolist() == [8979.0, 8980.0] and s.raw_meta["comments"] == ["25 °C"]
    path = tmp_path / "latin1.xdi"
    path.write_bytes(text.encode("latin-1"))
    with _warns("not UTF-8"):
        [s] = read_xdi(path)
    assert s.raw_meta["comments"] == ["25 °C"]


def test_truncated_copies_never_raise_anything_else(shared_data, tmp_path):
    """A text format without a point count: a cut in the header is a ParseError; a cut in the
    data gives fewer rows or a ParseError (a row cut short), never another exception."""
    data = shared_data("xas", "xdi", "data", "cu_metal_rt.xdi").read_bytes()
    header_end = data.index(b"# energy i0")
    target = tmp_path / "cut.xdi"
    for offset in [
        0,
        1,
        7,
        40,
        200,
        600,
        header_end - 1,
        header_end + 10,
        *range(header_end + 40, len(data), 997),
    ]:
        target.write_bytes(data[:offset])
        if offset <= header_end + 30:
            with pytest.raises(ParseError):
                _quiet(specssb.read, target)
        else:
            try:
                spectra = _quiet(specssb.read, target)
            except ParseError:
                continue
            assert spectra[0].axis.size <= 408


def test_garbage_is_a_parse_error(tmp_path):
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    for i, payload in enumerate(
        [noise, b"# XDI/1.0 x\n" + noise, b"# XDI/1.0\n# Column.1: energy eV\n\x00\xff"]
    ):
        path = tmp_path / f"junk{i}.xdi"
        path.write_bytes(payload)
        with pytest.raises(ParseError):
            _quiet(specssb.read, path)


def test_writer_round_trip(tmp_path):
    rng = np.random.default_rng(7)
    energy = np.round(np.arange(2440.0, 2520.0, 0.25), 3)
    mu = 0.3 + 0.8 / (1 + np.exp(-(energy - 2472.0) / 0.8))
    i0 = np.round(2.0e5 + rng.normal(0, 50, energy.size), 2)
    columns = {"i0": i0, "itrans": i0 * np.exp(-mu), "irefer": i0 * np.exp(-mu - 0.6)}
    when = dt.datetime(2026, 3, 2, 9, 50, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    path = write_xdi(
        tmp_path / "s.xdi",
        energy,
        columns,
        element="S",
        edge="K",
        sample="cell01",
        acquired_at=when,
        comments=["operando S K-edge", ""],
        extra_fields={"Sample.temperature": "25 C"},
    )
    [s] = read_xdi(path)
    np.testing.assert_array_equal(s.axis.values, energy)
    for name, values in columns.items():
        np.testing.assert_array_equal(s.raw_meta["columns"][name], values)
    np.testing.assert_allclose(s.data, mu, rtol=1e-13)
    assert s.meta["acquired_at"] == dt.datetime(2026, 3, 2, 8, 50, tzinfo=dt.UTC)
    assert s.raw_meta["start_time_timezone"]["assumed"] is False
    assert (s.meta["element"], s.meta["edge"], s.meta["sample"]) == ("S", "K", "cell01")
    assert (
        s.meta["instrument"] == "specssb specssb synthetic" and s.meta["monochromator"] == "Si(111)"
    )
    assert s.meta["temperature_k"] == pytest.approx(298.15)
    assert s.raw_meta["comments"] == ["operando S K-edge", ""]
    assert s.raw_meta["fields"]["Mono.d_spacing"] == "3.13551"
    larch_io = pytest.importorskip("larch.io")
    group = larch_io.read_xdi(str(path), use_pyxdi=False)  # the XDI C library accepts it
    assert group.status == 0 and group.array_labels == ["energy", "i0", "itrans", "irefer"]
    np.testing.assert_array_equal(group.itrans, columns["itrans"])


def test_writer_refuses_bad_input(tmp_path):
    ok = dict(element="S", edge="K", sample="x", acquired_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(ValueError, match="shape"):
        write_xdi(tmp_path / "a.xdi", [1.0, 2.0], {"i0": [1.0]}, **ok)
    with pytest.raises(ValueError, match="one word"):
        write_xdi(tmp_path / "a.xdi", [1.0], {"i 0": [1.0]}, **ok)
    with pytest.raises(ValueError, match="timezone-aware"):
        write_xdi(
            tmp_path / "a.xdi",
            [1.0],
            {"i0": [1.0]},
            **{**ok, "acquired_at": dt.datetime(2026, 1, 1)},
        )
    with pytest.raises(ValueError, match="finite"):
        write_xdi(tmp_path / "a.xdi", [1.0], {"i0": [np.nan]}, **ok)
