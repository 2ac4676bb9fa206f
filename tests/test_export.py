"""Atomic writes and exported files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from specssb import Axis, ConfigError, Source, Spectrum
from specssb._io import atomic_path, jsonable
from specssb.export import export_name, write_spectrum


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "result.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temporary:
            temporary.write_text("half written")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_export_names_are_unique_per_block():
    names = [export_name("/d/c3.vms", label, i, 3, "csv") for i, label in enumerate(["S 2p", "P 2p", "S 2p"])]
    assert names == ["c3_000_S_2p.csv", "c3_001_P_2p.csv", "c3_002_S_2p.csv"]
    assert export_name("/d/single.xdi", None, 0, 1, "json") == "single.json"


def test_csv_round_trip_of_a_complex_fid(tmp_path):
    fid = Spectrum(axis=Axis("time", "s", np.arange(4) * 1e-5), data=np.array([1 + 2j, 3, 4j, -1]),
                   technique="nmr", signal="fid", meta={"nucleus": "7Li"},
                   source=Source("fid", "b" * 64, "bruker"))
    path = write_spectrum(fid, tmp_path / "fid.csv", to="csv")
    text = path.read_text()
    assert '"nucleus": "7Li"' in text and "b" * 64 in text
    frame = pd.read_csv(path, comment="#")
    np.testing.assert_allclose(frame["fid_real"] + 1j * frame["fid_imag"], fid.data)


def test_unknown_output_format_is_a_config_error(tmp_path):
    spectrum = Spectrum(axis=Axis("energy", "eV", [1.0, 2.0]), data=[1.0, 2.0], technique="xas", signal="mu")
    with pytest.raises(ConfigError, match="xlsx"):
        write_spectrum(spectrum, tmp_path / "x.xlsx", to="xlsx")


def test_jsonable_handles_numpy_nan_and_large_arrays():
    value = {"a": np.float32(1.5), "b": float("nan"), "c": np.arange(100), "d": np.arange(3)}
    assert jsonable(value, max_array=10) == {
        "a": 1.5, "b": None, "c": {"array": {"shape": [100], "dtype": "int64"}}, "d": [0, 1, 2]
    }


def test_atomic_outputs_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from specssb._io import atomic_write_text

    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "report.html", "<p>x</p>")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644
