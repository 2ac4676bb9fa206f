"""Reading a session folder: every item's format, spectra, hash and tags; the cycler file.

A file that no format claims, or whose reader refuses it, is kept with the reason; reading
goes on. Warnings raised while reading become the file's notes (the report lists them).
"""

from __future__ import annotations

import warnings
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from specssb import parsers
from specssb.errors import SpecssbError
from specssb.parsers import sha256_of
from specssb.report._session_manifest import Manifest
from specssb.spectrum import Spectrum

__all__ = ["configuration_files", "cycler_of", "is_ignored", "prepare", "read_item", "read_items"]


def read_items(root: Path, manifest: Manifest | None,
               manifest_path: Path) -> tuple[list[Any], list[str]]:
    """Every item under ``root`` as a :class:`~specssb.report.session.SessionFile`.

    The manifest and the recipe files it names are configuration, not items.
    """
    configuration = configuration_files(root, manifest, manifest_path)
    files, ignored = [], []
    for path, info, why in parsers.discover(root):
        if path.resolve() in configuration:
            continue
        if is_ignored(root, path, manifest):
            ignored.append(path.relative_to(root).as_posix())
            continue
        files.append(read_item(root, path, info, why, manifest))
    notes = [f"ignored as session.toml asks: {', '.join(ignored)}"] if ignored else []
    return files, notes


def is_ignored(root: Path, path: Path, manifest: Manifest | None) -> bool:
    """True when the manifest's ``ignore`` globs name the item at ``path`` (not a measurement)."""
    return manifest is not None and manifest.ignores(path.relative_to(root).as_posix())


def configuration_files(root: Path, manifest: Manifest | None, manifest_path: Path) -> set[Path]:
    """The manifest and the recipe files it names (resolved): configuration, not items."""
    return {manifest_path.resolve()} | {
        (root / entry.recipe).resolve() for entry in (manifest.analysis if manifest else [])
        if entry.recipe_is_path}


def read_item(root: Path, path: Path, info: Any, why: str, manifest: Manifest | None) -> Any:
    """One item of :func:`specssb.parsers.discover` as a :class:`~specssb.report.session.SessionFile`.

    Parameters
    ----------
    root : Path
        The session folder.
    path : Path
        The item (a file, or a folder format such as a Bruker experiment).
    info : FormatInfo or None
        Its sniffed format; None when no format claims it (``why`` says why).
    why : str
    manifest : Manifest or None
        For the tags and the timezone.
    """
    from specssb.report.session import SessionFile

    timezone = manifest.options.timezone if manifest is not None else None
    relative = path.relative_to(root).as_posix()
    tags = _tags_of(relative, manifest)
    if info is None:
        return SessionFile(path, relative, "unrecognised", tags=tags, error=why)
    if info.technique == "echem":
        return SessionFile(path, relative, "cycler", info.name, info.technique,
                           sha256=_hash(path), tags=tags)
    options = {"timezone": timezone} if timezone and "timezone" in info.options else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            spectra = parsers.read(path, format=info.name, **options)
        except (SpecssbError, OSError) as error:
            return SessionFile(path, relative, "failed", info.name, info.technique,
                               sha256=_hash(path), tags=tags,
                               error=f"{type(error).__name__}: {error}")
        except Exception as error:  # noqa: BLE001 - a reader's bug must not stop a session
            return SessionFile(
                path, relative, "failed", info.name, info.technique, sha256=_hash(path),
                tags=tags, error=f"unexpected {type(error).__name__} in the {info.name} "
                                 f"reader: {error}")
    notes = [f"{w.category.__name__}: {w.message}" for w in caught]
    prepared, steps = prepare(spectra)
    sha = spectra[0].source.sha256 if spectra and spectra[0].source is not None else _hash(path)
    return SessionFile(path, relative, "read", info.name, info.technique,
                       tuple(prepared), sha, tags, None, tuple(notes + steps))


def prepare(spectra: list[Spectrum]) -> tuple[list[Spectrum], list[str]]:
    """Spectra as analysed (:func:`specssb.fitting.nmr.processing.process_fids`): 1D NMR FIDs
    processed from their stored procs; CSI data sets and other series stay raw."""
    from specssb.fitting.nmr.processing import process_fids

    return process_fids(spectra)


def cycler_of(root: Path, manifest: Manifest | None, files: list[Any]) -> tuple[Path | None, list[str]]:
    """The session's cycler file: the manifest's, else the only cycler-format file found."""
    if manifest is not None and manifest.cycler is not None:
        return root / manifest.cycler, []
    found = [f for f in files if f.status == "cycler"]
    if len(found) == 1:
        return found[0].path, []
    if len(found) > 1:
        names = ", ".join(f.relative for f in found)
        return None, [f"several cycler files ({names}); name one with cycler = \"...\" in "
                      "session.toml"]
    return None, []


def _tags_of(relative: str, manifest: Manifest | None) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for entry in manifest.tags if manifest is not None else []:
        if fnmatch(relative, entry.glob):
            tags.update(entry.tags)
    return tags


def _hash(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None
