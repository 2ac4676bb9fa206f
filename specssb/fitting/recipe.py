"""Fit recipes: one TOML file describes a fit; a typo names its file, line and key.

A recipe
--------
.. code-block:: toml

    name = "xps-s2p-argyrodite"   # optional in a file: defaults to the file name's stem
    description = "S 2p of Li6PS5Cl: PS4(3-) and Li2S doublets"
    technique = "xps"             # xps | xas | nmr | raman

    [select]                      # the spectra it applies to; every key given must match
    region = "S 2p"               # also element, edge, nucleus, glob (on the source file name)
    window = [156.0, 168.0]       # the part of the axis to fit (axis units); omitted: all of it

    [calibrate]                   # free table, read by the technique module
    reference = "C 1s"
    value = 284.8

    [background]                  # optional; without it the model has no background
    kind = "shirley"              # a name in the backgrounds registry
    fitted = false                # true: a term optimized inside the model (linear, shirley…)
    average = 5                   # every other key is an option of that background

    [[component]]
    species = "ps4"               # label and parameter prefix: ps4_center, ps4_height …
    shape = "gl"                  # a name in the line-shape registry
    height = {value = "guess", min = 0}
    center = {value = 161.7, min = 161.2, max = 162.2}
    fwhm = {value = 1.0, min = 0.5, max = 2.0}
    m = 30                        # a bare number is a FIXED value
    doublet = {split = 1.18, ratio = 0.5}    # generates the partner component "ps4_b"

    [[component]]
    species = "li2s"
    shape = "gl"
    height = {value = "guess", min = 0}
    center = {value = 160.2, min = 159.6, max = 160.8}
    fwhm = {tie = "ps4"}          # li2s_fwhm = ps4_fwhm
    m = {tie = "ps4"}
    doublet = {split = 1.18, ratio = 0.5, partner = "li2s_2p12"}

    [steps]                       # free table, read by the technique module

Parameter values
    Every parameter of the component's line shape (``get_lineshape(shape).parameters``: height,
    center, fwhm, then the shape's own, e.g. ``m`` for ``gl``) must be written; recipes never
    start from defaults (STYLE, "Fitting"). One form per intent:

    .. code-block:: toml

        m = 30                                              # fixed at 30
        center = {value = 161.7, min = 161.2, max = 162.2}  # free; min, max optional
        fwhm = {value = 1.1, min = 0.5, vary = false}       # fixed, bounds kept
        height = {value = "guess", min = 0}                 # free, started from the data
        center = {tie = "ps4", offset = -1.5}               # = 1 × ps4_center − 1.5
        height = {tie = "ps4.height", factor = 0.25}        # = 0.25 × ps4_height
        height = {expr = "0.5 * ps4_height * exp(-li2s_fwhm / 2)"}   # an expression

    ``"guess"`` is for ``height`` only: the engine starts it from the data (its documented
    guess); :attr:`ParameterSpec.value` is then None.

Ties
    ``tie`` names a component (its parameter of the same name) or ``"<component>.<parameter>"``;
    every tie is linear, ``target = factor × source + offset`` (factor 1, offset 0 by default):
    equal ``{tie = "a"}``, offset ``{tie = "a", offset = -1.5}``, ratio ``{tie = "a", factor =
    0.5}``. Ties may point at partners and may chain, never loop.

Expressions
    ``{expr = "<expression>"}`` computes a parameter from other parameters of the recipe, named
    in full (``ps4_center``, ``ps4_b_height``: as :meth:`Recipe.parameter_specs` names them),
    numbers, ``+ - * / **``, unary ``-``, parentheses, the constant ``pi`` and the functions
    ``sqrt exp log abs sin cos``. It is parsed at load by a grammar of our own
    (:mod:`specssb.fitting._expressions`), never evaluated as Python: attribute access,
    subscripts, other calls, strings, unknown names and cycles through expressions are refused
    with file, line and key. An expression affine in one parameter (``ps4_center - 1.18``,
    ``2 * (ps4_fwhm + 0.1)``) expands to an ordinary :class:`Tie` (the batched engine runs it);
    any other one is kept as :attr:`ParameterSpec.expr` and fitted by lmfit (``engine="auto"``
    falls back to it and says so in the table's ``engine`` column).

Doublets
    ``doublet = {split, ratio, width_ratio = 1, partner = "<species>_b"}`` adds a component
    ``partner`` with the same shape whose parameters are tied to the main one::

        partner_center = main_center + split
        partner_height = (ratio / width_ratio) × main_height   (so area ratio = ratio)
        partner_fwhm   = width_ratio × main_fwhm
        partner_<p>    = main_<p>                               (shape parameters)

    The sign of ``split`` is explicit: on a binding-energy axis the 2p1/2 (3d3/2, 4f5/2) partner
    lies at **higher** binding energy, so ``split > 0`` (S 2p +1.18 eV, P 2p +0.87 eV); on a
    kinetic-energy axis write it negative. ``ratio`` is the partner's area over the main
    component's: 0.5 for p, 2/3 for d, 3/4 for f levels.

Units
    Values are in the units of the spectrum's axis (binding energy in eV for XPS, eV for XAS,
    ppm for NMR, cm-1 for Raman); ``height`` is in the signal's unit.

Errors
    Every problem is a :class:`~specssb.errors.ConfigError` naming the file, the line and the key
    (``s2p.toml line 12 key 'centre': unknown key; …; did you mean 'center'?``). Unknown keys,
    wrong types, bad values, unknown shapes or backgrounds, ties to unknown components or
    parameters, tie cycles, ``min > max`` and values outside their bounds are all refused.

Examples
--------
>>> recipe = load_recipe("xps-p2p-argyrodite")
>>> [c.name for c in recipe.components()]
['ps4', 'ps4_2p12', 'li3p', 'li3p_2p12']
>>> next(s for s in recipe.parameter_specs() if s.name == "ps4_2p12_center").tie
Tie(source='ps4_center', factor=1.0, offset=0.87)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import to_jsonable_python

from specssb.errors import ConfigError
from specssb.fitting import _toml_lines
from specssb.fitting._expressions import (
    affine_form,
    evaluate_constraint,
    expression_cycles,
    names_in,
    parse_constraint,
)
from specssb.fitting._recipe_errors import syntax_error, validation_error
from specssb.fitting._recipe_schema import (
    Background,
    Component,
    Doublet,
    LocatedError,
    Param,
    Problem,
    Select,
    did_you_mean,
    lineshape_or_none,
)

if TYPE_CHECKING:  # pragma: no cover
    from specssb.spectrum import Spectrum

__all__ = [
    "Background",
    "Component",
    "ComponentSpec",
    "Doublet",
    "Param",
    "ParameterSpec",
    "Recipe",
    "Select",
    "Tie",
    "list_recipes",
    "load_recipe",
]

_TIE_SOURCE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)(?:\.([A-Za-z][A-Za-z0-9_]*))?$")


# ---------------------------------------------------------------------- engine-ready tables
@dataclass(frozen=True)
class Tie:
    """A linear tie: ``target = factor × source + offset``.

    Attributes
    ----------
    source : str
        Full name of the source parameter, e.g. ``"ps4_center"``.
    factor, offset : float
        Coefficients; the offset is in the target parameter's unit.
    """

    source: str
    factor: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter of the expanded recipe, ready for an engine.

    Attributes
    ----------
    name : str
        ``<component>_<parameter>``, e.g. ``"li2s_center"``.
    component : str
        Component name (the prefix).
    parameter : str
        Line-shape parameter, e.g. ``"center"``.
    value : float or None
        Starting value. None only for ``value = "guess"`` (a height the engine starts from the
        data), or a parameter tied to one.
    min, max : float
        Bounds (``-inf``/``inf`` when unbounded, and for tied parameters).
    vary : bool
        True for a free parameter; False when fixed, tied or given by an expression.
    tie : Tie or None
        The tie, as written (chains are not collapsed; engines resolve them); also an ``expr``
        affine in one parameter.
    expr : str or None
        A non-linear ``expr`` as written (parse it with
        :func:`specssb.fitting._expressions.parse_constraint`); its ``value`` is computed from
        the starting values of the parameters it reads (None when one of them is guessed).
    """

    name: str
    component: str
    parameter: str
    value: float | None
    min: float
    max: float
    vary: bool
    tie: Tie | None = None
    expr: str | None = None


@dataclass(frozen=True)
class ComponentSpec:
    """One component of the expanded recipe.

    Attributes
    ----------
    name : str
        Parameter prefix: the species, or the doublet partner's name.
    species : str
        Species label; a partner carries its main component's species.
    shape : str
        Line-shape registry name.
    partner_of : str or None
        For a doublet partner, the main component's name.
    """

    name: str
    species: str
    shape: str
    partner_of: str | None = None


# ---------------------------------------------------------------------- the recipe
class Recipe(BaseModel):
    """A validated fit recipe (see the module documentation for the TOML syntax).

    Build one with :meth:`from_toml`, :meth:`from_text` or :func:`load_recipe`; they turn every
    validation problem into a :class:`~specssb.errors.ConfigError` with file, line and key.
    Attribute names follow the TOML keys (``recipe.component`` is the ``[[component]]`` list).
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    technique: Literal["xps", "xas", "nmr", "raman"]
    select: Select = Field(default_factory=Select)
    calibrate: dict[str, Any] = Field(default_factory=dict)
    background: Background | None = None
    component: list[Component] = Field(default_factory=list)
    steps: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Recipe:
        problems = (_check_names(self) + _check_ties(self) + _check_expressions(self)
                    + _check_steps(self))
        if problems:
            raise LocatedError(problems)
        return self

    # ------------------------------------------------------------------ reading
    @classmethod
    def from_text(cls, text: str, *, path: str | os.PathLike[str] = "<string>") -> Recipe:
        """Parse and validate TOML text.

        Parameters
        ----------
        text : str
            The recipe.
        path : str or PathLike
            Named in error messages; its stem is the default ``name``.

        Raises
        ------
        ConfigError
            For a TOML syntax error or any validation problem (with line and key).

        Examples
        --------
        >>> text = '''
        ... technique = "raman"
        ... [[component]]
        ... species = "si"
        ... shape = "lorentzian"
        ... height = {value = "guess", min = 0}
        ... center = {value = 520.7, min = 515, max = 525}
        ... fwhm = {value = 4.0, min = 1, max = 20}
        ... '''
        >>> [s.name for s in Recipe.from_text(text, path="si.toml").parameter_specs()]
        ['si_height', 'si_center', 'si_fwhm']
        >>> Recipe.from_text(text.replace("fwhm =", "fwmh ="), path="si.toml")
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        specssb.errors.ConfigError: si.toml line 8 key 'fwmh': unknown key; ... 'fwhm'? ...
        """
        path = str(path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise syntax_error(error, text, path) from error
        if "name" not in data and path != "<string>":
            data["name"] = Path(path).stem
        return cls._validated(data, path=path, text=text)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Recipe:
        """Read and validate a recipe file (UTF-8 TOML).

        Raises
        ------
        ConfigError
            When the file cannot be read, or as :meth:`from_text`.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError as error:
            raise ConfigError("recipe file not found", path=path) from error
        except UnicodeDecodeError as error:
            raise ConfigError(f"not UTF-8 text ({error.reason})", path=path) from error
        except OSError as error:
            raise ConfigError(f"cannot read the recipe: {error.strerror}", path=path) from error
        return cls.from_text(text, path=path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | None = None) -> Recipe:
        """Validate a mapping shaped like the TOML document (no line numbers in errors)."""
        return cls._validated(dict(data), path=path, text=None)

    @classmethod
    def _validated(cls, data: dict[str, Any], *, path: str | None, text: str | None) -> Recipe:
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            lines = _toml_lines.key_lines(text) if text is not None else {}
            raise validation_error(error, data, lines, path, cls) from error

    # ------------------------------------------------------------------ writing
    def to_dict(self) -> dict[str, Any]:
        """The TOML document as plain JSON-compatible data, each value in its shortest form.

        :meth:`from_dict` reads it back to an equal recipe; :attr:`hash` is computed from it.
        """
        return to_jsonable_python(self._document())

    def to_toml(self) -> str:
        """TOML text that :meth:`from_text` reads back to an equal recipe (same :attr:`hash`)."""
        document = self._document()
        top = {k: document[k] for k in ("name", "description", "technique") if k in document}
        tables: list[tuple[str, Mapping[str, Any], bool]] = []
        for title in ("select", "calibrate", "background"):
            if title in document:
                tables.append((title, document[title], False))
        tables += [("component", body, True) for body in document.get("component", [])]
        if "steps" in document:
            tables.append(("steps", document["steps"], False))
        return _toml_lines.dumps(top, tables)

    def _document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"name": self.name}
        if self.description:
            document["description"] = self.description
        document["technique"] = self.technique
        select = self.select.model_dump(exclude_none=True)
        if select:
            document["select"] = select
        if self.calibrate:
            document["calibrate"] = self.calibrate
        if self.background is not None:
            background: dict[str, Any] = {"kind": self.background.kind}
            if self.background.fitted:
                background["fitted"] = True
            document["background"] = background | self.background.options
        components = []
        for component in self.component:
            body: dict[str, Any] = {"species": component.species, "shape": component.shape}
            body |= {k: p.to_toml_value() for k, p in component.parameters.items()}
            if component.doublet is not None:
                body["doublet"] = component.doublet.model_dump(exclude_none=True)
            components.append(body)
        if components:
            document["component"] = components
        if self.steps:
            document["steps"] = self.steps
        return document

    @property
    def hash(self) -> str:
        """SHA-256 (64 hex digits) of the canonical JSON of the validated content.

        Equal for every spelling of the same recipe (``m = 30`` and ``m = {value = 30, vary =
        false}``, key order, comments); any changed value changes it.
        """
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
            allow_nan=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    # ------------------------------------------------------------------ expansion
    def components(self) -> list[ComponentSpec]:
        """Every component in model order: each main component followed by its partner."""
        out = []
        for component in self.component:
            name = component.species
            out.append(ComponentSpec(name, component.species, component.shape))
            if component.doublet is not None:
                partner = _partner(component)
                out.append(ComponentSpec(partner, component.species, component.shape, name))
        return out

    def parameter_specs(self) -> list[ParameterSpec]:
        """The flat parameter table: one :class:`ParameterSpec` per component parameter.

        Ordered as :meth:`components`, each component's parameters in line-shape order.
        Doublet partners are fully tied (see the module documentation for the formulas).
        """
        rows: list[tuple[str, str, str, Param | None, Tie | None]] = []
        for component in self.component:
            main = component.species
            parameters = _shape(component.shape).parameters
            for parameter in parameters:
                param = component.parameters[parameter]
                tie = _tie_of(param, parameter)
                if param.expr is not None:
                    param, tie = _expression_of(param)
                rows.append((f"{main}_{parameter}", main, parameter, param, tie))
            if component.doublet is not None:
                partner = _partner(component)
                for parameter in parameters:
                    if parameter == "height" and component.doublet.free_ratio:
                        rows.append((f"{partner}_height", partner, "height",
                                     _free_partner_height(component), None))
                        continue
                    tie = _doublet_tie(component.doublet, main, parameter)
                    rows.append((f"{partner}_{parameter}", partner, parameter, None, tie))
        by_name = {row[0]: row for row in rows}

        def start(name: str) -> float | None:
            _, _, _, param, tie = by_name[name]
            if tie is None and param is not None and param.expr is not None:
                sources = {n: start(n) for n in names_in(parse_constraint(param.expr))}
                if any(value is None for value in sources.values()):
                    return None
                return float(evaluate_constraint(parse_constraint(param.expr), sources.__getitem__))
            if tie is None:
                assert param is not None
                return param.value if isinstance(param.value, float) else None
            source = start(tie.source)
            return None if source is None else tie.factor * source + tie.offset

        specs = []
        for name, component_name, parameter, param, tie in rows:
            own = param if tie is None else None  # free or fixed: bounds and vary of its own
            specs.append(
                ParameterSpec(
                    name=name, component=component_name, parameter=parameter, value=start(name),
                    min=_bound(own.min if own else None, -math.inf),
                    max=_bound(own.max if own else None, math.inf),
                    vary=own is not None and own.vary, tie=tie,
                    expr=own.expr if own is not None else None,
                )
            )
        return specs

    # ------------------------------------------------------------------ selection
    def applies_to(self, spectrum: Spectrum) -> bool:
        """Whether ``spectrum`` matches the technique and every key of ``[select]``.

        ``region``, ``element``, ``edge`` and ``nucleus`` compare with ``spectrum.meta``
        ignoring case and blanks (``"S 2p"`` matches ``"s2p"``); ``glob`` matches the source
        file's name or path (:func:`fnmatch.fnmatch`).
        """
        if spectrum.technique != self.technique:
            return False
        for key in ("region", "element", "edge", "nucleus"):
            wanted = getattr(self.select, key)
            if wanted is not None and _plain(wanted) != _plain(str(spectrum.meta.get(key, ""))):
                return False
        pattern = self.select.glob
        if pattern is not None:
            source = spectrum.source
            if source is None:
                return False
            return fnmatch(Path(source.path).name, pattern) or fnmatch(source.path, pattern)
        return True


# ---------------------------------------------------------------------- built-in recipes
def _builtin_files() -> dict[str, Traversable]:
    folder = resources.files("specssb.library") / "recipes"
    files = [f for f in folder.iterdir() if f.name.endswith(".toml")]
    return {f.name.removesuffix(".toml"): f for f in sorted(files, key=lambda f: f.name)}


def list_recipes() -> list[Recipe]:
    """The built-in recipes of ``specssb/library/recipes/``, sorted by name.

    Examples
    --------
    >>> "xps-s2p-argyrodite" in [r.name for r in list_recipes()]
    True
    """
    return [
        Recipe.from_text(f.read_text(encoding="utf-8"), path=str(f))
        for f in _builtin_files().values()
    ]


def load_recipe(name_or_path: str | os.PathLike[str]) -> Recipe:
    """A built-in recipe by name, or a recipe file.

    Parameters
    ----------
    name_or_path : str or PathLike
        A path (a ``PathLike``, or a string ending in ``.toml`` or containing a path separator)
        is read as a file; any other string names a built-in recipe (see :func:`list_recipes`).

    Raises
    ------
    ConfigError
        For an unknown built-in name (with the closest names), a missing file, or an invalid
        recipe.
    """
    text = os.fspath(name_or_path)
    is_path = text.endswith(".toml") or "/" in text or os.sep in text
    if not isinstance(name_or_path, str) or is_path:
        return Recipe.from_toml(name_or_path)
    files = _builtin_files()
    if text not in files:
        raise ConfigError(
            f"no built-in recipe named '{text}'{did_you_mean(text, files)}; "
            "or give the path of a .toml file"
        )
    return Recipe.from_text(files[text].read_text(encoding="utf-8"), path=str(files[text]))


# ---------------------------------------------------------------------- expansion helpers
def _shape(name: str) -> Any:
    shape = lineshape_or_none(name)
    if shape is None:  # pragma: no cover - validation refuses unknown shapes
        raise ConfigError(f"unknown line shape {name!r}")
    return shape


def _partner(component: Component) -> str:
    assert component.doublet is not None and component.doublet.partner is not None
    return component.doublet.partner


def _bound(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def _tie_of(param: Param, parameter: str) -> Tie | None:
    source = param.tie_source
    if source is None:
        return None
    assert param.factor is not None and param.offset is not None
    return Tie(f"{source[0]}_{source[1] or parameter}", param.factor, param.offset)


def _expression_of(param: Param) -> tuple[Param, Tie | None]:
    """An ``expr`` affine in one parameter as a :class:`Tie`; a constant one as a fixed
    :class:`Param`; any other one unchanged (tie None)."""
    assert param.expr is not None
    form = affine_form(parse_constraint(param.expr))
    if form is None or len(form[0]) > 1:
        return param, None
    coefficients, constant = form
    if not coefficients:
        return Param(value=constant, vary=False), None
    (source, factor), = coefficients.items()
    return param, Tie(source, factor, constant)


def _free_partner_height(component: Any) -> Param:
    """The partner's own height parameter of a doublet with ``free_ratio = true``: starts at
    ``ratio / width_ratio`` × the main start (or from the data when the main height is
    guessed), bounded below by 0."""
    doublet = component.doublet
    value = component.parameters["height"].value
    if isinstance(value, float):
        value = value * doublet.ratio / doublet.width_ratio
    return Param(value=value, min=0.0)


def _doublet_tie(doublet: Doublet, main: str, parameter: str) -> Tie:
    """Partner ties: center + split, height × ratio / width_ratio, fwhm × width_ratio."""
    factor, offset = {
        "center": (1.0, doublet.split),
        "height": (doublet.ratio / doublet.width_ratio, 0.0),
        "fwhm": (doublet.width_ratio, 0.0),
    }.get(parameter, (1.0, 0.0))
    return Tie(f"{main}_{parameter}", factor, offset)


def _plain(text: str) -> str:
    return "".join(text.split()).casefold()


# ---------------------------------------------------------------------- cross-table checks
def _step_model(technique: str) -> type[BaseModel] | None:
    """The pydantic model of a technique's ``[steps]`` tables, when it has one."""
    if technique == "xas":
        from specssb.fitting.xas.steps import XasSteps

        return XasSteps
    if technique == "nmr":
        from specssb.fitting.nmr.steps import NmrSteps

        return NmrSteps
    return None


def _check_steps(recipe: Recipe) -> list[Problem]:
    """``[steps]`` of a technique that defines them: every table and key validated."""
    model = _step_model(recipe.technique)
    if model is None:
        return []
    try:
        model.model_validate(recipe.steps)
    except ValidationError as error:
        problems: list[Problem] = []
        for item in error.errors():
            loc = ("steps", *item["loc"])
            key = next((str(part) for part in reversed(loc) if isinstance(part, str)), None)
            if item["type"] == "extra_forbidden":
                table = _model_at(model, tuple(item["loc"])[:-1])
                allowed = list(table.model_fields) if table is not None else []
                reason = f"unknown key{did_you_mean(str(key), allowed)}"
            elif item["type"] == "missing":
                reason = "missing required key"
            else:
                reason = str(item["msg"]).removeprefix("Value error, ")
                if item["type"] != "value_error":
                    reason += f", got {item['input']!r}"
            problems.append((loc, reason, key))
        return problems
    return []


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        found = next((a for a in (annotation, *getattr(annotation, "__args__", ()))
                      if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if found is None:
            return None
        model = found
    return model


def _check_names(recipe: Recipe) -> list[Problem]:
    """Component names (species, then partners) and full parameter names must be unique."""
    named: list[tuple[str, tuple[str | int, ...], Component, str]] = []
    for index, component in enumerate(recipe.component):
        named.append((component.species, ("component", index, "species"), component,
                      f"component #{index + 1}"))
    for index, component in enumerate(recipe.component):
        if component.doublet is not None:
            named.append((_partner(component), ("component", index, "doublet", "partner"),
                          component, f"the doublet partner of '{component.species}'"))
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    owners: dict[str, str] = {}
    for name, loc, component, label in named:
        if name in seen:
            problems.append((loc, f"component name '{name}' is already used by {seen[name]}; "
                             "names prefix the parameters and must be unique", str(loc[-1])))
            continue
        seen[name] = label
        for parameter in _shape(component.shape).parameters:
            full = f"{name}_{parameter}"
            if full in owners:
                problems.append((loc, f"parameter name '{full}' is made twice "
                                 f"('{owners[full]}' and '{name}'); rename one", str(loc[-1])))
            owners[full] = name
    return problems


def _check_ties(recipe: Recipe) -> list[Problem]:
    """Tie sources exist and have the parameter; ties do not loop."""
    shape_names = {c.name: c.shape for c in recipe.components()}
    shapes = {name: _shape(shape) for name, shape in shape_names.items()}
    problems: list[Problem] = []
    edges: dict[str, tuple[str, tuple[str | int, ...] | None]] = {}
    for index, component in enumerate(recipe.component):
        for parameter, param in component.parameters.items():
            if param.tie is None:
                continue
            loc = ("component", index, parameter, "tie")
            match = _TIE_SOURCE.match(param.tie)
            if match is None:
                problems.append((loc, f"tie {param.tie!r} is not '<component>' or "
                                 "'<component>.<parameter>'", parameter))
                continue
            source, source_parameter = match.group(1), match.group(2) or parameter
            if source not in shapes:
                problems.append((loc, f"tie to unknown component '{source}'"
                                 + did_you_mean(source, shapes), parameter))
            elif source_parameter not in shapes[source].parameters:
                problems.append((loc, f"component '{source}' (shape '{shape_names[source]}') "
                                 f"has no parameter '{source_parameter}'"
                                 + did_you_mean(source_parameter, shapes[source].parameters),
                                 parameter))
            else:
                edges[f"{component.species}_{parameter}"] = (f"{source}_{source_parameter}", loc)
        if component.doublet is not None:
            for parameter in _shape(component.shape).parameters:
                target = f"{_partner(component)}_{parameter}"
                edges[target] = (f"{component.species}_{parameter}", None)
    return problems + _tie_cycles(edges)


def _tie_cycles(edges: Mapping[str, tuple[str, tuple[str | int, ...] | None]]) -> list[Problem]:
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()
    for start in edges:
        chain = [start]
        while chain[-1] in edges and edges[chain[-1]][0] not in chain:
            chain.append(edges[chain[-1]][0])
        if chain[-1] not in edges:
            continue
        loop = chain[chain.index(edges[chain[-1]][0]):]
        if frozenset(loop) in reported:
            continue
        reported.add(frozenset(loop))
        loc = next(edges[name][1] for name in loop if edges[name][1] is not None)
        path = " -> ".join([*loop, loop[0]])
        reason = f"tie cycle: {path}; one of them must be free or fixed"
        problems.append((loc, reason, str(loc[2])))
    return problems


def _check_expressions(recipe: Recipe) -> list[Problem]:
    """``expr`` names are parameters of the recipe; no cycle passes through an expression."""
    shapes = {c.name: _shape(c.shape) for c in recipe.components()}
    known = [f"{name}_{p}" for name, shape in shapes.items() for p in shape.parameters]
    problems: list[Problem] = []
    edges: dict[str, set[str]] = {}
    where: dict[str, tuple[tuple[str | int, ...], str]] = {}
    for index, component in enumerate(recipe.component):
        for parameter, param in component.parameters.items():
            target = f"{component.species}_{parameter}"
            if param.expr is not None:
                loc = ("component", index, parameter, "expr")
                names = names_in(parse_constraint(param.expr))
                for name in sorted(names - set(known)):
                    problems.append((loc, f"expression {param.expr!r} reads {name!r}, which is not "
                                     "a parameter of this recipe" + did_you_mean(name, known),
                                     parameter))
                edges[target] = set(names) & set(known)
                where[target] = (loc, parameter)
            elif param.tie is not None and (match := _TIE_SOURCE.match(param.tie)) is not None:
                edges[target] = {f"{match.group(1)}_{match.group(2) or parameter}"}
        if component.doublet is not None:
            for parameter in shapes[component.species].parameters:
                if not (parameter == "height" and component.doublet.free_ratio):
                    edges[f"{_partner(component)}_{parameter}"] = {f"{component.species}_{parameter}"}
    for loop in expression_cycles(edges, where):
        loc, key = where[next(name for name in loop if name in where)]
        path = " -> ".join([*loop, loop[0]])
        problems.append((loc, f"cycle through an expression: {path}; one of them must be free "
                         "or fixed", key))
    return problems
