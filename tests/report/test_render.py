"""The session report: sections, inline figures, no network reference, escaped file text, the
species-versus-cycle numbers beside it, and ``specssb report`` / ``specssb demo``."""

from __future__ import annotations

import base64
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import escape
from typer.testing import CliRunner

from specssb.cli import app
from specssb.report.echem import read_cycler_table
from specssb.report.render import collapse_warnings, render_report
from specssb.report.session import Session, SessionResult
from specssb.report.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
XPS = SAMPLE / "xps" / "cell01_cycle00.vms"
HOSTILE_SAMPLE = '<script>alert(1)</script>"onload=alert(2)'
HOSTILE_COMMENT = "<img src=x onerror=alert(3)>"
HOSTILE_NAME = "<svg onload=alert(4)>.dat"
HOSTILE_TITLE = '<script>alert(6)</script>"onload=alert(7)'
_DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
runner = CliRunner()


class _Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory,
                  sample_result: SessionResult) -> tuple[Path, str, object]:
    """The report of sample_data/, rendered once."""
    out = tmp_path_factory.mktemp("report")
    result = sample_result
    cycler = read_cycler_table(result.session.cycler)
    path = render_report(result, cycler=cycler, out=out)
    return path, path.read_text(encoding="utf-8"), result


# ---------------------------------------------------------------------- the sample report
def test_sample_report_has_every_section(sample_report: tuple[Path, str, object]) -> None:
    path, html, result = sample_report
    assert path.name == "report.html"
    ids = {attrs.get("id") for _, attrs in _tags(html)}
    assert {"summary", "cycling", "technique-xps", "technique-xas", "technique-nmr",
            "technique-raman", "trends", "choices", "warnings", "provenance"} <= ids
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    for expected in ("cycling", "fit of xps/cell01_cycle00.vms S 2p", "band area maps of raman/",
                     "edge position and component fractions over time, cycling curve beneath",
                     "linear combination fit of scan 0", "CSI integrals versus position",
                     "species versus cycle", "fit of nmr/cell01_7Li/1"):
        assert any(c.startswith(expected) for c in captions), expected
    # every analysis, recipe hash and file hash is in the report; the failure with its reason
    for analysis in result.analyses:
        assert analysis.analysis.recipe.hash in html
    for item in result.session.files:
        assert item.sha256 is None or item.sha256 in html
    assert "ignored as session.toml asks: truth.json" in html  # the manifest's ignore, said
    # every warning an analysis raised is in the report (the Raman maps' unconverged pixels …)
    raised = [(analysis.label, message) for analysis in result.analyses for message in analysis.warnings]
    assert any("did not converge" in message for _, message in raised)
    listed = [message for group in collapse_warnings(raised) for message in group["messages"]]
    assert listed and all(str(escape(message)) in html for message in listed)
    # the C 1s charge-reference caveat: said once for all 21 XPS files and the 5 regions
    assert html.count("adventitious C 1s referencing (284.8 eV) is approximate") == 1
    assert re.search(r"PhysicsWarning: 21 files \(\S*sample_data/xps/cell01_cycle00\.vms,", html)
    assert "PhysicsWarning" in html
    for package in ("numpy", "scipy", "lmfit", "xraylarch"):
        assert f"<td>{package}</td>" in html
    # every spectrum's recipe choice and its reason
    assert html.count("nmr-7li-metal: nucleus 7Li matches") >= 12


def test_sample_report_embeds_figures_as_png_data_uris(sample_report: tuple[Path, str, object]) -> None:
    _, html, _ = sample_report
    images = [attrs["src"] for tag, attrs in _tags(html) if tag == "img"]
    assert len(images) >= 25
    for src in images:
        assert src is not None and _DATA_URI.fullmatch(src)
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_sample_report_makes_no_network_reference(sample_report: tuple[Path, str, object]) -> None:
    _, html, _ = sample_report
    for tag, attrs in _tags(html):
        assert tag not in ("script", "link", "iframe", "object", "embed", "base", "form"), tag
        for name, value in attrs.items():
            if name == "src":
                assert value is not None and value.startswith("data:image/png;base64,")
            if name == "href":
                assert value is not None and value.startswith("#"), value
            assert not name.startswith("on"), name
    outside_data = _DATA_URI.sub("data:", html)
    assert not re.search(r"https?:|src\s*=\s*(?![\"']?data:)|url\(|@import", outside_data, re.I)


def test_sample_report_writes_species_vs_cycle(sample_report: tuple[Path, str, object]) -> None:
    path, _, _ = sample_report
    table = pd.read_parquet(path.parent / "species_vs_cycle.parquet")
    csv = pd.read_csv(path.parent / "species_vs_cycle.csv")
    assert len(table) == len(csv) > 0
    assert {"technique", "species", "quantity", "cycle", "value", "stderr", "n_spectra", "unit",
            "analysis"} <= set(table.columns)
    pd.testing.assert_series_equal(table["value"].astype(float), csv["value"].astype(float),
                                   check_exact=False, rtol=1e-9)
    # what the sample session measured, on which cycles (sample_data/README.md)
    xps = table[(table["technique"] == "xps") & (table["species"] == "li2s")
                & (table["quantity"] == "fraction")]
    assert sorted(xps["cycle"].astype(int)) == list(range(21))
    sulfur_k = table[(table["analysis"] == "xas-s-k-li2s on xas")]
    assert set(sulfur_k["cycle"].astype(int)) == {0, 5, 10, 15, 20}
    assert set(table["technique"]) == {"xps", "xas", "nmr", "raman"}


# ---------------------------------------------------------------------- hostile text
def _hostile_session(folder: Path) -> Path:
    """One real-looking VAMAS file whose sample name and comment are HTML, a Bruker experiment
    whose title is HTML, a file named like HTML, and a manifest sample that is HTML too."""
    folder.mkdir()
    text = XPS.read_bytes().decode("latin-1")
    text = text.replace("cell01 NMC811|Li6PS5Cl|Li-In", HOSTILE_SAMPLE)
    text = text.replace("cycle 0, after discharge to 3.0 V; transferred under Ar", HOSTILE_COMMENT)
    (folder / "hostile.vms").write_bytes(text.encode("latin-1"))
    (folder / HOSTILE_NAME).write_text("not a spectrum\n", encoding="utf-8")
    bruker = folder / "nmr" / "1"  # a 7Li experiment whose title (pdata/1/title) is HTML
    shutil.copytree(SAMPLE / "nmr" / "cell01_7Li" / "1", bruker)
    (bruker / "pdata" / "1" / "title").write_text(HOSTILE_TITLE + "\n", encoding="utf-8")
    (folder / "session.toml").write_text('sample = "<b onmouseover=alert(5)>cell</b>"\n',
                                         encoding="utf-8")
    return folder


def test_text_from_files_is_escaped(tmp_path: Path) -> None:
    folder = _hostile_session(tmp_path / "session")
    result = Session.open(folder).run()
    assert result.session.file("hostile.vms").spectra[0].meta["sample"] == HOSTILE_SAMPLE
    html = render_report(result, out=tmp_path / "out").read_text(encoding="utf-8")
    assert result.session.file("nmr/1").spectra[0].meta["title"] == HOSTILE_TITLE
    for raw in (HOSTILE_SAMPLE, '"onload=', HOSTILE_COMMENT, "<svg", "<script", HOSTILE_TITLE):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(6)&lt;/script&gt;&#34;onload=alert(7)" in html  # Bruker title
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;onload=alert(2)" in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in html
    assert "&lt;svg onload=alert(4)&gt;.dat" in html
    assert "<title>specssb report: &lt;b onmouseover=alert(5)&gt;cell&lt;/b&gt;</title>" in html
    assert "<b onmouseover" not in html
    assert {tag for tag, _ in _tags(html)}.isdisjoint({"script", "svg"})
    assert all(attrs.get("src", "data:").startswith("data:") for _, attrs in _tags(html))


# ---------------------------------------------------------------------- the command line
def _xps_session(folder: Path, *, broken: bool) -> Path:
    folder.mkdir()
    for name in ("cell01_cycle00.vms", "cell01_cycle10.vms"):
        shutil.copy(SAMPLE / "xps" / name, folder / name)
    if broken:
        data = XPS.read_bytes()
        (folder / "broken.vms").write_bytes(data[: len(data) // 3])
    return folder


def test_report_command_writes_the_report_and_stores_once(tmp_path: Path) -> None:
    folder = _xps_session(tmp_path / "session", broken=False)
    out, store = tmp_path / "out", tmp_path / "store"
    first = runner.invoke(app, ["report", str(folder), "--out", str(out), "--store", str(store)])
    assert first.exit_code == 0, first.output
    assert (out / "report.html").is_file() and (out / "species_vs_cycle.csv").is_file()
    rows = Store(store).query("SELECT count(*) AS n FROM results")["n"].iloc[0]
    assert rows > 0
    again = runner.invoke(app, ["report", str(folder), "--out", str(out), "--store", str(store)])
    assert again.exit_code == 0, again.output
    assert Store(store).query("SELECT count(*) AS n FROM results")["n"].iloc[0] == rows
    assert "(nothing new)" in (out / "report.html").read_text(encoding="utf-8")


def test_report_command_exit_codes(tmp_path: Path) -> None:
    folder = _xps_session(tmp_path / "partial", broken=True)
    out = tmp_path / "out"
    partial = runner.invoke(app, ["report", str(folder), "--out", str(out), "--no-store"])
    assert partial.exit_code == 3, partial.output
    assert "broken.vms" in partial.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "broken.vms" in html and "ParseError" in html
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "notes.dat").write_text("nothing to analyse\n", encoding="utf-8")
    nothing = runner.invoke(app, ["report", str(empty), "--out", str(tmp_path / "o2"), "--no-store"])
    assert nothing.exit_code == 1, nothing.output
    assert (tmp_path / "o2" / "report.html").is_file()  # written anyway, listing the failure
    missing = runner.invoke(app, ["report", str(tmp_path / "absent"), "--no-store"])
    assert missing.exit_code == 1
    assert missing.stderr.startswith("ConfigError")


def test_collapse_warnings_lists_each_warning_once() -> None:
    items = [("s2p", "PhysicsWarning: x/a.vms: charge reference approximate"),
             ("p2p", "PhysicsWarning: x/a.vms: charge reference approximate"),
             ("s2p", "PhysicsWarning: x/b.vms: charge reference approximate"),
             ("p2p", "PhysicsWarning: x/b.vms: charge reference approximate"),
             ("s2p", "ConvergenceWarning: 1 of 22 spectra did not converge"),
             ("nmr", "PhysicsWarning: nmr/cell/3: line outside the window"),
             ("nmr", "PhysicsWarning: nmr/cell/4: another text")]
    assert collapse_warnings(items) == [
        {"label": "s2p, p2p",
         "messages": ["PhysicsWarning: 2 files (x/a.vms, x/b.vms): charge reference approximate"]},
        {"label": "s2p", "messages": ["ConvergenceWarning: 1 of 22 spectra did not converge"]},
        {"label": "nmr", "messages": ["PhysicsWarning: nmr/cell/3: line outside the window",
                                     "PhysicsWarning: nmr/cell/4: another text"]},
    ]
