"""Fixtures shared by the report tests: the sample session, run once per test run."""

from __future__ import annotations

from pathlib import Path

import pytest

from specssb.report.session import Session, SessionResult

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="session")
def sample_result() -> SessionResult:
    """``Session.open(sample_data).run()``: every analysis of the sample session (~16 s).

    Shared by the modules that read it; they must not modify it (results are frozen objects)."""
    return Session.open(SAMPLE).run()


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder ``specssb demo`` writes for sample_data/ (what ``make demo`` runs), run once."""
    from typer.testing import CliRunner

    from specssb.cli import app

    out = tmp_path_factory.mktemp("demo") / "demo_output"
    outcome = CliRunner().invoke(app, ["demo", "--data", str(SAMPLE), "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    return out
