"""The pydantic models of one recipe's tables: parameters, doublets, selection, background,
components. :mod:`specssb.fitting.recipe` documents the syntax and builds :class:`Recipe` on them.

Validators that know *where* a problem is raise :class:`LocatedError`; its locations are relative
to the object being validated, and :mod:`specssb.fitting.recipe` joins them to pydantic's own
location to find the line in the TOML file.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, PlainValidator, model_validator

from specssb.errors import ConfigError

__all__ = [
    "IDENTIFIER",
    "Background",
    "Component",
    "Doublet",
    "LocatedError",
    "Param",
    "Problem",
    "Select",
    "closest",
    "did_you_mean",
    "lineshape_or_none",
]

#: Component names become parameter prefixes (``li2s_center``): Python identifiers.
IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]*$"

#: One problem: location relative to the validated object, reason, key to name (or None).
Problem = tuple[tuple[str | int, ...], str, str | None]

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class LocatedError(ValueError):
    """Problems found by a validator, each with a location relative to the validated object."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(reason for _, reason, _ in problems))


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` (:func:`difflib.get_close_matches`), or None."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'center'?"`` for the closest candidate, else the list of candidates."""
    candidates = sorted(set(candidates))
    close = closest(word, candidates)
    if close:
        return f"; did you mean '{close}'?"
    return f"; expected one of: {', '.join(candidates)}" if candidates else ""


def lineshape_or_none(name: str) -> Any:
    """The registered line shape called ``name``, or None (imported lazily)."""
    from specssb.fitting.lineshapes import get_lineshape

    try:
        return get_lineshape(name)
    except ConfigError:
        return None


def _unknown_shape_reason(name: str) -> str:
    from specssb.fitting.lineshapes import LINESHAPES, get_lineshape

    try:
        get_lineshape(name)
    except ConfigError as error:
        return error.reason + _hint(name, LINESHAPES)
    return ""  # pragma: no cover - only called for unknown names


# ---------------------------------------------------------------------- parameters
def _starting_value(value: Any) -> float | str | None:
    if value is None or value == "guess":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'expected a number or "guess", got {value!r}')
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


_FORMS = (
    "a number (fixed), {value, min, max, vary} (a starting value and bounds), "
    "{tie, factor, offset} (a linear tie) or {expr} (an expression of other parameters)"
)


class Param(BaseModel):
    """One line-shape parameter of a component: fixed, free within bounds, or tied.

    TOML forms (one obvious way each)::

        m = 30                                          # fixed at 30
        center = {value = 161.7, min = 161.2, max = 162.2}   # free, starts at 161.7
        fwhm = {value = 1.0, min = 0.5, max = 2.0, vary = false}   # fixed, bounds kept
        height = {value = "guess", min = 0}             # free, started from the data
        center = {tie = "ps4", offset = -1.5}           # = 1 × ps4_center − 1.5
        height = {tie = "ps4.height", factor = 0.25}    # = 0.25 × ps4_height
        height = {expr = "0.5 * ps4_height * exp(-li2s_fwhm / 2)"}   # an expression

    ``expr`` is parsed here (its syntax); its names and cycles are checked by the recipe.
    """

    model_config = _STRICT

    value: Annotated[float | Literal["guess"] | None, PlainValidator(_starting_value)] = None
    min: Annotated[float, AllowInfNan(True)] | None = None
    max: Annotated[float, AllowInfNan(True)] | None = None
    vary: bool = True
    tie: str | None = None
    factor: float | None = None
    offset: float | None = None
    expr: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, data: Any) -> Any:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return {"value": data, "vary": False}
        if data == "guess":
            raise ValueError(
                'write {value = "guess", min = 0}: a guessed value is free, so state its bounds'
            )
        if not isinstance(data, dict):
            raise ValueError(f"expected {_FORMS}, got {data!r}")
        if "expr" in data:
            return _expression_form(data)
        if "tie" in data:
            extra = " and ".join(sorted(set(data) & {"value", "min", "max", "vary"}))
            if extra:
                raise ValueError(
                    f"a tied parameter follows its source and takes no {extra}; "
                    f"remove {extra}, or remove 'tie'"
                )
            return {"factor": 1.0, "offset": 0.0, **data, "vary": False}
        # An infinite bound is no bound: one spelling, one hash.
        unbounded = (("min", -math.inf), ("max", math.inf))
        data = {k: v for k, v in data.items() if (k, v) not in unbounded}
        loose = sorted(set(data) & {"factor", "offset"})
        if loose:
            raise ValueError(
                f"{' and '.join(loose)} only go with tie = \"<component>\"; expected {_FORMS}"
            )
        if "value" not in data and not set(data) - {"min", "max", "vary"}:
            raise ValueError(
                'missing \'value\': give a starting value (value = "guess" is allowed for '
                "height only); recipes never start from defaults"
            )
        return data

    @model_validator(mode="after")
    def _bounds(self) -> Param:
        low = -math.inf if self.min is None else self.min
        high = math.inf if self.max is None else self.max
        if math.isnan(low) or math.isnan(high):
            raise ValueError("bounds must be numbers, not nan")
        if low > high:
            raise ValueError(f"min {self.min} is larger than max {self.max}")
        if isinstance(self.value, float) and not low <= self.value <= high:
            raise ValueError(f"value {self.value} lies outside the bounds [{low}, {high}]")
        if self.value == "guess" and not self.vary:
            raise ValueError('value = "guess" needs vary = true (a guessed value must be fitted)')
        if self.factor == 0.0:
            raise ValueError("factor = 0 ties to nothing; write a fixed value instead")
        return self

    @property
    def tie_source(self) -> tuple[str, str | None] | None:
        """``("ps4", None)`` for ``tie = "ps4"``, ``("ps4", "fwhm")`` for ``"ps4.fwhm"``."""
        if self.tie is None:
            return None
        component, _, parameter = self.tie.partition(".")
        return component, parameter or None

    def to_toml_value(self) -> float | dict[str, Any]:
        """The shortest TOML form that validates back to this parameter."""
        if self.expr is not None:
            return {"expr": self.expr}
        if self.tie is not None:
            out: dict[str, Any] = {"tie": self.tie}
            if self.factor != 1.0:
                out["factor"] = self.factor
            if self.offset != 0.0:
                out["offset"] = self.offset
            return out
        if not self.vary and self.min is None and self.max is None:
            assert isinstance(self.value, float)
            return self.value
        out = {"value": self.value}
        out.update({k: getattr(self, k) for k in ("min", "max") if getattr(self, k) is not None})
        if not self.vary:
            out["vary"] = False
        return out


def _expression_form(data: dict[str, Any]) -> dict[str, Any]:
    """``{expr = "..."}``: alone, and inside the grammar (parsed now, never evaluated)."""
    from specssb.fitting._expressions import ExpressionError, parse_constraint

    extra = " and ".join(sorted(set(data) - {"expr"}))
    if extra:
        raise ValueError(f"a parameter given by an expression follows it and takes no {extra}; "
                         f"remove {extra}, or remove 'expr'")
    text = data["expr"]
    if not isinstance(text, str):
        raise ValueError(f'expr must be text such as "ps4_height * 0.5", got {text!r}')
    try:
        parse_constraint(text)
    except ExpressionError as error:
        raise ValueError(str(error)) from None
    return {"expr": text.strip(), "vary": False}


class Doublet(BaseModel):
    """A spin–orbit partner generated from a component (``doublet = {...}``).

    ``split`` is added to the main component's center, so on a binding-energy axis the
    2p1/2 (3d3/2, 4f5/2) partner at higher binding energy has ``split > 0`` (S 2p: +1.18 eV).
    ``ratio`` is the partner's area over the main area (p 1:2 → 0.5, d 2:3 → 0.667,
    f 3:4 → 0.75); ``width_ratio`` the partner's FWHM over the main FWHM (1 unless
    Coster–Kronig broadening, e.g. Ti 2p); ``partner`` the partner's name (default
    ``<species>_b``). ``free_ratio = true`` frees the partner's height: it becomes a free
    parameter of its own (bounded below by 0, starting at ``ratio`` × the main start), so the
    area ratio is fitted instead of fixed (the XPS checks warn when it leaves its theoretical
    value).
    """

    model_config = _STRICT

    split: float
    ratio: float = Field(gt=0)
    width_ratio: float = Field(default=1.0, gt=0)
    partner: str | None = Field(default=None, pattern=IDENTIFIER)
    free_ratio: bool = False

    @model_validator(mode="after")
    def _nonzero_split(self) -> Doublet:
        if self.split == 0.0:
            raise ValueError("split = 0 puts the partner on top of the main peak")
        return self


class Select(BaseModel):
    """What a recipe fits: which spectra (every key given must match, see
    ``Recipe.applies_to``) and, with ``window = [low, high]``, which part of the axis (axis
    units, both ends included; omitted: every point)."""

    model_config = _STRICT

    region: str | None = None
    element: str | None = None
    edge: str | None = None
    nucleus: str | None = None
    glob: str | None = None
    window: list[float] | None = Field(default=None, min_length=2, max_length=2)

    @model_validator(mode="after")
    def _ordered(self) -> Select:
        if self.window is not None and not self.window[0] < self.window[1]:
            raise LocatedError([(("window",), f"window {self.window} must be [low, high] with "
                                 "low < high", None)])
        return self


class Background(BaseModel):
    """``[background]``: ``kind`` from the backgrounds registry, ``fitted``, then options."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    kind: str
    fitted: bool = False

    @model_validator(mode="before")
    @classmethod
    def _lower_case(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("kind"), str):
            return {**data, "kind": data["kind"].strip().lower()}
        return data

    @model_validator(mode="after")
    def _registered(self) -> Background:
        problems = _fitted_problems(self) if self.fitted else _registry_problems(self)
        if problems:
            raise LocatedError(problems)
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The keyword options passed to the background function (every other key)."""
        return dict(self.model_extra or {})


def _fitted_problems(background: Background) -> list[Problem]:
    """A fitted background must be a term the model optimizes, and takes no options."""
    from specssb.fitting.model import FITTED_BACKGROUND_TERMS

    fitted = [k for k in FITTED_BACKGROUND_TERMS if k != "none"]
    if background.kind not in fitted:
        return [(("kind",), f"background '{background.kind}' cannot be optimized inside the "
                 f"model (fitted = true); fitted kinds: {', '.join(fitted)}", None)]
    return [((key,), "a background fitted inside the model takes no options", None)
            for key in background.options]


def _registry_problems(background: Background) -> list[Problem]:
    """The kind is registered and every option is a keyword option of its function."""
    from specssb.fitting.backgrounds import get_background, list_backgrounds

    try:
        function = get_background(background.kind)
    except ConfigError as error:
        return [(("kind",), error.reason + _hint(background.kind, list_backgrounds()), None)]
    parameters = list(inspect.signature(function).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return []
    accepted = [p.name for p in parameters[2:] if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    return [
        ((key,), f"unknown option of background '{background.kind}'"
         + did_you_mean(key, accepted), None)
        for key in background.options
        if key not in accepted
    ]


def _hint(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` when a candidate is close (ignoring case), else ``""``."""
    close = closest(word.strip().lower(), candidates)
    return f"; did you mean '{close}'?" if close else ""


# ---------------------------------------------------------------------- components
_COMPONENT_KEYS = ("species", "shape", "doublet")


class Component(BaseModel):
    """One ``[[component]]``: species label, line shape, doublet, then one key per parameter."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    __pydantic_extra__: dict[str, Param] = Field(init=False)

    species: str = Field(pattern=IDENTIFIER)
    shape: str
    doublet: Doublet | None = None

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if not isinstance(data.get("shape"), str):  # pydantic reports the shape itself
            near = {key: closest(key, _COMPONENT_KEYS) for key in data}
            typos: list[Problem] = [
                ((key,), f"unknown key; did you mean '{near[key]}'?", None)
                for key in data
                if key not in _COMPONENT_KEYS and near[key] is not None
            ]
            if typos:
                raise LocatedError(typos)
            return data
        shape = lineshape_or_none(data["shape"])
        if shape is None:
            raise LocatedError([(("shape",), _unknown_shape_reason(data["shape"]), None)])
        data = {**data, "shape": shape.name}  # the registry's spelling: "GL" -> "gl"
        known = (*_COMPONENT_KEYS, *shape.parameters)
        problems: list[Problem] = []
        for key in data:
            if key not in known:
                hint = closest(key, known)
                takes = ", ".join(shape.parameters)
                reason = f"unknown key; shape '{data['shape']}' takes {takes}"
                reason += f"; did you mean '{hint}'?" if hint else ""
                problems.append(((key,), reason, None))
        if problems:
            raise LocatedError(problems)
        doublet, species = data.get("doublet"), data.get("species")
        if isinstance(doublet, dict) and "partner" not in doublet and isinstance(species, str):
            data = {**data, "doublet": {**doublet, "partner": f"{species}_b"}}
        return data

    @model_validator(mode="after")
    def _complete(self) -> Component:
        shape = lineshape_or_none(self.shape)
        problems: list[Problem] = []
        for name in shape.parameters:
            if name not in self.parameters:
                problems.append(((), _missing_reason(self.shape, shape, name), name))
        for name, param in self.parameters.items():
            if param.value == "guess" and name != "height":
                problems.append(
                    ((name, "value"), 'only height may start from "guess"', name)
                )
        if problems:
            raise LocatedError(problems)
        return self

    @property
    def parameters(self) -> dict[str, Param]:
        """Parameter name → :class:`Param`, in the order written."""
        return dict(self.model_extra or {})


def _missing_reason(shape_name: str, shape: Any, name: str) -> str:
    default = getattr(shape, "shape_defaults", {}).get(name)
    text = f"shape '{shape_name}' needs '{name}' and recipes never fall back to defaults"
    if default is None:
        return f"{text}: add {name} = {{value = ..., min = ..., max = ...}}"
    value, low, high = default
    return (
        f"{text}: add {name} = {value!r} to fix it, or "
        f"{name} = {{value = {value!r}, min = {low!r}, max = {high!r}}} to fit it"
    )
