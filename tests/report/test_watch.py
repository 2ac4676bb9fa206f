"""Watch mode: files taken in only once complete (half-written and temporary files left alone),
a corrupt file reported once, incremental re-runs, and a final report equal to ``specssb report``;
``specssb watch`` ending by idle timeout, SIGINT and SIGTERM."""

from __future__ import annotations

import collections
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from specssb import parsers
from specssb.cli import app
from specssb.report.watch import Watcher, WatchEvent

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
NI = "xas/cell01_Ni_K_operando"
runner = CliRunner()


def _settle(watcher: Watcher) -> list[WatchEvent]:
    """Poll until everything present has been unchanged for the settle time."""
    events: list[WatchEvent] = []
    for _ in range(watcher.settle_polls + 1):
        events += watcher.poll_once()
    return events


def _copy(relative: str, folder: Path) -> None:
    source, target = SAMPLE / relative, folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)


def _sections_and_captions(html: str) -> tuple[set[str], list[str]]:
    sections = set(re.findall(r'<section[^>]*\bid="([^"]+)"', html))
    return sections, sorted(re.findall(r"<figcaption>(.*?)</figcaption>", html))


def _names(events: list[WatchEvent], kind: str) -> list[str]:
    return [e.relative for e in events if e.kind == kind]


def test_watcher_takes_files_as_completed_and_reports_as_specssb_report(tmp_path: Path) -> None:
    folder = tmp_path / "session"
    folder.mkdir()
    watcher = Watcher(folder, settle_polls=2)
    events: list[WatchEvent] = []

    # a complete XPS file is read once it has been unchanged for two polls, not before
    _copy("xps/cell01_cycle00.vms", folder)
    assert watcher.poll_once() == [] and watcher.poll_once() == []
    assert watcher.pending == ["xps/cell01_cycle00.vms"]
    first = watcher.poll_once()
    assert first == [WatchEvent("taken", "xps/cell01_cycle00.vms", "vamas, 5 spectra")]
    events += first
    assert [f.relative for f in watcher.session.files] == ["xps/cell01_cycle00.vms"]

    # temporary and hidden files are never items, even with a readable format inside
    vamas = (SAMPLE / "xps" / "cell01_cycle10.vms").read_bytes()
    temporary = ["xps/~cell01_cycle10.vms", "xps/cell01_cycle10.vms.part", "xps/copy.tmp",
                 "xps/.cell01_cycle10.vms.swp", ".cache/cell01_cycle10.vms"]
    for name in temporary:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(vamas)
    assert _settle(watcher) == []

    # a file written slowly: never read while it grows, read whole once it stops
    slow = folder / "xps" / "cell01_cycle10.vms"
    step = len(vamas) // 5 + 1
    with slow.open("wb") as stream:
        for start in range(0, len(vamas), step):
            stream.write(vamas[start:start + step])
            stream.flush()
            assert watcher.poll_once() == []
            assert "xps/cell01_cycle10.vms" in watcher.pending
    events += _settle(watcher)
    assert events[-1] == WatchEvent("taken", "xps/cell01_cycle10.vms", "vamas, 5 spectra")

    # a corrupt file that never completes: reported once as failed after settling, then quiet
    (folder / "xps" / "broken.vms").write_bytes(vamas[: len(vamas) // 3])
    assert watcher.poll_once() == []
    broken = _settle(watcher)
    assert [(e.kind, e.relative) for e in broken] == [("failed", "xps/broken.vms")]
    assert "ParseError" in broken[0].message and "truncated" in broken[0].message
    assert _settle(watcher) == []
    events += broken
    xps_tables = {a.label: a.table for a in watcher.result.analyses}

    # an XAS scan cut at a line boundary reads as a shorter scan: the watcher waits for all of it
    _copy(f"{NI}/cell01_Ni_K_001.xdi", folder)
    events += _settle(watcher)
    scan = f"{NI}/cell01_Ni_K_002.xdi"
    lines = (SAMPLE / scan).read_bytes().splitlines(keepends=True)
    (folder / scan).write_bytes(b"".join(lines[:300]))
    full = parsers.read(SAMPLE / scan)[0].axis.size
    assert parsers.read(folder / scan)[0].axis.size < full  # what reading it now would give
    for _ in range(watcher.settle_polls):
        assert watcher.poll_once() == []
    (folder / scan).write_bytes(b"".join(lines))
    events += _settle(watcher)
    assert watcher.session.file(scan).spectra[0].axis.size == full
    for name in ("cell01_Ni_K_003.xdi", "cell01_Ni_K_004.xdi"):
        _copy(f"{NI}/{name}", folder)
        events += _settle(watcher)
    assert {a.label: a.error is None for a in watcher.result.analyses}[f"xas-ni-k-soc on {NI}"] is False
    _copy("xas/ni_references", folder)  # the references arrive last: the XAS series runs again
    events += _settle(watcher)
    assert all(a.error is None for a in watcher.result.analyses)

    # a Bruker experiment folder whose fid is still being acquired is one item, read when done
    experiment = "nmr/cell01_7Li/1"
    shutil.copytree(SAMPLE / experiment, folder / experiment, ignore=shutil.ignore_patterns("fid"))
    fid = (SAMPLE / experiment / "fid").read_bytes()
    (folder / experiment / "fid").write_bytes(fid[: len(fid) // 2])
    assert watcher.poll_once() == []
    (folder / experiment / "fid").write_bytes(fid)
    nmr = _settle(watcher)
    assert nmr == [WatchEvent("taken", experiment, "bruker, 1 spectrum")]
    events += nmr
    # only the NMR analysis ran: the XPS fits are the same objects as before
    for label, table in xps_tables.items():
        assert next(a.table for a in watcher.result.analyses if a.label == label) is table

    # the cycler file grows during the measurement and is read once it stops
    record = (SAMPLE / "echem" / "cell01_GCPL.mpt").read_bytes()
    cycler = folder / "echem" / "cell01_GCPL.mpt"
    cycler.parent.mkdir()
    for end in (len(record) // 3, 2 * len(record) // 3, len(record)):
        cycler.write_bytes(record[:end])
        assert watcher.poll_once() == []
    events += _settle(watcher)
    assert watcher.session.cycler == cycler

    for name in temporary:  # `specssb report` would read these: the folders must be the same
        (folder / name).unlink()
    assert _settle(watcher) == []
    assert watcher.up_to_date

    taken = collections.Counter(_names(events, "taken"))
    assert set(taken.values()) == {1}
    assert set(taken) == {"xps/cell01_cycle00.vms", "xps/cell01_cycle10.vms", experiment,
                          "echem/cell01_GCPL.mpt", "xas/ni_references/NMC811_charged_Ni_K.xdi",
                          "xas/ni_references/NMC811_discharged_Ni_K.xdi",
                          *(f"{NI}/cell01_Ni_K_00{k}.xdi" for k in range(1, 5))}
    assert _names(events, "failed") == ["xps/broken.vms"]

    # the final report is the one `specssb report` writes on the same folder
    watched, _ = watcher.write_report(tmp_path / "watched")
    reported = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "reported"),
                                   "--no-store"])
    assert reported.exit_code == 3, reported.output  # the broken file
    ours = pd.read_csv(watched.parent / "species_vs_cycle.csv")
    theirs = pd.read_csv(tmp_path / "reported" / "species_vs_cycle.csv")
    assert len(ours) and set(ours["technique"]) == {"xps", "xas", "nmr"}
    assert set(ours["cycle"].dropna().astype(int)) == {0, 10}  # placed on the cycler record
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-9)
    html_ours = watched.read_text(encoding="utf-8")
    html_theirs = (tmp_path / "reported" / "report.html").read_text(encoding="utf-8")
    assert _sections_and_captions(html_ours) == _sections_and_captions(html_theirs)
    assert "xps/broken.vms" in html_ours and "still being written" not in html_ours


def test_items_still_being_written_are_left_out_and_named(tmp_path: Path) -> None:
    folder = tmp_path / "session"
    _copy("xps/cell01_cycle00.vms", folder)
    watcher = Watcher(folder)
    _settle(watcher)
    growing = folder / "xps" / "cell01_cycle10.vms"
    growing.write_bytes((SAMPLE / "xps" / "cell01_cycle10.vms").read_bytes()[:4000])
    watcher.poll_once()
    path, result = watcher.write_report(tmp_path / "out")
    assert [f.relative for f in result.session.files] == ["xps/cell01_cycle00.vms"]
    assert not result.failed
    assert "xps/cell01_cycle10.vms" in path.read_text(encoding="utf-8")  # named as left out


# ---------------------------------------------------------------------- the command
def test_watch_command_refuses_a_missing_folder(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["watch", str(tmp_path / "absent"), "--no-store", "--idle", "0"])
    assert missing.exit_code == 1
    assert missing.stderr.startswith("ConfigError") and "absent" in missing.stderr


class _Output:
    """Lines of a subprocess stream, collected by a thread."""

    def __init__(self, stream) -> None:  # noqa: ANN001 - a text pipe
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:  # noqa: ANN001
        for line in stream:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            try:
                self.lines.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0.01)))
            except queue.Empty:
                raise AssertionError(f"{text!r} not printed; got {self.lines}") from None

    def rest(self) -> str:
        while not self._queue.empty():
            self.lines.append(self._queue.get())
        return "".join(self.lines)


def _start(folder: Path, *options: str) -> tuple[subprocess.Popen[str], _Output]:
    command = [sys.executable, "-c", "from specssb.cli import main; main()", "watch", str(folder),
               "--poll", "0.2", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    return process, _Output(process.stdout)


def test_watch_command_ends_on_idle_and_stores_once(tmp_path: Path) -> None:
    folder, out, store = tmp_path / "session", tmp_path / "out", tmp_path / "store"
    (folder / "xps").mkdir(parents=True)
    process, output = _start(folder, "--idle", "2", "--out", str(out), "--store", str(store))
    try:
        _copy("xps/cell01_cycle00.vms", folder)
        output.wait_for("+ xps/cell01_cycle00.vms: vamas, 5 spectra")
        data = (SAMPLE / "xps" / "cell01_cycle10.vms").read_bytes()
        with (folder / "xps" / "cell01_cycle10.vms").open("wb") as stream:
            for start in range(0, len(data), 4096):
                stream.write(data[start:start + 4096])
                stream.flush()
                time.sleep(0.05)
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        process.kill()
    text = output.rest()
    assert text.count("+ xps/cell01_cycle10.vms: vamas, 5 spectra") == 1
    assert f"idle for 2 s: 5 of 5 analyses → {out / 'report.html'}" in text
    assert (out / "report.html").is_file() and (out / "species_vs_cycle.csv").is_file()
    # the results went to the store: `specssb report` on the folder adds nothing more
    again = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "again"),
                                "--store", str(store)])
    assert again.exit_code == 0, again.output
    assert "(nothing new)" in (tmp_path / "again" / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("sent", "said"), [(signal.SIGINT, "interrupted"),
                                            (signal.SIGTERM, "terminated")])
def test_watch_command_writes_the_report_on_a_signal(tmp_path: Path, sent: int, said: str) -> None:
    folder, out = tmp_path / "session", tmp_path / "out"
    folder.mkdir()
    process, output = _start(folder, "--idle", "600", "--out", str(out), "--no-store")
    try:
        _copy("xps/cell01_cycle00.vms", folder)
        output.wait_for("+ xps/cell01_cycle00.vms")
        process.send_signal(sent)
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        process.kill()
    assert f"{said}: 5 of 5 analyses → {out / 'report.html'}" in output.rest()
    assert "xps/cell01_cycle00.vms" in (out / "report.html").read_text(encoding="utf-8")
