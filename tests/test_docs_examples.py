"""The worked examples in the user guide that read ``sample_data/`` run as written."""

from __future__ import annotations

import re
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = ["xas.md", "xps.md", "nmr.md", "raman.md", "tutorial.md", "cases.md"]
#: Walk-throughs: every python block runs, in order, in one namespace, except those on the
#: reader's own session folder "my_session" (test_tutorial_manifest_example builds one).
WALKTHROUGHS = {"tutorial.md"}
#: Pages whose every python block runs, in order, in one namespace (no reader-owned files).
ALL_BLOCKS = {"cases.md"}


def _python_blocks(page: str) -> list[str]:
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _run(page: str, block: int = 0, namespace: dict | None = None) -> dict:
    namespace = {} if namespace is None else namespace
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the examples show the physics warnings they trigger
        exec(compile(_python_blocks(page)[block], f"docs/{page}", "exec"), namespace)  # noqa: S102
    return namespace


def _own_session(text: str) -> bool:
    return '"my_session"' in text


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    """The namespace after the blocks of docs/tutorial.md ran in order (once per module)."""
    namespace: dict = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        # the page writes its store and report with tempfile: keep them under pytest's tmp
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tutorial")))
        for block, text in enumerate(_python_blocks("tutorial.md")):
            if not _own_session(text):
                _run("tutorial.md", block, namespace)
    return namespace


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """The namespace after every block of docs/cases.md ran in order (once per module).

    Figures go to a temporary folder: SPECSSB_WRITE_DOC_FIGURES is unset here, so the test
    never rewrites docs/images (set it to 1 by hand to regenerate the page's figures)."""
    namespace: dict = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        patch.delenv("SPECSSB_WRITE_DOC_FIGURES", raising=False)
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("cases")))
        for block in range(len(_python_blocks("cases.md"))):
            _run("cases.md", block, namespace)
    return namespace


@pytest.mark.parametrize("page", PAGES)
def test_worked_examples_run(page, monkeypatch, request):
    blocks = _python_blocks(page)
    assert blocks, f"docs/{page} has no python example"
    if page in ALL_BLOCKS:
        namespace = request.getfixturevalue(page.removesuffix(".md"))
        assert not namespace["figures"].is_relative_to(REPO)
        assert sorted(p.name for p in namespace["figures"].glob("cases_*.png")) == [
            f"cases_{n}.png" for n in range(1, 9)]
        return
    if page in WALKTHROUGHS:
        assert "sample_data/" in blocks[0], f"docs/{page} does not start from sample_data/"
        assert request.getfixturevalue("tutorial")
        return
    monkeypatch.chdir(REPO)  # the examples use paths relative to the repository
    namespace: dict = {}  # later examples of a page may use what earlier ones made
    runnable = [i for i, text in enumerate(blocks) if "sample_data/" in text]
    assert runnable, f"docs/{page} has no example on sample_data/"
    for block in runnable:  # the others show calls on the reader's own files
        _run(page, block, namespace)


def test_nmr_examples_give_what_the_page_shows(monkeypatch):
    monkeypatch.chdir(REPO)
    ratio = _run("nmr.md", 0)["ratio"]
    assert len(ratio) == 21 and ratio.iloc[0] == pytest.approx(0.001, abs=0.0015)
    assert ratio.iloc[10] == pytest.approx(0.192, abs=0.002)
    assert ratio.iloc[20] == pytest.approx(0.382, abs=0.003)  # truth: 0.02 of the electrolyte line per cycle
    csi = _run("nmr.md", 1)
    regions = csi["change"].regions.set_index("region")["percent"]
    assert regions["bottom"] == pytest.approx(-28.9, abs=0.1) and abs(regions["top"]) < 0.1
    assert abs(csi["filament"]["position_mm"] - 0.30) < 0.0625  # one voxel


def test_xas_example_prints_what_the_page_shows(monkeypatch):
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(_python_blocks("xas.md")[0], "docs/xas.md", "exec"), namespace)  # noqa: S102
    fractions = namespace["lcf"].fractions().round(3)
    assert fractions.iloc[0].tolist() == [0.934, 0.066] and fractions.iloc[1].tolist() == [0.792, 0.208]
    assert round(float(namespace["edges"].half_height_energy[0]), 3) == 8343.071


def test_raman_example_finds_the_unreacted_particles(monkeypatch):
    import json

    import numpy as np

    monkeypatch.chdir(REPO)
    run = _run("raman.md", 0)
    truth = json.loads((REPO / "sample_data" / "truth.json").read_text())
    truth = truth["raman/cell02_lco_lpscl_map_after.wdf"]
    strong = np.array(truth["a1g_snr"]) >= 20
    error = np.abs(run["a1g"].values - np.array(truth["a1g_position_cm-1"]))[strong]
    assert np.nanmax(error) < 0.5  # issue 7: within 0.5 cm-1 where S/N >= 20
    unreacted = np.array(truth["unreacted_mask"]).astype(bool)
    labels = run["clusters"].labels.values
    best = max(((labels == k) & unreacted).sum() / ((labels == k) | unreacted).sum()
               for k in range(4))
    assert best > 0.95  # one cluster is the unreacted particles


def test_tutorial_gives_what_the_page_shows(tutorial):
    import json

    import numpy as np

    truth = json.loads((REPO / "sample_data" / "truth.json").read_text())
    assert "ignored as session.toml asks: truth.json" in tutorial["session"].notes
    assert not tutorial["session"].unreadable
    c1s = {c.recipe: c.origin for c in tutorial["session"].choices() if c.label.endswith("[C 1s]")}
    assert c1s == {"xps-c1s-carbonate": "manifest"}  # the sample's session.toml, 21 files
    # 7Li: the Li metal line is amplitude a of the electrolyte line, so its share is a / (1 + a)
    metal = [truth[f"nmr/cell01_7Li/{cycle + 1}"] for cycle in range(21)]  # EXPNO = cycle + 1
    assert [m["cycle"] for m in metal] == list(range(21))
    amplitude = np.array([m["li_metal_relative_amplitude"] for m in metal])
    expected = amplitude / (1 + amplitude)
    li_metal = tutorial["li_metal"].set_index("cycle")["value"]
    assert list(li_metal.index) == list(range(21))
    assert np.max(np.abs(li_metal.to_numpy() - expected)) < 0.002
    trend = tutorial["trend"].query("species == 'li_metal' and quantity == 'fraction'").iloc[0]
    slope_of_truth = np.polyfit(np.arange(21), expected, 1)[0]  # 0.0141: the share bends over
    assert trend["n_cycles"] == 21 and trend["slope_per_cycle"] == pytest.approx(slope_of_truth, abs=0.001)
    r = tutorial["correlation"].query("species == 'li_metal' and quantity == 'fraction'")
    assert r["n"].iloc[0] == 20 and r["pearson_r"].iloc[0] < -0.99  # more Li metal, less capacity
    assert list(tutorial["summary"]["cycle"]) == list(range(20))  # 20 complete cycles, 1 % fade
    assert tutorial["summary"]["capacity_retention"].iloc[-1] == pytest.approx(0.81, abs=0.005)
    last = tutorial["placed"].query("file == 'xps/cell01_cycle20.vms'")
    assert set(last["cycle"]) == {20}
    assert last["cycle_note"].str.contains("after the cycler record ends").all()
    assert len(tutorial["again"]) == 0 and tutorial["again"].skipped > 0  # the store is idempotent
    html = tutorial["html"]
    assert html.is_file() and not html.is_relative_to(REPO)
    assert (html.parent / "species_vs_cycle.parquet").is_file()


def test_tutorial_manifest_example(tmp_path, monkeypatch):
    """The page's session.toml on copies of a few sample files, run by the page's own code."""
    text = (REPO / "docs" / "tutorial.md").read_text(encoding="utf-8")
    (manifest,) = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    folder = tmp_path / "my_session"
    sample = REPO / "sample_data"
    for name in ("echem", "xas/ni_references"):  # as the page's cp commands
        shutil.copytree(sample / name, folder / name)
    singles = [f"xps/cell01_cycle{cycle:02d}.vms" for cycle in (0, 10)]
    singles += [f"xas/cell01_Ni_K_operando/cell01_Ni_K_{number:03d}.xdi" for number in (1, 8)]
    for name in singles:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample / name, folder / name)
    assert "cp sample_data/xps/cell01_cycle00.vms sample_data/xps/cell01_cycle10.vms my_session/xps/" in text
    (folder / "session.toml").write_text(manifest, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    blocks = [i for i, block in enumerate(_python_blocks("tutorial.md")) if _own_session(block)]
    assert blocks, "docs/tutorial.md has no example on my_session"
    namespace: dict = {}
    for block in blocks:
        _run("tutorial.md", block, namespace)
    choices = {(c.label, c.recipe, c.origin) for c in namespace["session"].choices()}
    assert ("xps/cell01_cycle10.vms [S 2p]", "xps-s2p-argyrodite", "manifest") in choices
    assert ("xps/cell01_cycle10.vms [P 2p]", None, "none") in choices  # auto = false
    placed = namespace["placed"]
    xps = placed[placed["file"].str.startswith("xps/")].drop_duplicates("file").set_index("file")
    assert xps["cycle"].to_dict() == {"xps/cell01_cycle00.vms": 0, "xps/cell01_cycle10.vms": 10}
    assert set(xps["cycle_source"]) == {"tag"} and xps.loc["xps/cell01_cycle10.vms", "state"] == "discharged"
    charged = placed.query("species == 'charged' and quantity == 'fraction'").set_index("file")["value"]
    truth = {"001": 0.066667, "008": 1.0}  # truth.json: the scans' charged fraction
    for number, expected in truth.items():
        scan = f"xas/cell01_Ni_K_operando/cell01_Ni_K_{number}.xdi"
        assert charged[scan] == pytest.approx(expected, abs=0.02)  # the [references] LCF
    assert set(placed.loc[placed["file"].str.startswith("xas/"), "cycle_source"]) == {"cycler"}


def test_cases_give_what_the_page_says(cases):
    """docs/cases.md: each case's headline number against the truth its data were made with."""
    import json

    import numpy as np

    truth = json.loads((REPO / "sample_data" / "truth.json").read_text())
    # 1. synthetic LLTO depth profile: Ti3+ fraction recovered within 2 points at every depth
    assert np.max(np.abs(cases["ti3"].to_numpy() - cases["ti3_truth"])) < 0.02
    # 2. sample XPS, cycles 0-20: Li2S and Li3P grow; every cycle within 3 stderr + the allowance
    #    of tests/report/test_sample_truth.py (Shirley end-level noise, the free polysulfide doublet)
    grown = cases["decomposition"].set_index(["species", "cycle"]).sort_index()
    assert grown["fraction"]["li2s", 20] > grown["fraction"]["li2s", 0] + 0.15
    assert grown["fraction"]["li3p", 20] > grown["fraction"]["li3p", 0] + 0.08
    allowances = {"li2s": ("li2s_fraction_of_S", 0.04), "li3p": ("li3p_fraction_of_P", 0.035)}
    for species, (key, allowance) in allowances.items():
        fitted = grown.loc[species]
        assert list(fitted.index) == list(range(21)), f"{species}: one value per cycle 0-20"
        expected = np.array([truth[f"xps/cell01_cycle{c:02d}.vms"][key] for c in range(21)])
        deviation = np.abs(fitted["fraction"].to_numpy() - expected)
        assert np.all(deviation <= 3 * fitted["fraction_stderr"].to_numpy() + allowance), species
        assert np.corrcoef(fitted["fraction"].to_numpy(), expected)[0, 1] > 0.9  # follows the truth's curve
    # 3. synthetic LLZO: the Li2CO3/LiOH share of O 1s within 2 points at every temperature
    assert np.max(np.abs(cases["surface"]["fraction"].to_numpy() - cases["surface_truth"])) < 0.02
    assert np.max(np.abs(cases["carbonate"]["fraction"].to_numpy() - cases["carbonate_truth"])) < 0.06
    # 4. S K-edge LCF: the uncoated files and the synthetic coated cell within 0.5 points
    files = [truth[f"xas/cell01_S_K_cycle{c:02d}.xdi"]["li2s_fraction_of_S"] for c in (0, 5, 10)]
    assert np.allclose(cases["li2s"]["uncoated"].weights[:, 1], files, atol=0.005)
    assert np.allclose(cases["li2s"]["coated"].weights[:, 1], cases["coated_truth"], atol=0.005)
    # 5. CSI: the filament within one voxel, the bottom-interface loss within 2 points
    csi = truth["nmr/cell02_7Li_csi/2"]
    assert abs(cases["filament"]["refined_mm"] - csi["filament_position_mm"]) < csi["voxel_mm"]
    assert cases["loss"]["bottom"] == pytest.approx(csi["interfacial_loss_percent"], abs=2.0)
    assert abs(cases["loss"]["top"]) < 0.5
    # 6. synthetic EXSY: the exchange rate within 5 %
    assert cases["rates"]["li2s", "k_exchange"] == pytest.approx(3.0, rel=0.05)
    assert cases["rates"]["li2s", "population"] == pytest.approx(0.2, abs=0.01)
    # 7. LCO composite: one k-means cluster is the unreacted particles (IoU > 0.95)
    composite = truth["raman/cell02_lco_lpscl_map_after.wdf"]
    unreacted = np.array(composite["unreacted_mask"]).astype(bool)
    labels = cases["clusters"].labels.values
    assert max(((labels == k) & unreacted).sum() / ((labels == k) | unreacted).sum() for k in range(4)) > 0.95
    # 8. NCM | Li6PS5Cl map: PS4 unshifted, the Li2S fraction map follows the truth
    expected = np.array(truth["raman/cell01_map_cycle10.wdf"]["li2s_fraction_map"])
    found = cases["li2s_map"].values
    assert np.max(np.abs(found - expected)) < 0.08 and np.corrcoef(found.ravel(), expected.ravel())[0, 1] > 0.99
    assert np.max(np.abs(cases["bands"]["ps4", "center"].values - 425.0)) < 0.5
