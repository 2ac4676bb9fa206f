"""``kill -9`` of a whole ``specssb report`` at random moments, many times (issue 9, durability).

A session A is reported into a store first (the *earlier* session). Then ``specssb report`` of
a session B (the same file in another folder, so its rows are known in advance) is started
again and again with the same ``--store`` and ``--out``, and killed with SIGKILL after a random
time drawn uniformly in ``[0, 1.1 × d]``, ``d`` being the measured duration of one uncut run.
After every kill:

- the store opens and answers queries (``Store.values``, ``Store.query``, ``Store.runs``);
- session A's rows are exactly as before;
- session B is in the store completely or not at all (when complete, its runs are removed so
  that the next attempt writes again);
- no half-written output lies at a final name: ``report.html`` is absent or a whole document,
  ``species_vs_cycle.parquet`` absent or readable, ``species_vs_cycle.csv`` absent or holding
  the same rows.

After the loop an uncut run exits 0 and removes every temporary file left by the killed ones
(in the store and in the report folder), and one more run adds nothing to the store.

Counts: :data:`KILLS` kills, 4 in ``make test``; ``make fuzz`` (``SPECSSB_FUZZ_EXAMPLES >= 2000``)
runs 200; ``SPECSSB_KILL_COUNT`` sets it directly. The random seed is printed and named in every
failure message; ``SPECSSB_KILL_SEED`` replays it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from specssb.report.store import Store

REPO = Path(__file__).resolve().parents[2]
SAMPLE_FILE = REPO / "sample_data" / "xps" / "cell01_cycle00.vms"
EXAMPLES = int(os.environ.get("SPECSSB_FUZZ_EXAMPLES", "6"))
#: Kills of the whole command: 4 in ``make test``, 200 in ``make fuzz``.
KILLS = int(os.environ.get("SPECSSB_KILL_COUNT", "200" if EXAMPLES >= 2000 else "4"))
SEED = int(os.environ.get("SPECSSB_KILL_SEED", str(random.SystemRandom().randrange(2**32))))
#: The identity of a stored result, without the session and the run.
IDENTITY = ["file_sha256", "recipe_hash", "block", "index", "species", "quantity", "extra"]
OUTPUTS = ("report.html", "species_vs_cycle.parquet", "species_vs_cycle.csv")

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9 (POSIX)")


def _command(session: Path, out: Path, store: Path) -> list[str]:
    return [sys.executable, "-c", "from specssb.cli import main; main()", "report", str(session),
            "--out", str(out), "--store", str(store)]


def _environment() -> dict[str, str]:
    return {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _run_whole(session: Path, out: Path, store: Path) -> float:
    """One uncut run; returns its wall-clock duration, s."""
    started = time.perf_counter()
    done = subprocess.run(_command(session, out, store), capture_output=True, text=True,
                          cwd=REPO, env=_environment(), timeout=300)
    duration = time.perf_counter() - started
    assert done.returncode == 0, f"seed {SEED}: uncut run failed:\n{done.stdout}\n{done.stderr}"
    return duration


def _session(folder: Path) -> Path:
    folder.mkdir()
    shutil.copy(SAMPLE_FILE, folder / SAMPLE_FILE.name)
    return folder


def _rows(store: Store, session: str) -> pd.DataFrame:
    """A session's rows, identity and numbers, sorted (comparable across sessions)."""
    frame = store.query("SELECT * FROM results WHERE session = ?", [session])
    columns = [*IDENTITY, "value", "stderr", "converged", "technique"]
    return frame[columns].sort_values(IDENTITY, ignore_index=True)


def _temporaries(*folders: Path) -> list[Path]:
    found: list[Path] = []
    for folder in folders:
        found += folder.glob(".*.tmp")
        found += folder.glob("runs/*/.*.tmp")
    return sorted(found)


def _check_outputs(out: Path, context: str) -> None:
    """Each output at its final name is whole."""
    html = out / "report.html"
    if html.exists():
        text = html.read_text(encoding="utf-8")
        assert text.lstrip().lower().startswith("<!doctype html") and text.rstrip().endswith("</html>"), \
            f"{context}: report.html is not a whole document ({len(text)} characters)"
    parquet, csv = out / "species_vs_cycle.parquet", out / "species_vs_cycle.csv"
    table = pq.read_table(parquet).to_pandas() if parquet.exists() else None
    if csv.exists():
        rows = pd.read_csv(csv)
        if table is not None:
            assert len(rows) == len(table) and list(rows.columns) == list(table.columns), context


def _check_store(store: Store, earlier: pd.DataFrame, expected: pd.DataFrame, context: str) -> bool:
    """The store reads, A is intact, B is whole or absent; returns whether B is there."""
    store.values("li2s")  # opens and answers
    runs = store.runs()
    counts = store.query("SELECT run, count(*) AS n FROM results GROUP BY run")
    assert dict(zip(counts["run"], counts["n"])) == dict(zip(runs["run"], runs["rows"])), context
    pd.testing.assert_frame_equal(_rows(store, "cellA"), earlier, obj=f"{context}: session A")
    later = _rows(store, "cellB")
    if later.empty:
        return False
    assert len(later) == len(expected), \
        f"{context}: session B is partly stored ({len(later)} of {len(expected)} rows)"
    pd.testing.assert_frame_equal(later, expected, obj=f"{context}: session B")
    return True


_DIE_AFTER_FIRST_RUN = (
    "import os, signal\n"
    "from specssb.report.store import Store\n"
    "write = Store._write_run\n"
    "def write_then_die(self, *args, **options):\n"
    "    write(self, *args, **options)\n"
    "    os.kill(os.getpid(), signal.SIGKILL)\n"
    "Store._write_run = write_then_die\n"
    "from specssb.cli import main; main()\n"
)


def test_a_report_killed_right_after_its_first_store_write_leaves_the_session_whole(tmp_path):
    """Regression: the analyses of one report were stored as separate runs, so a kill between
    two of them left the session partly stored. Now a report adds one run."""
    session = _session(tmp_path / "cellB")
    root = tmp_path / "store"
    command = [sys.executable, "-c", _DIE_AFTER_FIRST_RUN, *_command(session, tmp_path / "out", root)[3:]]
    died = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=_environment(),
                          timeout=300)
    assert died.returncode == -signal.SIGKILL, died.stderr
    store = Store(root)
    assert len(store.runs()) == 1
    recipes = store.query("SELECT DISTINCT recipe FROM results")["recipe"].tolist()
    assert len(recipes) > 1, recipes  # several analyses (one XPS recipe per region)
    files = sorted(root.rglob("*.parquet"))
    _run_whole(session, tmp_path / "out", root)
    assert sorted(root.rglob("*.parquet")) == files  # it was all there: the rerun adds nothing


def test_killing_report_at_random_moments_keeps_the_store_and_outputs_whole(tmp_path):
    print(f"\nkill test: {KILLS} kills, seed {SEED} (SPECSSB_KILL_SEED={SEED} replays it)")
    rng = random.Random(SEED)
    session_a, session_b = _session(tmp_path / "cellA"), _session(tmp_path / "cellB")
    root, out = tmp_path / "store", tmp_path / "out"
    store = Store(root)
    duration = _run_whole(session_a, tmp_path / "out_a", root)  # the measured uncut run
    if KILLS > 20:  # a long run: measure again warm (the first run fills the file caches)
        duration = min(duration, _run_whole(session_a, tmp_path / "out_a", root))
    earlier = _rows(store, "cellA")
    assert not earlier.empty
    expected = earlier.copy()  # B holds the same file: the same results
    moments = {"complete": 0, "absent": 0, "leftovers": 0, "exited before the kill": 0}
    for attempt in range(KILLS):
        delay = rng.uniform(0.0, 1.1 * duration)
        context = f"seed {SEED}, kill {attempt} after {delay:.3f} s of {duration:.3f} s"
        for name in OUTPUTS:
            (out / name).unlink(missing_ok=True)
        process = subprocess.Popen(_command(session_b, out, root), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd=REPO, env=_environment())
        time.sleep(delay)
        moments["exited before the kill"] += process.poll() is not None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        _check_outputs(out, context)
        complete = _check_store(store, earlier, expected, context)
        moments["complete" if complete else "absent"] += 1
        moments["leftovers"] += bool(_temporaries(root, out))
        if complete:  # start over, so that the next attempt writes the store again
            for path in (root / "runs" / "cellB").glob("[!.]*"):
                path.unlink()
    print(f"kill test: uncut run {duration:.2f} s; {moments}")
    _run_whole(session_b, out, root)
    assert _temporaries(root, out) == [], f"seed {SEED}: leftovers not removed by the next run"
    assert _check_store(store, earlier, expected, f"seed {SEED}, rerun"), "the rerun stored nothing"
    _check_outputs(out, f"seed {SEED}, rerun")
    assert all((out / name).exists() for name in OUTPUTS)
    files = sorted(root.rglob("*"))
    _run_whole(session_b, out, root)
    assert sorted(root.rglob("*")) == files, f"seed {SEED}: a further rerun changed the store"


#: Rounds of two ``specssb report`` processes writing one store at once: 10 in ``make fuzz``;
#: none in ``make test``, where the store-level race (tests/report/test_store.py) runs instead.
CONCURRENT_ROUNDS = 10 if EXAMPLES >= 2000 else 0


@pytest.mark.skipif(CONCURRENT_ROUNDS == 0, reason="long run only (make fuzz): ~8 s per round")
def test_two_reports_writing_one_store_at_once_store_each_result_once(tmp_path):
    session = _session(tmp_path / "cellB")
    for round_number in range(CONCURRENT_ROUNDS):
        root = tmp_path / f"store{round_number}"
        jobs = [(session, "o1"), (session, "o2")]  # the same session twice, racing for the lock
        processes = [subprocess.Popen(_command(folder, tmp_path / out, root), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True, cwd=REPO, env=_environment())
                     for folder, out in jobs]
        for process in processes:
            _, errors = process.communicate(timeout=300)
            assert process.returncode == 0, errors
        store = Store(root)
        counts = store.query("SELECT session, count(DISTINCT run) AS runs, count(*) AS n, "
                             "count(DISTINCT key) AS keys FROM results GROUP BY session ORDER BY session")
        context = f"round {round_number}"
        assert counts["session"].tolist() == ["cellB"], context
        assert counts["runs"].tolist() == [1], context  # the later of the two added nothing
        assert counts["n"].tolist() == counts["keys"].tolist(), context  # no row twice
        assert len(store.runs()) == 1 and _temporaries(root) == [], context
