"""Every NMR data set under ../shared/data/nmr reads by sniffing alone, with the format,
nucleus, point count and spectral width that PROVENANCE.md lists."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import specssb
from specssb import MetadataWarning
from specssb.parsers import discover
from specssb.parsers.nmr_bruker import parse_bruker
from specssb.spectrum import Source

#: path -> (format, nucleus or None, shape, spectral width / Hz, axis name)
EXPECTED = {
    "cheminfo_jeol/fluorine.jdf": ("jeol", "19F", (32768,), 120192.3077, "time"),
    "datalab/SW20AP_proton.jdf.gz": ("jeol", "1H", (65536,), 20695.3642, "time"),
    "datalab/1": ("bruker", "31P", (4074,), 40760.8696, "time"),  # TD 8148; fid padded to 4096
    "datalab/71": ("bruker", "7Li", (9949,), 1_000_000.0, "time"),
    "nmrglue_examples/coadd_1d_pipe/test-run01.fid": ("nmrpipe", "13C", (1500,), 50000.0, "time"),
    "nmrglue_examples/integrate_1d/1d_data.ft": ("nmrpipe", "13C", (16384,), 50000.0,
                                                 "chemical_shift"),
    "nmrpy/bruker1/1": ("bruker", "1H", (16384,), 4807.6923, "time"),
    "nmrpy/bruker2/1": ("bruker", "13C", (18180,), 30303.0303, "time"),
    "nmrpy/bruker2/2": ("bruker", "31P", (8771,), 14619.8830, "time"),
    "nmrpy/spinsolve1/00000": ("spinsolve", "1H", (32768,), 5000.0, "time"),
    "nmrpy/test1.fid": ("varian", "31P", (24, 15542), 9713.4531, "time"),
    "nmrpy/test2.fid": ("varian", "31P", (16384,), 12143.2908, "time"),
    "spectrochempy_data/cadmium/100": ("bruker", None, (956,), 81300.8130, "time"),
    "spectrochempy_data/relax/100": ("bruker", "29Si", (9, 2048), 156250.0, "time"),
    "spectrochempy_data/topspin_2d/1": ("bruker", "27Al", (147, 1024), 20833.3333, "time"),
    "ssnake/satrec2D.fid": ("varian", "87Rb", (12, 1923), 192307.6923, "time"),
}

#: Files beside the data sets that are not instrument data.
NOT_DATA = {"README", "area.out", "limits.in", "readme.md"}


def test_every_nmr_data_set_is_listed(shared_data):
    root = shared_data("nmr")
    found = {p.relative_to(root).as_posix(): info for p, info, _ in discover(root)
             if p.name not in NOT_DATA}
    assert set(found) == set(EXPECTED)
    for relative, info in found.items():
        assert info is not None and info.name == EXPECTED[relative][0], relative


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_reads_by_sniffing_with_normalized_meta(shared_data, relative):
    fmt, nucleus, shape, width, axis = EXPECTED[relative]
    path = shared_data("nmr", *relative.split("/"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetadataWarning)  # stale MASR in datalab (Bruker)
        spectrum, = specssb.read(path)
    assert spectrum.source.format == fmt and spectrum.technique == "nmr"
    assert spectrum.meta.get("nucleus") == nucleus
    assert spectrum.shape == shape and spectrum.axis.name == axis
    assert spectrum.meta["spectral_width_hz"] == pytest.approx(width, rel=1e-6)
    assert spectrum.meta["sfo1_mhz"] > 10
    n_points = spectrum.meta["n_points"]
    assert n_points == (1500 if relative.endswith(".ft") else shape[-1])
    if axis == "time":
        assert np.iscomplexobj(spectrum.data) and spectrum.signal == "fid"
        assert spectrum.axis.values[1] == pytest.approx(1 / width, rel=1e-6)
    else:
        assert spectrum.axis.unit == "ppm" and spectrum.signal == "spectrum"


def test_mas_rates_where_the_files_record_one(shared_data):
    relax, = specssb.read(shared_data("nmr", "spectrochempy_data", "relax", "100"))
    assert relax.meta["mas_rate_hz"] == 5000
    for relative in ("ssnake/satrec2D.fid", "cheminfo_jeol/fluorine.jdf",
                     "nmrpy/spinsolve1/00000", "nmrpy/test2.fid"):
        spectrum, = specssb.read(shared_data("nmr", *relative.split("/")))
        assert "mas_rate_hz" not in spectrum.meta, relative  # no (or a zero) spinning rate


def test_bruker_vplist_gives_a_pulse_coordinate_in_seconds():
    """nmr_bruker maps vplist (as vdlist and vclist) onto the leading dimension."""
    dic = {"acqus": {"TD": 8, "SW_h": 1000.0, "AQ_mod": 3, "NUC1": "7Li"},
           "acqu2s": {"TD": 3, "FnMODE": 1}, "vplist": "2u\n4u\n8u\n"}
    ser, = parse_bruker(dic, np.ones((3, 4), complex), source=Source("x", "0" * 64, "bruker"),
                        kind="raw")
    assert ser.dims == ("pulse",) and ser.coords["pulse"].unit == "s"
    np.testing.assert_allclose(ser.coords["pulse"].values, [2e-6, 4e-6, 8e-6])
