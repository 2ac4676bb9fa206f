"""The committed sample session is exactly what its generator writes, and every file reads."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
from pathlib import Path

import pytest

import specssb
from specssb.parsers import discover

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_data"


def _load_generator():
    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLES / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _instrument_items(root: Path):
    """What discover() finds, less the ground truth and the session manifest (no format
    claims them: they are not measurements)."""
    return [item for item in discover(root) if item[0].name not in ("truth.json", "session.toml")]


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "writers" not in p.parts and p.suffix != ".py" and p.name != "README.md"
        and "__pycache__" not in p.parts
    }


def test_generator_reproduces_the_committed_files(tmp_path):
    _load_generator().main(tmp_path)
    committed, regenerated = _files(SAMPLES), _files(tmp_path)
    assert sorted(regenerated) == sorted(committed)
    changed = [name for name in committed if committed[name] != regenerated[name]]
    assert not changed, f"regenerate with 'make sample-data': {changed}"


def test_every_sample_file_reads_and_is_described_in_the_readme():
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    patterns = [p for p in re.findall(r"`([^`]+)`", readme) if "*" in p]  # a series: name_*.xdi
    items = _instrument_items(SAMPLES)
    assert items and all(info is not None for _, info, _ in items), items
    for path, info, _ in items:
        relative = str(path.relative_to(SAMPLES))
        described = relative in readme or any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)
        assert described, f"{relative} is not described in sample_data/README.md"
        if info.technique == "echem":
            assert len(specssb.read_cycler(path)) > 0
        else:
            assert specssb.read(path)


def test_truth_names_every_sample():
    truth = json.loads((SAMPLES / "truth.json").read_text())
    names = {str(p.relative_to(SAMPLES)) for p, _, _ in _instrument_items(SAMPLES)}
    assert names == set(truth)


@pytest.mark.parametrize("cycle", [0, 10, 20])
def test_xps_samples_carry_the_regions_and_acquisition_times(cycle):
    regions = specssb.read(SAMPLES / "xps" / f"cell01_cycle{cycle:02d}.vms")
    assert [r.meta["region"] for r in regions] == ["S 2p", "P 2p", "C 1s", "O 1s", "Li 1s"]
    assert all(r.axis.name == "binding_energy" for r in regions)
    s2p = regions[0].axis.values
    assert s2p.max() == pytest.approx(170.0, abs=1e-6) and s2p.min() == pytest.approx(155.0, abs=1e-6)
    assert regions[0].meta["acquired_at"].year == 2026


def test_jcamp_export_equals_the_topspin_processed_spectrum():
    exported = specssb.read(SAMPLES / "nmr" / "cell01_7Li_cycle10.jdx")[0]
    processed = specssb.read(SAMPLES / "nmr" / "cell01_7Li" / "11", data="processed")[0]
    assert exported.source.format == "jcamp-nmr" and exported.meta["nucleus"] == "7Li"
    assert abs(exported.axis.values - processed.axis.values).max() < 1e-9  # ppm
    assert (exported.data == processed.data).all()


def test_silicon_reference_gives_its_calibration_offset():
    from specssb.fitting.raman.calibrate import fit_si_band

    truth = json.loads((SAMPLES / "truth.json").read_text())["raman/si_reference_532nm.sif"]
    spectrum = specssb.read(SAMPLES / "raman" / "si_reference_532nm.sif")[0]
    assert spectrum.source.format == "andor-sif" and spectrum.axis.name == "raman_shift"
    found = fit_si_band(spectrum)
    assert abs(found.offset_cm1 - truth["measured_offset_cm-1"]) < 0.05



def test_sample_session_stays_under_10_mb():
    """Issue 8: the whole sample study (generator and writers included) is under 10 MB."""
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert total < 10_000_000, f"{total / 1e6:.2f} MB"


def test_xps_after_every_cycle_0_to_20():
    """One XPS file per cycle, each stamped after its cycle's discharge, in cycle order."""
    files = sorted((SAMPLES / "xps").glob("cell01_cycle*.vms"))
    assert [f.name for f in files] == [f"cell01_cycle{c:02d}.vms" for c in range(21)]
    times = [specssb.read(f)[0].meta["acquired_at"] for f in files]
    hours = [(t - times[0]).total_seconds() / 3600 for t in times]
    assert hours == pytest.approx([10.0 * c for c in range(21)])
