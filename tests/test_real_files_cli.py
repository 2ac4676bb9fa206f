"""`specssb info --json` on every real file of issue 2 (skipped when ../shared/data is absent).

Expected values were read off the files (block counts, points) and cross-checked in each
format's own tests against the vendor's exports or the reference library.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from specssb.cli import app

runner = CliRunner()

#: path under ../shared/data -> (number of spectra, axis name, axis unit, shape of the first)
EXPECTED = {
    "xps/lg4x/0-150W.vms": (5, "binding_energy", "eV", (1206,)),
    "xps/lg4x/Mutlipak_vms.npl": (5, "binding_energy", "eV", (601,)),
    "xps/pynxtools-xps/FeO_analyzed.vms": (1, "binding_energy", "eV", (1121,)),
    "xps/pynxtools-xps/irregular.vms": (1, "binding_energy", "eV", (1351,)),
    "xps/pynxtools-xps/regular.vms": (1, "binding_energy", "eV", (1351,)),
    "xps/xpsdeeplearning/Ti_references_irregular.vms": (12, "binding_energy", "eV", (802,)),
    "xas/xdi/data/cu_metal_10K.xdi": (1, "energy", "eV", (612,)),
    "xas/xdi/data/cu_metal_rt.xdi": (1, "energy", "eV", (408,)),
    "xas/xdi/data/fe2o3_rt.xdi": (1, "energy", "eV", (348,)),
    "xas/xdi/data/fe3c_rt.xdi": (1, "energy", "eV", (348,)),
    "xas/xdi/data/fe_metal_rt.xdi": (1, "energy", "eV", (348,)),
    "xas/xdi/data/fen_rt.xdi": (1, "energy", "eV", (348,)),
    "xas/xdi/data/feo_rt1.xdi": (1, "energy", "eV", (412,)),
    "xas/xdi/data/ni_metal_rt.xdi": (1, "energy", "eV", (418,)),
    "xas/xdi/data/se_na2so4_rt.xdi": (1, "energy", "eV", (469,)),
    "xas/xdi/data/nonxafs_1d.xdi": (1, "channel", "1", (408,)),
    "xas/xdi/data/nonxafs_2d.xdi": (1, "energy", "eV", (203,)),
    "xas/xdi/data/nonxafs_negvalues.xdi": (2, "channel", "1", (10,)),
    "nmr/spectrochempy_data/cadmium/100": (1, "time", "s", (956,)),
    "nmr/spectrochempy_data/relax/100": (1, "time", "s", (9, 2048)),
    "nmr/spectrochempy_data/topspin_2d/1": (1, "time", "s", (147, 1024)),
    "nmr/datalab/1": (1, "time", "s", (4074,)),
    "nmr/datalab/71": (1, "time", "s", (9949,)),
    "nmr/nmrpy/bruker1/1": (1, "time", "s", (16384,)),
    "nmr/nmrpy/bruker2/1": (1, "time", "s", (18180,)),
    "nmr/nmrpy/bruker2/2": (1, "time", "s", (8771,)),
    "raman/datalab/raman_example.wdf": (1, "raman_shift", "cm-1", (1011,)),
    "raman/ramanchada2/Renishaw/nCal_Qontor785_z005H12_100_1x3s.wdf": (1, "raman_shift", "cm-1", (1021,)),
    "raman/rosettasciio/renishaw/renishaw_test_map.wdf": (1, "wavelength", "nm", (3, 3, 47)),
    "raman/rosettasciio/renishaw/renishaw_test_spectrum.wdf": (1, "wavelength", "nm", (36,)),
}

#: BioLogic exports: path -> number of records.
EXPECTED_CYCLER = {
    "echem/impedance_py/exampleDataBioLogic.mpt": 43,
    "echem/yadg/gcpl.issue_149.mpt": 132,
    "echem/yadg/gcpl.pr_182.1.mpt": 2533,
    "echem/yadg/mb.issue_95.mpt": 33,
    "echem/yadg/ocv.mpt": 602,
    "echem/yadg/peis.mpt": 32,
}


def _info(path):
    result = runner.invoke(app, ["info", "--json", str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.filterwarnings("ignore::specssb.errors.MetadataWarning")
@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_info_json_reports_count_axis_and_shape(relative, shared_data):
    count, axis_name, unit, first_shape = EXPECTED[relative]
    items = _info(shared_data(*relative.split("/")))
    assert len(items) == count
    for item in items:
        assert (item["axis"]["name"], item["axis"]["unit"]) == (axis_name, unit)
        assert item["dims"][-1] == axis_name and len(item["dims"]) == len(item["shape"])
        assert item["shape"][-1] == item["axis"]["size"]
        for coord in item["coords"].values():  # a map's shape matches its coordinate arrays
            assert coord["size"] == item["shape"][item["dims"].index(coord["dim"])]
    assert tuple(items[0]["shape"]) == first_shape


def test_wdf_map_coordinates_span_the_stage_positions(shared_data):
    (item,) = _info(shared_data("raman", "rosettasciio", "renishaw", "renishaw_test_map.wdf"))
    assert item["dims"] == ["y", "x", "wavelength"]
    assert item["coords"]["x"]["unit"] == "um" and item["coords"]["y"]["unit"] == "um"
    assert (item["coords"]["x"]["first"], item["coords"]["x"]["last"]) == (-100.0, 100.0)


@pytest.mark.filterwarnings("ignore::specssb.errors.MetadataWarning")
@pytest.mark.parametrize("relative", sorted(EXPECTED_CYCLER))
def test_info_json_on_cycler_exports(relative, shared_data):
    (item,) = _info(shared_data(*relative.split("/")))
    assert item["technique"] == "echem" and item["rows"] == EXPECTED_CYCLER[relative]
    assert "Voltage / V" in item["columns"] or "Ewe/V" in item["columns"]


def test_columns_option_gives_column_roles_and_refuses_code(shared_data):
    path = shared_data("xas", "araucaria", "dnd_testfile1.dat")
    result = runner.invoke(app, ["info", str(path), "--json", "--columns", "mu=col18; reference=col19"])
    assert result.exit_code == 0, result.output
    spectra = json.loads(result.output)
    assert [s["signal"] for s in spectra] == ["mu", "mu"]
    assert spectra[0]["meta"]["mu_expression"] == "col18" and spectra[0]["axis"]["size"] == 223
    bad = runner.invoke(app, ["info", str(path), "--columns", "mu=__import__('os').getcwd()"])
    assert bad.exit_code != 0 and "unexpected character" in bad.output
