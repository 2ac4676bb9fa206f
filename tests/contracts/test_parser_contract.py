"""The contract every registered parser meets (STYLE.md "Parsers").

Parametrized over the registry, so a format is tested the day it is registered. Samples come
from the generated ``sample_data/`` and, when present, a few real files from ``../shared/data``.

For each format and sample:
- ``read`` returns ``list[Spectrum]`` (a DataFrame for cycler formats) whose technique, axis,
  shape and provenance are consistent, with the vendor header kept in ``raw_meta``;
- the sniffer picks the format from content, and no other format's sniffer claims the sample;
- reading leaves the input byte-for-byte unchanged;
- truncated copies, random-bytes copies and copies with a valid magic followed by garbage
  raise ``ParseError`` and nothing else.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import specssb
from specssb import ParseError, Spectrum
from specssb.parsers import discover, sha256_of, sniff
from specssb.spectrum import AXIS_UNITS

REPO = Path(__file__).resolve().parents[2]

#: A few real files per format (relative to ../shared/data), read when that folder is present.
REAL_SAMPLES: dict[str, list[str]] = {
    "vamas": ["xps/lg4x/0-150W.vms", "xps/pynxtools-xps/irregular.vms"],
    "xdi": ["xas/xdi/data/cu_metal_rt.xdi"],
    "bruker": ["nmr/spectrochempy_data/cadmium/100"],
    "varian": ["nmr/ssnake/satrec2D.fid", "nmr/nmrpy/test2.fid"],
    "jeol": ["nmr/cheminfo_jeol/fluorine.jdf", "nmr/datalab/SW20AP_proton.jdf.gz"],
    "nmrpipe": ["nmr/nmrglue_examples/coadd_1d_pipe/test-run01.fid",
                "nmr/nmrglue_examples/integrate_1d/1d_data.ft"],
    "spinsolve": ["nmr/nmrpy/spinsolve1/00000"],
    "wdf": ["raman/datalab/raman_example.wdf", "raman/rosettasciio/renishaw/renishaw_test_map.wdf"],
    "witec-table": ["raman/hyperspec/txt.Witec/Witec-Map_full.txt"],
    "witec-truematch": ["raman/hyperspec/txt.Witec/Witec_TrueMatch.txt"],
    "witec-graph": ["raman/hyperspec/txt.Witec/nofilename_Y-Axis.txt",
                    "raman/hyperspec/txt.Witec/nofilename_Header.txt"],
    "labspec-txt": ["raman/datalab/labspec_raman_example.txt",
                    "raman/hyperspec/txt.HoribaJobinYvon/map.txt"],
    "jobinyvon-xml": ["raman/rosettasciio/jobinyvon/jobinyvon_test_spec.xml",
                      "raman/rosettasciio/jobinyvon/jobinyvon_test_map_x3-y2.xml"],
    "raman-text": ["raman/datalab/raman_example.txt", "raman/hyperspec/txt.Renishaw/paracetamol.txt",
                   "raman/ramanchada2/LightNovo/polystyrene_aritficially_worsened.tsv"],
    "spc": ["raman/hyperspec/spc.LabRam/LabRam-1.spc",
            "raman/ramanchada2/InViaReflex/PST_Reflex532_Z050_010_10000msx2.spc"],
    "princeton-spe": ["raman/hyperspec/spe/polystyrene.SPE",
                      "raman/ramanchada2/PrincetonInstruments/S0N_50x.spe"],
    "andor-asc": ["raman/hyperspec/asc.Andor/ASCII-Andor-Solis.asc"],
    "opus": ["raman/ramanchada2/test_opus.0"],
    "jcamp-raman": ["raman/jcamp/tannic_acid.jdx"],
    "biologic-mpt": ["echem/yadg/gcpl.issue_149.mpt"],
    "specs-xy": ["xps/pynxtools-xps/MgFe2O4_small.xy",
                 "xps/pynxtools-xps/MgFe2O4_with_transmission_function.xy"],
    "specs-xml": ["xps/pynxtools-xps/In-situ_PBTTT_XPS_SPECS.xml"],
    "phi-spe": ["xps/nims-mdac/XPS_PHI_QUANTERA_narrow.spe", "xps/yadg/test0.spe"],
    "phi-pro": ["xps/pynxtools-xps/SnO2_10nm_1.pro"],
    "scienta-txt": ["xps/pynxtools-xps/Ag_0001.txt", "xps/gxps/Ru02_0063.txt"],
    "scienta-ibw": ["xps/pynxtools-xps/Ag_0001Ag__001.ibw", "xps/pynxtools-xps/Ag_0002Ag__002.ibw"],
    "casa-txt": ["xps/pynxtools-xps/vms_txt_export.txt",
                 "xps/pynxtools-xps/FeO_analyzed_lineshapes_cols.txt"],
    "xps-text": ["xps/lg4x/C1s_sample.csv", "xps/lmfitxps/clean_Au_4f.csv"],
    "athena": ["xas/larch/athena/Mn.prj", "xas/larch/athena/json_unzipped.prj"],
    "xas-columns": ["xas/larch/beamlines/APS10BM_2019.dat", "xas/larch/xafsdata/cu_10k.xmu"],
}


def _generated_samples() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    if (REPO / "sample_data").is_dir():
        for path, info, _ in discover(REPO / "sample_data"):
            if info is not None:
                found.setdefault(info.name, []).append(path)
    return found


GENERATED = _generated_samples()
FORMATS = [f.name for f in specssb.formats()]


def _samples(format_name: str, shared_data) -> list[Path]:
    samples = list(GENERATED.get(format_name, []))
    for relative in REAL_SAMPLES.get(format_name, []):
        try:
            samples.append(shared_data(*relative.split("/")))
        except pytest.skip.Exception:
            pass
    if not samples:
        pytest.skip(f"no sample file for format {format_name!r} (generated or real)")
    return samples


def _read(format_name: str, path: Path):
    info = specssb.parsers.get_format(format_name)
    if info.technique == "echem":
        return specssb.read_cycler(path, format=format_name)
    return specssb.read(path, format=format_name)


@pytest.mark.parametrize("format_name", FORMATS)
def test_reads_samples_into_consistent_objects(format_name, shared_data):
    info = specssb.parsers.get_format(format_name)
    for path in _samples(format_name, shared_data):
        result = _read(format_name, path)
        if info.technique == "echem":
            assert isinstance(result, pd.DataFrame) and len(result) > 0
            for column in ("Test Time / s", "Voltage / V", "Current / A"):
                assert column in result.columns, (path, column)
            assert str(result["Date Time"].dt.tz) == "UTC"
            assert result.attrs["raw_meta"] and result.attrs["source"].format == format_name
            continue
        assert isinstance(result, list) and result, path
        digest = sha256_of(path)
        for spectrum in result:
            assert isinstance(spectrum, Spectrum)
            assert spectrum.technique == info.technique
            assert spectrum.axis.unit == AXIS_UNITS[spectrum.axis.name]
            assert spectrum.data.shape[-1] == spectrum.axis.size
            assert len(spectrum.dims) == spectrum.data.ndim - 1
            assert spectrum.raw_meta, f"{path}: raw_meta is empty"
            assert spectrum.source is not None and spectrum.source.format == format_name
            assert spectrum.source.sha256 == digest
            assert np.isfinite(spectrum.data).any()


@pytest.mark.parametrize("format_name", FORMATS)
def test_sniffer_claims_its_own_samples_and_only_those(format_name, shared_data):
    for path in _samples(format_name, shared_data):
        assert sniff(path).name == format_name, path
    for other, paths in GENERATED.items():
        if other == format_name:
            continue
        info = specssb.parsers.get_format(format_name)
        for path in paths:
            head = b"" if path.is_dir() else path.read_bytes()[:4096]
            assert not info.matches_content(path, head), f"{format_name} claims {path}"


def _tree_hashes(path: Path) -> dict[str, tuple[str, int]]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): (sha256_of(p), p.stat().st_mtime_ns) for p in files}


@pytest.mark.parametrize("format_name", FORMATS)
def test_reading_never_modifies_the_input(format_name, shared_data):
    for path in _samples(format_name, shared_data):
        before = _tree_hashes(path)
        _read(format_name, path)
        assert _tree_hashes(path) == before


def _files(path: Path) -> list[Path]:
    """The files to damage: the sample itself, or every file of a folder format."""
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def _copy(path: Path, tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    target = tmp_path / path.name
    if path.is_dir():
        shutil.copytree(path, target)
    else:
        shutil.copy2(path, target)
    return target


def _cut_mid_row(data: bytes, fraction: float) -> int:
    """An offset near ``fraction`` of the file that cuts a text row after its first field."""
    offset = max(1, int(len(data) * fraction))
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    end = len(data) if end < 0 else end
    line = data[start:end]
    stripped = line.lstrip()
    separator = next((i for i, c in enumerate(stripped) if c in b" \t,;"), None)
    if separator is not None and stripped[separator:].strip():
        return start + (len(line) - len(stripped)) + separator
    return start + max(1, len(line) // 2)


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("fraction", [0.0, 0.003, 0.5, 0.9])
def test_truncated_copies_raise_parse_error(format_name, fraction, shared_data, tmp_path):
    for index, path in enumerate(_samples(format_name, shared_data)[:2]):
        copy = _copy(path, tmp_path / str(index))
        for damaged in _files(copy):
            data = damaged.read_bytes()
            damaged.write_bytes(data[: 0 if fraction == 0.0 else _cut_mid_row(data, fraction)])
        with pytest.raises(ParseError):
            _read(format_name, copy)


@pytest.mark.parametrize("format_name", FORMATS)
def test_random_bytes_raise_parse_error(format_name, shared_data, tmp_path):
    rng = np.random.default_rng(7)
    info = specssb.parsers.get_format(format_name)
    for index, path in enumerate(_samples(format_name, shared_data)[:1]):
        copy = _copy(path, tmp_path / str(index))
        for file in _files(copy):
            file.write_bytes(rng.integers(0, 256, file.stat().st_size, dtype=np.uint8).tobytes())
        with pytest.raises(ParseError):
            _read(format_name, copy)
        if info.magic:
            garbage = tmp_path / f"magic{index}{copy.suffix}"
            garbage.write_bytes(info.magic[0] + rng.integers(0, 256, 2048, dtype=np.uint8).tobytes())
            with pytest.raises(ParseError):
                _read(format_name, garbage)
