"""Turn TOML syntax errors and pydantic validation errors into one
:class:`~specssb.errors.ConfigError` naming the file, the line and the key.

Pydantic locations (``("component", 1, "center", "min")``) are looked up in the line map of
:func:`specssb.fitting._toml_lines.key_lines`; problems found by our own validators arrive as
:class:`~specssb.fitting._recipe_schema.LocatedError` with locations relative to the object
that raised them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from specssb.errors import ConfigError
from specssb.fitting import _toml_lines
from specssb.fitting._recipe_schema import Component, LocatedError, Param, Problem, did_you_mean

__all__ = ["syntax_error", "validation_error"]

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)|\s*\(at end of document\)")


def syntax_error(error: tomllib.TOMLDecodeError, text: str, path: str) -> ConfigError:
    """ConfigError with the line (and column) of a TOML syntax error."""
    # Python 3.14 gives .lineno/.colno; before, the position is only in the message.
    message = str(error)
    match = _TOML_POSITION.search(message)
    line, column = getattr(error, "lineno", None), getattr(error, "colno", None)
    if line is None and match is not None:
        at_end = match.group(1) is None
        line = text.count("\n") + 1 if at_end else int(match.group(1))
        column = None if at_end else int(match.group(2))
    reason = _TOML_POSITION.sub("", getattr(error, "msg", message))
    where = f" (column {column})" if column else ""
    return ConfigError(f"TOML syntax error: {reason}{where}", path=path, line=line)


def validation_error(
    error: ValidationError,
    data: Mapping[str, Any],
    lines: Mapping[tuple[str | int, ...], int],
    path: str | None,
    root: type[BaseModel],
) -> ConfigError:
    """One ConfigError for all of pydantic's errors: the first by line, the others listed."""
    problems: list[Problem] = []
    for item in error.errors():
        loc = tuple(item["loc"])
        located = item.get("ctx", {}).get("error")
        if isinstance(located, LocatedError):
            problems += [((*loc, *rel), reason, key) for rel, reason, key in located.problems]
        else:
            problems.append((loc, _reason(item, loc, root), None))
    rows = []
    for loc, reason, key in problems:
        name = key if key is not None else _last_key(loc)
        rows.append((_toml_lines.line_of(lines, loc), name, reason + _context(loc, data)))
    # By line; on one line an unknown key first (a typo also makes its right spelling missing).
    rows.sort(key=lambda row: (row[0] is None, row[0] or 0, not row[2].startswith("unknown key")))
    line, key, reason = rows[0]
    if len(rows) > 1:
        more = [f"{'line ' + str(n) + ' ' if n else ''}key '{k}': {r}" for n, k, r in rows[1:]]
        reason += f"\n  and {len(more)} more:\n  " + "\n  ".join(more)
    return ConfigError(reason, path=path, line=line, key=key)


def _last_key(loc: tuple[str | int, ...]) -> str | None:
    return next((str(part) for part in reversed(loc) if isinstance(part, str)), None)


def _reason(item: Mapping[str, Any], loc: tuple[str | int, ...], root: type[BaseModel]) -> str:
    kind, message = item["type"], str(item["msg"])
    word = loc[-1] if loc else ""
    if kind == "extra_forbidden":
        return "unknown key" + did_you_mean(str(word), _allowed_keys(root, loc[:-1]))
    if kind == "missing":
        hint = " (a recipe read from text needs name = \"...\")" if loc == ("name",) else ""
        return f"missing required key{hint}"
    if kind == "string_pattern_mismatch":
        return (f"{item['input']!r} must start with a letter and hold only letters, digits "
                "and '_' (it prefixes parameter names, e.g. li2s_center)")
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", str(item.get("ctx", {}).get("expected", "")))
        return f"{message}, got {item['input']!r}" + did_you_mean(str(item["input"]), expected)
    message = message.removeprefix("Value error, ")
    if kind == "value_error":
        return message
    shown = repr(item["input"])
    return f"{message}, got {shown if len(shown) <= 60 else shown[:57] + '...'}"


def _allowed_keys(root: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """Keys the table at ``loc`` accepts (for "did you mean")."""
    model = root
    for part in loc:
        if isinstance(part, int):
            continue
        if model is Component and part not in Component.model_fields:
            model = Param
            continue
        field = model.model_fields.get(str(part))
        found = _model_in(field.annotation) if field is not None else None
        if found is None:
            return []
        model = found
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _context(loc: tuple[str | int, ...], data: Mapping[str, Any]) -> str:
    """`` (in component #2 'li2s')`` for problems inside a component, else ``""``."""
    if len(loc) < 2 or loc[0] != "component" or not isinstance(loc[1], int):
        return ""
    entries = data.get("component")
    entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
    species = entry.get("species") if isinstance(entry, dict) else None
    label = f" '{species}'" if isinstance(species, str) else ""
    return f" (in component #{loc[1] + 1}{label})"
