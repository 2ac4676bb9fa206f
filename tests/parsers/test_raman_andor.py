"""Andor Solis ASCII reader: the real 5-frame export, synthetic files, damaged input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import specssb
from specssb import ConfigError, ParseError
from specssb.parsers._common import make_source
from specssb.parsers.raman_andor import parse_andor_asc


def _parse(text: str, **options):
    return parse_andor_asc(text, source=make_source("s.asc", "andor-asc", sha256="0" * 64),
                           **options)


def test_real_five_frame_export(shared_data):
    [s] = specssb.read(shared_data("raman", "hyperspec", "asc.Andor", "ASCII-Andor-Solis.asc"))
    assert s.source.format == "andor-asc"
    assert s.dims == ("frame",) and s.shape == (5, 63)
    assert s.axis.name == "raman_shift"
    assert s.axis.values[[0, -1]].tolist() == [161.40845, 423.65106]
    assert s.data[:, 0].tolist() == [3404, 3402, 3404, 3395, 3406]
    assert s.data[:, -1].tolist() == [3411, 3418, 3413, 3412, 3415]
    # the x step shrinks along the axis, as a Raman-shift axis of an evenly dispersed detector
    steps = np.diff(s.axis.values)
    assert steps[0] == pytest.approx(4.32022) and steps[-1] == pytest.approx(4.14102)
    assert "assumed" in s.raw_meta["x_unit_source"]


def test_single_column_pixels_and_appended_information():
    text = ("1\t10\n2\t20\n3\t30\n4\t40\n\n"
            "Date and Time:\tMon May 06 07:08:09 2024\n"
            "Exposure Time (secs):\t0.25\nNumber of Accumulations:\t4\n"
            "Raman Ex. Wavelength (nm):\t785.0\n")
    [s] = _parse(text, timezone="Europe/Berlin")
    assert s.dims == () and s.axis.name == "channel" and s.data.tolist() == [10, 20, 30, 40]
    assert s.meta["exposure_time_s"] == 0.25 and s.meta["n_accumulations"] == 4
    assert s.meta["laser_wavelength_nm"] == 785.0
    assert s.meta["acquired_at"] == dt.datetime(2024, 5, 6, 5, 8, 9, tzinfo=dt.timezone.utc)
    [nm] = _parse("540.5,1,\n541.0,2,\n", axis="wavelength")
    assert nm.axis.name == "wavelength" and nm.axis.values.tolist() == [540.5, 541.0]


@pytest.mark.parametrize(("text", "message"), [
    ("", "no numeric rows"),
    ("Andor header\n1,2\n", "expected a numeric row"),
    ("100,1,2,\n101,3,\n", "row has 2 values, the first row had 3"),
    ("100,1,\n100,2,\n", "not strictly monotonic"),
    ("100,1,\n101,2,\nrubbish\n", "unexpected line after the data"),
    ("100,1,\n101,nan,\n", "unexpected line after the data"),
])
def test_bad_input(text, message):
    with pytest.raises(ParseError, match=message):
        _parse(text)


def test_unknown_axis_option():
    with pytest.raises(ConfigError):
        _parse("1,2\n2,3\n", axis="energy")
