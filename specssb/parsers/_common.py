"""Small helpers shared by the parser modules (private)."""

from __future__ import annotations

import hashlib
import zoneinfo
from os import PathLike
from pathlib import Path

from specssb._version import __version__
from specssb.errors import ConfigError, ParseError
from specssb.parsers._registry import sha256_of
from specssb.spectrum import Source

#: Chemical element symbols, H to Lr: what a region label's first word must be to name one.
ELEMENTS = frozenset(
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd "
    "Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am "
    "Cm Bk Cf Es Fm Md No Lr".split()
)

__all__ = ["ELEMENTS", "decode_text", "make_source", "parse_float", "parse_int", "read_bytes", "time_zone"]


def make_source(
    path: str | PathLike[str],
    format: str,  # noqa: A002 - the field is called format in Source
    *,
    block: str | int | None = None,
    data: bytes | None = None,
    sha256: str | None = None,
    library: str | None = None,
) -> Source:
    """Build the :class:`~specssb.spectrum.Source` for a file read by ``format``.

    Parameters
    ----------
    path : str or PathLike
        The file or folder.
    format : str
        Registered format name.
    block : str or int, optional
        Which part of the file.
    data : bytes, optional
        The file's bytes when the reader already holds them (hashed instead of reading the
        file a second time); omitted for folders and for readers that never load the bytes.
    sha256 : str, optional
        A hash computed elsewhere (wins over ``data`` and ``path``).
    library : str, optional
        Reader library and version, e.g. ``"nmrglue 0.12"``, appended to ``parser_version``.
    """
    version = f"specssb {__version__}" + (f"; {library}" if library else "")
    return Source(
        path=str(path),
        sha256=sha256 or (hashlib.sha256(data).hexdigest() if data is not None else sha256_of(path)),
        format=format,
        block=block,
        parser_version=version,
    )


def read_bytes(path: str | PathLike[str]) -> bytes:
    """Read a whole file, turning OS errors into :class:`ParseError`."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ParseError(path, f"cannot read: {exc.strerror or exc}") from exc


def decode_text(data: bytes, path: str | PathLike[str], encoding: str) -> str:
    """Decode bytes, naming the byte offset of the first undecodable byte on failure."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParseError(
            path, f"not {encoding} text (try encoding=...)", position=f"byte {exc.start}"
        ) from exc
    except LookupError as exc:
        raise ParseError(path, f"unknown text encoding {encoding!r}") from exc


def parse_float(token: str, path: str | PathLike[str], position: str, what: str = "a number") -> float:
    """Parse one float, or raise :class:`ParseError` saying what was expected and found."""
    try:
        return float(token.strip())
    except ValueError:
        raise ParseError(path, f"expected {what}, found {token.strip()[:40]!r}", position=position) from None


def parse_int(token: str, path: str | PathLike[str], position: str, what: str = "an integer") -> int:
    """Parse one integer, or raise :class:`ParseError` saying what was expected and found."""
    try:
        return int(token.strip())
    except ValueError:
        raise ParseError(path, f"expected {what}, found {token.strip()[:40]!r}", position=position) from None


def time_zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA time zone ``name`` (for instrument clocks that write local time).

    Raises
    ------
    ConfigError
        For a name the zone database does not know.
    """
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r} (use an IANA name such as 'Europe/Paris')", key="timezone"
        ) from exc
