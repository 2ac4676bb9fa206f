"""The session report: one self-contained HTML file, plus the species-versus-cycle numbers.

:func:`render_report` writes, into one folder:

``report.html``
    One file that makes no network request: the CSS is inline, there is no script, and every
    figure is a PNG ``data:`` URI (:mod:`specssb.report.figures`). Sections: summary (sample,
    files, analyses, failures); the cycling record; per technique the spectra with fits,
    species versus cycle with error bars, XAS edge position and fractions over time with the
    cycling curve beneath, CSI profiles and Raman band maps; trends and the correlation with
    capacity; the recipe chosen for every spectrum and why; every warning (failed files with
    the reason, non-converged fits, physics and reading warnings); provenance (versions,
    recipe hashes, file SHA-256).
``species_vs_cycle.parquet``, ``species_vs_cycle.csv``
    :func:`specssb.report.tracking.species_vs_cycle` of the run, cycles assigned from the
    session's tags or its cycler record (:func:`specssb.report.tracking.assign_cycles`).

Every text that comes from a file (sample names, comments, file names, warnings) goes through
jinja2's autoescaping: the template never marks anything safe. Outputs are written atomically.

.. code-block:: python

    result = Session.open("sample_data").run()
    render_report(result, cycler="sample_data/echem/cell01_GCPL.mpt", out=Path("report"))
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import math
import platform
import re
import warnings
from collections.abc import Callable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from specssb._io import atomic_path, atomic_write_text, atomic_write_with, sweep_temporaries
from specssb._version import __version__
from specssb.errors import SpecssbError
from specssb.report import figures as fig

__all__ = ["TECHNIQUE_ORDER", "VERSIONED", "render_report", "write_session_report"]

TECHNIQUE_ORDER = ("xps", "xas", "nmr", "raman")
#: Distributions whose versions the provenance section lists.
VERSIONED = ("specssb", "numpy", "scipy", "pandas", "lmfit", "xraylarch", "nmrglue", "ramanspy",
             "pybaselines", "matplotlib", "pyarrow", "duckdb")
_TEMPLATE = "report.html.j2"
_TABLE_ROWS = 400  # longer tables are cut in the HTML (the CSV/Parquet hold everything)
_FITS_PER_ANALYSIS = 3
_OUTPUTS = ("report.html", "species_vs_cycle.parquet", "species_vs_cycle.csv")


def render_report(
    result: Any,
    *,
    cycler: pd.DataFrame | str | PathLike[str] | None = None,
    store_run: Sequence[Any] | None = None,
    out: str | PathLike[str],
    notes: Sequence[str] = (),
) -> Path:
    """Write the report of a session run.

    Parameters
    ----------
    result : SessionResult
        From :meth:`specssb.report.session.Session.run`.
    cycler : pandas.DataFrame, path or None
        The cycler table (:func:`specssb.report.echem.read_cycler_table`) or its file. None:
        the session's cycler file if it has one (read with the session's timezone).
    store_run : sequence of Added, optional
        What :meth:`specssb.report.store.Store.add` wrote for this run (listed in provenance).
    out : path
        Output folder (created if missing).
    notes : sequence of str
        Further warnings to list (e.g. from the command line: a store that could not be written).

    Returns
    -------
    Path
        ``out / "report.html"``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sweep_temporaries(out, _OUTPUTS)  # left by a report killed while writing
    caught: list[str] = list(notes)
    cycler_table = _cycler_table(result, cycler, caught)
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        numbers = _numbers(result, cycler_table, caught)
        context = _Context(result, cycler_table, numbers, caught).build(store_run)
    caught += _warning_lines(recorded)
    context["warnings"]["report"] = list(dict.fromkeys(caught))
    _write_numbers(numbers["species"], out)
    html = _environment().get_template(_TEMPLATE).render(**context)
    target = out / "report.html"
    atomic_write_text(target, html)
    return target


# ---------------------------------------------------------------------- numbers
def _cycler_table(result: Any, cycler: Any, caught: list[str]) -> pd.DataFrame | None:
    from specssb.report.echem import read_cycler_table

    if isinstance(cycler, pd.DataFrame):
        return cycler
    session = result.session
    path = cycler if cycler is not None else getattr(session, "cycler", None)
    if path is None:
        return None
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            table = read_cycler_table(path, timezone=getattr(session, "timezone", "UTC"))
    except SpecssbError as error:
        caught.append(f"cycler file {path} not used: {type(error).__name__}: {error}")
        return None
    caught += _warning_lines(recorded)
    return table


def _numbers(result: Any, cycler: pd.DataFrame | None, caught: list[str]) -> dict[str, Any]:
    """Cycles, species versus cycle, trends and capacity correlation (empty frames when none)."""
    from specssb.report import tracking
    from specssb.report.echem import cycle_summary

    frame = result.frame()
    summary = cycle_summary(cycler) if cycler is not None and len(cycler) else None
    species = pd.DataFrame(columns=["technique", "species", "quantity", "cycle", "value", "stderr",
                                    "n_spectra", "unit", "analysis"])
    trend = correlation = None
    if len(frame):
        tracked = tracking.assign_cycles(frame, cycler)
        species = tracking.species_vs_cycle(tracked)
        if len(species):
            trend = _tried(lambda: tracking.trends(species), "trends", caught)
            if summary is not None and len(summary):
                correlation = _tried(lambda: tracking.capacity_correlation(species, summary),
                                     "capacity correlation", caught)
    return {"species": species, "trends": trend, "correlation": correlation, "summary": summary}


def _tried(work: Callable[[], Any], what: str, caught: list[str]) -> Any:
    try:
        return work()
    except (SpecssbError, ValueError, KeyError) as error:
        caught.append(f"{what} not computed: {type(error).__name__}: {error}")
        return None


def _write_numbers(species: pd.DataFrame, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(species.reset_index(drop=True), preserve_index=False)
    with atomic_path(out / "species_vs_cycle.parquet") as temporary:
        pq.write_table(table, temporary)
    atomic_write_with(out / "species_vs_cycle.csv", lambda stream: species.to_csv(stream, index=False))


#: A warning about one file: ``"<Category>: <path>: <text>"`` (how specssb words them).
_FILE_WARNING = re.compile(r"^(?P<category>\w+): (?P<path>[^:\s][^:]*?\.\w+|[^:\s][^:]*/\d+): (?P<text>.+)$", re.S)


def collapse_warnings(items: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Group ``(analysis label, message)`` pairs so that a warning is listed once.

    The same message from several analyses (five XPS regions calibrated on one C 1s) is listed
    once under all their labels; the same text about many files (``"PhysicsWarning: <file>:
    <text>"``) becomes one line naming the files. Order of first appearance is kept.

    Returns
    -------
    list of dict
        ``{"label": "<labels, comma separated>", "messages": [...]}`` per group of labels.
    """
    by_message: dict[str, list[str]] = {}
    for label, message in items:
        labels = by_message.setdefault(message, [])
        if label not in labels:
            labels.append(label)
    # in order of first appearance: a message as it is, or the key of a text about many files
    order: list[tuple[tuple[str, ...], str, str]] = []  # (labels, category or "", message or text)
    paths_of: dict[tuple[tuple[str, ...], str, str], list[str]] = {}
    for message, labels in by_message.items():
        match = _FILE_WARNING.match(message)
        key = (tuple(labels), "", message) if match is None else \
            (tuple(labels), match["category"], match["text"])
        if key not in paths_of:
            order.append(key)
            paths_of[key] = []
        if match is not None:
            paths_of[key].append(match["path"])
    plain: list[tuple[tuple[str, ...], str]] = []
    for labels, category, text in order:
        paths = paths_of[(labels, category, text)]
        if not category:
            plain.append((labels, text))
            continue
        where = paths[0] if len(paths) == 1 else f"{len(paths)} files ({', '.join(paths)})"
        plain.append((labels, f"{category}: {where}: {text}"))
    groups: dict[tuple[str, ...], list[str]] = {}
    for labels, message in plain:
        groups.setdefault(labels, []).append(message)
    return [{"label": ", ".join(labels), "messages": messages} for labels, messages in groups.items()]


def _warning_lines(recorded: Sequence[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in recorded]


# ---------------------------------------------------------------------- the context
class _Context:
    """Everything the template shows, as plain strings, numbers and data URIs."""

    def __init__(self, result: Any, cycler: pd.DataFrame | None, numbers: dict[str, Any],
                 caught: list[str]) -> None:
        self.result = result
        self.session = result.session
        self.cycler = cycler
        self.numbers = numbers
        self.caught = caught
        self.figure_count = 0

    def build(self, store_run: Sequence[Any] | None) -> dict[str, Any]:
        result, session = self.result, self.session
        species = self.numbers["species"]
        techniques = []
        for technique in _techniques(result):
            analyses = [a for a in result.analyses if _technique_of(a) == technique]
            rows = species[species["technique"] == technique] if len(species) else species
            techniques.append({
                "name": technique,
                "title": technique.upper() if technique != "raman" else "Raman",
                "analyses": [self._analysis(a) for a in analyses],
                "species_figure": self._figure(lambda rows=rows, t=technique: fig.plot_species_vs_cycle(
                    rows, title=f"{t}: species versus cycle"), "species versus cycle"),
                "species_table": _table(rows, ("species", "quantity", "cycle", "value", "stderr",
                                               "n_spectra", "unit", "analysis")),
            })
        context = {
            "title": f"specssb report: {self._sample() or Path(session.folder).name}",
            "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "version": __version__,
            "summary": self._summary(),
            "files": self._files(),
            "cycling": self._cycling(),
            "techniques": techniques,
            "trends": _table(self.numbers["trends"]),
            "correlation": _table(self.numbers["correlation"]),
            "choices": [{"spectrum": c.label, "recipe": c.recipe or "none", "origin": c.origin,
                         "reason": c.reason,
                         "rejected": "; ".join(f"{n}: {r}" for n, r in c.rejected)}
                        for c in result.choices],
            "warnings": self._warnings(),
            "provenance": self._provenance(store_run),
        }
        context["summary"]["figures"] = self.figure_count
        return context

    # -------------------------------------------------------------- summary and files
    def _sample(self) -> str | None:
        if getattr(self.session, "sample", None):
            return str(self.session.sample)
        samples = _samples_of(f for f in self.session.files)
        return samples[0] if len(samples) == 1 else None

    def _summary(self) -> dict[str, Any]:
        session, result = self.session, self.result
        files = session.files
        analysed = [a for a in result.analyses if a.table is not None]
        return {
            "sample": self._sample() or "not named (no session.toml sample)",
            "samples_in_files": ", ".join(_samples_of(files)) or "-",
            "folder": str(session.folder),
            "files_found": len(files),
            "files_read": sum(f.status == "read" for f in files),
            "cycler": _relative(session, session.cycler) if session.cycler else "none",
            "spectra": sum(len(f.spectra) for f in files),
            "analyses": len(result.analyses),
            "analysed": len(analysed),
            "failures": len(result.failed) + sum(a.error is not None for a in result.analyses),
            "failed_files": len({f.file for f in result.failed}),
            "warnings": sum(len(a.warnings) for a in result.analyses),
            "figures": 0,  # set by build() once every figure is drawn
        }

    def _files(self) -> list[dict[str, Any]]:
        rows = []
        for item in self.session.files:
            comments = {str(c) for s in item.spectra for c in _comments(s)}
            rows.append({
                "file": item.relative, "status": item.status, "format": item.format or "-",
                "technique": item.technique or "-", "spectra": len(item.spectra),
                "sample": ", ".join(_samples_of([item])) or "-",
                "comment": "; ".join(sorted(comments))[:300],
                "acquired": _when(_first_time(item.spectra)),
                "tags": ", ".join(f"{k}={v}" for k, v in item.tags.items()),
                "error": item.error or "",
            })
        return rows

    # -------------------------------------------------------------- cycling
    def _cycling(self) -> dict[str, Any] | None:
        if self.cycler is None:
            return None
        summary = self.numbers["summary"]
        return {
            "file": _relative(self.session, self.session.cycler) if self.session.cycler else "given",
            "records": len(self.cycler),
            "figure": self._figure(lambda: fig.plot_cycling(self.cycler, summary), "cycling"),
            "table": _table(summary, ("cycle", "first_half", "charge_capacity_mah",
                                      "discharge_capacity_mah", "coulombic_efficiency",
                                      "capacity_retention", "mean_voltage_v", "start", "end")),
        }

    # -------------------------------------------------------------- one analysis
    def _analysis(self, analysis_result: Any) -> dict[str, Any]:
        analysis = analysis_result.analysis
        table = analysis_result.table
        frame = table.frame if table is not None else pd.DataFrame()
        item = {
            "label": analysis_result.label, "kind": analysis.kind, "recipe": analysis.recipe.name,
            "recipe_hash": analysis.recipe.hash, "origin": analysis.origin,
            "reason": analysis.reason, "spectra": len(analysis.spectra),
            "files": len(analysis.files), "seconds": f"{analysis_result.seconds:.1f}",
            "error": analysis_result.error, "warnings": list(analysis_result.warnings),
            "converged": _convergence(frame), "figures": [],
        }
        draw = {"fit": self._fit_figures, "band_maps": self._raman_figures,
                "xas": self._xas_figures, "csi": self._csi_figures}.get(analysis.kind)
        if draw is not None:
            item["figures"] = [f for f in draw(analysis_result) if f is not None]
        return item

    def _ok_refs(self, analysis_result: Any) -> list[Any]:
        """The analysis' files that did not fail, in order (one detail each for maps and CSI)."""
        failed = {f.file for f in self.result.failed if f.stage == analysis_result.label}
        return [r for r in analysis_result.analysis.refs if r.file not in failed]

    def _fit_figures(self, analysis_result: Any, count: int = _FITS_PER_ANALYSIS) -> list[Any]:
        from specssb.fitting.plots import plot_fit

        table = analysis_result.table
        if table is None or not getattr(table, "batches", None):
            return []
        out = []
        frame = table.frame
        for number in fig.representative_spectra(table.n_spectra, count):
            rows = frame[frame["spectrum"] == number]
            where = _spectrum_caption(rows, self.session)
            out.append(self._figure(lambda n=number: plot_fit(table, n), f"fit of {where}"))
        return out

    def _raman_figures(self, analysis_result: Any) -> list[Any]:
        from specssb.fitting.raman.plots import plot_maps

        out = []
        for ref, maps in zip(self._ok_refs(analysis_result), analysis_result.details):
            quantity = "area" if "area" in maps.quantities else maps.quantities[0]
            chosen = [maps[(band, quantity)] for band in maps.bands
                      if band not in fig.NOT_SPECIES and (band, quantity) in maps.maps]
            if chosen:
                out.append(self._figure(lambda c=chosen: plot_maps(c),
                                        f"band {quantity} maps of {ref.file}"))
        return out + self._fit_figures(analysis_result, 2)

    def _xas_figures(self, analysis_result: Any) -> list[Any]:
        from specssb.fitting.xas.plots import plot_lcf_fit, plot_series

        out = []
        for detail in analysis_result.details:
            out.append(self._figure(lambda d=detail: plot_series(d),
                                    f"{detail.series.n_spectra} normalized scans, edge, components"))
            out.append(self._figure(
                lambda d=detail: fig.plot_xas_with_cycling(d.table.frame, self.cycler),
                "edge position and component fractions over time, cycling curve beneath"))
            if detail.lcf is not None:
                for number in fig.representative_spectra(detail.lcf.n_spectra, 2):
                    out.append(self._figure(lambda d=detail, n=number: plot_lcf_fit(d, n),
                                            f"linear combination fit of scan {number}"))
        return out

    def _csi_figures(self, analysis_result: Any) -> list[Any]:
        labelled = []
        for ref, profiles in zip(self._ok_refs(analysis_result), analysis_result.details):
            title = profiles.image.meta.get("title") if profiles.image is not None else None
            labelled.append((f"{ref.file}" + (f": {title}" if title else ""), profiles))
        return [self._figure(lambda: fig.plot_csi_profiles(labelled),
                             "CSI integrals versus position (± standard error from the noise)")]

    # -------------------------------------------------------------- figures
    def _figure(self, draw: Callable[[], Any], caption: str) -> dict[str, str] | None:
        """Draw and encode one figure; a figure that fails is listed as a warning instead."""
        try:
            figure = draw()
            if figure is None:
                return None
            uri = fig.figure_uri(figure)
        except Exception as error:  # noqa: BLE001 - one bad figure must not lose the report
            self.caught.append(f"figure not drawn ({caption}): {type(error).__name__}: {error}")
            return None
        self.figure_count += 1
        return {"uri": uri, "caption": caption}

    # -------------------------------------------------------------- warnings and provenance
    def _warnings(self) -> dict[str, Any]:
        result = self.result
        return {
            "failed": [{"file": f.file, "stage": f.stage, "reason": f.reason} for f in result.failed],
            "analyses": [{"label": a.label, "error": a.error} for a in result.analyses if a.error],
            "fits": collapse_warnings([(a.label, m) for a in result.analyses for m in a.warnings]),
            "files": [{"file": f.relative, "notes": [n for n in f.notes if "Warning" in n]}
                      for f in self.session.files if any("Warning" in n for n in f.notes)],
            "session": list(result.notes),
            "report": [],
        }

    def _provenance(self, store_run: Sequence[Any] | None) -> dict[str, Any]:
        recipes = {}
        for a in self.result.analyses:
            recipe = a.analysis.recipe
            recipes[(recipe.name, recipe.hash)] = {"name": recipe.name, "hash": recipe.hash,
                                                   "technique": recipe.technique,
                                                   "used_by": a.label}
        runs = [{"session": r.session, "run": r.run or "(nothing new)", "rows": len(r),
                 "skipped": r.skipped, "path": str(r.path) if r.path else ""}
                for r in (store_run or [])]
        return {
            "versions": [{"name": name, "version": _version_of(name)} for name in VERSIONED]
            + [{"name": "python", "version": platform.python_version()}],
            "recipes": list(recipes.values()),
            "files": [{"file": f.relative, "format": f.format or "-", "sha256": f.sha256 or "-"}
                      for f in self.session.files],
            "store": runs,
        }


# ---------------------------------------------------------------------- helpers
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("specssb.report", "templates"),
        autoescape=True,  # every value is escaped; the template marks nothing safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _techniques(result: Any) -> list[str]:
    found = list(dict.fromkeys(_technique_of(a) for a in result.analyses))
    return [t for t in TECHNIQUE_ORDER if t in found] + [t for t in found if t not in TECHNIQUE_ORDER]


def _technique_of(analysis_result: Any) -> str:
    return str(analysis_result.analysis.recipe.technique)


def _table(frame: pd.DataFrame | None, columns: Sequence[str] | None = None) -> dict[str, Any] | None:
    """A frame as header and rows of display strings (cut at ``_TABLE_ROWS``)."""
    if frame is None or not isinstance(frame, pd.DataFrame) or frame.empty:
        return None
    names = [c for c in (columns or frame.columns) if c in frame.columns]
    shown = frame[names].head(_TABLE_ROWS)
    return {"columns": [str(c) for c in names],
            "rows": [[_cell(v) for v in row] for row in shown.itertuples(index=False)],
            "total": len(frame), "cut": len(frame) > _TABLE_ROWS}


def _cell(value: Any) -> str:
    """One value for a table cell: numbers to 4 significant digits, times to the minute."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "" if not math.isfinite(float(value)) else f"{float(value):.4g}"
    if isinstance(value, dt.datetime | pd.Timestamp):
        return _when(value)
    return str(value)


def _when(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text[:16].replace("T", " ")


def _first_time(spectra: Sequence[Any]) -> Any:
    times = [s.meta.get("acquired_at") for s in spectra if s.meta.get("acquired_at") is not None]
    return min(times) if times else None


def _samples_of(files: Any) -> list[str]:
    return sorted({str(s.meta["sample"]) for f in files for s in f.spectra if s.meta.get("sample")})


def _comments(spectrum: Any) -> list[str]:
    """Free-text comments of a file's header (VAMAS block and file comments, XDI comments, the
    title of a Bruker experiment)."""
    raw = spectrum.raw_meta
    found = []
    keys = ("file comment", "comment", "comments")
    values = [spectrum.meta.get("title")] + [raw.get(key) for key in keys]
    for value in values:
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
        elif isinstance(value, list | tuple):
            found += [str(v).strip() for v in value if str(v).strip()]
    return found


def _relative(session: Any, path: Any) -> str:
    try:
        return Path(path).relative_to(session.folder).as_posix()
    except ValueError:
        return str(path)


def _spectrum_caption(rows: pd.DataFrame, session: Any) -> str:
    if rows.empty:
        return "spectrum"
    first = rows.iloc[0]
    name = first.get("file") or _relative(session, first["source"])
    parts = [str(name), str(first.get("block") or ""), str(first.get("index") or "")]
    return " ".join(p for p in parts if p and p != "nan")


def _convergence(frame: pd.DataFrame) -> str:
    if frame.empty or "converged" not in frame:
        return ""
    per_spectrum = frame.groupby(["spectrum", "source", "block"], sort=False, dropna=False)["converged"].all()
    bad = int((~per_spectrum.astype(bool)).sum())
    return f"{len(per_spectrum) - bad} of {len(per_spectrum)} converged"


def _version_of(name: str) -> str:
    if name == "specssb":
        return __version__
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def write_session_report(session: Any, result: Any, *, out: Path,
                         store: Path | None, notes: list[str] | None = None,
                         pdf: bool = False) -> Path:
    """What ``specssb report`` does after the run: cycler table, store, report (and its PDF).

    Parameters
    ----------
    session : Session
    result : SessionResult
        Its run.
    out : Path
        Report folder.
    store : Path or None
        Result store folder; None adds nothing.
    notes : list of str, optional
        Further remarks listed among the report's warnings.
    pdf : bool, default False
        Also print the report to ``report.pdf`` beside it with headless Chromium
        (:func:`specssb.report.browser.print_pdf`).

    Returns
    -------
    Path
        ``report.html``.

    Raises
    ------
    BrowserError
        ``pdf`` was asked and Chromium is missing or failed; ``report.html`` is written first.
    """
    from specssb.report.echem import read_cycler_table
    from specssb.report.render import render_report
    from specssb.report.store import Store
    from specssb.report.tracking import assign_cycles

    notes = list(notes or [])
    cycler = None
    added = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if session.cycler is not None:
            try:
                cycler = read_cycler_table(session.cycler, timezone=session.timezone)
            except SpecssbError as exc:
                notes.append(f"cycler file {session.cycler} not used: {type(exc).__name__}: {exc}")
        if store is not None:
            name = session.sample or session.folder.resolve().name
            try:
                # every analysis in one run: a process killed part-way stores all or none
                tables = [assign_cycles(analysis.table.frame, cycler) for analysis in result.analyses
                          if analysis.table is not None and len(analysis.table.frame)]
                if tables:
                    added.append(Store(store).add(name, tables))
            except SpecssbError as exc:
                notes.append(f"results not added to the store {store}: {type(exc).__name__}: {exc}")
    notes += [f"{w.category.__name__}: {w.message}" for w in caught]
    target = render_report(result, cycler=cycler, store_run=added, out=out, notes=notes)
    if pdf:
        from specssb.report.browser import print_pdf

        print_pdf(target, target.with_name("report.pdf"))
    return target
