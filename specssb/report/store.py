"""The result store: every fitted quantity of every session, durable and queryable.

Layout on disk (``root`` is any folder)::

    <root>/
      .lock                                  advisory lock taken by writers (never by readers)
      runs/<session dir>/<run id>.parquet    one immutable file per run: the new rows
      runs/<session dir>/<run id>.json       its manifest (a copy of the Parquet metadata)

A *run* is one call of :meth:`Store.add`: the rows of a fit table that the store did not hold
yet. The run id is ``<UTC time>-<random>`` (``20260302T080000123456Z-1a2b3c4d``), so file names
sort by time. A file is written once, atomically (temporary file beside it, fsync, rename, fsync
of the folder) and never modified; readers glob ``*.parquet``, so a temporary file left by a
killed process (``.<name>.<pid>-<random>.tmp``) is never read and is removed by the next writer.

**Rows** (:data:`SCHEMA`, version :data:`STORE_SCHEMA_VERSION`): the FitTable columns
(``spectrum source block index species quantity value stderr unit converged redchi recipe
engine``) plus ``session``, ``run``, ``technique``, ``file_sha256``, ``recipe_hash``,
``acquired_at`` (UTC), ``cycle``, ``state_of_charge``, ``potential_v``, ``extra`` and ``key``.
Every other column of the table (NMR integrals' ``low_ppm``/``high_ppm``/``n_points``/
``noise_rms``, relaxation ``model``, …) is kept, not dropped: ``extra`` holds them as one JSON
object per row (``NULL`` when there are none), readable in SQL with DuckDB's JSON functions
(``extra->>'low_ppm'``).

**Identity and idempotency.** ``key`` is a hash of (session, file sha256, recipe hash, block,
index, species, quantity, extra). Rows whose key the session already holds are skipped, so
re-running the same files with the same recipe adds nothing. Two deliberate choices:

- the session is part of the identity: a reference file used by two sessions is recorded in
  each (a query per session then sees all of its numbers);
- ``index`` counts only where one file (and block) gave several spectra in the table (maps,
  pseudo-2D series): an XAS series of one scan per file labels each scan by its position in the
  series, which moves when a scan is added, so there the file hash alone names the spectrum.

The source *path* and the ``spectrum`` number are not part of the identity (a moved file, or a
different order of the same files, is the same result).

**Schema versions.** Each file carries ``specssb_store_schema`` in its Parquet metadata. Reading
a file written with a newer schema, without a version, or unreadable raises :class:`StoreError`
naming the file; an older version is read through :data:`_MIGRATIONS` (none exist yet: version 1
is the first).

**Concurrency.** Writers take an exclusive advisory lock on ``<root>/.lock`` (``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows) for the check-keys-then-write step, so two processes
adding the same session at once cannot both add a row. The kernel releases the lock when a
process dies, even by ``kill -9``. Readers take no lock: they only ever see whole files. On a
network file system without working locks, use one writer at a time.

Queries run in DuckDB over the files (``read_parquet``), exposed as the view ``results``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from specssb._io import atomic_path, fsync_directory, jsonable
from specssb._version import __version__
from specssb.errors import StoreError

__all__ = ["SCHEMA", "STORE_SCHEMA_VERSION", "Added", "Store", "default_store"]

STORE_SCHEMA_VERSION = 1
_VERSION_KEY = b"specssb_store_schema"
_MANIFEST_KEY = b"specssb_store_manifest"
_FIT_COLUMNS = ("spectrum", "source", "block", "index", "species", "quantity", "value", "stderr",
                "unit", "converged", "redchi", "recipe", "engine")
_TAG_COLUMNS = ("technique", "acquired_at", "cycle", "state_of_charge", "potential_v")
_TECHNIQUES = ("xps", "xas", "nmr", "raman")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _schema() -> Any:
    import pyarrow as pa

    string = pa.string()
    return pa.schema([
        ("session", string), ("run", string), ("technique", string), ("source", string),
        ("file_sha256", string), ("block", string), ("index", string), ("spectrum", pa.int64()),
        ("species", string), ("quantity", string), ("value", pa.float64()),
        ("stderr", pa.float64()), ("unit", string), ("converged", pa.bool_()),
        ("redchi", pa.float64()), ("recipe", string), ("recipe_hash", string), ("engine", string),
        ("acquired_at", pa.timestamp("us", tz="UTC")), ("cycle", pa.int64()),
        ("state_of_charge", pa.float64()), ("potential_v", pa.float64()), ("extra", string),
        ("key", string),
    ])


SCHEMA = _schema()
"""The pyarrow schema of every run file of the current :data:`STORE_SCHEMA_VERSION`."""

# version -> function(pyarrow.Table) -> pyarrow.Table of version + 1. None exist yet.
_MIGRATIONS: dict[int, Any] = {}


def default_store() -> Path:
    """The store used when none is given: ``$SPECSSB_STORE``, else the user's data folder.

    ``$XDG_DATA_HOME/specssb/store`` (``~/.local/share/specssb/store``) on POSIX,
    ``%LOCALAPPDATA%\\specssb\\store`` on Windows.
    """
    if os.environ.get("SPECSSB_STORE"):
        return Path(os.environ["SPECSSB_STORE"])
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "specssb" / "store"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "specssb" / "store"


@dataclass(frozen=True)
class Added:
    """What one :meth:`Store.add` wrote.

    Attributes
    ----------
    session : str
    run : str or None
        The new run id; None when nothing was new (no file written).
    path : Path or None
        The run's Parquet file.
    rows : pandas.DataFrame
        The rows written (store columns), empty when nothing was new.
    skipped : int
        Rows of the table the store already held.
    """

    session: str
    run: str | None
    path: Path | None
    rows: pd.DataFrame
    skipped: int

    def __len__(self) -> int:
        return len(self.rows)


class Store:
    """A folder of immutable Parquet runs, queried with DuckDB.

    Parameters
    ----------
    root : str or PathLike
        The store folder (created on the first write).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> frame = pd.DataFrame({"spectrum": [0], "source": ["a.vms"], "block": ["S 2p"],
    ...     "index": [""], "species": ["li2s"], "quantity": ["fraction"], "value": [0.1],
    ...     "stderr": [0.01], "unit": ["1"], "converged": [True], "redchi": [1.0],
    ...     "recipe": ["s2p " + "0" * 64], "engine": ["batched"]})
    >>> store = Store(tempfile.mkdtemp())
    >>> len(store.add("cell01", frame, file_hashes={"a.vms": "f" * 64}, technique="xps"))
    1
    >>> len(store.add("cell01", frame, file_hashes={"a.vms": "f" * 64}, technique="xps"))
    0
    >>> store.values("Li2S")["value"].tolist()
    [0.1]
    """

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self._checked: dict[Path, int] = {}  # file -> schema version (files never change)

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    @property
    def runs_folder(self) -> Path:
        """``<root>/runs``."""
        return self.root / "runs"

    # ------------------------------------------------------------------ writing
    def add(
        self,
        session: str,
        table: Any,
        *,
        technique: str | None = None,
        file_hashes: Mapping[str, str] | None = None,
        tags: Mapping[str, Mapping[str, Any]] | None = None,
        started_at: dt.datetime | None = None,
    ) -> Added:
        """Add the rows of a fit table that the store does not hold yet, as one new run.

        Parameters
        ----------
        session : str
            Session id (the sample/cell session, e.g. its folder or ``session.toml`` name).
        table : FitTable, pandas.DataFrame, or a list of them
            A :class:`~specssb.fitting.result.FitTable` (or its ``frame``). Columns named like
            the store's tag columns (``technique``, ``file_sha256``, ``acquired_at``, ``cycle``,
            ``state_of_charge``, ``potential_v``) are taken as they are; other extra columns go
            to ``extra`` as JSON. A list (the analyses of one session report) is stored as one
            run, so a process killed part-way leaves all of its rows or none.
        technique : str, optional
            For rows without a ``technique`` column; otherwise guessed from the recipe name
            prefix (``xps-…``), else left empty.
        file_hashes : mapping of str to str, optional
            ``source`` path -> SHA-256 of the file (``Spectrum.source.sha256``). Sources missing
            from it (and without a ``file_sha256`` column) are hashed from disk.
        tags : mapping of str to mapping, optional
            ``source`` path -> ``{"cycle": 3, "state_of_charge": 0.5, "acquired_at": …,
            "potential_v": …}``, filling those columns where the table has no value.
        started_at : datetime, optional
            When the session run started (UTC); default now. Recorded in the manifest.

        Returns
        -------
        Added
            The run written (``run`` None and no file when every row was already stored).

        Raises
        ------
        StoreError
            A column is missing, a source cannot be hashed, or the store cannot be written.
        """
        started = _utc(started_at) if started_at is not None else _now()
        frames = [_frame_of(one) for one in (table if isinstance(table, (list, tuple)) else [table])]
        if not frames:
            raise StoreError("Store.add was given an empty list of tables")
        parts = [_to_rows(session, frame, technique=technique, file_hashes=file_hashes or {},
                          tags=tags or {}) for frame in frames]
        rows = (parts[0] if len(parts) == 1 else
                pd.concat(parts, ignore_index=True).drop_duplicates("key", ignore_index=True))
        table_rows = sum(len(frame) for frame in frames)
        folder = self.runs_folder / _session_folder(session)
        with self._lock():
            self._sweep()
            keys = rows["key"].tolist()
            held = self._held(session, keys)
            fresh = rows[[key not in held for key in keys]].reset_index(drop=True)
            skipped = len(rows) - len(fresh)
            if fresh.empty:
                return Added(session, None, None, fresh, skipped)
            run = f"{_now().strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(4)}"
            fresh["run"] = run
            manifest = _manifest(session, run, started, fresh, table_rows, rows)
            path = folder / f"{run}.parquet"
            new_folder = not folder.exists()
            folder.mkdir(parents=True, exist_ok=True)
            if new_folder:
                fsync_directory(folder.parent)
            self._write_run(path, fresh, manifest)
        return Added(session, run, path, fresh, skipped)

    def _write_run(self, path: Path, rows: pd.DataFrame, manifest: dict[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = pa.Table.from_pandas(rows[list(SCHEMA.names)], schema=SCHEMA, preserve_index=False)
        arrow = arrow.replace_schema_metadata({
            _VERSION_KEY: str(STORE_SCHEMA_VERSION).encode(),
            _MANIFEST_KEY: json.dumps(manifest, sort_keys=True).encode(),
        })
        try:
            with atomic_path(path, sync_directory=True) as temporary:
                pq.write_table(arrow, temporary, compression="zstd")
            _write_manifest(path.with_suffix(".json"), manifest)
        except OSError as exc:
            raise StoreError(f"{path}: cannot write the run: {exc}") from exc

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Exclusive advisory lock on ``<root>/.lock`` for the duration of a write."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            handle = open(self.root / ".lock", "a+b")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot create the store: {exc}") from exc
        try:
            _lock_file(handle, True)
            yield
        finally:
            with contextlib.suppress(OSError):
                _lock_file(handle, False)
            handle.close()

    def _sweep(self) -> None:
        """Under the lock: delete temporary files of killed writers, restore lost manifests."""
        if not self.runs_folder.exists():
            return
        for leftover in self.runs_folder.glob("*/.*.tmp"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        for path in self._files():
            manifest_path = path.with_suffix(".json")
            if not manifest_path.exists():
                manifest = self._manifest_of(path)
                if manifest:
                    _write_manifest(manifest_path, manifest)

    def _held(self, session: str, keys: list[str]) -> set[str]:
        """Those of ``keys`` that the session's runs already hold."""
        import duckdb
        import pyarrow as pa

        files = [p for p in self._files() if p.parent.name == _session_folder(session)]
        if not files:
            return set()
        connection = self._connect(files)
        try:
            connection.register("_new", pa.table({"key": pa.array(keys, pa.string())}))
            found = connection.execute(
                "SELECT DISTINCT key FROM results WHERE session = ? AND key IN (SELECT key FROM _new)",
                [session]).fetchall()
        except duckdb.Error as exc:
            raise StoreError(f"{self.root}: cannot read the keys of session {session!r}: {exc}") from exc
        finally:
            connection.close()
        return {key for (key,) in found}

    # ------------------------------------------------------------------ reading
    def _files(self) -> list[Path]:
        """Every complete run file (temporary files never match ``*.parquet``)."""
        if not self.runs_folder.exists():
            return []
        return sorted(self.runs_folder.glob("*/*.parquet"))

    def _version_of(self, path: Path) -> int:
        if path in self._checked:
            return self._checked[path]
        import pyarrow.parquet as pq

        try:
            metadata = pq.read_schema(path).metadata or {}
        except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError
            raise StoreError(f"{path}: unreadable store file: {exc}") from exc
        raw = metadata.get(_VERSION_KEY)
        if raw is None:
            raise StoreError(f"{path}: not a specssb store file (no {_VERSION_KEY.decode()} in "
                             "its Parquet metadata); move it out of the store")
        try:
            version = int(raw)
        except ValueError as exc:
            raise StoreError(f"{path}: store schema version {raw!r} is not a number") from exc
        if version > STORE_SCHEMA_VERSION:
            raise StoreError(f"{path}: written with store schema {version}; this specssb "
                             f"({__version__}) reads schema {STORE_SCHEMA_VERSION} and older: "
                             "upgrade specssb")
        if version < STORE_SCHEMA_VERSION and any(
                v not in _MIGRATIONS for v in range(version, STORE_SCHEMA_VERSION)):
            raise StoreError(f"{path}: store schema {version} has no migration to schema "
                             f"{STORE_SCHEMA_VERSION}")
        self._checked[path] = version
        return version

    def _manifest_of(self, path: Path) -> dict[str, Any]:
        import pyarrow.parquet as pq

        self._version_of(path)
        metadata = pq.read_schema(path).metadata or {}
        return json.loads(metadata.get(_MANIFEST_KEY, b"{}"))

    def _connect(self, files: Sequence[Path] | None = None) -> Any:
        """A DuckDB connection with the view ``results`` over ``files`` (default: all)."""
        import duckdb

        files = self._files() if files is None else list(files)
        versions = [self._version_of(path) for path in files]
        connection = duckdb.connect(":memory:")
        connection.execute("SET TimeZone = 'UTC'")
        current = [str(p) for p, v in zip(files, versions) if v == STORE_SCHEMA_VERSION]
        old = [p for p, v in zip(files, versions) if v != STORE_SCHEMA_VERSION]
        if not current and not old:
            connection.register("_empty", SCHEMA.empty_table())
            connection.execute("CREATE VIEW results AS SELECT * FROM _empty")
            return connection
        parts = []
        if current:
            parts.append("SELECT * FROM read_parquet(?, union_by_name = true)")
        for k, path in enumerate(old):
            connection.register(f"_migrated{k}", _migrate(path, self._version_of(path)))
            parts.append(f"SELECT * FROM _migrated{k}")
        sql = " UNION ALL BY NAME ".join(parts)
        # a prepared parameter cannot appear in a view: inline the quoted file list
        listing = "[" + ", ".join("'" + name.replace("'", "''") + "'" for name in current) + "]"
        connection.execute("CREATE VIEW results AS " + sql.replace("?", listing, 1))
        return connection

    def _sql(self, sql: str, parameters: Sequence[Any] | None = None, *,
             files: Sequence[Path] | None = None) -> pd.DataFrame:
        import duckdb

        connection = self._connect(files)
        try:
            return connection.execute(sql, list(parameters or [])).df()
        except duckdb.Error as exc:
            raise StoreError(f"{self.root}: query failed: {exc}") from exc
        finally:
            connection.close()

    def query(self, sql: str, parameters: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run SQL over the view ``results`` (every row of every run) and return a DataFrame.

        Parameters
        ----------
        sql : str
            DuckDB SQL, e.g. ``"SELECT session, avg(value) FROM results WHERE species = 'li2s'
            GROUP BY session"``.
        parameters : sequence, optional
            Values for ``?`` placeholders.

        Raises
        ------
        StoreError
            A run file has an unknown schema version or is unreadable, or the SQL failed.
        """
        return self._sql(sql, parameters)

    def values(
        self,
        species: str,
        quantity: str = "fraction",
        *,
        session: str | None = None,
        technique: str | None = None,
    ) -> pd.DataFrame:
        """One species' quantity across sessions (species matched case-insensitively).

        Returns
        -------
        pandas.DataFrame
            Columns session, technique, cycle, state_of_charge, acquired_at, source, block,
            index, species, quantity, value, stderr, unit, converged, recipe, run; ordered by
            session, cycle, acquired_at, source, index.
        """
        where = ["lower(species) = lower(?)", "quantity = ?"]
        parameters: list[Any] = [species, quantity]
        if session is not None:
            where.append("session = ?")
            parameters.append(session)
        if technique is not None:
            where.append("technique = ?")
            parameters.append(technique)
        return self._sql(
            "SELECT session, technique, cycle, state_of_charge, acquired_at, source, block, "
            "\"index\", species, quantity, value, stderr, unit, converged, recipe, run "
            f"FROM results WHERE {' AND '.join(where)} "
            "ORDER BY session, cycle NULLS LAST, acquired_at NULLS LAST, source, block, \"index\", run",
            parameters,
        )

    def sessions(self) -> pd.DataFrame:
        """Every session: number of runs and rows, techniques, first and last acquisition."""
        return self._sql(
            "SELECT session, count(DISTINCT run) AS runs, count(*) AS rows, "
            "string_agg(DISTINCT technique, ',' ORDER BY technique) AS techniques, "
            "min(acquired_at) AS first_acquired, max(acquired_at) AS last_acquired "
            "FROM results GROUP BY session ORDER BY session"
        )

    def runs(self) -> pd.DataFrame:
        """Every run, from the manifests in the Parquet files.

        Returns
        -------
        pandas.DataFrame
            Columns session, run, started_at, finished_at (UTC), rows, files (count of input
            files), recipes (list of ``name hash``), specssb_version, schema_version, path.
        """
        records = []
        for path in self._files():
            manifest = self._manifest_of(path)
            records.append({
                "session": manifest.get("session"), "run": manifest.get("run", path.stem),
                "started_at": pd.Timestamp(manifest.get("started_at")),
                "finished_at": pd.Timestamp(manifest.get("finished_at")),
                "rows": manifest.get("rows"), "files": len(manifest.get("inputs", {})),
                "recipes": [f"{name} {digest}".strip()
                            for name, digest in manifest.get("recipes", {}).items()],
                "specssb_version": manifest.get("specssb_version"),
                "schema_version": manifest.get("schema_version"), "path": path,
            })
        columns = ["session", "run", "started_at", "finished_at", "rows", "files", "recipes",
                   "specssb_version", "schema_version", "path"]
        return pd.DataFrame.from_records(records, columns=columns).sort_values(
            ["session", "run"], ignore_index=True)


# ---------------------------------------------------------------------- helpers
def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(when: dt.datetime) -> dt.datetime:
    """``when`` in UTC (a naive time is taken as UTC)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def _session_folder(session: str) -> str:
    """A safe folder name for a session id (the id itself is stored in every row)."""
    if not isinstance(session, str) or not session.strip():
        raise StoreError(f"a session id must be a non-empty string, got {session!r}")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", session).lstrip(".") or "_"
    if safe != session:
        safe = f"{safe}-{hashlib.sha256(session.encode()).hexdigest()[:8]}"
    return safe


def _frame_of(table: Any) -> pd.DataFrame:
    frame = getattr(table, "frame", table)
    if not isinstance(frame, pd.DataFrame):
        raise StoreError(f"Store.add takes a FitTable or a DataFrame, got {type(table).__name__}")
    missing = [c for c in _FIT_COLUMNS if c not in frame.columns]
    if missing:
        raise StoreError(f"the table lacks the fit-table columns {missing}")
    return frame.reset_index(drop=True)


def _recipe_hash(recipe: str) -> str:
    """The recipe's hash from the ``"name <sha256>"`` label, else a hash of the label."""
    last = recipe.rsplit(" ", 1)[-1] if recipe else ""
    if _HEX64.fullmatch(last):
        return last
    return hashlib.sha256(recipe.encode()).hexdigest() if recipe else ""


def _hash_sources(sources: Sequence[str], known: Mapping[str, str]) -> dict[str, str]:
    from specssb.parsers import sha256_of

    hashes = {}
    for source in sources:
        if source in known:
            hashes[source] = known[source]
            continue
        try:
            hashes[source] = sha256_of(source)
        except OSError as exc:
            raise StoreError(f"cannot hash source {source!r} ({exc.strerror or exc}): pass its "
                             "SHA-256 in file_hashes (Spectrum.source.sha256)") from exc
    return hashes


def _to_rows(session: str, frame: pd.DataFrame, *, technique: str | None,
             file_hashes: Mapping[str, str], tags: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The store rows (every :data:`SCHEMA` column but ``run``) of a fit-table frame."""
    _session_folder(session)
    n = len(frame)
    source = frame["source"].astype(str).to_numpy(dtype=object)
    rows = pd.DataFrame({
        "session": np.full(n, session, dtype=object), "run": np.full(n, "", dtype=object),
        "source": source,
        "block": frame["block"].fillna("").astype(str).to_numpy(dtype=object),
        "index": frame["index"].fillna("").astype(str).to_numpy(dtype=object),
        "spectrum": pd.to_numeric(frame["spectrum"]).astype("int64").to_numpy(),
        "species": frame["species"].astype(str).to_numpy(dtype=object),
        "quantity": frame["quantity"].astype(str).to_numpy(dtype=object),
        "value": pd.to_numeric(frame["value"], errors="coerce").astype(float).to_numpy(),
        "stderr": pd.to_numeric(frame["stderr"], errors="coerce").astype(float).to_numpy(),
        "unit": frame["unit"].fillna("").astype(str).to_numpy(dtype=object),
        "converged": frame["converged"].fillna(False).astype(bool).to_numpy(),
        "redchi": pd.to_numeric(frame["redchi"], errors="coerce").astype(float).to_numpy(),
        "recipe": frame["recipe"].fillna("").astype(str).to_numpy(dtype=object),
        "engine": frame["engine"].fillna("").astype(str).to_numpy(dtype=object),
    })
    labels = {recipe: _recipe_hash(recipe) for recipe in set(rows["recipe"].tolist())}
    rows["recipe_hash"] = rows["recipe"].map(labels)
    if "file_sha256" in frame.columns:
        given = frame["file_sha256"].astype(object).where(frame["file_sha256"].notna(), None)
        rows["file_sha256"] = given.to_numpy(dtype=object)
    else:
        rows["file_sha256"] = None
    unhashed = sorted(set(source[pd.isna(rows["file_sha256"]).to_numpy()]))
    if unhashed:
        hashes = _hash_sources(unhashed, file_hashes)
        rows["file_sha256"] = rows["file_sha256"].where(rows["file_sha256"].notna(),
                                                        rows["source"].map(hashes))
    _add_tags(rows, frame, technique, tags)
    extra_columns = [c for c in frame.columns
                     if c not in _FIT_COLUMNS and c not in _TAG_COLUMNS and c != "file_sha256"]
    rows["extra"] = _extra_json(frame, extra_columns)
    rows["key"] = _identity_keys(rows)
    return rows.drop_duplicates("key", ignore_index=True)


def _add_tags(rows: pd.DataFrame, frame: pd.DataFrame, technique: str | None,
              tags: Mapping[str, Mapping[str, Any]]) -> None:
    """Fill the technique and tag columns: the table's own, then ``tags``, then guesses."""
    n = len(rows)
    given = (frame["technique"].astype(object).where(frame["technique"].notna(), None)
             if "technique" in frame.columns else pd.Series([None] * n, dtype=object))
    prefixes = {r: (r.split("-", 1)[0] if r.split("-", 1)[0] in _TECHNIQUES else None)
                for r in set(rows["recipe"].tolist())}
    fallback = technique if technique is not None else rows["recipe"].map(prefixes)
    rows["technique"] = given.where(given.notna(), fallback).astype(object)
    acquired = frame["acquired_at"] if "acquired_at" in frame.columns else pd.Series([pd.NaT] * n)
    rows["acquired_at"] = pd.to_datetime(acquired, utc=True)  # naive times are taken as UTC
    for name, dtype in (("cycle", "Int64"), ("state_of_charge", "float64"), ("potential_v", "float64")):
        values = frame[name] if name in frame.columns else pd.Series([None] * n, dtype=object)
        rows[name] = pd.to_numeric(values, errors="coerce").astype(dtype)
    for source, values in tags.items():
        mine = (rows["source"] == source).to_numpy()
        for name, value in values.items():
            if name not in _TAG_COLUMNS:
                raise StoreError(f"tags of {source!r}: unknown tag {name!r} "
                                 f"(known: {list(_TAG_COLUMNS)})")
            if name == "acquired_at":
                value = pd.Timestamp(value)
                value = value.tz_localize("UTC") if value.tzinfo is None else value.tz_convert("UTC")
            fill = mine & rows[name].isna().to_numpy()
            rows.loc[fill, name] = value


def _extra_json(frame: pd.DataFrame, columns: Sequence[str]) -> list[str | None]:
    if not columns:
        return [None] * len(frame)
    records = frame[list(columns)].astype(object).where(frame[list(columns)].notna(), None)
    return [json.dumps(jsonable(record), sort_keys=True, separators=(",", ":"))
            for record in records.to_dict(orient="records")]


def _identity_keys(rows: pd.DataFrame) -> list[str]:
    """Identity hash of each row (see the module docstring)."""
    spectra_per_file = rows.groupby(["file_sha256", "block"])["index"].transform("nunique")
    index = rows["index"].where(spectra_per_file > 1, "")
    columns = [rows["session"], rows["file_sha256"], rows["recipe_hash"], rows["block"], index,
               rows["species"], rows["quantity"], rows["extra"].fillna("")]
    parts = zip(*(column.tolist() for column in columns))  # plain lists: fast to iterate
    return [hashlib.sha256("\x1f".join(map(str, p)).encode()).hexdigest()[:32] for p in parts]


def _manifest(session: str, run: str, started: dt.datetime, fresh: pd.DataFrame,
              table_rows: int, rows: pd.DataFrame) -> dict[str, Any]:
    files = rows[["source", "file_sha256"]].drop_duplicates()
    inputs = dict(sorted(zip(files["source"].tolist(), files["file_sha256"].tolist())))
    labels = rows[["recipe", "recipe_hash"]].drop_duplicates()
    recipes = dict(sorted({(r.rsplit(" ", 1)[0] if _HEX64.fullmatch(r.rsplit(" ", 1)[-1]) else r, h)
                           for r, h in zip(labels["recipe"].tolist(), labels["recipe_hash"].tolist())
                           if r}))
    return {
        "session": session, "run": run, "started_at": started.isoformat(),
        "finished_at": _now().isoformat(), "specssb_version": __version__,
        "schema_version": STORE_SCHEMA_VERSION, "rows": len(fresh), "table_rows": table_rows,
        "inputs": inputs, "recipes": recipes,
        "techniques": sorted({t for t in rows["technique"] if isinstance(t, str)}),
    }


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _migrate(path: Path, version: int) -> Any:
    """Read an older run file and bring it to the current schema through :data:`_MIGRATIONS`."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for step in range(version, STORE_SCHEMA_VERSION):
        table = _MIGRATIONS[step](table)
    return table


def _lock_file(handle: Any, lock: bool) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK if lock else msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX if lock else fcntl.LOCK_UN)
