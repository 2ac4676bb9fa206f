"""Watch mode: analyse a session folder while a measurement writes into it, report at the end.

:class:`Watcher` looks at the folder once per :meth:`Watcher.poll_once`; :func:`watch` polls in
a loop and writes the report when the folder has been quiet for ``idle`` seconds, or on an
interrupt (Ctrl-C / SIGINT, SIGTERM).

**When an item is complete.** Items are what :func:`specssb.parsers.discover` lists (what
``specssb report`` reads): files, and folder formats such as a Bruker experiment folder. An
item's *signature* is its size and modification time (for a folder: the relative path, size and
modification time of every file under it). An item is *settled* when its signature has not
changed for ``settle_polls`` polls; only then is it read. A file still being written keeps
changing, so it is never read half-written (a truncated XDI file would otherwise read as a
shorter scan); a file that settles and still fails to read (a ``ParseError``, or no format
claims it) is reported once as failed, and read again only if it changes. Temporary and hidden
files (``.*``, ``~*``, ``*.tmp``, ``*.part``, at any depth) are never items.

**The running state.** Whenever the set of settled items changes (new, rewritten or removed),
the session is built from the settled items only (:meth:`Session.open` with their
:class:`~specssb.report.session.SessionFile` objects, each file read once per signature) and
its plan is run. The run is incremental by technique: an analysis is run again only when
something it may depend on changed, i.e. its own plan entry (recipe hash, spectra, references,
label) or any settled item of the recipe's technique (an XAS reference arriving re-runs the XAS
series; an NMR experiment leaves the XPS fits alone); other analyses keep their previous
result. ``session.toml`` (and recipe files it names) must be settled before the session is
built; a manifest that is invalid (or names a file not there yet) is reported once and tried
again when the folder changes.

**The report.** :meth:`Watcher.write_report` does what ``specssb report`` does after its run:
reads the cycler file, adds every table to the store (once, at the end: the store keeps the
first value it is given for a file and recipe, so values computed while the series or the
cycler record were still incomplete must not be added), and renders
:func:`~specssb.report.render.render_report`. On a folder whose items are all complete, the
report equals ``specssb report``'s (same analyses, tables, figures, failures). Items still
being written when the watch ends are left out, and the report says which.

.. code-block:: python

    watcher = Watcher("session")
    while measuring:
        for event in watcher.poll_once():
            print(event)
        time.sleep(2)
    path, result = watcher.write_report(out="report", store=None)
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from os import PathLike
from pathlib import Path
from typing import Any

from specssb import parsers
from specssb.errors import ConfigError
from specssb.report._session_files import configuration_files, is_ignored, read_item
from specssb.report._session_manifest import MANIFEST_NAME
from specssb.report._session_run import FailedFile, SessionResult, run_session
from specssb.report.render import write_session_report
from specssb.report.session import Session

__all__ = ["IGNORED", "WatchEvent", "WatchOutcome", "Watcher", "watch"]

#: Name patterns (of any path component) that are never items: temporary and hidden files.
IGNORED = (".*", "~*", "*.tmp", "*.part")

Signature = tuple[Any, ...]


@dataclass(frozen=True)
class WatchEvent:
    """Something the watcher saw.

    Attributes
    ----------
    kind : {"taken", "failed", "removed", "session"}
        An item read (a spectrum file, the cycler file, the manifest); an item that settled
        but cannot be read; an item that disappeared; a session-level problem (an invalid
        manifest).
    relative : str
        The item's path relative to the folder.
    message : str
        For people: format and spectra, or the reason.
    """

    kind: str
    relative: str
    message: str


@dataclass(frozen=True)
class WatchOutcome:
    """How :func:`watch` ended.

    Attributes
    ----------
    report : Path
        ``report.html``.
    result : SessionResult
    reason : {"idle", "interrupt", "terminated"}
    """

    report: Path
    result: SessionResult
    reason: str


@dataclass
class _Item:
    """One item of the folder as last seen."""

    path: Path
    info: Any
    why: str
    signature: Signature | None
    stable: int = 0  # polls seen with this signature, after the first


class Watcher:
    """The state of a watched session folder (see the module documentation).

    Parameters
    ----------
    folder : str or PathLike
        The session folder (must exist).
    settle_polls : int, default 2
        Polls an item's size and modification time must stay the same before it is read.
    clock : callable, default time.monotonic
        Seconds, for :attr:`idle_seconds`.

    Raises
    ------
    ConfigError
        The folder does not exist.
    """

    def __init__(self, folder: str | PathLike[str], *, settle_polls: int = 2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ConfigError("no such session folder", path=self.folder)
        if settle_polls < 1:
            raise ValueError(f"settle_polls must be at least 1, got {settle_polls}")
        self.settle_polls = settle_polls
        self._clock = clock
        self._last_activity = clock()
        self._items: dict[str, _Item] = {}
        self._order: list[str] = []  # discover order of the items
        self._reads: dict[tuple[str, Signature, str], Any] = {}  # (item, signature, manifest)
        self._announced: dict[str, Signature | None] = {}  # item -> signature of its last event
        self._runs: dict[tuple[Any, ...], tuple[Any, tuple[FailedFile, ...]]] = {}
        self._built: frozenset[tuple[str, Signature]] | None = None
        self._events: list[WatchEvent] = []
        self._manifest_key = ""
        self._configuration: set[Path] = set()
        self.session: Session | None = None
        self.result: SessionResult | None = None
        self.config_error: ConfigError | None = None

    def __repr__(self) -> str:
        return (f"<Watcher {self.folder}: {len(self._items)} items, {len(self.pending)} pending, "
                f"{len(self.session.files) if self.session else 0} in the session>")

    # ------------------------------------------------------------------ state
    @property
    def pending(self) -> list[str]:
        """Items not settled yet (still being written, or seen too recently)."""
        return [name for name in self._order if self._items[name].stable < self.settle_polls]

    @property
    def idle_seconds(self) -> float:
        """Seconds since anything in the folder last changed (an item appeared, grew,
        settled or disappeared)."""
        return self._clock() - self._last_activity

    @property
    def up_to_date(self) -> bool:
        """True when every item is settled and the session holds them all."""
        return not self.pending and self._built == self._settled_key()

    # ------------------------------------------------------------------ polling
    def poll_once(self) -> list[WatchEvent]:
        """Look at the folder once; read what settled; rebuild and re-run the session if the
        settled items changed.

        Returns
        -------
        list of WatchEvent
            What happened in this poll (items taken in, failed, removed; manifest problems).
        """
        try:
            listing = [(p, info, why) for p, info, why in parsers.discover(self.folder)
                       if not _ignored(p.relative_to(self.folder))]
            seen = {p.relative_to(self.folder).as_posix(): (p, info, why, _signature(p))
                    for p, info, why in listing}
        except OSError:  # an item vanished or moved while we looked: look again next time
            return self._take_events()
        self._update(seen)
        if self._settled_key() != self._built and self._configuration_settled():
            self._build()
        return self._take_events()

    def _update(self, seen: dict[str, tuple[Path, Any, str, Signature | None]]) -> None:
        for name in [n for n in self._items if n not in seen]:
            del self._items[name]
            self._activity()
            if self._announced.pop(name, None) is not None:
                self._emit("removed", name, "removed from the folder")
        for name, (path, info, why, signature) in seen.items():
            item = self._items.get(name)
            if item is None or signature is None or item.signature != signature:
                self._items[name] = _Item(path, info, why, signature)
                self._activity()
                continue
            item.info, item.why = info, why
            item.stable += 1
            if item.stable == self.settle_polls:
                self._activity()
        self._order = list(seen)

    def _settled_key(self) -> frozenset[tuple[str, Signature]]:
        return frozenset((name, item.signature) for name, item in self._items.items()
                         if item.stable >= self.settle_polls and item.signature is not None)

    def _configuration_settled(self) -> bool:
        """session.toml and the recipe files it names are not being written."""
        names = {MANIFEST_NAME} | {p.relative_to(self.folder.resolve()).as_posix()
                                   for p in self._configuration
                                   if self.folder.resolve() in p.parents}
        return all(self._items[n].stable >= self.settle_polls for n in names if n in self._items)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        """Session of the settled items, then its plan run (incrementally)."""
        key = self._settled_key()
        try:
            session = Session.open(self.folder, items=self._settled_items)
        except ConfigError as error:
            if self.config_error is None or str(error) != str(self.config_error):
                self._emit("session", MANIFEST_NAME, f"{type(error).__name__}: {error}")
            self.config_error = error
            self._built = key  # tried; try again when something changes
            return
        manifest = self._items.get(MANIFEST_NAME) if session.manifest_path is not None else None
        if manifest is not None and self._announced.get(MANIFEST_NAME) != manifest.signature:
            self._announced[MANIFEST_NAME] = manifest.signature
            self._emit("taken", MANIFEST_NAME, "session manifest")
        self.config_error = None
        self.result = self._run(session)
        self.session = session
        self._built = key

    def _settled_items(self, root: Path, manifest: Any,
                       manifest_path: Path) -> tuple[list[Any], list[str]]:
        """The :class:`SessionFile` of every settled item (read once per signature)."""
        manifest_key = repr(manifest)
        if manifest_key != self._manifest_key:  # tags and timezone come from the manifest
            self._reads.clear()
            self._manifest_key = manifest_key
        self._configuration = configuration_files(root, manifest, manifest_path)
        files = []
        for name in self._order:
            item = self._items[name]
            if (item.stable < self.settle_polls or item.path.resolve() in self._configuration
                    or is_ignored(root, item.path, manifest)):
                continue
            cache = (name, item.signature, manifest_key)
            read = self._reads.get(cache)
            if read is None:
                read = self._reads[cache] = read_item(root, item.path, item.info, item.why, manifest)
                self._announce(name, item.signature, read)
            files.append(read)
        return files, []

    def _announce(self, name: str, signature: Signature | None, read: Any) -> None:
        if self._announced.get(name) == signature:
            return
        again = name in self._announced
        self._announced[name] = signature
        if read.status in ("unrecognised", "failed"):
            self._emit("failed", name, read.error or read.status)
            return
        if read.status == "cycler":
            what = f"cycler file ({read.format})"
        else:
            count = len(read.spectra)
            what = f"{read.format}, {count} spectr{'um' if count == 1 else 'a'}"
        self._emit("taken", name, ("updated: " if again else "") + what)

    def _run(self, session: Session) -> SessionResult:
        """:meth:`Session.run`, re-running only the analyses whose inputs changed."""
        failed = [FailedFile(f.relative, "format" if f.status == "unrecognised" else "read",
                             f.error or "") for f in session.unreadable]
        results, runs = [], {}
        for analysis in session.plan():
            key = self._analysis_key(session, analysis)
            done = self._runs.get(key)
            if done is None:
                one = run_session(_OnePlan(session, analysis))
                done = (one.analyses[0], one.failed)
            runs[key] = done
            results.append(dataclasses.replace(done[0], analysis=analysis))
            failed += done[1]
        self._runs = runs
        return SessionResult(session, tuple(results), tuple(failed), tuple(session.choices()),
                             tuple(session.notes) + tuple(session.plan_notes))

    def _analysis_key(self, session: Session, analysis: Any) -> tuple[Any, ...]:
        """Everything an analysis's result may depend on (see the module documentation)."""
        technique = analysis.recipe.technique
        inputs = frozenset((f.relative, f.sha256, f.status) for f in session.files
                           if f.technique == technique)
        references = tuple(sorted((str(k), str(v)) for k, v in (analysis.references or {}).items()))
        tag_names = tuple(dict.fromkeys(k for f in session.files for k in f.tags))
        return (analysis.label, analysis.kind, analysis.origin, analysis.recipe.hash,
                analysis.refs, analysis.reason, analysis.series, str(analysis.base), references,
                session.sample, tag_names, self._manifest_key, inputs)

    # ------------------------------------------------------------------ the report
    def write_report(self, out: str | PathLike[str], *,
                     store: str | PathLike[str] | None = None) -> tuple[Path, SessionResult]:
        """Bring the session up to date with the settled items and write the report.

        Parameters
        ----------
        out : path
            Report folder (``report.html``, ``species_vs_cycle.parquet``/``.csv``).
        store : path, optional
            Result store to add every table to; None adds nothing.

        Returns
        -------
        (Path, SessionResult)
            ``report.html`` and the run it shows.

        Raises
        ------
        ConfigError
            ``session.toml`` is invalid (as ``specssb report`` would raise).
        """
        if self._settled_key() != self._built or self.result is None:
            self._build()
        if self.config_error is not None:
            raise self.config_error
        assert self.session is not None and self.result is not None
        notes = []
        left_out = self.pending
        if left_out:
            notes.append(f"{len(left_out)} item(s) still being written when the watch ended were "
                         f"left out: {', '.join(left_out)}")
        target = write_session_report(self.session, self.result, out=Path(out),
                                      store=None if store is None else Path(store), notes=notes)
        return target, self.result

    # ------------------------------------------------------------------ events
    def _activity(self) -> None:
        self._last_activity = self._clock()

    def _emit(self, kind: str, relative: str, message: str) -> None:
        self._events.append(WatchEvent(kind, relative, message))

    def _take_events(self) -> list[WatchEvent]:
        events, self._events = self._events, []
        return events


class _OnePlan:
    """A session whose plan is one analysis (for :func:`run_session`); the rest is the session's."""

    def __init__(self, session: Session, analysis: Any) -> None:
        self._session, self._analysis = session, analysis
        self.unreadable = ()

    def plan(self) -> list[Any]:
        return [self._analysis]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


# ---------------------------------------------------------------------- the loop
class _Terminated(BaseException):
    """SIGTERM arrived (a BaseException, like KeyboardInterrupt, so that no ``except Exception``
    on the way swallows it)."""


def watch(
    folder: str | PathLike[str],
    *,
    out: str | PathLike[str],
    store: str | PathLike[str] | None = None,
    idle: float = 3600.0,
    poll: float = 2.0,
    settle_polls: int = 2,
    on_event: Callable[[WatchEvent], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WatchOutcome:
    """Watch a session folder until it is idle or interrupted, then write its report.

    Parameters
    ----------
    folder : path
        The session folder.
    out : path
        Report folder.
    store : path, optional
        Result store the final run is added to; None adds nothing.
    idle : float, default 3600 s
        Stop when nothing in the folder changed for this long and every item is complete.
    poll : float, default 2 s
        Seconds between looks at the folder.
    settle_polls : int, default 2
        Polls an item must stay unchanged before it is read (settle time ``settle_polls ×
        poll``).
    on_event : callable, optional
        Called with each :class:`WatchEvent` as it happens.
    sleep : callable, default time.sleep

    Returns
    -------
    WatchOutcome
        The report, the run it shows, and why the watch ended. KeyboardInterrupt (Ctrl-C,
        SIGINT) and SIGTERM end the watch and write the report; a second interrupt while the
        report is written stops that too.

    Raises
    ------
    ConfigError
        The folder does not exist, or its ``session.toml`` is invalid at the end.
    """
    watcher = Watcher(folder, settle_polls=settle_polls)
    report = on_event or (lambda event: None)
    reason = "idle"
    with _sigterm_raises():
        try:
            while True:
                for event in watcher.poll_once():
                    report(event)
                if watcher.idle_seconds >= idle and watcher.up_to_date:
                    break
                sleep(poll)
        except KeyboardInterrupt:
            reason = "interrupt"
        except _Terminated:
            reason = "terminated"
    target, result = watcher.write_report(out, store=store)
    for event in watcher._take_events():
        report(event)
    return WatchOutcome(target, result, reason)


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM raises :class:`_Terminated` in the main thread while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(number: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------- helpers
def _ignored(relative: Path) -> bool:
    return any(fnmatch(part, pattern) for part in relative.parts for pattern in IGNORED)


def _signature(path: Path) -> Signature | None:
    """Size and modification time of a file; of every file under a folder. None if it vanished."""
    try:
        if not path.is_dir():
            stat = path.stat()
            return (stat.st_size, stat.st_mtime_ns)
        entries = []
        for child in sorted(path.rglob("*")):
            if child.is_file():
                stat = child.stat()
                entries.append((child.relative_to(path).as_posix(), stat.st_size, stat.st_mtime_ns))
        return tuple(entries)
    except OSError:
        return None
