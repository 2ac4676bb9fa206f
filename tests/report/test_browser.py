"""The session report as headless Chromium shows it, with the network shut: every figure loaded
and visible, no request beyond the file, no script run from file text; and ``--pdf``.

The browser tests skip when no Chromium is installed (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from specssb.cli import app
from specssb.errors import BrowserError
from specssb.report.browser import find_chromium, inspect_report, print_pdf
from specssb.report.render import render_report
from specssb.report.session import Session, SessionResult

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
XPS = SAMPLE / "xps" / "cell01_cycle00.vms"
# file text that would run a script, log, and open a dialog if the report did not escape it
INJECTED_SAMPLE = ('<script>window.specssbInjected = 1; console.log("injected")</script>'
                   '"onload="window.specssbInjected = 2')
INJECTED_COMMENT = '<img src=x onerror="window.specssbInjected = 3; alert(3)">'
INJECTED_NAME = "<svg onload=alert(4)>.dat"
PROBE = ("[typeof window.specssbInjected, document.querySelectorAll('script, svg').length, "
         "document.body.innerText.includes('<script>window.specssbInjected')]")
needs_chromium = pytest.mark.skipif(
    find_chromium() is None,
    reason="no Chromium (install Debian's chromium: apt-get install chromium, or set SPECSSB_CHROMIUM)")
runner = CliRunner()


@pytest.fixture(scope="module")
def sample_report(sample_result: SessionResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of sample_data/ (every figure kind: cycling, fits, species versus cycle, XAS
    scans, LCF and edge track, NMR fits, CSI profiles, Raman maps), from the shared run."""
    return render_report(sample_result, out=tmp_path_factory.mktemp("report"))


# ---------------------------------------------------------------------- a real report
@needs_chromium
def test_report_shows_every_figure_and_asks_for_nothing(sample_report: Path) -> None:
    page = inspect_report(sample_report)
    figures = len(re.findall(r"<figure>", sample_report.read_text(encoding="utf-8")))
    assert figures >= 25
    assert len(page.images) == figures
    for image in page.images:
        assert image.kind == "data"
        assert image.complete and image.natural_width > 100 and image.natural_height > 100, image
        assert image.width > 0 and image.height > 0 and image.visible, image
    assert page.requests == () and page.blocked == () and page.failed_loads == ()
    assert page.console == () and page.exceptions == () and page.dialogs == ()
    assert page.problems() == []


# ---------------------------------------------------------------------- the checker can fail
@needs_chromium
def test_checker_reports_external_and_broken_images_and_scripts(tmp_path: Path) -> None:
    page_file = tmp_path / "bad.html"
    page_file.write_text(
        '<!doctype html><html><body><img src="http://example.com/x.png">'
        '<img src="data:image/png;base64,AAAA"><img src="data:image/png;base64,AAAA" hidden>'
        '<script>window.specssbInjected = 1; console.error("injected")</script></body></html>',
        encoding="utf-8")
    page = inspect_report(page_file, probe="typeof window.specssbInjected")
    problems = page.problems()
    assert "image 1 (http://example.com/x.png) not loaded" in problems
    assert "image 2 (data:image/png;base64,AAAA) not loaded" in problems
    assert "image 3 (data:image/png;base64,AAAA) is hidden" in problems
    # the external request was asked for, and failed by the checker before it left the browser
    assert page.requests == ("http://example.com/x.png",)
    assert page.blocked == ("http://example.com/x.png",)
    assert any(line.startswith("http://example.com/x.png: net::ERR_BLOCKED_BY_CLIENT")
               for line in page.failed_loads)
    assert "request beyond the page: http://example.com/x.png" in problems
    # a script that did run is seen: its global and its console output
    assert page.probe == "number"
    assert "console error: injected" in problems


def test_missing_file_is_a_browser_error(tmp_path: Path) -> None:
    with pytest.raises(BrowserError, match="no such file"):
        inspect_report(tmp_path / "absent.html")


# ---------------------------------------------------------------------- file text runs nothing
def _injected_session(folder: Path) -> Path:
    """A real VAMAS file whose sample name and comment are markup, and a file named like markup."""
    folder.mkdir()
    text = XPS.read_bytes().decode("latin-1")
    text = text.replace("cell01 NMC811|Li6PS5Cl|Li-In", INJECTED_SAMPLE)
    text = text.replace("cycle 0, after discharge to 3.0 V; transferred under Ar", INJECTED_COMMENT)
    (folder / "injected.vms").write_bytes(text.encode("latin-1"))
    (folder / INJECTED_NAME).write_text("not a spectrum\n", encoding="utf-8")
    return folder


@needs_chromium
def test_markup_in_file_text_runs_no_script(tmp_path: Path) -> None:
    result = Session.open(_injected_session(tmp_path / "session")).run()
    assert result.session.file("injected.vms").spectra[0].meta["sample"] == INJECTED_SAMPLE
    report = render_report(result, out=tmp_path / "out")
    page = inspect_report(report, probe=PROBE)
    injected_global, scripts_and_svgs, shown_as_text = page.probe
    assert injected_global == "undefined" and scripts_and_svgs == 0
    assert shown_as_text  # the markup is on the page as text
    assert page.console == () and page.dialogs == () and page.exceptions == ()
    assert page.requests == () and page.problems() == []


# ---------------------------------------------------------------------- PDF
@needs_chromium
def test_report_pdf_option_writes_a_pdf(tmp_path: Path) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    shutil.copy(XPS, folder / XPS.name)
    out = tmp_path / "out"
    done = runner.invoke(app, ["report", str(folder), "--out", str(out), "--no-store", "--pdf"])
    assert done.exit_code == 0, done.output
    content = (out / "report.pdf").read_bytes()
    assert content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", content)) >= 1
    assert (out / "report.html").is_file()
    assert not list(out.glob(".*.tmp"))  # written atomically, nothing left behind


def test_pdf_without_chromium_says_so_and_keeps_the_html(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECSSB_CHROMIUM", str(tmp_path / "no-chromium"))
    assert find_chromium() is None
    folder = tmp_path / "session"
    folder.mkdir()
    shutil.copy(XPS, folder / XPS.name)
    out = tmp_path / "out"
    done = runner.invoke(app, ["report", str(folder), "--out", str(out), "--no-store", "--pdf"])
    assert done.exit_code == 2, done.output
    assert "--pdf needs Chromium" in done.stderr and "apt-get install chromium" in done.stderr
    assert (out / "report.html").is_file() and not (out / "report.pdf").exists()
    with pytest.raises(BrowserError, match="no Chromium found.*apt-get install chromium"):
        print_pdf(out / "report.html", out / "report.pdf")


# ---------------------------------------------------------------------- a browser that fails
def _fake_browser(folder: Path, body: str) -> Path:
    """An executable that stands in for Chromium and runs ``body`` (sh)."""
    fake = folder / "fake-chromium"
    fake.write_text(f"#!/bin/sh\necho $$ > {folder / 'pid'}\n{body}\n", encoding="utf-8")
    fake.chmod(0o755)
    return fake


@pytest.mark.parametrize(("body", "message"), [
    ("exec sleep 60", "did not answer Target.createTarget in time"),
    ("echo 'cannot open display' >&2; exit 1", "Chromium exited; its log ends: cannot open display"),
])
def test_a_browser_that_hangs_or_dies_is_an_error_and_cleaned_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str) -> None:
    monkeypatch.setenv("SPECSSB_CHROMIUM", str(_fake_browser(tmp_path, body)))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the profile goes
    page_file = tmp_path / "page.html"
    page_file.write_text("<p>hello</p>", encoding="utf-8")
    with pytest.raises(BrowserError, match=re.escape(message)):
        inspect_report(page_file, timeout_s=2)
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pid, 0)
    assert list(scratch.iterdir()) == []  # the temporary profile is gone


def test_find_chromium_looks_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPECSSB_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_chromium() is None
    fake = tmp_path / "chromium-browser"
    fake.write_text("#!/bin/sh\n", encoding="utf-8")
    fake.chmod(0o755)
    assert find_chromium() == fake
    monkeypatch.setenv("SPECSSB_CHROMIUM", str(fake))
    assert find_chromium() == fake
