"""Every XPS instrument file under ``../shared/data/xps`` reads by sniffing alone (issue 4.1).

No ``format=`` is given: the registry has to recognise each file from its content. The files
left out are not measurements: a readme, and two result tables that serve as oracles for other
tests (CasaXPS's quantification table, and a PHI vendor-converter CSV whose four regions are
compared with the ``.spe`` reader in ``test_xps_phi_spe.py``).
"""

from __future__ import annotations

import warnings

import pytest

import specssb

#: file -> (format the sniffer must choose, number of Spectra, photon energy in eV or None when
#: the file does not state it: plain two-column text)
EXPECTED = {
    "gxps/Al-NE-FeCr-S02p6-Fe2p-3.xy": ("xps-text", 1, None),
    "gxps/Ru02_0063.txt": ("scienta-txt", 1, 650.0),
    "lg4x/0-150W.vms": ("vamas", 5, 1486.69),
    "lg4x/C1s_sample.csv": ("xps-text", 1, None),
    "lg4x/Mutlipak_vms.npl": ("vamas", 5, 1486.6),
    "lmfitxps/clean_Au_4f.csv": ("xps-text", 1, 180.0),
    "nims-mdac/XPS_PHI_QUANTERA_narrow.spe": ("phi-spe", 4, 1486.6),
    "nims-mdac/XPS_PHI_QUANTERA_survey.spe": ("phi-spe", 1, 1486.6),
    "nims-mdac/XPS_PHI_QUANTERA_survey.csv": ("xps-text", 1, None),
    "pynxtools-xps/Ag_0001.txt": ("scienta-txt", 1, 520.0),
    "pynxtools-xps/Ag_0001Ag__001.ibw": ("scienta-ibw", 1, 520.0),
    "pynxtools-xps/Ag_0002.txt": ("scienta-txt", 1, 153.0),
    "pynxtools-xps/Ag_0002Ag__002.ibw": ("scienta-ibw", 1, 153.0),
    "pynxtools-xps/FeO_analyzed.vms": ("vamas", 1, 1486.61),
    "pynxtools-xps/FeO_analyzed_lineshapes_cols.txt": ("casa-txt", 1, 1486.61),
    "pynxtools-xps/In-situ_PBTTT_XPS_SPECS.xml": ("specs-xml", 2, 1253.6),
    "pynxtools-xps/MgFe2O4_small.xy": ("specs-xy", 2, 1486.61),
    "pynxtools-xps/MgFe2O4_with_transmission_function.xy": ("specs-xy", 118, 1486.61),
    "pynxtools-xps/SnO2_10nm.spe": ("phi-spe", 1, 1486.6),
    "pynxtools-xps/SnO2_10nm_1.pro": ("phi-pro", 4, 1486.6),
    "pynxtools-xps/irregular.vms": ("vamas", 1, 1486.61),
    "pynxtools-xps/regular.vms": ("vamas", 1, 1486.61),
    "pynxtools-xps/vms_txt_export.txt": ("casa-txt", 4, 1486.61),
    "xpsdeeplearning/Ti_references_irregular.vms": ("vamas", 12, 1486.61),
    "yadg/test0.spe": ("phi-spe", 2, 1486.6),
}
NOT_MEASUREMENTS = {"lg4x/readme.md", "pynxtools-xps/FeO_analyzed_results.csv",
                    "nims-mdac/XPS_PHI_QUANTERA_narrow.csv"}


def test_the_list_covers_every_file_in_the_folder(shared_data):
    root = shared_data("xps")
    present = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
               and p.name not in (".manifest.tsv", "PROVENANCE.md")}
    assert present == set(EXPECTED) | NOT_MEASUREMENTS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_xps_file_reads_without_naming_its_format(shared_data, name):
    path = shared_data("xps", *name.split("/"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # metadata warnings are tested per reader
        spectra = specssb.read(path)
    spectra = spectra if isinstance(spectra, list) else [spectra]
    fmt, count, photon_energy = EXPECTED[name]
    assert len(spectra) == count
    assert {s.source.format for s in spectra} == {fmt}
    assert all(s.technique == "xps" and s.data.size > 0 for s in spectra)
    assert {s.meta.get("excitation_energy_ev") for s in spectra} == {photon_energy}
    assert any(s.axis.name == "binding_energy" and s.axis.unit == "eV" for s in spectra)
