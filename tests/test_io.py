"""Atomic outputs: the temporary files of killed writers are swept, live writers' are kept."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from specssb._io import atomic_path, sweep_temporaries


@pytest.mark.skipif(os.name == "nt", reason="processes are not probed on Windows")
def test_only_temporaries_of_dead_processes_are_swept(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead = int(finished.stdout)  # this process has exited: its pid names no running process
    left = tmp_path / f".report.html.{dead}-abc123.tmp"
    alive = tmp_path / f".report.html.{os.getppid()}-def456.tmp"  # our parent runs
    other = tmp_path / f".notes.txt.{dead}-ghi789.tmp"  # not a target we were asked about
    for path in (left, alive, other):
        path.write_text("half")
    with atomic_path(tmp_path / "report.html") as mine:  # our own write in progress
        mine.write_text("whole")
        assert mine.name.startswith(f".report.html.{os.getpid()}-")
        assert sweep_temporaries(tmp_path, ["report.html"]) == [left]
        assert mine.exists()
    assert not left.exists() and alive.exists() and other.exists()
    assert (tmp_path / "report.html").read_text() == "whole"
