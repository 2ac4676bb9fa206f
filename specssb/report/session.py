"""Sessions: a folder of measurement files, what to run on them, and why.

A session is a folder (its sub-folders included) of instrument files, optionally with a
``session.toml`` manifest (documented in :mod:`specssb.report._session_manifest`): the sample or
cell, which recipe applies to which files by glob, tags per file glob (cycle, state of charge,
temperature …), reference spectra, the cycler file and options. Without a manifest, or for the
spectra its ``[[analysis]]`` entries do not cover, formats are sniffed and built-in recipes are
chosen by technique and region, element, edge or nucleus (the rules are in
:mod:`specssb.report._session_choose`); every choice is recorded with its reason, so the report
can show it.

.. code-block:: python

    session = Session.open("sample_data")
    for analysis in session.plan():
        print(analysis.label, len(analysis.spectra), analysis.reason)
    result = session.run()
    result.frame()          # every fitted quantity, tagged with file, hash and session tags

How each technique runs (the existing pipelines, nothing new):

==========  ===========================================================================
kind        pipeline
==========  ===========================================================================
fit         :func:`specssb.fitting.engine.fit` (XPS regions charge-corrected per file as
            the recipe's ``[calibrate]`` says; 1D NMR FIDs processed from their procs)
xas         :func:`specssb.fitting.xas.pipeline.analyze`, one series per folder and edge
csi         :func:`specssb.fitting.nmr.profiles_from_recipe`, one per CSI data set
band_maps   :func:`specssb.fitting.raman.fit_band_maps`, one per map
==========  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from specssb.errors import ConfigError
from specssb.fitting.recipe import Recipe, list_recipes, load_recipe
from specssb.report._session_choose import choose_recipes, kind_of, usable_reason
from specssb.report._session_manifest import MANIFEST_NAME, Manifest, line_of, parse_manifest
from specssb.report._session_run import AnalysisResult, FailedFile, SessionResult, run_session
from specssb.spectrum import Spectrum

__all__ = ["Analysis", "AnalysisResult", "Choice", "FailedFile", "Session", "SessionFile",
           "SessionResult", "SpectrumRef"]

Progress = Callable[[int, int, str], None]
ItemReader = Callable[[Path, Manifest | None, Path], tuple[list[Any], list[str]]]


@dataclass(frozen=True)
class SpectrumRef:
    """One Spectrum of a session: its file (relative path) and its position in that file."""

    file: str
    index: int


@dataclass(frozen=True, eq=False)
class SessionFile:
    """One item of a session folder (a file, or a Bruker experiment folder).

    Attributes
    ----------
    path : Path
        As found under the session folder.
    relative : str
        POSIX path relative to the session folder (what globs match).
    status : {"read", "cycler", "unrecognised", "failed"}
        Read into spectra; a cycler file (read by :mod:`specssb.report.echem`); no format
        claims it; or its reader refused it.
    format, technique : str or None
        The sniffed format and its technique.
    spectra : tuple of Spectrum
        As analysed: 1D NMR FIDs are processed (see ``notes``).
    sha256 : str or None
        Of the file's bytes (a folder: of its files).
    tags : Mapping
        Tags from the manifest's ``[[tags]]`` entries whose glob matches (later entries win).
    error : str or None
        Why the file is unrecognised or failed.
    notes : tuple of str
        Warnings while reading, and processing steps taken.
    """

    path: Path
    relative: str
    status: str
    format: str | None = None
    technique: str | None = None
    spectra: tuple[Spectrum, ...] = ()
    sha256: str | None = None
    tags: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        what = f"{len(self.spectra)} spectra" if self.status == "read" else (self.error or "")
        return f"<SessionFile {self.relative}: {self.status}, {self.format or '-'}, {what}>"


@dataclass(frozen=True)
class Choice:
    """What was decided for one spectrum, and why.

    Attributes
    ----------
    spectrum : SpectrumRef
    label : str
        ``file`` or ``file [block]``, for people.
    recipe : str or None
        The recipe chosen; None when none was (see ``reason``).
    origin : {"manifest", "auto", "reference", "none"}
        A ``[[analysis]]`` of session.toml; the automatic choice; a reference spectrum (not
        analysed itself); nothing applies.
    reason : str
    rejected : tuple of (str, str)
        Recipes that applied but were not chosen, with the reason.
    """

    spectrum: SpectrumRef
    label: str
    recipe: str | None
    origin: str
    reason: str
    rejected: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, eq=False)
class Analysis:
    """One recipe on a set of spectra, as planned.

    Attributes
    ----------
    recipe : Recipe
    kind : {"fit", "xas", "csi", "band_maps"}
        Which pipeline runs it (see the module table).
    refs : tuple of SpectrumRef
    spectra : tuple of Spectrum
        The spectra, in ``refs`` order (an XAS series in acquisition order is made by the
        pipeline).
    reason : str
        Why this recipe runs on these spectra (distinct reasons joined by `` | ``).
    origin : str
        ``"auto"`` or ``"session.toml [[analysis]] #k (line n)"``.
    references : Mapping of str to Path, optional
        XAS reference spectra given by the session (else the recipe's own).
    base : Path, optional
        Folder the recipe's relative reference paths resolve against.
    series : str
        For XAS, the folder (relative) of the series; else ``""``.
    label : str
        ``recipe`` or ``recipe on folder`` (an XAS series), unique within a plan (`` #2`` …
        is added when the same recipe runs twice, e.g. from the manifest and automatically).
    """

    recipe: Recipe
    kind: str
    refs: tuple[SpectrumRef, ...]
    spectra: tuple[Spectrum, ...]
    reason: str
    origin: str
    references: Mapping[str, Path] | None = None
    base: Path | None = None
    series: str = ""
    label: str = ""

    def __repr__(self) -> str:
        return (f"<Analysis {self.label} ({self.kind}, {self.origin}): {len(self.spectra)} spectra "
                f"of {len(self.files)} files>")

    @property
    def files(self) -> tuple[str, ...]:
        """The files analysed (relative paths, each once, in order)."""
        return tuple(dict.fromkeys(ref.file for ref in self.refs))


@dataclass(frozen=True, eq=False)
class Session:
    """A session folder, read: see the module documentation.

    Attributes
    ----------
    folder : Path
    files : tuple of SessionFile
        Every item found, readable or not.
    manifest : Manifest or None
    manifest_path : Path or None
    cycler : Path or None
        The cycler file: from the manifest, else the only cycler-format file found.
    notes : tuple of str
        Session-level remarks (several cycler files, a glob matching nothing …).
    """

    folder: Path
    files: tuple[SessionFile, ...]
    manifest: Manifest | None = None
    manifest_path: Path | None = None
    cycler: Path | None = None
    notes: tuple[str, ...] = ()
    _recipes: tuple[tuple[int, Recipe, Path | None], ...] = field(default=(), repr=False)
    _manifest_text: str = field(default="", repr=False)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, folder: str | Path, *, items: ItemReader | None = None) -> Session:
        """Read a session folder: its manifest, every file's format and spectra.

        Parameters
        ----------
        folder : str or Path
        items : callable, optional
            ``items(folder, manifest, manifest_path) -> (files, notes)``: the session's
            :class:`SessionFile` items. Default: every item under the folder, read
            (:func:`specssb.report._session_files.read_items`); :mod:`specssb.report.watch`
            passes the items that are complete.

        Returns
        -------
        Session
            Files that cannot be read are listed with the reason (``status`` ``"failed"`` or
            ``"unrecognised"``); they never stop the session.

        Raises
        ------
        ConfigError
            The folder does not exist, or ``session.toml`` is invalid (file, line, key): a
            syntax error, an unknown key, a path leaving the folder, a recipe or reference or
            cycler file that does not exist.
        """
        from specssb.report._session_files import cycler_of, read_items

        root = Path(folder)
        if not root.is_dir():
            raise ConfigError("no such session folder", path=root)
        manifest_path = root / MANIFEST_NAME
        manifest, text = None, ""
        if manifest_path.is_file():
            try:
                text = manifest_path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise ConfigError(f"cannot read the manifest: {error}", path=manifest_path) from error
            manifest = parse_manifest(text, path=manifest_path, root=root)
        recipes = _manifest_recipes(manifest, text, root, manifest_path)
        _check_manifest_files(manifest, text, root, manifest_path)
        files, notes = (items or read_items)(root, manifest, manifest_path)
        cycler, more = cycler_of(root, manifest, files)
        return cls(root, tuple(files), manifest, manifest_path if manifest else None, cycler,
                   tuple(notes + more), tuple(recipes), text)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for item in self.files:
            counts[item.status] = counts.get(item.status, 0) + 1
        states = ", ".join(f"{n} {status}" for status, n in counts.items())
        return (f"<Session {self.folder}: {len(self.files)} items ({states}); "
                f"manifest {'yes' if self.manifest else 'none'}; cycler {self.cycler}>")

    # ------------------------------------------------------------------ looking up
    @property
    def timezone(self) -> str:
        """The IANA zone of instrument clocks that write local time (manifest ``[options]``;
        ``"UTC"`` without one): passed to every reader with a ``timezone`` option, and the
        one to read the cycler file with."""
        return self.manifest.options.timezone if self.manifest is not None else "UTC"

    @property
    def readable(self) -> tuple[SessionFile, ...]:
        """Files read into spectra."""
        return tuple(f for f in self.files if f.status == "read")

    @property
    def unreadable(self) -> tuple[SessionFile, ...]:
        """Files no format claims or whose reader refused them, each with ``error``."""
        return tuple(f for f in self.files if f.status in ("unrecognised", "failed"))

    def file(self, relative: str) -> SessionFile:
        """The file with this relative path."""
        for item in self.files:
            if item.relative == relative:
                return item
        raise KeyError(f"no file {relative!r} in session {self.folder}")

    def spectrum(self, ref: SpectrumRef) -> Spectrum:
        """The Spectrum a reference points to."""
        return self.file(ref.file).spectra[ref.index]

    @property
    def sample(self) -> str | None:
        """The manifest's sample (or cell) name."""
        if self.manifest is None:
            return None
        return self.manifest.sample or self.manifest.cell

    # ------------------------------------------------------------------ planning
    def plan(self) -> list[Analysis]:
        """Which recipe runs on which spectra, and why (see :meth:`choices` for each spectrum).

        Returns
        -------
        list of Analysis
            Manifest analyses first (in file order), then the automatic ones.
        """
        return self._planned()[0]

    def choices(self) -> list[Choice]:
        """The decision for every spectrum of the session, with the reasons."""
        return self._planned()[1]

    @property
    def plan_notes(self) -> list[str]:
        """Remarks made while planning (a manifest glob that matches no file …)."""
        return self._planned()[2]

    def _planned(self) -> tuple[list[Analysis], list[Choice], list[str]]:
        cached = self.__dict__.get("_plan_cache")
        if cached is None:  # the plan depends only on the frozen session: computed once
            cached = _Planner(self).run()
            object.__setattr__(self, "_plan_cache", cached)
        return cached

    # ------------------------------------------------------------------ running
    def run(self, *, progress: Progress | None = None) -> SessionResult:
        """Run the plan; a file or an analysis that fails is recorded and the run goes on.

        Parameters
        ----------
        progress : callable, optional
            ``progress(done, total, label)``, called before each analysis and once at the end
            (``done == total``).

        Returns
        -------
        SessionResult
            Tables per analysis, failed files with reasons, the choices.
        """
        return run_session(self, progress=progress)


# ---------------------------------------------------------------------- manifest helpers
#: Words in a file or folder name that mark a reference or calibration measurement (a Si
#: wafer, a metal foil, an end-member compound), which the automatic plan does not analyse as a
#: sample; name it in session.toml to analyse it anyway.
REFERENCE_WORDS = ("reference", "references", "calibration", "calib")


def _is_reference_file(relative: str) -> bool:
    import re

    words = {w for part in Path(relative).parts for w in re.split(r"[^a-z0-9]+", part.lower())}
    return bool(words & set(REFERENCE_WORDS))


def _manifest_error(reason: str, text: str, path: Path, loc: tuple[str | int, ...]) -> ConfigError:
    key = next((str(part) for part in reversed(loc) if isinstance(part, str)), None)
    return ConfigError(reason, path=path, line=line_of(text, loc), key=key)


def _manifest_recipes(manifest: Manifest | None, text: str, root: Path,
                      path: Path) -> list[tuple[int, Recipe, Path | None]]:
    """Load every ``[[analysis]]`` recipe: (entry number, recipe, folder of its file)."""
    out: list[tuple[int, Recipe, Path | None]] = []
    for i, entry in enumerate(manifest.analysis if manifest else []):
        loc = ("analysis", i, "recipe")
        if entry.recipe_is_path:
            recipe_path = root / entry.recipe
            if not recipe_path.is_file():
                raise _manifest_error(f"recipe file {entry.recipe!r} not found in the session "
                                      "folder", text, path, loc)
            out.append((i, load_recipe(recipe_path), recipe_path.parent))
            continue
        try:
            out.append((i, load_recipe(entry.recipe), None))
        except ConfigError as error:
            raise _manifest_error(error.reason, text, path, loc) from error
    return out


def _check_manifest_files(manifest: Manifest | None, text: str, root: Path, path: Path) -> None:
    """Every file the manifest names must exist (references, cycler)."""
    if manifest is None:
        return
    named: list[tuple[tuple[str | int, ...], str]] = []
    if manifest.cycler is not None:
        named.append((("cycler",), manifest.cycler))
    named += [(("references", label), p) for label, p in manifest.references.items()]
    for i, entry in enumerate(manifest.analysis):
        named += [(("analysis", i, "references", label), p)
                  for label, p in (entry.references or {}).items()]
    for loc, relative in named:
        if not (root / relative).exists():
            raise _manifest_error(f"{relative!r} not found in the session folder", text, path, loc)


# ---------------------------------------------------------------------- planning
class _Planner:
    """Builds the plan of a session: manifest analyses, then automatic choices."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.manifest = session.manifest
        self.root = session.folder
        self.choices: list[Choice] = []
        self.notes: list[str] = []
        # (recipe name, series key) -> [recipe, kind, refs, reasons, origin, references, base]
        self.groups: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.covered: set[SpectrumRef] = set()
        self.reference_files = self._manifest_reference_files()

    def run(self) -> tuple[list[Analysis], list[Choice], list[str]]:
        for number, recipe, base in self.session._recipes:
            self._manifest_entry(number, recipe, base)
        if self.manifest is None or self.manifest.options.auto:
            self._automatic()
        else:
            for item in self.session.readable:
                for index in range(len(item.spectra)):
                    ref = SpectrumRef(item.relative, index)
                    if ref not in self.covered:
                        self._choose(ref, None, "none", "no [[analysis]] of session.toml covers "
                                     "it, and [options] auto = false")
        self._drop_reference_scans()
        self._drop_named_references()
        analyses = []
        seen: dict[str, int] = {}
        for group in self.groups.values():
            if not group["refs"]:
                continue
            name = group["recipe"].name + (f" on {group['series']}" if group["series"] else "")
            seen[name] = seen.get(name, 0) + 1
            analyses.append(self._analysis(group, name + (f" #{seen[name]}" if seen[name] > 1 else "")))
        return analyses, self.choices, self.notes

    # -------------------------------------------------------------- references
    def _global_references(self) -> dict[str, Path] | None:
        if self.manifest is None or not self.manifest.references:
            return None
        return {label: self.root / p for label, p in self.manifest.references.items()}

    def _manifest_reference_files(self) -> dict[Path, str]:
        """Reference files the manifest names: resolved path -> where it is named."""
        if self.manifest is None:
            return {}
        named = {(self.root / p).resolve(): f"'{label}' of session.toml [references]"
                 for label, p in self.manifest.references.items()}
        for i, entry in enumerate(self.manifest.analysis):
            for label, p in (entry.references or {}).items():
                named.setdefault((self.root / p).resolve(),
                                 f"'{label}' of session.toml [[analysis]] #{i + 1}")
        return named

    # -------------------------------------------------------------- manifest
    def _manifest_entry(self, number: int, recipe: Recipe, base: Path | None) -> None:
        assert self.manifest is not None
        entry = self.manifest.analysis[number]
        line = line_of(self.session._manifest_text, ("analysis", number))
        origin = f"session.toml [[analysis]] #{number + 1}" + (f" (line {line})" if line else "")
        matched = [f for f in self.session.readable if fnmatch(f.relative, entry.glob)]
        if not matched:
            self._note(f"{origin}: glob {entry.glob!r} matches no readable file")
            return
        own = {label: self.root / p for label, p in (entry.references or {}).items()} or None
        references = own or (self._global_references() if "lcf" in recipe.steps else None)
        used = 0
        for item in matched:
            for index, spectrum in enumerate(item.spectra):
                if not recipe.applies_to(spectrum):
                    continue
                ref = SpectrumRef(item.relative, index)
                why_not = usable_reason(recipe, spectrum, have_references=references is not None,
                                        check_window=False)
                if why_not is not None:
                    self._choose(ref, None, "none", f"{origin}: {recipe.name} cannot run: {why_not}")
                    continue
                reason = f"{origin}: glob {entry.glob!r} names recipe {recipe.name}"
                self._assign(ref, recipe, reason, origin, references, base)
                used += 1
        if not used:
            self._note(f"{origin}: recipe {recipe.name} selects none of the spectra of the "
                       f"{len(matched)} file(s) glob {entry.glob!r} matches")

    # -------------------------------------------------------------- automatic
    def _automatic(self) -> None:
        recipes = list_recipes()
        have_references = self._global_references() is not None
        for item in self.session.readable:
            for index, spectrum in enumerate(item.spectra):
                ref = SpectrumRef(item.relative, index)
                if ref in self.covered:
                    continue
                choice = choose_recipes(spectrum, recipes, have_references=have_references)
                if not choice.chosen:
                    why = "; ".join(f"{n}: {r}" for n, r in choice.rejected)
                    self._choose(ref, None, "none", "no built-in recipe applies"
                                 + (f" ({why})" if why else ""), choice.rejected)
                for recipe, reason in choice.chosen:
                    references = self._global_references() if "lcf" in recipe.steps else None
                    self._assign(ref, recipe, reason, "auto", references, None, choice.rejected)

    # -------------------------------------------------------------- grouping
    def _assign(self, ref: SpectrumRef, recipe: Recipe, reason: str, origin: str,
                references: Mapping[str, Path] | None, base: Path | None,
                rejected: tuple[tuple[str, str], ...] = ()) -> None:
        kind = kind_of(recipe)
        series = ""
        key: tuple[Any, ...] = (origin, recipe.name)
        if kind == "xas":
            spectrum = self.session.spectrum(ref)
            series = Path(ref.file).parent.as_posix()
            key += (series, spectrum.meta.get("element"), spectrum.meta.get("edge"))
        group = self.groups.setdefault(key, {
            "recipe": recipe, "kind": kind, "refs": [], "reasons": [], "origin": origin,
            "references": references, "base": base, "series": series})
        group["refs"].append(ref)
        if reason not in group["reasons"]:
            group["reasons"].append(reason)
        self.covered.add(ref)
        self._choose(ref, recipe.name, "manifest" if origin != "auto" else "auto", reason, rejected)

    def _drop_reference_scans(self) -> None:
        """XAS scans that are reference spectra of an analysis are not analysed as scans."""
        wanted: dict[Path, str] = dict(self.reference_files)
        for group in self.groups.values():
            if group["kind"] != "xas":
                continue
            for label, path in _recipe_reference_paths(group, self.root).items():
                wanted.setdefault(path, f"'{label}' of recipe {group['recipe'].name}")
        for group in self.groups.values():
            if group["kind"] != "xas":
                continue
            kept = []
            for ref in group["refs"]:
                whose = wanted.get((self.root / ref.file).resolve())
                if whose is None:
                    kept.append(ref)
                    continue
                self.choices = [c for c in self.choices
                                if not (c.spectrum == ref and c.recipe == group["recipe"].name)]
                if not any(c.spectrum == ref and c.origin == "reference" for c in self.choices):
                    self._choose(ref, None, "reference",
                                 f"reference spectrum {whose}; not analysed as a scan")
            group["refs"] = kept

    def _drop_named_references(self) -> None:
        """Automatically planned spectra of files named as references or calibrations (a Si
        wafer, a foil) are not analysed as samples (:data:`REFERENCE_WORDS`)."""
        for group in self.groups.values():
            if group["origin"] != "auto":
                continue
            kept = []
            for ref in group["refs"]:
                if not _is_reference_file(ref.file):
                    kept.append(ref)
                    continue
                self.choices = [c for c in self.choices
                                if not (c.spectrum == ref and c.recipe == group["recipe"].name)]
                if not any(c.spectrum == ref and c.origin == "reference" for c in self.choices):
                    self._choose(ref, None, "reference", "a reference or calibration measurement "
                                 "(its name says so): not analysed as a sample")
            group["refs"] = kept

    def _analysis(self, group: dict[str, Any], label: str) -> Analysis:
        refs = tuple(group["refs"])
        base = group["base"]
        if group["kind"] == "xas" and base is None and group["series"]:
            base = self.root / group["series"]
        return Analysis(
            recipe=group["recipe"], kind=group["kind"], refs=refs,
            spectra=tuple(self.session.spectrum(r) for r in refs),
            reason=" | ".join(group["reasons"]), origin=group["origin"],
            references=group["references"], base=base, series=group["series"], label=label)

    # -------------------------------------------------------------- records
    def _choose(self, ref: SpectrumRef, recipe: str | None, origin: str, reason: str,
                rejected: tuple[tuple[str, str], ...] = ()) -> None:
        spectrum = self.session.spectrum(ref)
        block = spectrum.source.block if spectrum.source is not None else None
        label = ref.file + (f" [{block}]" if block not in (None, "") else "")
        self.choices.append(Choice(ref, label, recipe, origin, reason, tuple(rejected)))

    def _note(self, text: str) -> None:
        self.notes.append(text)


def _recipe_reference_paths(group: Mapping[str, Any], root: Path) -> dict[str, Path]:
    """Resolved reference files of an XAS group: the session's, else the recipe's own."""
    if group["references"]:
        return {label: Path(p).resolve() for label, p in group["references"].items()}
    base = group["base"] or (root / group["series"])
    out: dict[str, Path] = {}
    for step in ("lcf", "mcr"):
        table = group["recipe"].steps.get(step)
        references = table.get("references") if isinstance(table, Mapping) else None
        for label, path in (references or {}).items():
            if isinstance(path, str):
                out[label] = (base / path).resolve()
    return out
