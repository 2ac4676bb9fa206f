"""BioLogic EC-Lab .mpt reader: real exports, decimal commas, time, defects, writer round trip."""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import specssb
from specssb import ConfigError, ParseError
from specssb.errors import MetadataWarning
from specssb.parsers.echem_biologic import parse_biologic_mpt, read_biologic_mpt
from specssb.spectrum import Source

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sample_data"))
from writers.biologic import write_biologic_mpt  # noqa: E402

SOURCE = Source("test.mpt", "0" * 64, "biologic-mpt")
#: Every .mpt under ../shared/data/echem, with its number of data rows.
REAL = {
    ("yadg", "gcpl.issue_149.mpt"): 132,
    ("yadg", "gcpl.pr_182.1.mpt"): 2533,
    ("yadg", "mb.issue_95.mpt"): 33,
    ("yadg", "ocv.mpt"): 602,
    ("yadg", "peis.mpt"): 32,
    ("impedance_py", "exampleDataBioLogic.mpt"): 43,
}
NO_START = {"gcpl.pr_182.1.mpt"}  # exported with 3 header lines: no acquisition time


def _read(path: Path, **options) -> pd.DataFrame:
    if path.name in NO_START:
        with pytest.warns(MetadataWarning, match="no 'Acquisition started on'"):
            return read_biologic_mpt(path, **options)
    return read_biologic_mpt(path, **options)


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetadataWarning)
        return function(*args, **kwargs)


def _mpt(
    rows: list[str], names: str = "time/s\tEwe/V\tI/mA\tcycle number\t", extra: str = ""
) -> str:
    header = [
        "EC-Lab ASCII FILE",
        "",
        "",
        "Galvanostatic Cycling with Potential Limitation",
        "",
        "Acquisition started on : 07/26/2019 09:29:02.730",
        *extra.splitlines(),
        "",
        names,
    ]
    header[1] = f"Nb header lines : {len(header)}"
    return "\n".join(header + rows) + "\n"


def test_registered_and_read_through_read_cycler(shared_data):
    info = specssb.parsers.get_format("biologic-mpt")
    assert (info.technique, info.extensions) == ("echem", (".mpt",))
    path = shared_data("echem", "yadg", "mb.issue_95.mpt")
    df = specssb.read_cycler(path)
    assert df.attrs["source"].format == "biologic-mpt" and len(df) == 33
    with pytest.raises(ConfigError, match="read_cycler"):
        specssb.read(path)


@pytest.mark.parametrize(("folder", "name"), sorted(REAL))
def test_every_real_export_reads(shared_data, folder, name):
    df = _read(shared_data("echem", folder, name))
    assert len(df) == REAL[(folder, name)]
    np.testing.assert_array_equal(df["Test Time / s"], df["time/s"])  # originals kept
    assert df["Test Time / s"].is_monotonic_increasing
    assert df.attrs["units"]["Voltage / V"] == "V" and df.attrs["units"]["time/s"] == "s"
    assert df.attrs["raw_meta"]["header"].startswith("EC-Lab ASCII FILE")
    if name not in NO_START:
        assert str(df["Date Time"].dt.tz) == "UTC"
        np.testing.assert_allclose(
            df["Unix Time / s"],
            df["Date Time"].astype("int64") / 1e9 * _ns_scale(df),
            rtol=0,
            atol=1e-5,
        )


def _ns_scale(df: pd.DataFrame) -> float:
    """Seconds per integer tick of the Date Time column, whatever its resolution."""
    unit = np.datetime_data(df["Date Time"].dtype.base)[0]
    return {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]


def test_decimal_comma_file(shared_data):
    """German-locale export: '3,4228721E+000'; never read as 3e15 or as text."""
    df = read_biologic_mpt(shared_data("echem", "yadg", "gcpl.issue_149.mpt"))
    assert df.attrs["raw_meta"]["decimal_separator"] == ","
    assert df["Cycle Count / 1"].dtype == np.int64
    assert sorted(df["Cycle Count / 1"].unique()) == [0, 1, 2, 3]
    assert df["Voltage / V"].between(3.41, 3.45).all() and df["Voltage / V"].iloc[0] == 3.4228721
    assert df["Test Time / s"].iloc[0] == pytest.approx(30.15299923827115, rel=1e-15)
    assert df["Current / A"].iloc[-1] == pytest.approx(-2.999591381717431e-05, rel=1e-14)
    assert df["Current / A"].abs().max() == pytest.approx(3.0011e-05, rel=1e-4)  # 30 µA
    assert df["Discharging Capacity / Ah"].iloc[-1] == pytest.approx(8.33240981069911e-08)
    assert list(df["Step Index / 1"].unique()) == [0, 1, 2] and df["Step Count / 1"].iloc[-1] == 12
    # acquisition 11:02:29.886 + 30.153 s is the "Technique started on" time, 11:03:00.039
    started = pd.Timestamp("2024-01-10 11:03:00.039", tz="UTC")
    assert abs(df["Date Time"].iloc[0] - started) < pd.Timedelta(microseconds=1)
    raw = df.attrs["raw_meta"]
    assert raw["technique"] == "Galvanostatic Cycling with Potential Limitation"
    assert raw["settings"]["Device"] == "SP-300 (SN 1854)"
    assert raw["parameters"]["Is"] == ["0,000", "30,000", "-30,000"]
    assert raw["loops"][-1] == [3, 99, 131]
    assert df.attrs["bdf_columns"]["Current / A"] == "<I>/mA"


def test_timezone_option(shared_data):
    path = shared_data("echem", "yadg", "gcpl.issue_149.mpt")
    df = read_biologic_mpt(path, timezone="Europe/Berlin")  # CET, UTC+1 in January
    started = pd.Timestamp("2024-01-10 10:03:00.039", tz="UTC")
    assert abs(df["Date Time"].iloc[0] - started) < pd.Timedelta(microseconds=1)
    assert df.attrs["raw_meta"]["acquisition_start"]["utc"] == "2024-01-10T10:02:29.886000+00:00"
    with pytest.raises(ConfigError, match="time zone"):
        read_biologic_mpt(path, timezone="Europe/Atlantis")


def test_values_of_other_exports(shared_data):
    mb = read_biologic_mpt(shared_data("echem", "yadg", "mb.issue_95.mpt"))
    assert mb["Current / A"].iloc[-1] == pytest.approx(-0.064980278, rel=1e-12)  # I/mA
    assert mb["Voltage / V"].iloc[-1] == 2.3260789
    assert mb["Date Time"].iloc[0] == pd.Timestamp("2022-12-08 14:36:53.355", tz="UTC")
    assert mb.attrs["bdf_columns"]["Current / A"] == "I/mA"
    ocv = read_biologic_mpt(shared_data("echem", "yadg", "ocv.mpt"))
    assert "Current / A" not in ocv and ocv["Voltage / V"].iloc[-1] == 0.44194466
    assert ocv["Test Time / s"].iloc[-1] == pytest.approx(35999.99995540908)
    assert ocv.attrs["raw_meta"]["settings"]["Electrode material"] == "LMO(Ti) vs C-TiO2 (Al)"
    peis = read_biologic_mpt(shared_data("echem", "yadg", "peis.mpt"))
    assert peis["freq/Hz"].iloc[0] == 199998.14 and peis["Voltage / V"].iloc[0] == -3.591429
    assert peis.attrs["units"]["Re(Z)/Ohm"] == "Ohm" and peis.attrs["units"]["|Z|/Ohm"] == "Ohm"
    with pytest.warns(MetadataWarning):
        long = read_biologic_mpt(shared_data("echem", "yadg", "gcpl.pr_182.1.mpt"))
    assert "Date Time" not in long and sorted(long["Cycle Count / 1"].unique()) == [0, 1, 2, 3, 4]
    assert long["Test Time / s"].iloc[-1] == pytest.approx(302518.9476075938)
    assert long["Net Capacity / Ah"].min() == pytest.approx(-3.251960077105808e-3)


def test_parse_small_text():
    df = parse_biologic_mpt(_mpt(["0.0\t3.10\t0.5\t0", "10.0\t3.20\t-0.5\t1"]), source=SOURCE)
    assert df["Current / A"].tolist() == [0.0005, -0.0005]
    assert df["Cycle Count / 1"].tolist() == [0, 1]
    assert df["Unix Time / s"].iloc[1] == pytest.approx(
        dt.datetime(2019, 7, 26, 9, 29, 12, 730000, tzinfo=dt.UTC).timestamp(), abs=1e-6
    )
    assert list(df.columns[:6]) == [
        "Test Time / s",
        "Voltage / V",
        "Current / A",
        "Cycle Count / 1",
        "Unix Time / s",
        "Date Time",
    ]


@pytest.mark.parametrize(
    ("text", "match", "position"),
    [
        (
            _mpt(["0.0\t3.10\t0.5\t0", "10.0\t3.20\t0.5"]),
            "expected 4 tab-separated values",
            "line 10",
        ),
        (_mpt(["0.0\t3.10\t0.5\t0", "10.0\t3.20\t0.5\t0\t7"]), "found 5", "line 10"),
        (
            _mpt(["0.0\t3.10\t0.5\t0", "10.0\tabc\t0.5\t0"]),
            "column 2: expected a number",
            "line 10",
        ),
        (_mpt(["0.0\t3.10\t0.5\t0", "10.0\tnan\t0.5\t0"]), "found 'nan'", "line 10"),
        (_mpt(["0.0\t3.10\t0.5\t0", "10.0\t3,2\t0.5\t0"]), "decimal '.', found '3,2'", "line 10"),
        (_mpt(["0.0\t3,10\t0.5\t0"]), "mixes ',' and '.'", "line 9"),
        (_mpt(["0,0\t3,10\t0,5\t0", "10,0\t3.2\t0,5\t0"]), "mixes|decimal ','", "line 10"),
        (_mpt([]), "no data rows", "line 8"),
        ("EC-Lab ASCII FILE\nNb header lines : 1000000000000\n", "claims 1000000000000", "line 2"),
        ("EC-Lab ASCII FILE\nsomething else\n", "Nb header lines", "line 2"),
        ("EC-Lab ASCII\n", "not an EC-Lab text export", "line 1"),
        (_mpt(["0\t3\t0\t0"], "time/s\t\tI/mA\t"), "column names", "line 8"),
        (
            _mpt(["0\t3\t0\t0"], extra="Loop 0 from point number 0 to 4"),
            "declares 5 points",
            "line 10",
        ),
    ],
)
def test_defects_name_the_line(text, match, position):
    with pytest.raises(ParseError, match=match) as info:
        parse_biologic_mpt(text, source=SOURCE)
    assert info.value.position == position


def test_missing_or_odd_start_time_warns():
    text = _mpt(["0.0\t3.10\t0.5\t0"]).replace("07/26/2019 09:29:02.730", "26.13.2019 09:29")
    with pytest.warns(MetadataWarning, match="not a MM/DD/YYYY"):
        df = parse_biologic_mpt(text, source=SOURCE)
    assert "Date Time" not in df and df["Voltage / V"].iloc[0] == 3.10
    iso = _mpt(["0.0\t3.10\t0.5\t0"]).replace("07/26/2019 09:29:02.730", "2019-07-26 09:29:02")
    assert parse_biologic_mpt(iso, source=SOURCE)["Date Time"].iloc[0] == pd.Timestamp(
        "2019-07-26 09:29:02", tz="UTC"
    )


def test_truncated_copies(shared_data, tmp_path):
    """The loop table declares 132 points: any cut gives a ParseError, or all 132 rows when
    only the digits of the last value were cut."""
    data = shared_data("echem", "yadg", "gcpl.issue_149.mpt").read_bytes()
    target = tmp_path / "cut.mpt"
    for offset in [0, 5, 18, 25, 300, 2000, 4000, *range(6000, len(data), 1499), len(data) - 3]:
        target.write_bytes(data[:offset])
        try:
            df = _quiet(specssb.read_cycler, target)
        except ParseError:
            continue
        assert len(df) == 132 and offset > len(data) - 30


def test_garbage_is_a_parse_error(tmp_path):
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    for i, payload in enumerate([noise, b"EC-Lab ASCII FILE\r\n" + noise, b"EC-Lab ASCII FILE"]):
        path = tmp_path / f"junk{i}.mpt"
        path.write_bytes(payload)
        with pytest.raises(ParseError):
            _quiet(specssb.read_cycler, path, format="biologic-mpt")


def _cycler_table() -> pd.DataFrame:
    rows, q, time = [], 0.0, 0.0
    for cycle in range(3):
        for ns, sign in ((1, 1.0), (2, -1.0)):
            for k in range(5):
                time += 180.0
                q += sign * 0.1 * 180.0 / 3600.0
                rows.append({
                    "mode": 1, "ox/red": int(sign > 0), "error": 0, "control changes": int(k == 0),
                    "Ns changes": int(k == 0), "counter inc.": 0, "Ns": ns, "time/s": time,
                    "control/V/mA": sign * 0.1, "Ewe/V": round(3.6 + sign * 0.01 * k, 5),
                    "I/mA": sign * 0.1, "(Q-Qo)/mA.h": round(q, 9), "cycle number": cycle,
                })  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("decimal_comma", [False, True])
def test_writer_round_trip(tmp_path, decimal_comma):
    table = _cycler_table()
    start = dt.datetime(2026, 3, 2, 8, 0, 0, 250000)
    path = write_biologic_mpt(
        tmp_path / "cell.mpt", table, acquired_at=start, decimal_comma=decimal_comma
    )
    df = read_biologic_mpt(path, timezone="Europe/Paris")  # 08:00 CET is 07:00 UTC
    assert df.attrs["raw_meta"]["decimal_separator"] == ("," if decimal_comma else ".")
    for name in table.columns:
        np.testing.assert_allclose(df[name], table[name], rtol=1e-7, err_msg=name)
    np.testing.assert_array_equal(df["Current / A"], table["I/mA"] * 1e-3)
    np.testing.assert_array_equal(df["Cycle Count / 1"], table["cycle number"])
    assert df["Step Count / 1"].iloc[-1] == 6 and df["Step Index / 1"].iloc[-1] == 2
    assert df["Date Time"].iloc[0] == pd.Timestamp("2026-03-02 07:03:00.250", tz="UTC")
    raw = df.attrs["raw_meta"]
    assert raw["technique"] == "Galvanostatic Cycling with Potential Limitation"
    assert raw["parameters"]["Ns"] == ["1", "2"] and raw["parameters"]["vs."] == ["<None>"] * 2
    assert raw["settings"]["Electrode surface area"].endswith("cm\u00b2")
    text = path.read_bytes().decode("latin-1")
    assert text.splitlines()[1] == f"Nb header lines : {raw['n_header_lines']:<28}"


def test_writer_refuses_bad_input(tmp_path):
    table = _cycler_table()
    with pytest.raises(ValueError, match="naive"):
        write_biologic_mpt(
            tmp_path / "a.mpt", table, acquired_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        )
    with pytest.raises(ValueError, match="counters"):
        write_biologic_mpt(
            tmp_path / "a.mpt", table.assign(Ns=1.5), acquired_at=dt.datetime(2026, 1, 1)
        )
    with pytest.raises(ValueError, match="finite"):
        bad = table.assign(**{"Ewe/V": np.nan})
        write_biologic_mpt(tmp_path / "a.mpt", bad, acquired_at=dt.datetime(2026, 1, 1))
