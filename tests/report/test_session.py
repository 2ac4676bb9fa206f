"""Sessions: the sample folder planned without a manifest, manifests (globs, tags, recipe files,
references), bad manifests, and bad files that never stop a run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from specssb.errors import ConfigError
from specssb.parsers import discover, sha256_of
from specssb.report._session_manifest import parse_manifest
from specssb.report.session import Session, SpectrumRef

OPERANDO = "xas/cell01_Ni_K_operando"


# ---------------------------------------------------------------------- the sample session
@pytest.fixture(scope="module")
def sample_session() -> Session:
    return Session.open(Path(__file__).resolve().parents[2] / "sample_data")


def test_every_sample_file_is_recognised_or_reported(sample_session: Session) -> None:
    found = {p.relative_to(sample_session.folder).as_posix() for p, _, _ in discover(sample_session.folder)}
    # the manifest is configuration, and it asks to ignore the ground truth (not a measurement)
    assert {f.relative for f in sample_session.files} == found - {"session.toml", "truth.json"}
    for item in sample_session.files:
        assert item.status in ("read", "cycler", "unrecognised", "failed")
        if item.status == "read":
            assert item.spectra and item.sha256 and len(item.sha256) == 64
        else:
            assert item.status == "cycler" or item.error
    assert "ignored as session.toml asks: truth.json" in sample_session.notes
    assert not [f for f in sample_session.files if f.status in ("failed", "unrecognised")]
    assert sample_session.cycler == sample_session.folder / "echem" / "cell01_GCPL.mpt"
    assert sample_session.manifest is not None and sample_session.manifest.ignore == ["truth.json"]


def test_sample_plan_chooses_by_region_element_and_nucleus(sample_session: Session) -> None:
    plan = {a.label: a for a in sample_session.plan()}
    choices = sample_session.choices()
    by_file: dict[str, set[str | None]] = {}
    for choice in choices:
        by_file.setdefault(choice.spectrum.file, set()).add(choice.recipe)
        assert choice.reason
    # every spectrum of every readable file has a decision
    assert {c.spectrum for c in choices} == {
        SpectrumRef(f.relative, i) for f in sample_session.readable for i in range(len(f.spectra))}

    s2p = [c for c in choices if c.label.endswith("[S 2p]")]
    assert len(s2p) >= 2
    for choice in s2p:
        assert choice.recipe == "xps-s2p-argyrodite" and choice.origin == "auto"
        assert "region S 2p matches [select] region 'S 2p'" in choice.reason
        # the wider oxidized-interphase model is refused because its window leaves the data
        assert dict(choice.rejected)["xps-s2p-cathode-interphase"].endswith("runs past the data (155–170 eV)")
    assert {a.recipe.name for a in plan.values() if a.recipe.technique == "xps"} == {
        "xps-s2p-argyrodite", "xps-p2p-argyrodite", "xps-c1s-carbonate", "xps-o1s-oxide-carbonate",
        "xps-li1s-interphase"}
    # C 1s: the manifest's carbonate recipe, not the automatic choice
    c1s = [c for c in choices if c.label.endswith("[C 1s]")]
    assert len(c1s) == 21 and all(c.recipe == "xps-c1s-carbonate" and c.origin == "manifest" for c in c1s)

    # the operando Ni K-edge folder is one series for the Ni K recipe; its references are not scans
    ni = plan[f"xas-ni-k-soc on {OPERANDO}"]
    assert ni.kind == "xas" and len(ni.spectra) == 30
    assert all(f.startswith(OPERANDO + "/") for f in ni.files)
    assert "element Ni matches [select] element 'Ni'; edge K matches [select] edge 'K'" in ni.reason
    refs = [c for c in choices if c.spectrum.file.startswith("xas/ni_references/")]
    assert len(refs) == 2 and all(c.origin == "reference" and c.recipe is None for c in refs)
    assert "of recipe xas-ni-k-soc" in refs[0].reason
    assert plan["xas-s-k-li2s on xas"].files == tuple(
        f"xas/cell01_S_K_cycle{n}.xdi" for n in ("00", "05", "10", "15", "20"))

    # 7Li: processed 1D spectra get the peak recipe, the raw CSI data sets the CSI recipe
    metal = plan["nmr-7li-metal"]
    assert set(metal.files) >= {f"nmr/cell01_7Li/{n}" for n in range(1, 22)} | {"nmr/cell01_7Li_cycle10.jdx"}
    assert all(s.axis.unit == "ppm" and not s.leading_shape for s in metal.spectra)
    assert "nucleus 7Li matches [select] nucleus '7Li'" in metal.reason
    csi = plan["nmr-csi-li-profile"]
    assert csi.kind == "csi" and csi.files == tuple(f"nmr/cell02_7Li_csi/{n}" for n in (1, 2, 3))
    csi_choice = next(c for c in choices if c.spectrum.file == "nmr/cell02_7Li_csi/1")
    assert "glob '*csi*'" in csi_choice.reason
    assert "raw fid" in dict(csi_choice.rejected)["nmr-7li-metal"]

    # Raman: the interphase bands on every map, the LCO bands only where the data reach them
    assert by_file["raman/cell01_map_cycle10.wdf"] == {"raman-argyrodite-interphase"}
    for name in ("before", "after"):
        assert by_file[f"raman/cell02_lco_lpscl_map_{name}.wdf"] == {
            "raman-argyrodite-interphase", "raman-lco-soc"}
    cell01 = next(c for c in choices if c.spectrum.file == "raman/cell01_map_cycle10.wdf")
    assert "li2s at" in cell01.reason and "preferred over raman-ps4-band" in cell01.reason
    assert "450–680 cm-1 runs past the data" in dict(cell01.rejected)["raman-lco-soc"]
    assert plan["raman-lco-soc"].kind == "band_maps"


# ---------------------------------------------------------------------- manifests
def _copy(sample_data: Path, target: Path, *relative: str) -> None:
    for name in relative:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_data / name, target / name)


def _recipe_file(path: Path) -> None:
    from specssb.fitting.recipe import load_recipe

    text = load_recipe("xps-s2p-argyrodite").to_toml().replace(
        'name = "xps-s2p-argyrodite"', 'name = "my-s2p"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_manifest_globs_tags_recipe_files_and_references(sample_data: Path, tmp_path: Path) -> None:
    scans = [f"{OPERANDO}/cell01_Ni_K_{n:03d}.xdi" for n in range(1, 9)]
    _copy(sample_data, tmp_path, "xps/cell01_cycle00.vms", "xps/cell01_cycle10.vms", *scans,
          "xas/ni_references/NMC811_charged_Ni_K.xdi", "xas/ni_references/NMC811_discharged_Ni_K.xdi")
    _recipe_file(tmp_path / "recipes" / "my-s2p.toml")
    (tmp_path / "session.toml").write_text("""\
sample = "cell01"
cell = "NMC811 | Li6PS5Cl | Li-In"

[references]
charged = "xas/ni_references/NMC811_charged_Ni_K.xdi"
discharged = "xas/ni_references/NMC811_discharged_Ni_K.xdi"

[[analysis]]
glob = "xps/*.vms"
recipe = "recipes/my-s2p.toml"

[[analysis]]
glob = "xas/cell01_Ni_K_operando/*.xdi"
recipe = "xas-lcf"

[[tags]]
glob = "xps/*"
temperature_c = 25.0

[[tags]]
glob = "xps/*cycle10*"
cycle = 10
state = "discharged"

[[tags]]
glob = "xps/*cycle00*"
cycle = 0
""", encoding="utf-8")
    session = Session.open(tmp_path)
    assert session.sample == "cell01" and session.cycler is None
    assert session.file("xps/cell01_cycle10.vms").tags == {"temperature_c": 25.0, "cycle": 10,
                                                           "state": "discharged"}
    plan = {a.label: a for a in session.plan()}
    mine = plan["my-s2p"]
    assert mine.origin == "session.toml [[analysis]] #1 (line 8)"
    assert [s.meta["region"] for s in mine.spectra] == ["S 2p", "S 2p"]
    # regions no [[analysis]] covers are still planned, automatically
    assert plan["xps-p2p-argyrodite"].origin == "auto"
    lcf = plan[f"xas-lcf on {OPERANDO}"]
    assert len(lcf.spectra) == 8 and set(lcf.references) == {"charged", "discharged"}
    refs = [c for c in session.choices() if c.origin == "reference"]
    assert sorted(c.reason for c in refs) == [
        "reference spectrum 'charged' of session.toml [references]; not analysed as a scan",
        "reference spectrum 'discharged' of session.toml [references]; not analysed as a scan"]

    steps: list[tuple[int, int, str]] = []
    result = session.run(progress=lambda done, total, label: steps.append((done, total, label)))
    assert steps[0][:2] == (0, len(plan)) and steps[-1] == (len(plan), len(plan), "done")
    assert not result.failed and all(r.error is None for r in result.analyses)
    frame = result.frame()
    assert {"file", "file_sha256", "acquired_at", "sample", "cycle", "state", "temperature_c",
            "analysis"} <= set(frame.columns)
    assert (frame["sample"] == "cell01").all()
    for name, rows in frame.groupby("file"):
        assert set(rows["file_sha256"]) == {sha256_of(tmp_path / name)}
    assert frame["acquired_at"].notna().all()

    # the state of charge in the operando scans comes back from LCF against the named references
    truth = json.loads((sample_data / "truth.json").read_text())
    charged = frame[(frame["analysis"] == f"xas-lcf on {OPERANDO}") & (frame["species"] == "charged")
                    & (frame["quantity"] == "fraction")]
    assert len(charged) == 8
    for _, row in charged.iterrows():
        assert row["value"] == pytest.approx(truth[row["file"]]["state_of_charge"], abs=0.02)

    # the recipe from the session's file fits S 2p, rows tagged per file: Li2S grows with cycling
    s2p = frame[(frame["analysis"] == "my-s2p") & (frame["quantity"] == "fraction")
                & frame["species"].isin(["li2s", "li2s_2p12"])]
    assert s2p["recipe"].str.startswith("my-s2p ").all()
    li2s = s2p.groupby("cycle")["value"].sum()
    assert li2s[10] > li2s[0] + 0.1
    assert li2s[10] == pytest.approx(truth["xps/cell01_cycle10.vms"]["li2s_fraction_of_S"], abs=0.03)
    assert set(frame.loc[frame["file"] == "xps/cell01_cycle10.vms", "state"]) == {"discharged"}


def test_manifest_without_auto_plans_only_its_analyses(sample_data: Path, tmp_path: Path) -> None:
    _copy(sample_data, tmp_path, "xps/cell01_cycle00.vms", "echem/cell01_GCPL.mpt")
    # an instrument clock that writes local time without a zone: read in the session's zone
    text = (sample_data / "xas/cell01_S_K_cycle00.xdi").read_text(encoding="utf-8")
    assert "# Scan.start_time: 2026-03-02T08:50:00+00:00" in text
    (tmp_path / "xas").mkdir()
    (tmp_path / "xas/local_clock.xdi").write_text(
        text.replace("2026-03-02T08:50:00+00:00", "2026-03-02T08:50:00"), encoding="utf-8")
    (tmp_path / "session.toml").write_text(
        'cycler = "echem/cell01_GCPL.mpt"\n[options]\nauto = false\ntimezone = "Europe/Berlin"\n'
        '[[analysis]]\nglob = "xps/*.vms"\nrecipe = "xps-p2p-argyrodite"\n'
        '[[analysis]]\nglob = "xps/*.vms"\nrecipe = "xps-s2p-cathode-interphase"\n'
        '[[analysis]]\nglob = "xas/*.xmu"\nrecipe = "xas-normalize"\n', encoding="utf-8")
    session = Session.open(tmp_path)
    assert session.timezone == "Europe/Berlin"
    local = session.file("xas/local_clock.xdi").spectra[0].meta["acquired_at"]
    assert local.isoformat() == "2026-03-02T07:50:00+00:00"  # 08:50 CET is 07:50 UTC
    # named explicitly, a recipe runs even where the automatic choice would refuse it (its
    # window reaches past this S 2p scan); nothing is chosen automatically
    assert [a.label for a in session.plan()] == ["xps-p2p-argyrodite", "xps-s2p-cathode-interphase"]
    unplanned = [c for c in session.choices() if c.origin != "manifest"]
    assert [c.label for c in unplanned] == ["xas/local_clock.xdi", "xps/cell01_cycle00.vms [C 1s]",
                                            "xps/cell01_cycle00.vms [O 1s]", "xps/cell01_cycle00.vms [Li 1s]"]
    assert all(c.recipe is None and "auto = false" in c.reason for c in unplanned)
    assert session.cycler == tmp_path / "echem" / "cell01_GCPL.mpt"
    assert session.plan_notes == [
        "session.toml [[analysis]] #3 (line 11): glob 'xas/*.xmu' matches no readable file"]


# ---------------------------------------------------------------------- bad manifests
@pytest.mark.parametrize(("text", "line", "key", "words"), [
    ('sample = "x"\n[[analysis]]\nglob = "*.vms"\nrecipie = "xps-s2p-argyrodite"\n', 4, "recipie",
     "unknown key; did you mean 'recipe'?"),
    ('sampel = "x"\n', 1, "sampel", "did you mean 'sample'?"),
    ('[options]\ntimezone = "Mars/Olympus"\n', 2, "timezone", "unknown time zone"),
    ('[[tags]]\nglob = "*"\ncycle = [1, 2]\n', 3, "cycle", "a tag is one scalar"),
    ('[[tags]]\nglob = "*"\nvalue = 3\n', 3, "value", "is a column of the result tables"),
    ('cycler = "../other/cell.mpt"\n', 1, "cycler", "leads out of the session folder"),
    ('[references]\nref = "/etc/passwd"\n', 2, "ref", "is absolute"),
    ('[[analysis]]\nglob = "../*.vms"\nrecipe = "xps-s2p-argyrodite"\n', 2, "glob", "climbs out"),
    ('[[analysis]]\nglob = "*.vms"\nrecipe = "xps-s2p-argyrodyte"\n', 3, "recipe",
     "no built-in recipe named 'xps-s2p-argyrodyte'; did you mean 'xps-s2p-argyrodite'?"),
    ('[[analysis]]\nglob = "*.vms"\nrecipe = "recipes/none.toml"\n', 3, "recipe", "not found"),
    ('[references]\nref = "xas/missing.xdi"\n', 2, "ref", "not found in the session folder"),
    ('sample = "x\n', 1, None, "TOML syntax error"),
])
def test_bad_manifest_names_file_line_and_key(tmp_path: Path, text: str, line: int,
                                              key: str | None, words: str) -> None:
    (tmp_path / "session.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Session.open(tmp_path)
    error = caught.value
    assert error.path == str(tmp_path / "session.toml")
    assert (error.line, error.key) == (line, key)
    assert words in error.reason


def test_symlink_out_of_the_folder_is_refused_unless_allowed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "cell.mpt").write_text("x", encoding="utf-8")
    folder = tmp_path / "session"
    folder.mkdir()
    (folder / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match="leads out of the session folder") as caught:
        parse_manifest('cycler = "link/cell.mpt"\n', root=folder)
    assert (caught.value.line, caught.value.key) == (1, "cycler")
    allowed = parse_manifest('allow_outside = true\ncycler = "../outside/cell.mpt"\n', root=folder)
    assert allowed.cycler == "../outside/cell.mpt"


# ---------------------------------------------------------------------- bad files
def test_corrupt_files_are_listed_and_the_run_completes(sample_data: Path, tmp_path: Path) -> None:
    scans = [f"{OPERANDO}/cell01_Ni_K_{n:03d}.xdi" for n in (1, 8, 15)]
    _copy(sample_data, tmp_path, "xps/cell01_cycle10.vms", *scans)
    good = (sample_data / "xps/cell01_cycle10.vms").read_bytes()
    (tmp_path / "xps/broken.vms").write_bytes(good[: len(good) // 2])  # truncated mid-block
    (tmp_path / "notes.qqq").write_text("not a spectrum\n", encoding="utf-8")
    # a reference spectrum that cannot be read: the XAS analysis fails, nothing else does
    reference = (sample_data / "xas/ni_references/NMC811_charged_Ni_K.xdi").read_text()
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs/charged.xdi").write_text(reference[: len(reference) // 3] + "\nnan nan x\n")
    shutil.copy(sample_data / "xas/ni_references/NMC811_discharged_Ni_K.xdi", tmp_path / "refs")
    (tmp_path / "session.toml").write_text(
        '[references]\ncharged = "refs/charged.xdi"\n'
        'discharged = "refs/NMC811_discharged_Ni_K.xdi"\n', encoding="utf-8")

    session = Session.open(tmp_path)
    unreadable = {f.relative: f for f in session.unreadable}
    assert set(unreadable) == {"xps/broken.vms", "notes.qqq", "refs/charged.xdi"}
    assert unreadable["xps/broken.vms"].status == "failed"
    assert "ParseError" in unreadable["xps/broken.vms"].error
    assert unreadable["notes.qqq"].status == "unrecognised"

    result = session.run()
    by_label = {r.label: r for r in result.analyses}
    xas = by_label[f"xas-ni-k-soc on {OPERANDO}"]
    assert xas.table is None and "refs/charged.xdi" in xas.error
    stages = {(f.file, f.stage) for f in result.failed}
    assert {("xps/broken.vms", "read"), ("notes.qqq", "format"), ("refs/charged.xdi", "read")} <= stages
    assert {(name, xas.label) for name in scans} <= stages
    s2p = by_label["xps-s2p-argyrodite"]
    assert s2p.error is None and set(s2p.table.frame["file"]) == {"xps/cell01_cycle10.vms"}
    assert s2p.table.frame["converged"].all()


def test_reference_and_calibration_files_are_not_analysed_as_samples():
    from specssb.report.session import _is_reference_file

    assert _is_reference_file("raman/si_reference_532nm.sif")
    assert _is_reference_file("xas/ni_references/NMC811_charged_Ni_K.xdi")
    assert _is_reference_file("raman/Calibration-Ne.spe")
    assert not _is_reference_file("xps/cell01_cycle00.vms")
    assert not _is_reference_file("raman/preferences.wdf")  # whole words only
