"""The parser registry: registration, sniffing, and :func:`read`.

A parser module registers its reader with :func:`register_parser`::

    @register_parser(name="vamas", technique="xps", extensions=(".vms", ".npl"),
                     magic=(b"VAMAS Surface Chemical Analysis Standard",),
                     description="ISO 14976 VAMAS (regular and irregular)")
    def read_vamas(path: Path, *, encoding: str = "latin-1") -> list[Spectrum]: ...

Sniffing looks at content first (magic bytes at the start of the file, after leading
whitespace, or a format's own ``sniff`` function), and at the extension only when no content
matches or to break a tie. Third-party formats register the same way from a module named in the
entry-point group ``specssb.parsers``.
"""

from __future__ import annotations

import hashlib
import inspect
import struct
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from os import PathLike
from pathlib import Path
from typing import Any

from specssb.errors import (
    ConfigError,
    ParseError,
    SpecssbError,
    SpecssbWarning,
    UnknownFormatError,
)
from specssb.spectrum import TECHNIQUES, Spectrum

__all__ = [
    "ENTRY_POINT_GROUP",
    "FormatInfo",
    "discover",
    "formats",
    "get_format",
    "read",
    "read_cycler",
    "register_parser",
    "sha256_of",
    "sniff",
]

#: Entry-point group through which third-party packages add formats.
ENTRY_POINT_GROUP = "specssb.parsers"

#: How many bytes of a file the sniffers see.
SNIFF_BYTES = 4096

#: Techniques a parser may declare: the four spectroscopies and cycler ("echem") data.
PARSER_TECHNIQUES = (*TECHNIQUES, "echem")

Reader = Callable[..., Any]
Sniffer = Callable[[Path, bytes], bool]


@dataclass(frozen=True)
class FormatInfo:
    """A registered format.

    Attributes
    ----------
    name : str
        Short name used with ``--format``.
    technique : str
        ``xps``, ``xas``, ``nmr``, ``raman`` or ``echem``.
    extensions : tuple of str
        Lower-case extensions including the dot (``".vms"``); empty for folder formats.
    magic : tuple of bytes
        Byte strings one of which starts the file (after leading whitespace).
    description : str
        One line for ``specssb formats``.
    reader : callable
        ``reader(path, **options)``; returns ``list[Spectrum]`` (a DataFrame for ``echem``).
    sniff : callable or None
        ``sniff(path, head) -> bool`` for content tests that magic bytes cannot express.
    options : dict
        Keyword-only options of the reader: name -> (default, annotation as text).
    module : str
        Module that registered it.
    fallback : bool
        A generic reader chosen by extension only when no content matched and no other
        format declares the extension without being a fallback (e.g. plain two-column text).
    """

    name: str
    technique: str
    extensions: tuple[str, ...]
    magic: tuple[bytes, ...]
    description: str
    reader: Reader = field(repr=False)
    sniff: Sniffer | None = field(default=None, repr=False)
    options: Mapping[str, tuple[Any, str]] = field(default_factory=dict)
    module: str = ""
    fallback: bool = False

    def matches_content(self, path: Path, head: bytes) -> bool:
        """True when the first bytes (or the folder's content) identify this format."""
        stripped = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
        if any(stripped.startswith(m) for m in self.magic):
            return True
        if self.sniff is not None:
            try:
                return bool(self.sniff(path, head))
            except (OSError, ValueError, UnicodeDecodeError):
                return False
        return False

    def matches_extension(self, path: Path) -> bool:
        """True when the file name ends with one of the declared extensions."""
        name = path.name.lower()
        return any(name.endswith(ext) for ext in self.extensions)


_REGISTRY: dict[str, FormatInfo] = {}
_PLUGINS_LOADED = False


def register_parser(
    *,
    name: str,
    technique: str,
    extensions: tuple[str, ...] = (),
    magic: tuple[bytes, ...] = (),
    description: str,
    sniff: Sniffer | None = None,
    fallback: bool = False,
) -> Callable[[Reader], Reader]:
    """Register a reader function under ``name``.

    Parameters
    ----------
    name : str
        Unique short name.
    technique : str
        One of ``xps``, ``xas``, ``nmr``, ``raman``, ``echem``.
    extensions : tuple of str
        Extensions with the dot; matched case-insensitively.
    magic : tuple of bytes
        Start-of-file byte strings (leading whitespace and a UTF-8 BOM are skipped).
    description : str
        One line.
    sniff : callable, optional
        ``sniff(path, head) -> bool``; ``head`` holds the first bytes of a file (empty for a
        folder).
    fallback : bool, default False
        Mark a generic reader (no magic, no sniffer) that takes an extension only when no
        format's content test matched the file: a headerless ``.xy`` goes to the plain-text
        reader, while a SPECS ``.xy`` is claimed by the SPECS reader's content test.

    Returns
    -------
    callable
        A decorator that registers and returns the reader unchanged.

    Raises
    ------
    ValueError
        If the name is taken, the technique unknown, or the reader has positional options.
    """
    if technique not in PARSER_TECHNIQUES:
        raise ValueError(f"unknown technique {technique!r}; expected one of {PARSER_TECHNIQUES}")

    def decorator(reader: Reader) -> Reader:
        if name in _REGISTRY and _REGISTRY[name].reader is not reader:
            raise ValueError(f"format {name!r} is already registered by {_REGISTRY[name].module}")
        _REGISTRY[name] = FormatInfo(
            name=name,
            technique=technique,
            extensions=tuple(e.lower() for e in extensions),
            magic=tuple(magic),
            description=description,
            reader=reader,
            sniff=sniff,
            options=_reader_options(reader),
            module=reader.__module__,
            fallback=fallback,
        )
        return reader

    return decorator


def _reader_options(reader: Reader) -> dict[str, tuple[Any, str]]:
    options: dict[str, tuple[Any, str]] = {}
    parameters = list(inspect.signature(reader).parameters.values())
    for p in parameters[1:]:
        if p.kind is not inspect.Parameter.KEYWORD_ONLY:
            raise ValueError(
                f"{reader.__qualname__}: option {p.name!r} must be keyword-only "
                "(write 'def read_x(path, *, option=...)')"
            )
        options[p.name] = (p.default, str(p.annotation))
    return options


def _load_plugins() -> None:
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED:
        return
    _PLUGINS_LOADED = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must never break reading
            warnings.warn(
                f"parser plugin {entry.name!r} ({entry.value}) failed to load and is skipped: "
                f"{type(exc).__name__}: {exc}",
                SpecssbWarning,
                stacklevel=2,
            )


def formats(technique: str | None = None) -> list[FormatInfo]:
    """Every registered format, sorted by technique and name.

    Parameters
    ----------
    technique : str, optional
        Only formats of this technique.

    Examples
    --------
    >>> "vamas" in [f.name for f in formats("xps")]
    True
    """
    _load_plugins()
    found = [f for f in _REGISTRY.values() if technique is None or f.technique == technique]
    return sorted(found, key=lambda f: (PARSER_TECHNIQUES.index(f.technique), f.name))


def get_format(name: str) -> FormatInfo:
    """The registered format called ``name``.

    Raises
    ------
    ConfigError
        If no format has that name (the message lists the names).
    """
    _load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown format {name!r}; known formats: {', '.join(sorted(_REGISTRY))}",
            key="format",
        ) from None


def _head(path: Path) -> bytes:
    if path.is_dir():
        return b""
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def sniff(path: str | PathLike[str], *, cycler: bool | None = None) -> FormatInfo:
    """Identify the format of a file or folder: content first, extension last.

    Parameters
    ----------
    path : str or PathLike
        File, or folder for folder formats (a Bruker experiment).
    cycler : bool, optional
        True: consider only cycler (``echem``) formats; False: only spectroscopy formats;
        None: all.

    Returns
    -------
    FormatInfo

    Raises
    ------
    ParseError
        If the path does not exist or cannot be read.
    UnknownFormatError
        If no format, or several, claim it.
    """
    path = Path(path)
    if not path.exists():
        raise ParseError(path, "no such file or folder")
    try:
        head = _head(path)
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from exc
    candidates = [
        f for f in formats() if cycler is None or (f.technique == "echem") == cycler
    ]
    by_content = [f for f in candidates if f.matches_content(path, head)]
    by_extension = [f for f in candidates if f.matches_extension(path)]
    if len(by_content) == 1:
        return by_content[0]
    if len(by_content) > 1:
        narrowed = [f for f in by_content if f in by_extension]
        if len(narrowed) == 1:
            return narrowed[0]
        raise UnknownFormatError(path, [f.name for f in by_content])
    if len(by_extension) == 1:
        # Content matched nothing: the extension's parser will say precisely what is wrong.
        return by_extension[0]
    generic = [f for f in by_extension if f.fallback]
    if len(generic) == 1:
        # No specific format recognised the content: the generic reader of the extension.
        return generic[0]
    raise UnknownFormatError(path, [f.name for f in by_extension])


#: Exceptions that mean "this file is malformed" when they escape a reader.
_MALFORMED = (
    ValueError,
    IndexError,
    KeyError,
    struct.error,
    UnicodeDecodeError,
    OverflowError,
    EOFError,
    TypeError,
    MemoryError,
)


def read(path: str | PathLike[str], format: str | None = None, **options: Any) -> list[Spectrum]:  # noqa: A002
    """Read an instrument file (or a Bruker experiment folder) into Spectra.

    Parameters
    ----------
    path : str or PathLike
        The file or folder.
    format : str, optional
        A registered format name; sniffed from content and extension when omitted.
    **options
        Keyword options of that format's reader (``specssb formats --details`` lists them).

    Returns
    -------
    list of Spectrum
        Always a list: a VAMAS file holds many regions, a map is one N-D Spectrum.

    Raises
    ------
    ParseError
        The file is missing, truncated, corrupt or inconsistent.
    UnknownFormatError
        No format, or several, claim the file.
    ConfigError
        An unknown format name or option, or a cycler file (read those with
        :func:`read_cycler`).

    Examples
    --------
    >>> import specssb
    >>> spectra = specssb.read("sample_data/xps/cell01_cycle00.vms")  # doctest: +SKIP
    """
    path = Path(path)
    info = get_format(format) if format is not None else _sniff_or_cycler(path, cycler=False)
    if info.technique == "echem":
        raise ConfigError(
            f"{path} is cycler data ({info.name}); read it with specssb.read_cycler()",
            key="format",
        )
    return list(_call_reader(info, path, options))


def read_cycler(path: str | PathLike[str], format: str | None = None, **options: Any) -> Any:  # noqa: A002
    """Read a cycler / potentiostat file into one table with Battery Data Format names.

    Parameters
    ----------
    path : str or PathLike
        The cycler file (BioLogic ``.mpt`` …).
    format : str, optional
        A registered ``echem`` format name; sniffed when omitted.
    **options
        Keyword options of that format's reader.

    Returns
    -------
    pandas.DataFrame
        Columns named as in the Battery Data Format (``Test Time / s``, ``Voltage / V``,
        ``Current / A``, ``Cycle Count / 1`` …) plus ``Date Time`` (UTC). ``df.attrs`` holds
        ``source`` (a :class:`~specssb.spectrum.Source`) and ``raw_meta`` (the vendor header).

    Raises
    ------
    ParseError, UnknownFormatError, ConfigError
        As :func:`read`.
    """
    path = Path(path)
    info = get_format(format) if format is not None else sniff(path, cycler=True)
    if info.technique != "echem":
        raise ConfigError(
            f"{path} is {info.technique} data ({info.name}); read it with specssb.read()",
            key="format",
        )
    return _call_reader(info, path, options)


def _sniff_or_cycler(path: Path, *, cycler: bool) -> FormatInfo:
    """Sniff among one family, but name the other family when it is the one that matches."""
    try:
        return sniff(path, cycler=cycler)
    except UnknownFormatError:
        other = sniff(path)  # raises the same error when nothing at all matches
        return other


def _call_reader(info: FormatInfo, path: Path, options: Mapping[str, Any]) -> Any:
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        allowed = ", ".join(info.options) or "none"
        raise ConfigError(
            f"format {info.name!r} has no option {unknown[0]!r} (options: {allowed})",
            key=unknown[0],
        )
    if not path.exists():
        raise ParseError(path, "no such file or folder")
    try:
        return info.reader(path, **options)
    except SpecssbError:
        raise
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from exc
    except _MALFORMED as exc:
        # A reader should raise ParseError itself (the contract tests check it); this keeps a
        # user's batch from ever seeing a bare IndexError.
        raise ParseError(
            path, f"malformed {info.name} file ({type(exc).__name__}: {exc})"
        ) from exc


def sha256_of(path: str | PathLike[str]) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (relative names and contents, sorted).

    Parameters
    ----------
    path : str or PathLike

    Returns
    -------
    str
        64 hex digits.
    """
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(item.relative_to(path).as_posix()).encode() + b"\0")
            _update_with_file(digest, item)
    else:
        _update_with_file(digest, path)
    return digest.hexdigest()


def _update_with_file(digest: Any, path: Path) -> None:
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)


#: File names never taken for instrument files when walking a folder.
_NOT_DATA = {"readme.md", "readme.txt", "provenance.md", "sha256sums", "license", ".ds_store"}


def discover(folder: str | PathLike[str]) -> list[tuple[Path, FormatInfo | None, str]]:
    """Walk a folder and list what each item is, without reading any data.

    Folder formats (a Bruker experiment) count as one item and are not descended into.
    Hidden items, README/PROVENANCE files and Python scripts are ignored.

    Parameters
    ----------
    folder : str or PathLike

    Returns
    -------
    list of (Path, FormatInfo or None, str)
        Each item, its format (None when no format claims it) and, for None, the reason.
    """
    root = Path(folder)
    found: list[tuple[Path, FormatInfo | None, str]] = []
    folder_formats = [f for f in formats() if not f.extensions and f.sniff is not None]

    def walk(directory: Path) -> None:
        for item in sorted(directory.iterdir()):
            if item.name.startswith((".", "_")) or item.name.lower() in _NOT_DATA:
                continue
            if item.is_dir():
                claimed = [f for f in folder_formats if f.matches_content(item, b"")]
                if claimed:
                    found.append((item, claimed[0], ""))
                else:
                    walk(item)
            elif item.suffix.lower() != ".py":
                try:
                    found.append((item, sniff(item), ""))
                except (UnknownFormatError, ParseError) as exc:
                    found.append((item, None, str(exc)))

    walk(root)
    return found
