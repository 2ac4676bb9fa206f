"""Running a session's plan: each analysis through its existing pipeline, failures recorded.

Every table of a run carries, beyond the fit-table columns, ``file`` (relative path),
``file_sha256``, ``acquired_at`` (UTC, from the spectrum; XAS tables have their own), ``sample``
(the manifest's, or None) and one column per session tag (None where a file has no such tag).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import SpecssbError
from specssb.fitting.result import FitTable
from specssb.spectrum import Spectrum

__all__ = ["AnalysisResult", "FailedFile", "SessionResult", "run_session"]


@dataclass(frozen=True)
class FailedFile:
    """A file that could not be used, and why.

    Attributes
    ----------
    file : str
        Relative path in the session.
    stage : str
        ``"format"`` (no format claims it), ``"read"`` (its reader refused it), or the label
        of the analysis that failed on it.
    reason : str
    """

    file: str
    stage: str
    reason: str


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """What one planned analysis produced.

    Attributes
    ----------
    analysis : Analysis
    table : FitTable or None
        Tidy results, tagged (None when the analysis failed on every file).
    details : tuple
        The pipeline's own results, for figures: :class:`~specssb.fitting.xas.pipeline.XasAnalysis`,
        :class:`~specssb.fitting.raman.BandMaps` per map, :class:`~specssb.fitting.nmr.csi.CsiProfiles`
        per data set (empty for peak fits: the FitTable holds the curves).
    warnings : tuple of str
        Every warning raised while it ran (non-converged fits, physics checks …).
    error : str or None
        Why it failed as a whole.
    seconds : float
        Wall time.
    """

    analysis: Any
    table: FitTable | None
    details: tuple[Any, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0

    @property
    def label(self) -> str:
        """The analysis label (``recipe`` or ``recipe on folder``)."""
        return str(self.analysis.label)


@dataclass(frozen=True, eq=False)
class SessionResult:
    """The outcome of :meth:`Session.run`.

    Attributes
    ----------
    session : Session
    analyses : tuple of AnalysisResult
        In plan order.
    failed : tuple of FailedFile
        Unrecognised and unreadable files, and files an analysis failed on.
    choices : tuple of Choice
        The decision for every spectrum, with the reason.
    notes : tuple of str
        Session and planning remarks.
    """

    session: Any
    analyses: tuple[AnalysisResult, ...]
    failed: tuple[FailedFile, ...]
    choices: tuple[Any, ...]
    notes: tuple[str, ...] = ()

    @property
    def tables(self) -> dict[str, FitTable]:
        """The FitTable of every analysis that produced one, by analysis label."""
        return {r.label: r.table for r in self.analyses if r.table is not None}

    def frame(self) -> pd.DataFrame:
        """Every table in one tidy frame, with an ``analysis`` column (the label)."""
        parts = [r.table.frame.assign(analysis=r.label) for r in self.analyses
                 if r.table is not None and len(r.table.frame)]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def run_session(session: Any, *, progress: Callable[[int, int, str], None] | None = None) -> SessionResult:
    """Run every analysis of ``session.plan()`` (see :meth:`Session.run`)."""
    plan = session.plan()
    failed = [FailedFile(f.relative, "format" if f.status == "unrecognised" else "read",
                         f.error or "") for f in session.unreadable]
    results = []
    for done, analysis in enumerate(plan):
        if progress is not None:
            progress(done, len(plan), analysis.label)
        result, bad = _run_one(session, analysis)
        results.append(result)
        failed += bad
    if progress is not None:
        progress(len(plan), len(plan), "done")
    return SessionResult(session, tuple(results), tuple(failed), tuple(session.choices()),
                         tuple(session.notes) + tuple(session.plan_notes))


# ---------------------------------------------------------------------- one analysis
def _run_one(session: Any, analysis: Any) -> tuple[AnalysisResult, list[FailedFile]]:
    start = time.perf_counter()
    runner = {"fit": _run_fit, "xas": _run_xas, "csi": _run_csi, "band_maps": _run_band_maps}[analysis.kind]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table, details, bad = runner(session, analysis)
            error = None
        except SpecssbError as exc:
            table, details, error = None, (), f"{type(exc).__name__}: {exc}"
            bad = [FailedFile(f, analysis.label, error) for f in analysis.files]
    if table is None and error is None and bad:
        error = f"failed on every file ({len(bad)}); see the failed files"
    if table is not None:
        table.frame = _tagged(table.frame, session, analysis)
    messages = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return AnalysisResult(analysis, table, tuple(details), messages, error,
                          time.perf_counter() - start), bad


def _per_file(session: Any, analysis: Any, work: Callable[[list[Spectrum]], Any]) -> tuple[list[Any], list[FailedFile]]:
    """``work`` on all spectra at once; if that fails, file by file, recording the failures."""
    spectra = list(analysis.spectra)
    try:
        return [work(spectra)], []
    except SpecssbError:
        if len(analysis.files) == 1:
            raise
    outputs, bad = [], []
    for name in analysis.files:
        chosen = [s for s, r in zip(spectra, analysis.refs) if r.file == name]
        try:
            outputs.append(work(chosen))
        except SpecssbError as exc:
            bad.append(FailedFile(name, analysis.label, f"{type(exc).__name__}: {exc}"))
    return outputs, bad


def _run_fit(session: Any, analysis: Any) -> tuple[FitTable | None, tuple[Any, ...], list[FailedFile]]:
    from specssb.fitting.engine import fit

    recipe = analysis.recipe
    spectra = list(analysis.spectra)
    if recipe.technique == "xps" and recipe.calibrate:
        spectra = _charge_corrected(session, analysis)
    same = all(a is b for a, b in zip(spectra, analysis.spectra))
    corrected = analysis if same else _Replaced(analysis, spectra)
    tables, bad = _per_file(session, corrected, lambda chosen: fit(chosen, recipe))
    table = FitTable([b for t in tables for b in t.batches]) if tables else None
    return table, (), bad


class _Replaced:
    """An analysis with its spectra replaced (charge-corrected), for :func:`_per_file`."""

    def __init__(self, analysis: Any, spectra: list[Spectrum]) -> None:
        self.spectra, self.refs, self.files, self.label = (
            tuple(spectra), analysis.refs, analysis.files, analysis.label)


def _charge_corrected(session: Any, analysis: Any) -> list[Spectrum]:
    """Each file's regions shifted by the one charge correction found in that file."""
    from specssb.fitting.xps.charge import charge_correct_with_recipe

    out = []
    corrected: dict[str, list[Spectrum]] = {}
    for ref in analysis.refs:
        if ref.file not in corrected:
            every = list(session.file(ref.file).spectra)
            corrected[ref.file] = charge_correct_with_recipe(every, analysis.recipe.calibrate)
        out.append(corrected[ref.file][ref.index])
    return out


def _run_xas(session: Any, analysis: Any) -> tuple[FitTable | None, tuple[Any, ...], list[FailedFile]]:
    from specssb.fitting.xas.pipeline import analyze

    result = analyze(list(analysis.spectra), analysis.recipe, references=analysis.references,
                     base=analysis.base)
    return result.table, (result,), []


def _run_csi(session: Any, analysis: Any) -> tuple[FitTable | None, tuple[Any, ...], list[FailedFile]]:
    from specssb.fitting.nmr import profiles_from_recipe

    frames, details, bad = [], [], []
    label = f"{analysis.recipe.name} {analysis.recipe.hash}"
    for ref, spectrum in zip(analysis.refs, analysis.spectra):
        try:
            profiles = profiles_from_recipe(spectrum, analysis.recipe)
        except SpecssbError as exc:
            bad.append(FailedFile(ref.file, analysis.label, f"{type(exc).__name__}: {exc}"))
            continue
        frames.append(_csi_frame(profiles, spectrum, len(details), label))
        details.append(profiles)
    if not frames:
        return None, (), bad
    return FitTable.from_frame(pd.concat(frames, ignore_index=True)), tuple(details), bad


def _csi_frame(profiles: Any, spectrum: Spectrum, number: int, label: str) -> pd.DataFrame:
    """CSI integrals as fit-table rows: one spectrum per data set, one row per voxel × window."""
    table = profiles.table
    positions = [c for c in table.columns if c.endswith("_mm")]
    voxel = table.groupby("window", sort=False).cumcount().to_numpy()  # C order per window
    shape = profiles.image.leading_shape or (1,)
    index = [",".join(map(str, np.unravel_index(k, shape))) for k in voxel]
    frame = pd.DataFrame({
        "spectrum": number, "source": spectrum.source.path if spectrum.source else "<memory>",
        "block": "", "index": index, "species": table["window"], "quantity": "integral",
        "value": table["integral"], "stderr": table["stderr"],
        "unit": f"{spectrum.signal_unit or 'a.u.'}·ppm",
        "converged": np.isfinite(table["integral"].to_numpy(float)), "redchi": np.nan,
        "recipe": label, "engine": "csi",
    })
    for column in positions:  # voxel centres, e.g. position_mm
        frame[column] = table[column].to_numpy()
    return frame


def _run_band_maps(session: Any, analysis: Any) -> tuple[FitTable | None, tuple[Any, ...], list[FailedFile]]:
    from specssb.fitting.raman import fit_band_maps

    tables, details, bad = [], [], []
    for ref, spectrum in zip(analysis.refs, analysis.spectra):
        try:
            maps = fit_band_maps(spectrum, analysis.recipe)
        except SpecssbError as exc:
            bad.append(FailedFile(ref.file, analysis.label, f"{type(exc).__name__}: {exc}"))
            continue
        if maps.table is not None:
            tables.append((maps.table, _pixel_index(spectrum, analysis.recipe)))
        details.append(maps)
    if not tables:
        return None, (), bad
    table = FitTable([b for t, _ in tables for b in t.batches])
    # the engine numbered the usable pixels 0, 1, …: label them "row,column" of the map
    pixel = np.concatenate([names[t.frame["spectrum"].to_numpy()] for t, names in tables])
    table.frame["index"] = pixel
    return table, tuple(details), bad


def _pixel_index(spectrum: Spectrum, recipe: Any) -> np.ndarray:
    """``"i,j"`` of each pixel :func:`fit_band_maps` fits (finite data in the window), in order."""
    rows = spectrum.data.reshape(-1, spectrum.axis.size)
    window = recipe.select.window
    axis = spectrum.axis.values
    inside = np.ones(axis.size, bool) if window is None else (axis >= min(window)) & (axis <= max(window))
    usable = np.flatnonzero(np.isfinite(rows[:, inside]).all(axis=1))
    shape = spectrum.leading_shape or (1,)
    return np.array([",".join(map(str, np.unravel_index(k, shape))) for k in usable], dtype=object)


# ---------------------------------------------------------------------- tagging
def _tagged(frame: pd.DataFrame, session: Any, analysis: Any) -> pd.DataFrame:
    """Add file, file_sha256, acquired_at, sample and the session's tag columns."""
    by_source: dict[str, Any] = {}
    when: dict[tuple[str, str], Any] = {}
    for ref, spectrum in zip(analysis.refs, analysis.spectra):
        source = spectrum.source.path if spectrum.source is not None else None
        if source is None:
            continue
        by_source[str(source)] = session.file(ref.file)
        block = spectrum.source.block
        when[(str(source), "" if block is None else str(block))] = spectrum.meta.get("acquired_at")
    sources = frame["source"].astype(str)
    files = [by_source.get(s) for s in sources]
    frame = frame.copy()
    frame["file"] = [f.relative if f is not None else None for f in files]
    frame["file_sha256"] = [f.sha256 if f is not None else None for f in files]
    if "acquired_at" not in frame.columns:
        blocks = frame["block"].astype(str)
        stamps = [when.get((s, b)) for s, b in zip(sources, blocks)]
        frame["acquired_at"] = pd.to_datetime(pd.Series(stamps, dtype=object), utc=True)
    frame["sample"] = session.sample
    names = list(dict.fromkeys(k for f in session.files for k in f.tags))
    for name in names:
        frame[name] = pd.Series([f.tags.get(name) if f is not None else None for f in files],
                                dtype=object, index=frame.index)
    return frame
