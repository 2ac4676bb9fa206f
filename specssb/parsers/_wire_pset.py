"""WiRE property sets (``PSET`` streams) in Renishaw ``.wdf`` files (private).

WiRE keeps the measurement and instrument settings of a ``.wdf`` file in *property sets*:
binary, self-describing key/value trees stored as ``PSET`` streams at the start of the payload
of several blocks (``WXDM`` the measurement with its *Scan* settings, ``WXIS`` the instrument
state, and ``WXDA``, ``WXCS`` …). A stream is the four bytes ``PSET``, a ``uint32`` length and
then items, each a type character, a flags byte, a ``uint16`` key and the value:

* scalars: ``?`` bool, ``c`` int8, ``s`` int16, ``i`` int32, ``w`` int64, ``r`` float32,
  ``q`` float64, ``t`` a Windows FILETIME (int64, 100 ns ticks since 1601-01-01 UTC);
* length-prefixed values: ``u`` UTF-8 text, ``b`` binary, ``p`` a nested property set and ``k``
  a key *name*: keys are numbers, and the ``k`` items of a set (or, failing that, of one of its
  parents) give their names, such as ``"Exposure Time"`` or ``"Instrument type"``;
* flag ``0x80`` makes the item an array of the scalar type, flag ``0x40`` a compressed item.

This module decodes those streams into nested dicts keyed by the item names, for ``raw_meta``
and for the few settings :mod:`specssb.parsers.raman_wdf` puts in ``meta``. It works on the file
bytes and the payload offsets it is given, and does not import the reader. Binary and
compressed items, arrays over 1000 values and texts over 4 kB (such as the measurement's
VBScript) are summarised by their size. A malformed set is skipped with a
:class:`~specssb.errors.MetadataWarning`; it never fails the read.
"""

from __future__ import annotations

import datetime as _dt
import struct
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from specssb.errors import MetadataWarning

__all__ = ["filetime", "filetime_text", "find_settings", "property_sets"]

_FILETIME_EPOCH = _dt.datetime(1601, 1, 1, tzinfo=_dt.timezone.utc)


def filetime(value: int) -> _dt.datetime | None:
    """A Windows FILETIME as an aware UTC datetime.

    Parameters
    ----------
    value : int
        100 ns ticks since 1601-01-01 UTC.

    Returns
    -------
    datetime or None
        The time, or None when it is out of the range of :class:`datetime.datetime`.
    """
    try:
        return _FILETIME_EPOCH + _dt.timedelta(microseconds=value // 10)
    except OverflowError:
        return None


def filetime_text(value: int) -> str | int:
    """A Windows FILETIME as ISO 8601 text, or the raw value when it is not a valid time.

    Parameters
    ----------
    value : int
        100 ns ticks since 1601-01-01 UTC.

    Returns
    -------
    str or int
        The ISO 8601 text, or ``value`` itself when it is not positive or out of range.
    """
    when = filetime(value) if value > 0 else None
    return when.isoformat() if when is not None else value


class _PsetError(ValueError):
    """A malformed WiRE property set."""


_PSET_SCALARS = {
    ord("?"): struct.Struct("<?"), ord("c"): struct.Struct("<b"), ord("s"): struct.Struct("<h"),
    ord("i"): struct.Struct("<i"), ord("w"): struct.Struct("<q"), ord("r"): struct.Struct("<f"),
    ord("q"): struct.Struct("<d"), ord("t"): struct.Struct("<q"),
}
_PSET_ARRAY, _PSET_COMPRESSED = 0x80, 0x40
_PSET_MAX_DEPTH = 16
_PSET_MAX_ARRAY = 1000  # longer arrays are summarised in raw_meta
_PSET_MAX_TEXT = 4096  # longer texts (WiRE's measurement VBScript, ~230 kB) too


@dataclass
class _PsetNode:
    items: list[tuple[int, Any]] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)


def _u32(buf: bytes, pos: int, end: int) -> int:
    if end - pos < 4:
        raise _PsetError(f"length field cut short at byte {pos}")
    return int(struct.unpack_from("<I", buf, pos)[0])


def _parse_pset(buf: bytes, pos: int, end: int, depth: int = 0) -> _PsetNode:
    """Items of one property-set stream: type char, flags, uint16 key, then the value."""
    if depth > _PSET_MAX_DEPTH:
        raise _PsetError("property sets nested too deeply")
    node = _PsetNode()
    while pos < end:
        if end - pos < 4:
            raise _PsetError(f"item cut short at byte {pos}")
        code, flags = buf[pos], buf[pos + 1]
        (key,) = struct.unpack_from("<H", buf, pos + 2)
        pos += 4
        scalar = _PSET_SCALARS.get(code)
        if code in b"kubp" or flags & (_PSET_ARRAY | _PSET_COMPRESSED):
            length = _u32(buf, pos, end)
            pos += 4
            size = length * scalar.size if flags & _PSET_ARRAY and scalar else length
            if size > end - pos:
                raise _PsetError(f"item at byte {pos - 8} claims {size} bytes, {end - pos} remain")
            if code == ord("k"):
                node.names[key] = buf[pos:pos + size].decode("utf-8", errors="replace")
            elif flags & _PSET_COMPRESSED:
                node.items.append((key, f"<compressed, {size} bytes>"))
            elif flags & _PSET_ARRAY and scalar:
                values = [scalar.unpack_from(buf, pos + i * scalar.size)[0]
                          for i in range(min(length, _PSET_MAX_ARRAY))]
                node.items.append((key, values if length <= _PSET_MAX_ARRAY else
                                   f"<array of {length} values>"))
            elif code == ord("u"):
                text = buf[pos:pos + min(size, _PSET_MAX_TEXT)].decode("utf-8", errors="replace")
                node.items.append((key, text if size <= _PSET_MAX_TEXT else
                                   f"<text of {size} bytes, starting:> {text[:200]}"))
            elif code == ord("b"):
                node.items.append((key, f"<binary, {size} bytes>"))
            elif code == ord("p"):
                node.items.append((key, _parse_pset(buf, pos, pos + size, depth + 1)))
            else:
                raise _PsetError(f"array of item type {chr(code)!r} at byte {pos - 8}")
            pos += size
        elif scalar is not None:
            if end - pos < scalar.size:
                raise _PsetError(f"value cut short at byte {pos}")
            value = scalar.unpack_from(buf, pos)[0]
            node.items.append((key, filetime_text(value) if code == ord("t") else value))
            pos += scalar.size
        else:
            raise _PsetError(f"unknown item type {code:#04x} at byte {pos - 4}")
    return node


def _pset_dict(node: _PsetNode, scopes: tuple[dict[int, str], ...] = ()) -> dict[str, Any]:
    """Name the items: a key is named in its own property set or, failing that, in a parent."""
    scopes = (node.names, *scopes)
    out: dict[str, Any] = {}
    for key, value in node.items:
        name = next((scope[key] for scope in scopes if key in scope), f"0x{key:04x}")
        if isinstance(value, _PsetNode):
            value = _pset_dict(value, scopes)
        unique, n = name, 1
        while unique in out:
            n += 1
            unique = f"{name} #{n}"
        out[unique] = value
    return out


def property_sets(data: bytes, payloads: Iterable[tuple[str, int, int, str]],
                  path: str) -> dict[str, dict[str, Any]]:
    """Decode every property-set stream found at the start of a block payload.

    Parameters
    ----------
    data : bytes
        The whole file.
    payloads : iterable of (str, int, int, str)
        One ``(label, start, end, where)`` per block: the key for the result (e.g.
        ``"WXDM_0"``), the byte offsets of the payload's start and end in ``data``, and the
        block's location for warnings. Payloads that do not start with ``PSET`` are skipped.
    path : str
        The file name for warnings.

    Returns
    -------
    dict
        ``label`` -> the decoded property set (nested dicts keyed by item name).

    Warns
    -----
    MetadataWarning
        A malformed property set (it is skipped).
    """
    found: dict[str, dict[str, Any]] = {}
    for label, start, end, where in payloads:
        if end - start < 8 or data[start:start + 4] != b"PSET":
            continue
        try:
            length = _u32(data, start + 4, end)
            stop = start + 8 + length
            if stop > end:
                raise _PsetError(f"property set claims {length} bytes")
            found[label] = _pset_dict(_parse_pset(data, start + 8, stop))
        except (_PsetError, struct.error, IndexError) as exc:
            warnings.warn(f"{path}: property set in {where} is malformed ({exc}); skipped",
                          MetadataWarning, stacklevel=3)
    return found


def find_settings(tree: Any, key: str) -> dict[str, Any] | None:
    """The first (depth-first) property set that holds ``key``.

    Parameters
    ----------
    tree : Any
        Decoded property sets (nested dicts, as returned by :func:`property_sets`).
    key : str
        The item name to look for, e.g. ``"Exposure Time"``.

    Returns
    -------
    dict or None
        The innermost dict holding ``key`` that is met first, or None.
    """
    if isinstance(tree, dict):
        if key in tree:
            return tree
        for value in tree.values():
            hit = find_settings(value, key)
            if hit is not None:
                return hit
    return None
