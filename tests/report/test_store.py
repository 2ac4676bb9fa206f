"""The result store: atomic immutable runs, idempotency, schema versions, DuckDB queries,
robustness to killed writers and to concurrent writers, and ``specssb history``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from specssb.cli import app
from specssb.errors import StoreError
from specssb.report import store as store_module
from specssb.report.store import SCHEMA, STORE_SCHEMA_VERSION, Store

REPO = Path(__file__).resolve().parents[2]
RECIPE = "xps-s2p-argyrodite " + "a" * 64
OTHER_RECIPE = "xps-s2p-argyrodite " + "b" * 64


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _frame(files: dict[str, float], *, recipe: str = RECIPE, species=("ps4", "li2s"),
           **extra: object) -> pd.DataFrame:
    """A fit-table frame: per file, the fraction and area of each species (li2s = value)."""
    rows = []
    for number, (source, li2s) in enumerate(files.items()):
        for name in species:
            fraction = li2s if name == "li2s" else 1 - li2s
            for quantity, value in (("fraction", fraction), ("area", 1000 * fraction)):
                rows.append({"spectrum": number, "source": source, "block": "S 2p", "index": "",
                             "species": name, "quantity": quantity, "value": value,
                             "stderr": 0.01 * value, "unit": "1" if quantity == "fraction" else "cps·eV",
                             "converged": True, "redchi": 1.1, "recipe": recipe, "engine": "batched",
                             **extra})
    return pd.DataFrame(rows)


def _hashes(*names: str) -> dict[str, str]:
    return {name: _hash(name) for name in names}


def _two_sessions(root: Path) -> Store:
    store = Store(root)
    files_a = {"a/c00.vms": 0.05, "a/c05.vms": 0.15, "a/c10.vms": 0.28}
    store.add("cell01", _frame(files_a), file_hashes=_hashes(*files_a), technique="xps",
              tags={"a/c00.vms": {"cycle": 0}, "a/c05.vms": {"cycle": 5},
                    "a/c10.vms": {"cycle": 10, "acquired_at": "2026-03-06T12:00:00+01:00"}})
    files_b = {"b/p.vms": 0.02, "b/c03.vms": 0.10}
    store.add("cell02", _frame(files_b), file_hashes=_hashes(*files_b), technique="xps",
              tags={"b/p.vms": {"cycle": 0, "state_of_charge": 0.0},
                    "b/c03.vms": {"cycle": 3, "state_of_charge": 0.5}})
    return store


def _temporaries(root: Path) -> list[Path]:
    return sorted((root / "runs").glob("*/.*.tmp"))


# ---------------------------------------------------------------------------- writing
def test_a_run_is_one_parquet_file_with_version_and_manifest(tmp_path):
    store = Store(tmp_path)
    added = store.add("cell01", _frame({"x.vms": 0.2}), file_hashes=_hashes("x.vms"))
    assert len(added) == 4 and added.skipped == 0
    assert added.path == tmp_path / "runs" / "cell01" / f"{added.run}.parquet"
    metadata = pq.read_schema(added.path).metadata
    assert int(metadata[b"specssb_store_schema"]) == STORE_SCHEMA_VERSION
    manifest = json.loads(added.path.with_suffix(".json").read_text())
    assert manifest == json.loads(metadata[b"specssb_store_manifest"])
    assert manifest["inputs"] == {"x.vms": _hash("x.vms")}
    assert manifest["recipes"] == {"xps-s2p-argyrodite": "a" * 64}
    assert manifest["session"] == "cell01" and manifest["rows"] == 4
    assert manifest["started_at"] <= manifest["finished_at"]
    assert pq.read_schema(added.path).remove_metadata().equals(SCHEMA)
    assert _temporaries(tmp_path) == []
    # the technique is guessed from the recipe name when not given
    assert set(store.query("SELECT technique FROM results")["technique"]) == {"xps"}


def test_a_failed_write_leaves_no_file_and_the_store_as_it_was(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.add("cell01", _frame({"x.vms": 0.2}), file_hashes=_hashes("x.vms"))

    def write_half_then_fail(table, where, **options):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", write_half_then_fail)
    with pytest.raises(StoreError, match="cannot write the run.*No space left"):
        store.add("cell01", _frame({"y.vms": 0.3}), file_hashes=_hashes("y.vms"))
    monkeypatch.undo()
    assert len(list((tmp_path / "runs").glob("*/*.parquet"))) == 1
    assert _temporaries(tmp_path) == []
    assert store.query("SELECT count(*) AS n FROM results")["n"][0] == 4
    # and the store still takes the run afterwards
    assert len(store.add("cell01", _frame({"y.vms": 0.3}), file_hashes=_hashes("y.vms"))) == 4


def test_half_written_temporary_is_ignored_then_swept_and_lost_manifest_restored(tmp_path):
    store = _two_sessions(tmp_path)
    folder = tmp_path / "runs" / "cell01"
    leftover = folder / ".20260101T000000Z-dead.parquet.x1y2z3.tmp"
    leftover.write_bytes(b"PAR1\x00\x00 killed here")
    first = sorted(folder.glob("*.parquet"))[0]
    first.with_suffix(".json").unlink()  # killed between the data file and its manifest copy
    assert store.query("SELECT count(*) AS n FROM results")["n"][0] == 20
    assert len(store.runs()) == 2  # manifests are read from the Parquet files
    store.add("cell01", _frame({"new.vms": 0.3}), file_hashes=_hashes("new.vms"))
    assert not leftover.exists()
    assert json.loads(first.with_suffix(".json").read_text())["session"] == "cell01"


def test_several_tables_are_stored_as_one_run(tmp_path):
    store = Store(tmp_path)
    s2p, c1s = _frame({"x.vms": 0.2}), _frame({"x.vms": 0.2}, recipe=OTHER_RECIPE, species=("cc",))
    added = store.add("cell01", [s2p, c1s], file_hashes=_hashes("x.vms"))
    assert len(added) == 6 and len(store.runs()) == 1
    assert json.loads(added.path.with_suffix(".json").read_text())["table_rows"] == 6
    # the same identities as when added one by one: nothing new either way
    assert len(store.add("cell01", s2p, file_hashes=_hashes("x.vms"))) == 0
    assert len(store.add("cell01", [c1s, s2p], file_hashes=_hashes("x.vms"))) == 0
    with pytest.raises(StoreError, match="empty list"):
        store.add("cell01", [], file_hashes=_hashes("x.vms"))


# ---------------------------------------------------------------------------- idempotency
def test_rerunning_the_same_files_and_recipe_adds_nothing(tmp_path):
    store = _two_sessions(tmp_path)
    files = {"a/c00.vms": 0.05, "a/c05.vms": 0.15, "a/c10.vms": 0.28}
    before = sorted((tmp_path / "runs").rglob("*"))
    again = store.add("cell01", _frame(files), file_hashes=_hashes(*files), technique="xps")
    assert (len(again), again.skipped, again.run, again.path) == (0, 12, None, None)
    assert sorted((tmp_path / "runs").rglob("*")) == before
    # the same bytes at another path, in another order, are the same results
    moved = {f"/elsewhere/{Path(k).name}": v for k, v in reversed(files.items())}
    moved_hashes = {f"/elsewhere/{Path(k).name}": _hash(k) for k in files}
    assert len(store.add("cell01", _frame(moved), file_hashes=moved_hashes)) == 0
    # one new file: only its rows are new
    grown = {**files, "a/c15.vms": 0.33}
    added = store.add("cell01", _frame(grown), file_hashes=_hashes(*grown))
    assert len(added) == 4 and added.skipped == 12
    assert set(added.rows["source"]) == {"a/c15.vms"}
    # a changed recipe is a new result for every file
    assert len(store.add("cell01", _frame(files, recipe=OTHER_RECIPE), file_hashes=_hashes(*files))) == 12
    # changed file bytes are a new result
    changed = {"a/c00.vms": "e" * 64, "a/c05.vms": _hash("a/c05.vms"), "a/c10.vms": _hash("a/c10.vms")}
    assert len(store.add("cell01", _frame(files), file_hashes=changed)) == 4


def test_identity_keeps_the_index_only_for_files_with_several_spectra(tmp_path):
    store = Store(tmp_path)
    # an XAS-like series of one scan per file: the series position shifts when a scan is added
    series = _frame({"s1.xdi": 0.1, "s2.xdi": 0.2})
    series["index"] = series["spectrum"].astype(str)
    store.add("op", series, file_hashes=_hashes("s1.xdi", "s2.xdi"))
    grown = _frame({"s0.xdi": 0.0, "s1.xdi": 0.1, "s2.xdi": 0.2})
    grown["index"] = grown["spectrum"].astype(str)
    assert len(store.add("op", grown, file_hashes=_hashes("s0.xdi", "s1.xdi", "s2.xdi"))) == 4
    # a map: one file, many spectra, told apart by their index
    pixels = pd.concat([_frame({"map.wdf": v}).assign(index=f"0,{i}") for i, v in enumerate((0.1, 0.2, 0.3))])
    assert len(store.add("op", pixels, file_hashes=_hashes("map.wdf"))) == 12


def test_extra_columns_are_kept_as_json_and_tags_as_columns(tmp_path):
    store = Store(tmp_path)
    frame = _frame({"n/1": 0.1}, species=("electrolyte", "li_metal"), low_ppm=-20.0, n_points=7)
    frame.loc[frame["species"] == "li_metal", "low_ppm"] = 230.0
    frame["cycle"] = 4
    frame["acquired_at"] = pd.Timestamp("2026-03-03T10:00:00", tz="Europe/Berlin")
    store.add("nmr", frame, file_hashes=_hashes("n/1"), technique="nmr")
    got = store.query("SELECT species, cycle, acquired_at, technique, CAST(extra->>'low_ppm' AS DOUBLE) AS low, "
                      "extra FROM results WHERE quantity = 'fraction' ORDER BY species")
    assert got["low"].tolist() == [-20.0, 230.0]
    assert json.loads(got["extra"][0]) == {"low_ppm": -20.0, "n_points": 7}
    assert got["cycle"].tolist() == [4, 4] and set(got["technique"]) == {"nmr"}
    assert got["acquired_at"][0] == pd.Timestamp("2026-03-03T09:00:00", tz="UTC")
    # a different integration window is a different quantity
    wider = frame.assign(low_ppm=frame["low_ppm"] - 5)
    assert len(store.add("nmr", wider, file_hashes=_hashes("n/1"))) == 4


def test_bad_inputs_raise_store_errors(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(StoreError, match="cannot hash source 'no/such.vms'.*file_hashes"):
        store.add("s", _frame({"no/such.vms": 0.1}))
    with pytest.raises(StoreError, match=r"lacks the fit-table columns \['value'\]"):
        store.add("s", _frame({"x": 0.1}).drop(columns="value"), file_hashes=_hashes("x"))
    with pytest.raises(StoreError, match="non-empty"):
        store.add(" ", _frame({"x": 0.1}), file_hashes=_hashes("x"))
    with pytest.raises(StoreError, match="unknown tag 'cylce'"):
        store.add("s", _frame({"x": 0.1}), file_hashes=_hashes("x"), tags={"x": {"cylce": 3}})
    # an odd session name is stored as given, in a safe folder
    added = store.add("../cell 01/..", _frame({"x": 0.1}), file_hashes=_hashes("x"))
    assert added.path.parent.parent == tmp_path / "runs"
    assert store.sessions()["session"].tolist() == ["../cell 01/.."]


def test_source_files_on_disk_are_hashed(tmp_path):
    spectrum_file = tmp_path / "c00.vms"
    spectrum_file.write_bytes(b"VAMAS bytes")
    store = Store(tmp_path / "store")
    store.add("s", _frame({str(spectrum_file): 0.1}))
    digest = hashlib.sha256(b"VAMAS bytes").hexdigest()
    assert set(store.query("SELECT file_sha256 FROM results")["file_sha256"]) == {digest}


# ---------------------------------------------------------------------------- versions
def _foreign_file(path: Path, metadata: dict[bytes, bytes] | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = SCHEMA.empty_table()
    pq.write_table(table.replace_schema_metadata(metadata), path)


@pytest.mark.parametrize(("metadata", "message"), [
    ({b"specssb_store_schema": b"99"}, "written with store schema 99; .* reads schema 1 and older"),
    (None, "not a specssb store file"),
    ({b"specssb_store_schema": b"0"}, "store schema 0 has no migration to schema 1"),
])
def test_unknown_schema_versions_are_refused_naming_the_file(tmp_path, metadata, message):
    store = _two_sessions(tmp_path)
    odd = tmp_path / "runs" / "cell03" / "20300101T000000000000Z-00000000.parquet"
    _foreign_file(odd, metadata)
    for call in (store.sessions, store.runs, lambda: store.values("li2s"),
                 lambda: store.add("cell04", _frame({"q": 0.1}), file_hashes=_hashes("q"))):
        with pytest.raises(StoreError, match=message) as error:
            call()
        assert str(odd) in str(error.value)


def test_an_older_schema_is_read_through_its_migration(tmp_path, monkeypatch):
    store = _two_sessions(tmp_path)
    old = tmp_path / "runs" / "cell00" / "20200101T000000000000Z-00000000.parquet"
    rows = store.query("SELECT * FROM results WHERE session = 'cell02'").assign(session="cell00")
    legacy = pa.Table.from_pandas(rows.drop(columns=["potential_v"]).rename(columns={"value": "val"}),
                                  preserve_index=False)
    old.parent.mkdir()
    pq.write_table(legacy.replace_schema_metadata({b"specssb_store_schema": b"0"}), old)

    def zero_to_one(table):
        table = table.rename_columns(["value" if n == "val" else n for n in table.column_names])
        return table.append_column("potential_v", pa.nulls(len(table), pa.float64())).select(SCHEMA.names)

    monkeypatch.setitem(store_module._MIGRATIONS, 0, zero_to_one)
    got = store.values("li2s", session="cell00")
    assert got["value"].tolist() == pytest.approx([0.02, 0.10])


def test_a_corrupt_run_file_is_named(tmp_path):
    store = _two_sessions(tmp_path)
    bad = tmp_path / "runs" / "cell01" / "20300101T000000000000Z-00000000.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match=f"{bad}: unreadable store file"):
        store.sessions()


# ---------------------------------------------------------------------------- queries
def test_queries_across_two_sessions(tmp_path):
    store = _two_sessions(tmp_path)
    li2s = store.values("Li2S")  # species are matched in any case
    assert li2s["session"].tolist() == ["cell01"] * 3 + ["cell02"] * 2
    assert li2s["cycle"].tolist() == [0, 5, 10, 0, 3]
    assert li2s["value"].tolist() == pytest.approx([0.05, 0.15, 0.28, 0.02, 0.10])
    assert li2s["state_of_charge"].iloc[3:].tolist() == [0.0, 0.5]
    assert li2s["acquired_at"][2] == pd.Timestamp("2026-03-06T11:00:00", tz="UTC")
    assert store.values("li2s", "area", session="cell02")["value"].tolist() == pytest.approx([20, 100])
    assert store.values("li2s", technique="xas").empty
    sessions = store.sessions()
    assert sessions[["session", "runs", "rows", "techniques"]].values.tolist() == [
        ["cell01", 1, 12, "xps"], ["cell02", 1, 8, "xps"]]
    runs = store.runs()
    assert runs["session"].tolist() == ["cell01", "cell02"] and runs["rows"].tolist() == [12, 8]
    assert runs["files"].tolist() == [3, 2] and (runs["schema_version"] == 1).all()
    mean = store.query("SELECT session, avg(value) AS mean FROM results WHERE species = ? AND "
                       "quantity = 'fraction' GROUP BY session ORDER BY session", ["li2s"])
    assert mean["mean"].tolist() == pytest.approx([0.16, 0.06])
    with pytest.raises(StoreError, match="query failed"):
        store.query("SELECT nonsense FROM results")


def test_an_empty_or_absent_store_reads_as_empty(tmp_path):
    store = Store(tmp_path / "never-written")
    assert store.values("li2s").empty and store.sessions().empty and store.runs().empty
    assert list(store.query("SELECT * FROM results").columns) == SCHEMA.names


def test_a_real_fit_table_round_trips(sample_data, tmp_path):
    import warnings

    import specssb
    from specssb.fitting.engine import fit
    from specssb.fitting.recipe import load_recipe

    recipe = load_recipe("xps-s2p-argyrodite")
    spectra = [s for name in ("cell01_cycle00.vms", "cell01_cycle10.vms")
               for s in specssb.read(sample_data / "xps" / name) if recipe.applies_to(s)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # physics warnings of the fit are not the subject here
        table = fit(spectra, recipe)
    store = Store(tmp_path)
    added = store.add("cell01", table, file_hashes={s.source.path: s.source.sha256 for s in spectra},
                      tags={spectra[0].source.path: {"cycle": 0}, spectra[1].source.path: {"cycle": 10}})
    assert len(added) == len(table.frame) and added.skipped == 0
    stored = store.query("SELECT * FROM results ORDER BY spectrum, species, quantity")
    expected = table.frame.sort_values(["spectrum", "species", "quantity"], ignore_index=True)
    np.testing.assert_array_equal(stored["value"].to_numpy(), expected["value"].to_numpy(float))
    assert set(stored["recipe_hash"]) == {recipe.hash}
    assert set(stored["file_sha256"]) == {s.source.sha256 for s in spectra}
    fraction = store.values("li2s")
    assert fraction["cycle"].tolist() == [0, 10]
    assert fraction["value"].iloc[1] > fraction["value"].iloc[0]  # Li2S grows with cycling
    assert len(store.add("cell01", table, file_hashes={s.source.path: s.source.sha256 for s in spectra})) == 0


# ---------------------------------------------------------------------------- processes
_WRITER = textwrap.dedent("""
    import os, signal, sys, time
    import duckdb, pandas as pd, pyarrow.parquet as pq
    import specssb.parsers
    from specssb.report import store as store_module
    from specssb.report.store import Store

    root, name, rounds, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    die = os.environ.get("STORE_TEST_DIE")  # kill -9 ourselves at a chosen moment of the write
    def suicide(*args, **options):
        if die == "write":  # half the bytes are out
            with open(args[1], "wb") as stream:
                stream.write(b"PAR1" + bytes(5000))
        os.kill(os.getpid(), signal.SIGKILL)
    if die == "write":
        pq.write_table = suicide
    elif die == "rename":  # the data file is whole and fsynced, not yet renamed
        os.replace = suicide
    elif die == "manifest":
        store_module._write_manifest = suicide
    shared = pd.DataFrame({"spectrum": 0, "source": "shared.vms", "block": "S 2p",
                           "index": [f"0,{i}" for i in range(size)], "species": "li2s",
                           "quantity": "fraction", "value": 0.5, "stderr": 0.01, "unit": "1",
                           "converged": True, "redchi": 1.0, "recipe": "r " + "c" * 64,
                           "engine": "batched"})
    store = Store(root)
    print("ready", flush=True)
    go = sys.argv[5] if len(sys.argv) > 5 else None
    while go is not None and not __import__("os").path.exists(go):
        time.sleep(0.005)
    for k in range(rounds):
        own = shared.assign(source=f"{name}-{k}.vms", value=float(k))
        store.add(f"own-{name}", own, file_hashes={f"{name}-{k}.vms": f"{k:064x}"})
        store.add("shared", shared, file_hashes={"shared.vms": "f" * 64})
""")


def _writer(root: Path, name: str, rounds: int, size: int, go: Path | None = None,
            die: str = "") -> subprocess.Popen:
    arguments = [sys.executable, "-c", _WRITER, str(root), name, str(rounds), str(size)]
    process = subprocess.Popen(arguments + ([str(go)] if go else []), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=REPO,
                               env={**os.environ, "STORE_TEST_DIE": die})
    assert process.stdout is not None and process.stdout.readline().strip() == "ready", \
        process.stderr.read() if process.stderr else ""
    return process


def _check_consistent(store: Store) -> pd.DataFrame:
    """Every run file is whole (its rows = its manifest's count) and no key is stored twice."""
    runs = store.runs()
    counts = store.query("SELECT run, count(*) AS n FROM results GROUP BY run")
    assert dict(zip(counts["run"], counts["n"])) == dict(zip(runs["run"], runs["rows"]))
    duplicates = store.query("SELECT session, key FROM results GROUP BY ALL HAVING count(*) > 1")
    assert duplicates.empty
    return runs


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9 (POSIX)")
@pytest.mark.parametrize("moment", ["write", "rename", "manifest"])
def test_a_writer_killed_inside_the_write_leaves_earlier_runs_intact(tmp_path, moment):
    store = _two_sessions(tmp_path)
    process = _writer(tmp_path, "dying", 1, 100, die=moment)
    assert process.wait(timeout=60) == -signal.SIGKILL
    left = _temporaries(tmp_path)
    assert len(left) == (1 if moment in ("write", "rename") else 0)
    runs = _check_consistent(store)
    # killed before the rename: no run; after it (manifest copy missing): the run is whole
    assert len(runs) == (3 if moment == "manifest" else 2)
    assert store.values("li2s", session="cell01")["value"].tolist() == pytest.approx([0.05, 0.15, 0.28])
    store.add("after", _frame({"a.vms": 0.2}), file_hashes=_hashes("a.vms"))
    assert _temporaries(tmp_path) == []
    assert all(path.with_suffix(".json").exists() for path in store.runs()["path"])


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9 (POSIX)")
def test_killing_a_writer_at_random_moments_leaves_the_store_readable(tmp_path):
    store = Store(tmp_path)
    store.add("earlier", _frame({"e.vms": 0.1}), file_hashes=_hashes("e.vms"))
    seen: dict[str, int] = {}
    rng = random.Random(8)
    for attempt in range(5):
        process = _writer(tmp_path, f"k{attempt}", 1000, 5_000)
        time.sleep(rng.uniform(0.05, 1.0))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        runs = _check_consistent(store)
        now = dict(zip(runs["run"], runs["rows"]))
        assert {run: now.get(run) for run in seen} == seen  # earlier runs intact
        seen = now
        assert store.values("li2s", session="earlier")["value"].tolist() == [pytest.approx(0.1)]
    assert len(seen) >= 2  # the writers got somewhere before being killed
    store.add("after", _frame({"a.vms": 0.2}), file_hashes=_hashes("a.vms"))  # the lock was freed
    assert _temporaries(tmp_path) == []
    _check_consistent(store)


#: Runs each concurrent writer adds: 4, and 40 under ``make fuzz`` (SPECSSB_FUZZ_EXAMPLES >= 2000).
CONCURRENT_ROUNDS = 40 if int(os.environ.get("SPECSSB_FUZZ_EXAMPLES", "0")) >= 2000 else 4


def test_two_processes_adding_at_once_neither_corrupt_nor_duplicate(tmp_path):
    go = tmp_path / "go"
    rounds = CONCURRENT_ROUNDS
    writers = [_writer(tmp_path / "store", name, rounds, 2_000, go) for name in ("p", "q")]
    go.touch()
    for process in writers:
        assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
    store = Store(tmp_path / "store")
    _check_consistent(store)
    rows = store.query("SELECT session, count(*) AS n, count(DISTINCT run) AS runs FROM results "
                       "GROUP BY session ORDER BY session")
    assert rows.values.tolist() == [["own-p", 2000 * rounds, rounds], ["own-q", 2000 * rounds, rounds],
                                    ["shared", 2000, 1]]
    assert _temporaries(tmp_path / "store") == []


# ---------------------------------------------------------------------------- command line
def test_history_command_prints_a_table_and_csv(tmp_path):
    _two_sessions(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["history", "li2s", "--store", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "c10.vms" in line]
    assert len(lines) == 1 and "cell01" in lines[0] and "0.28" in lines[0] and "10" in lines[0]
    assert "2026-03-06 11:00" in lines[0]
    result = runner.invoke(app, ["history", "LI2S", "--quantity", "area", "--store", str(tmp_path),
                                 "--csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.output))
    assert table["value"].tolist() == pytest.approx([50, 150, 280, 20, 100])
    assert table["session"].tolist() == ["cell01"] * 3 + ["cell02"] * 2


def test_history_command_errors_are_one_line(tmp_path):
    _two_sessions(tmp_path / "store")
    runner = CliRunner()
    result = runner.invoke(app, ["history", "li3p", "--store", str(tmp_path / "store")])
    assert result.exit_code == 1
    assert "StoreError: no 'fraction' of species 'li3p'" in result.output
    assert "li2s/fraction" in result.output
    result = runner.invoke(app, ["history", "li2s", "--store", str(tmp_path / "absent")])
    assert result.exit_code == 1 and "StoreError: no store at" in result.output
