"""Choosing built-in recipes for a spectrum, with the reason for every choice and refusal.

The rules, in order (each refusal is recorded with its reason):

1. **Applies**: :meth:`Recipe.applies_to` (technique and every ``[select]`` key).
2. **Usable**: a recipe's ``window`` must lie inside the spectrum's axis range (a window that
   runs past the data would fit something other than what the recipe describes); a peak
   recipe needs real spectra (a raw FID is processed first, or refused); a CSI recipe needs a
   raw phase-encoded data set; an LCF template with no reference spectra is refused.
3. **Most specific**: recipes that match on more ``[select]`` keys (region, element, edge,
   nucleus, glob) win over ones that match on the technique only.
4. **One per band**: recipes whose windows overlap by more than half of the narrower one
   describe the same band and are alternatives. Of those, the one that models bands inside
   the data which another alternative's window leaves out wins (Raman: the argyrodite
   interphase recipe also sees Li2S at 372 cm-1, outside the PS4-only window); otherwise the
   simpler one (fewer components and steps), then the first by name. A wider window over the
   same bands is no reason to prefer a recipe. Recipes on separate bands (Raman LCO bands
   beside the PS4 band) are all kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from specssb.fitting.recipe import Recipe
from specssb.spectrum import Spectrum

__all__ = ["RecipeChoice", "choose_recipes", "kind_of", "usable_reason"]

_SELECT_KEYS = ("region", "element", "edge", "nucleus", "glob")
#: Fraction of the narrower window two windows must share to describe the same band.
_SAME_BAND_OVERLAP = 0.5


@dataclass(frozen=True)
class RecipeChoice:
    """The recipes chosen for one spectrum.

    Attributes
    ----------
    chosen : tuple of (Recipe, str)
        Each chosen recipe with the reason it was chosen.
    rejected : tuple of (str, str)
        Each applicable recipe that was not chosen, by name, with the reason.
    """

    chosen: tuple[tuple[Recipe, str], ...]
    rejected: tuple[tuple[str, str], ...]


def kind_of(recipe: Recipe) -> str:
    """How a recipe runs: ``"xas"`` (series steps), ``"csi"`` (profiles), ``"band_maps"``
    (Raman), or ``"fit"`` (the peak engine)."""
    if recipe.technique == "xas":
        return "xas"
    if recipe.technique == "nmr" and "csi" in recipe.steps:
        return "csi"
    if recipe.technique == "raman":
        return "band_maps"
    return "fit"


def _is_raw_csi(spectrum: Spectrum) -> bool:
    return spectrum.signal == "fid" and bool(spectrum.leading_shape)


def usable_reason(recipe: Recipe, spectrum: Spectrum, *, have_references: bool = False,
                  check_window: bool = True) -> str | None:
    """Why ``recipe`` cannot run on ``spectrum`` (None when it can).

    ``check_window=False`` accepts a window that runs past the data (a recipe the user named
    explicitly fits the part of the window the data cover).
    """
    kind = kind_of(recipe)
    if kind == "csi":
        return None if _is_raw_csi(spectrum) else "not a raw phase-encoded CSI data set"
    if kind == "xas":
        lcf = recipe.steps.get("lcf")
        if isinstance(lcf, dict) and not lcf.get("references") and not have_references:
            return "its LCF step names no reference spectra (give [references] in session.toml)"
        return None
    if np.iscomplexobj(spectrum.data) or _is_raw_csi(spectrum):
        return f"the data are a raw {spectrum.signal} (complex or phase-encoded), not a spectrum"
    if not recipe.component:
        return "the recipe has no [[component]] to fit"
    window = recipe.select.window
    if window is not None and check_window:
        low, high = _axis_range(spectrum)
        if min(window) < low - _slack(low, high) or max(window) > high + _slack(low, high):
            unit = spectrum.axis.unit
            return (f"its window {_span(window)} {unit} runs past the data "
                    f"({_span((low, high))} {unit})")
    return None


def choose_recipes(spectrum: Spectrum, recipes: Sequence[Recipe], *,
                   have_references: bool = False) -> RecipeChoice:
    """Choose the built-in recipes for one spectrum, with reasons (see the module rules).

    Parameters
    ----------
    spectrum : Spectrum
        A spectrum as it will be analysed (1D NMR FIDs already processed).
    recipes : sequence of Recipe
        The candidates, usually :func:`specssb.fitting.recipe.list_recipes`.
    have_references : bool
        The session names reference spectra, so LCF templates can run.

    Returns
    -------
    RecipeChoice
    """
    rejected: list[tuple[str, str]] = []
    usable = []
    for recipe in recipes:
        if not recipe.applies_to(spectrum):
            continue
        why_not = usable_reason(recipe, spectrum, have_references=have_references)
        if why_not is None:
            usable.append(recipe)
        else:
            rejected.append((recipe.name, why_not))
    if not usable:
        return RecipeChoice((), tuple(rejected))
    best = max(_specificity(r) for r in usable)
    specific = [r for r in usable if _specificity(r) == best]
    for recipe in usable:
        if _specificity(recipe) < best:
            winner = specific[0]
            rejected.append((recipe.name, f"less specific than {winner.name} "
                             f"({_matched_keys(recipe) or 'technique only'} vs "
                             f"{_matched_keys(winner)})"))
    chosen: list[tuple[Recipe, str]] = []
    for band in _bands(specific):
        ranked = sorted(band, key=lambda r: (-len(_unseen(r, band, spectrum)), _size(r), r.name))
        winner = ranked[0]
        beaten = []
        for loser in ranked[1:]:
            why = _why_beaten(winner, loser, band, spectrum)
            rejected.append((loser.name, f"alternative to {winner.name} for the same band; {why}"))
            beaten.append(f"{loser.name} ({why})")
        reason = _reason(winner, spectrum)
        if beaten:
            reason += "; preferred over " + ", ".join(beaten)
        chosen.append((winner, reason))
    return RecipeChoice(tuple(chosen), tuple(rejected))


# ---------------------------------------------------------------------- helpers
def _axis_range(spectrum: Spectrum) -> tuple[float, float]:
    values = np.asarray(spectrum.axis.values, dtype=float)
    return float(np.nanmin(values)), float(np.nanmax(values))


def _slack(low: float, high: float) -> float:
    return 1e-9 * max(abs(low), abs(high), 1.0)


def _span(pair: Sequence[float]) -> str:
    return f"{min(pair):g}–{max(pair):g}"


def _specificity(recipe: Recipe) -> int:
    return sum(getattr(recipe.select, key) is not None for key in _SELECT_KEYS)


def _matched_keys(recipe: Recipe) -> str:
    keys = [f"{key} {getattr(recipe.select, key)!r}" for key in _SELECT_KEYS
            if getattr(recipe.select, key) is not None]
    return ", ".join(keys)


def _size(recipe: Recipe) -> int:
    return len(recipe.components()) + len(recipe.steps)


def _window(recipe: Recipe) -> tuple[float, float] | None:
    window = recipe.select.window
    return None if window is None else (min(window), max(window))


def _centres(recipe: Recipe) -> list[tuple[str, float]]:
    """Starting centre of every component (partners included)."""
    return [(spec.component, spec.value) for spec in recipe.parameter_specs()
            if spec.parameter == "center" and spec.value is not None]


def _unseen(recipe: Recipe, band: list[Recipe], spectrum: Spectrum) -> list[tuple[str, float]]:
    """Components of ``recipe`` centred inside the data but outside another alternative's
    window: bands only this recipe models."""
    low, high = _axis_range(spectrum)
    windows = [w for other in band if other is not recipe and (w := _window(other)) is not None]
    return [(name, centre) for name, centre in _centres(recipe)
            if low <= centre <= high and any(not w[0] <= centre <= w[1] for w in windows)]


def _same_band(a: Recipe, b: Recipe) -> bool:
    wa, wb = _window(a), _window(b)
    if wa is None or wb is None:
        return True
    overlap = min(wa[1], wb[1]) - max(wa[0], wb[0])
    narrower = min(wa[1] - wa[0], wb[1] - wb[0])
    return overlap > _SAME_BAND_OVERLAP * narrower if narrower > 0 else overlap >= 0


def _bands(recipes: list[Recipe]) -> list[list[Recipe]]:
    """Group recipes into bands: connected components of the same-band relation."""
    bands: list[list[Recipe]] = []
    for recipe in recipes:
        joined = [band for band in bands if any(_same_band(recipe, other) for other in band)]
        merged = [recipe] + [r for band in joined for r in band]
        bands = [band for band in bands if band not in joined] + [merged]
    return bands


def _why_beaten(winner: Recipe, loser: Recipe, band: list[Recipe], spectrum: Spectrum) -> str:
    unseen = _unseen(winner, band, spectrum)
    if len(unseen) > len(_unseen(loser, band, spectrum)):
        shown = ", ".join(f"{name} at {centre:g} {spectrum.axis.unit}" for name, centre in unseen)
        return f"{winner.name} also models bands outside {loser.name}'s window ({shown})"
    if _size(winner) < _size(loser):
        return f"{winner.name} is simpler ({_size(winner)} vs {_size(loser)} components and steps)"
    return "the first by name among equals"


def _reason(recipe: Recipe, spectrum: Spectrum) -> str:
    meta = spectrum.meta
    parts = []
    for key in ("region", "element", "edge", "nucleus"):
        wanted = getattr(recipe.select, key)
        if wanted is not None:
            parts.append(f"{key} {meta.get(key)!s} matches [select] {key} {wanted!r}")
    if recipe.select.glob is not None:
        parts.append(f"the file name matches [select] glob {recipe.select.glob!r}")
    if not parts:
        parts.append(f"{recipe.technique} data and the recipe selects no region, element, "
                     "edge or nucleus")
    window = _window(recipe)
    if window is not None:
        low, high = _axis_range(spectrum)
        parts.append(f"window {_span(window)} {spectrum.axis.unit} inside the data "
                     f"({_span((low, high))})")
    return f"{recipe.name}: " + "; ".join(parts)
