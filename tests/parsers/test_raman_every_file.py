"""Every Raman file under ``../shared/data/raman`` reads by sniffing alone (issue 7.1), with its
axis, map shape and laser wavelength; the three files that hold no spectra are refused with
the reason."""

from __future__ import annotations

import warnings

import pytest

import specssb
from specssb.errors import ParseError

#: file -> (format, number of Spectra, axis name, shape of the first, laser wavelength nm or None)
EXPECTED = {
    "datalab/labspec_raman_example.txt": ("labspec-txt", 1, "raman_shift", (341,), 532.0),
    "datalab/raman_example.txt": ("raman-text", 1, "raman_shift", (1011,), None),
    "datalab/raman_example.wdf": ("wdf", 1, "raman_shift", (1011,), 632.80),
    "hyperspec/asc.Andor/ASCII-Andor-Solis.asc": ("andor-asc", 1, "raman_shift", (5, 63), None),
    "hyperspec/spc/Witec_image2x3_SPC_Data_1_F.spc": ("spc", 1, "raman_shift", (6, 1024), None),
    "hyperspec/spc.LabRam/LabRam-1.spc": ("spc", 1, "raman_shift", (18, 1023), None),
    "hyperspec/spe/polystyrene.SPE": ("princeton-spe", 1, "raman_shift", (1340,), 785.0),
    "hyperspec/spe/spe_format_3.0.SPE": ("princeton-spe", 1, "wavelength", (1340,), 785.0),
    "hyperspec/txt.HoribaJobinYvon/map.txt": ("labspec-txt", 1, "raman_shift", (398, 616), None),
    "hyperspec/txt.Renishaw/paracetamol.txt": ("raman-text", 1, "raman_shift", (4057,), None),
    "hyperspec/txt.Witec/Witec-Map_full.txt": ("witec-table", 1, "raman_shift", (5, 5, 1024), None),
    "hyperspec/txt.Witec/Witec_TrueMatch.txt": ("witec-truematch", 2, "wavelength", (1024,), 532.20),
    "hyperspec/txt.Witec/nofilename_Header.txt": ("witec-graph", 1, "raman_shift", (1024,), None),
    "hyperspec/txt.Witec/nofilename_X-Axis.txt": ("witec-graph", 1, "raman_shift", (1024,), None),
    "hyperspec/txt.Witec/nofilename_Y-Axis.txt": ("witec-graph", 1, "raman_shift", (1024,), None),
    "jcamp/tannic_acid.jdx": ("jcamp-raman", 1, "raman_shift", (1949,), None),
    "ramanchada2/InViaReflex/PST_Reflex532_Z050_010_10000msx2.spc": ("spc", 1, "raman_shift", (2578,), 532.0),
    "ramanchada2/LightNovo/polystyrene_aritficially_worsened.tsv": ("raman-text", 1, "raman_shift", (2290,), 785.0),
    "ramanchada2/PrincetonInstruments/S0N_50x.spe": ("princeton-spe", 1, "wavelength", (1340,), 531.988),
    "ramanchada2/Renishaw/nCal_Qontor785_z005H12_100_1x3s.spc": ("spc", 1, "raman_shift", (1021,), 785.0),
    "ramanchada2/Renishaw/nCal_Qontor785_z005H12_100_1x3s.wdf": ("wdf", 1, "raman_shift", (1021,), 785.02),
    "ramanchada2/Witec/PST_WITEcAlpha532_100x_075_10000ms_000_Spec.Data_1.spc": ("spc", 1, "raman_shift", (1600,), None),
    "ramanchada2/test_opus.0": ("opus", 1, "raman_shift", (4096,), 1064.41),
    "rosettasciio/jobinyvon/jobinyvon_test_map_x3-y2.xml": ("jobinyvon-xml", 1, "wavelength", (2, 3, 34), 632.817),
    "rosettasciio/jobinyvon/jobinyvon_test_spec.xml": ("jobinyvon-xml", 1, "wavelength", (34,), 632.817),
    "rosettasciio/renishaw/renishaw_test_map.wdf": ("wdf", 1, "wavelength", (3, 3, 47), 325.0),
    "rosettasciio/renishaw/renishaw_test_spectrum.wdf": ("wdf", 1, "wavelength", (36,), 325.0),
}
#: files that hold no spectra -> words the refusal must contain
REFUSED = {
    "ramanchada2/Horiba/PST10_iR785_OP01_8000msx8.l6s": "LabSpec 6",
    "ramanchada2/InViaReflex/PST_Reflex532_Z050_010_10000msx2.wxd": "experiment file",
    "hyperspec/spe/spe_format_3.0.SPE_metadata.xml": "metadata companion",
}


def test_the_lists_cover_every_file_in_the_folder(shared_data):
    root = shared_data("raman")
    present = {str(p.relative_to(root)) for p in root.rglob("*")
               if p.is_file() and p.name not in ("PROVENANCE.md", "SHA256SUMS")}
    assert present == set(EXPECTED) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_raman_file_reads_with_axis_shape_and_laser(shared_data, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # metadata warnings are tested per reader
        spectra = specssb.read(shared_data("raman", *name.split("/")))
    fmt, count, axis, shape, laser = EXPECTED[name]
    first = spectra[0]
    assert (first.source.format, len(spectra), first.axis.name, first.shape) == (fmt, count, axis, shape)
    assert first.axis.unit == {"raman_shift": "cm-1", "wavelength": "nm"}[axis]
    if laser is None:
        assert first.meta.get("laser_wavelength_nm") is None
    else:
        assert first.meta["laser_wavelength_nm"] == pytest.approx(laser, abs=0.01)
    if len(first.dims) == 2 and fmt in ("wdf", "jobinyvon-xml"):  # stage maps keep positions
        assert {first.coords[d].unit for d in first.dims if d in first.coords} == {"um"}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_files_without_spectra_are_refused_with_the_reason(shared_data, name):
    with pytest.raises(ParseError, match=REFUSED[name]):
        specssb.read(shared_data("raman", *name.split("/")))
