"""``session.toml``: the optional manifest of a session folder, validated with line and key.

.. code-block:: toml

    sample = "cell01"                       # sample or cell name (both optional)
    cell = "NMC811 | Li6PS5Cl | Li-In"
    description = "operando study, cycles 0-10"
    cycler = "echem/cell01_GCPL.mpt"        # the cycler file (found by format when omitted)
    allow_outside = false                   # true: paths may leave the session folder
    ignore = ["truth.json", "notes/*"]      # files that are not measurements (globs)

    [options]
    timezone = "Europe/Berlin"              # instrument clocks that write local time
    auto = true                             # spectra no [[analysis]] covers get built-in recipes

    [references]                            # reference spectra (XAS LCF), label = path
    charged = "xas/ni_references/NMC811_charged_Ni_K.xdi"
    discharged = "xas/ni_references/NMC811_discharged_Ni_K.xdi"

    [[analysis]]
    glob = "xps/*.vms"                      # files, relative to the session folder
    recipe = "xps-s2p-argyrodite"           # a built-in name, or a .toml file in the session
    references = {ox = "refs/a.xdi"}        # optional: this analysis's LCF references

    [[tags]]
    glob = "xps/*cycle10*"
    cycle = 10                              # any scalar: cycle, state of charge, temperature …
    state = "discharged"

``[references]`` replace the reference spectra of every recipe with an LCF step in the session
(built-in or named), unless an ``[[analysis]]`` gives its own ``references``; files named as
references are not analysed as scans. An ``[[analysis]]`` runs its recipe on the spectra of the
files its glob matches that the recipe's ``[select]`` accepts (``xps/*.vms`` with an S 2p recipe
fits the S 2p regions only).

``ignore`` lists files that are not measurements (ground truth, notes, exports of other
programs): they are neither read nor reported as failures, and the report says how many were
ignored. Hidden files, README/PROVENANCE files and Python scripts are always ignored.

Globs match the path relative to the session folder with :func:`fnmatch.fnmatch` (``*``
crosses ``/``), so ``"*.vms"`` matches every VAMAS file at any depth.

Every path (cycler, references, recipe files) and every glob must stay inside the session
folder: an absolute path, or ``..`` that leaves the folder (also through a symbolic link), is a
:class:`~specssb.errors.ConfigError` unless ``allow_outside = true`` is written.
"""

from __future__ import annotations

import datetime as _dt
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from specssb.errors import ConfigError
from specssb.fitting import _toml_lines
from specssb.fitting._recipe_errors import syntax_error, validation_error
from specssb.fitting._recipe_schema import LocatedError, Problem

__all__ = ["MANIFEST_NAME", "RESERVED_TAGS", "AnalysisEntry", "Manifest", "Options", "TagEntry",
           "load_manifest", "parse_manifest"]

#: The manifest's file name inside a session folder.
MANIFEST_NAME = "session.toml"

#: Column names of the session's result tables that a tag may not take.
RESERVED_TAGS = frozenset({
    "spectrum", "source", "block", "index", "species", "quantity", "value", "stderr", "unit",
    "converged", "redchi", "recipe", "engine", "acquired_at", "file", "file_sha256", "analysis",
    "glob", "sample",
})

_TAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


class Options(BaseModel):
    """``[options]``: how the session is read and planned."""

    model_config = _STRICT

    timezone: str = "UTC"
    auto: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from specssb.parsers._common import time_zone

        try:
            time_zone(value)
        except ConfigError as error:
            raise ValueError(error.reason) from None
        return value


class AnalysisEntry(BaseModel):
    """One ``[[analysis]]``: a recipe applied to the files a glob matches."""

    model_config = _STRICT

    glob: str = Field(min_length=1)
    recipe: str = Field(min_length=1)
    references: dict[str, str] | None = None

    @property
    def recipe_is_path(self) -> bool:
        """True when ``recipe`` names a file rather than a built-in recipe."""
        return self.recipe.endswith(".toml") or "/" in self.recipe or "\\" in self.recipe


class TagEntry(BaseModel):
    """One ``[[tags]]``: scalar tags for the files a glob matches (every other key is a tag)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    glob: str = Field(min_length=1)

    @model_validator(mode="after")
    def _scalars(self) -> TagEntry:
        problems: list[Problem] = []
        for name, value in (self.model_extra or {}).items():
            if not _TAG_NAME.match(name):
                problems.append(((name,), f"tag name {name!r} must start with a letter and "
                                 "hold only letters, digits and '_'", name))
            elif name in RESERVED_TAGS:
                problems.append(((name,), f"{name!r} is a column of the result tables; "
                                 "choose another tag name", name))
            elif not isinstance(value, (str, int, float, bool, _dt.date, _dt.time)):
                problems.append(((name,), f"a tag is one scalar (text, number, true/false, "
                                 f"date), got {type(value).__name__}", name))
        if problems:
            raise LocatedError(problems)
        return self

    @property
    def tags(self) -> dict[str, Any]:
        """The tags, by name."""
        return dict(self.model_extra or {})


class Manifest(BaseModel):
    """A validated ``session.toml`` (see the module documentation)."""

    def ignores(self, relative: str) -> bool:
        """True when the item at ``relative`` (posix path inside the session) is to be ignored."""
        return any(fnmatch(relative, pattern) for pattern in self.ignore)

    model_config = _STRICT

    sample: str | None = None
    cell: str | None = None
    description: str = ""
    cycler: str | None = None
    allow_outside: bool = False
    ignore: list[str] = Field(default_factory=list)
    options: Options = Field(default_factory=Options)
    references: dict[str, str] = Field(default_factory=dict)
    analysis: list[AnalysisEntry] = Field(default_factory=list)
    tags: list[TagEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _inside(self, info: ValidationInfo) -> Manifest:
        root = (info.context or {}).get("root")
        if root is None or self.allow_outside:
            return self
        problems: list[Problem] = []

        def check(loc: tuple[str | int, ...], text: str, what: str) -> None:
            reason = _escape_reason(Path(root), text, what)
            if reason:
                problems.append((loc, reason, str(loc[-1])))

        if self.cycler is not None:
            check(("cycler",), self.cycler, "path")
        for label, path in self.references.items():
            check(("references", label), path, "path")
        for i, entry in enumerate(self.analysis):
            check(("analysis", i, "glob"), entry.glob, "glob")
            if entry.recipe_is_path:
                check(("analysis", i, "recipe"), entry.recipe, "path")
            for label, path in (entry.references or {}).items():
                check(("analysis", i, "references", label), path, "path")
        for i, entry in enumerate(self.tags):
            check(("tags", i, "glob"), entry.glob, "glob")
        for i, pattern in enumerate(self.ignore):
            check(("ignore", i), pattern, "glob")
        if problems:
            raise LocatedError(problems)
        return self


def _escape_reason(root: Path, text: str, what: str) -> str | None:
    """Why ``text`` leaves the session folder ``root`` (None when it stays inside)."""
    posix, windows = PurePosixPath(text), PureWindowsPath(text)
    if posix.is_absolute() or windows.is_absolute() or windows.drive:
        return (f"the {what} {text!r} is absolute; write it relative to the session folder "
                "(or set allow_outside = true)")
    if what == "glob":
        parts = re.split(r"[\\/]", text)
        if ".." in parts:
            return (f"the glob {text!r} climbs out of the session folder with '..' "
                    "(set allow_outside = true to allow it)")
        return None
    base = root.resolve()
    target = (root / text).resolve()
    if target != base and base not in target.parents:
        return (f"the {what} {text!r} leads out of the session folder {str(root)!r} "
                "(set allow_outside = true to allow it)")
    return None


def parse_manifest(text: str, *, path: str | Path = MANIFEST_NAME,
                   root: str | Path | None = None) -> Manifest:
    """Validate the text of a ``session.toml``.

    Parameters
    ----------
    text : str
        The TOML document.
    path : str or Path
        Named in error messages.
    root : str or Path, optional
        The session folder; paths are checked not to leave it (skipped when None).

    Raises
    ------
    ConfigError
        For a TOML syntax error or any problem, naming the file, the line and the key.

    Examples
    --------
    >>> parse_manifest('sample = "cell01"\\n[[tags]]\\nglob = "*.vms"\\ncycle = 3\\n').tags[0].tags
    {'cycle': 3}
    >>> parse_manifest('sampel = "cell01"\\n')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    specssb.errors.ConfigError: session.toml line 1 key 'sampel': unknown key; did you mean 'sample'?
    """
    path = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise syntax_error(error, text, path) from error
    try:
        return Manifest.model_validate(data, context={"root": root})
    except ValidationError as error:
        raise validation_error(_TyposFirst(error), data, _toml_lines.key_lines(text), path,  # type: ignore[arg-type]
                               Manifest) from error


class _TyposFirst:
    """Pydantic's errors without a 'missing' key that a misspelt key beside it explains
    (``recipie = ...`` makes ``recipe`` missing: the typo is the one thing to report)."""

    def __init__(self, error: ValidationError) -> None:
        self._items = error.errors()

    def errors(self) -> list[Any]:
        from specssb.fitting._recipe_schema import closest

        unknown: dict[tuple[Any, ...], list[str]] = {}
        for item in self._items:
            if item["type"] == "extra_forbidden" and item["loc"]:
                unknown.setdefault(tuple(item["loc"][:-1]), []).append(str(item["loc"][-1]))
        return [item for item in self._items if not (
            item["type"] == "missing" and item["loc"]
            and closest(str(item["loc"][-1]), unknown.get(tuple(item["loc"][:-1]), ())))]


def load_manifest(path: str | Path, *, root: str | Path | None = None) -> Manifest:
    """Read and validate a ``session.toml`` file (UTF-8).

    Raises
    ------
    ConfigError
        When the file cannot be read, or as :func:`parse_manifest`.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"not UTF-8 text ({error.reason})", path=path) from error
    except OSError as error:
        raise ConfigError(f"cannot read the manifest: {error.strerror or error}", path=path) from error
    return parse_manifest(text, path=path, root=Path(path).parent if root is None else root)


def line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Line of a key path in a manifest's text (for errors found after validation)."""
    try:
        return _toml_lines.line_of(_toml_lines.key_lines(text), loc)
    except Exception:  # noqa: BLE001 - a line number is a courtesy, never a new failure
        return None
