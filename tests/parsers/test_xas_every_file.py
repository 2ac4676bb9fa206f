"""Every XAS file under ``../shared/data/xas`` reads by sniffing alone (issue 5.1).

Left out: the malformed XDI test files of ``xdi/baddata`` (tested against their expected
outcomes in ``test_xas_xdi.py``) and the expected-value tables.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest

import specssb
from specssb.errors import MetadataWarning, ParseError
from specssb.parsers.xas_columns import parse_xas_columns
from specssb.spectrum import Source

SKIPPED_SUFFIXES = {".md", ".json", ".tsv"}


def _measurements(root):
    return sorted(p for p in root.rglob("*") if p.is_file() and "baddata" not in p.parts
                  and p.suffix not in SKIPPED_SUFFIXES and p.name != "SHA256SUMS")


def test_every_xas_file_reads_without_naming_its_format(shared_data):
    root = shared_data("xas")
    formats: Counter[str] = Counter()
    failures = []
    for path in _measurements(root):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # metadata warnings are tested per reader
                spectra = specssb.read(path)
        except ParseError as error:
            failures.append(f"{path.relative_to(root)}: {error}")
            continue
        assert spectra and all(s.technique == "xas" for s in spectra), path
        formats[spectra[0].source.format] += 1
    assert not failures, "\n".join(failures)
    assert formats == {"xas-columns": 36, "xdi": 18, "athena": 10}


@pytest.mark.parametrize(("name", "e0_sample", "e0_reference"), [
    ("20K_GOE_Fe_K_240.00000.xdi", 7126.9, 7111.5),  # goethite and the Fe foil (PROVENANCE.md)
    ("p65_testfile.xdi", 18011.4, 18005.1),          # Zr K
])
def test_petra_p65_files_give_sample_and_reference_channels(shared_data, name, e0_sample, e0_reference):
    from larch import Group
    from larch.xafs import pre_edge

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample, reference = specssb.read(shared_data("xas", "araucaria", name))
    assert sample.source.format == "xas-columns" and reference.source.block == "reference"
    assert sample.meta["mu_expression"] == "ln(vfc01/vfc02)"
    assert sample.meta["acquired_at"].year == 2020  # "Scan started at DD-MM-YYYY ..."
    for spectrum, expected in ((sample, e0_sample), (reference, e0_reference)):
        group = Group(energy=np.array(spectrum.axis.values), mu=np.array(spectrum.data))
        pre_edge(group)
        assert group.e0 == pytest.approx(expected, abs=0.05)


def test_encoder_jitter_is_sorted_and_a_real_reversal_refused():
    rows = "\n".join(f"{e} 100 {100 * np.exp(-0.5 - (e > 8980))}" for e in
                     (8970.0, 8970.5, 8970.4, 8971.0, 8980.0, 8990.0))
    source = Source("q.dat", "0" * 64, "xas-columns")
    with pytest.warns(MetadataWarning, match="sorted by energy"):
        [spectrum] = parse_xas_columns("# energy i0 it\n" + rows + "\n", source=source)
    assert np.all(np.diff(spectrum.axis.values) > 0)
    assert spectrum.history[-1].operation == "sort_energy"
    jumped = rows.replace("8980.0", "8960.0")  # 10 eV backwards: not jitter
    with pytest.raises(ParseError, match="not monotonic"):
        parse_xas_columns("# energy i0 it\n" + jumped + "\n", source=source)
