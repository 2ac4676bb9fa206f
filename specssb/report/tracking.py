"""Tracking: species versus cycle, per technique and across techniques, joined to the cycling.

The functions take the tidy frame of a session run (:meth:`SessionResult.frame`) or rows from
the store (:meth:`Store.values`, :meth:`Store.query`) and build small tables for the report:

=========================  ===================================================================
:func:`assign_cycles`      every row gets ``cycle``, ``state_of_charge``, ``potential_v`` and
                           where they came from (``cycle_source``, ``cycle_note``)
:func:`species_vs_cycle`   one value ± stderr per technique × analysis × species × quantity ×
                           cycle
:func:`trends`             a weighted straight line versus cycle: slope per cycle ± stderr
:func:`capacity_correlation`  Pearson and Spearman r between a species and the capacity
:func:`cross_technique`    one chemical species (Li2S) seen by XPS, XAS and Raman side by side
=========================  ===================================================================

Cycles
------
A row's cycle comes from, in order:

1. ``tag``: the row's ``cycle`` column (the manifest's tags, or the store's ``cycle``), when it
   is not null. A tagged ``state_of_charge`` / ``potential_v`` is used too.
2. ``cycler``: its ``acquired_at`` joined to the cycler table by
   :func:`specssb.report.echem.join_spectra` (the record before it, within ``tolerance``). The
   cycle is the cycler's own number of the cycle in progress (EC-Lab counts from 0, so a
   spectrum taken during the first cycle, or before any current flowed, is cycle 0; one taken
   while the second cycle runs — after one complete cycle — is cycle 1).
   A spectrum taken *after the record ends*, within ``after_end_s`` (default: the duration of
   the record's last cycle), was taken after all of the record's cycles: it gets the last
   cycle's number + 1 when that cycle is complete (the number the next cycle would have), else
   the last number; its state of charge is that of the last record (no current flows after
   it) and its potential NaN (the open-circuit potential relaxes after the record; it was not
   measured). ``cycle_note`` says so.
3. ``none``: the row could not be placed; ``cycle_note`` says why (no acquisition time, no
   cycler table, outside the record, or the file names another cell than the cycler file: a
   ``cell<N>`` token in both names that differ, e.g. ``cell02_7Li_csi`` against
   ``cell01_GCPL.mpt``, is taken as a second cell whose spectra must not be put on this cell's
   cycles).

Techniques
----------
``technique`` is the row's ``technique`` column when it has one (the store's); else the text
before the first ``-`` of the recipe name when that is ``xps``, ``xas``, ``nmr`` or ``raman``
(every built-in recipe is named so: ``xps-s2p-argyrodite``); else from the engine (``xas`` →
xas, ``csi`` → nmr); else ``"unknown"``. ``analysis`` is the row's ``analysis`` column (the
session's label, e.g. ``xps-s2p-argyrodite``) or else the recipe name: it keeps apart one
species fitted in two regions (``ps4`` as a share of S 2p and of P 2p).

Values per cycle
----------------
1. Doublet partners are folded into their main component first: for ``area`` and ``fraction``
   the partner's value is added to the main one (``li2s`` + ``li2s_2p12`` = all of the Li2S S 2p
   signal, the number to compare with a fraction of sulfur), and their standard errors are added
   *linearly*: the partner's area is tied to the main area by a fixed ratio, so the two errors
   are fully correlated and add (for ``free_ratio`` doublets this is an upper bound). Partners
   are read from the recipe (the built-in recipe of that name and hash); for other recipes,
   ``<main>_b`` or ``<main>_<n><l><jj>`` (``_2p12``, ``_3d32``, ``_4f52``) next to ``<main>``
   in the same spectrum is taken as a partner. Other quantities of partners are dropped.
2. One *measurement* is one file (and block). Rows of one measurement with the same species
   and quantity are pixels of a map or voxels of an image: the measurement's value is their
   plain mean (the spatial average — inverse-variance weights would favour the pixels with
   small errors, not the sample average), with the larger of the propagated error
   ``sqrt(Σ s_i²) / n`` and the standard error of the spatial scatter ``sd / sqrt(n)``.
3. The measurements of one cycle are averaged with inverse-variance weights ``1 / s_i²`` when
   every one has a finite, positive stderr; the stderr is ``1 / sqrt(Σ w_i)``, or the
   scatter's ``sqrt(Σ w_i (x_i - x̄)² / ((n - 1) Σ w_i))`` when that is larger (repeat
   measurements that disagree by more than their error bars say — e.g. operando scans at
   different states of charge within one cycle — are not allowed to look precise). Without
   stderrs the plain mean is used and the stderr is ``sd / sqrt(n)`` (NaN for one
   measurement).

Rows of fits that did not converge (``converged`` False) are left out and counted
(``n_unconverged``), unless no measurement of that cycle converged: then the cycle is kept from
the unconverged values, marked ``converged`` False (a 7Li spectrum without Li metal, whose
metal line ends at its bound, is such a fit: the number is right, the fit says it did not
converge), so the report can draw it as a marked point rather than lose it. Rows with a NaN
cycle or a NaN value are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from specssb.errors import ConfigError, SpecssbError
from specssb.report._tracking_cycles import cycler_name, join_times, other_cell, tag_cycles

__all__ = [
    "DEFAULT_QUANTITIES",
    "TECHNIQUES",
    "assign_cycles",
    "capacity_correlation",
    "cross_technique",
    "default_aliases",
    "species_vs_cycle",
    "technique_of",
    "trends",
]

TECHNIQUES = ("xps", "xas", "nmr", "raman")
DEFAULT_QUANTITIES = ("fraction", "concentration", "integral", "area")
_ENGINE_TECHNIQUE = {"xas": "xas", "csi": "nmr", "nmr": "nmr", "raman": "raman", "xps": "xps"}
_ADDITIVE = ("area", "fraction")
_PARTNER_SUFFIX = re.compile(r"^(?P<main>.+)_(?:b|\d[spdf]\d{2})$")
_KEYS = ("technique", "analysis", "species", "quantity")
_TABLE_COLUMNS = ("technique", "analysis", "species", "quantity", "cycle", "value", "stderr",
                  "n_spectra", "n_values", "n_unconverged", "converged", "unit", "components")


# ---------------------------------------------------------------------------- cycles
def assign_cycles(
    frame: pd.DataFrame,
    cycler: pd.DataFrame | None,
    *,
    tolerance: float | str = 600.0,
    after_end_s: float | None = None,
) -> pd.DataFrame:
    """Give every row a ``cycle``, ``state_of_charge`` and ``potential_v`` (see module notes).

    Parameters
    ----------
    frame : pandas.DataFrame
        A session frame (:meth:`SessionResult.frame`) or store rows: ``acquired_at`` (UTC) and,
        optionally, tag columns ``cycle``, ``state_of_charge``, ``potential_v`` and ``file``.
    cycler : pandas.DataFrame or None
        The cell's cycler table (:func:`~specssb.report.echem.read_cycler_table`), or None.
    tolerance : float (s) or str, default 600 s
        Largest gap between a spectrum and the cycler record before it (as
        :func:`~specssb.report.echem.join_spectra`).
    after_end_s : float, optional
        How long after the record's end (s) a spectrum still counts as taken after its last
        cycle; default the duration of the last cycle.

    Returns
    -------
    pandas.DataFrame
        A copy with ``cycle`` (float: whole numbers or NaN), ``state_of_charge`` (1),
        ``potential_v`` (V), ``cycle_source`` (``"tag"``, ``"cycler"`` or ``"none"``) and
        ``cycle_note`` (why, in words; empty for a plain tag or join). Calling it again on
        its own output gives the same result (only rows it marked ``tag`` count as tagged).

    Raises
    ------
    ConfigError
        A tag ``cycle`` that is not a whole number.

    Examples
    --------
    >>> frame = pd.DataFrame({"value": [0.1, 0.2], "cycle": [3, None],
    ...                       "acquired_at": pd.to_datetime([None, None], utc=True)})
    >>> assign_cycles(frame, None)[["cycle", "cycle_source"]].to_dict("list")
    {'cycle': [3.0, nan], 'cycle_source': ['tag', 'none']}
    """
    out = frame.copy()
    n = len(out)
    cycle = np.full(n, np.nan)
    soc = np.full(n, np.nan)
    potential = np.full(n, np.nan)
    source = np.full(n, "none", dtype=object)
    note = np.full(n, "", dtype=object)
    tagged = tag_cycles(out)
    has_tag = np.isfinite(tagged)
    if "cycle_source" in out.columns:  # assigned before: only its tags are tags
        has_tag &= (out["cycle_source"].astype(object) == "tag").to_numpy()
    cycle[has_tag] = tagged[has_tag]
    source[has_tag] = "tag"
    for name, target in (("state_of_charge", soc), ("potential_v", potential)):
        if name in out.columns:
            values = pd.to_numeric(out[name], errors="coerce").to_numpy(np.float64)
            target[has_tag] = values[has_tag]
    rest = ~has_tag
    times = (pd.to_datetime(out["acquired_at"], utc=True) if "acquired_at" in out.columns
             else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]"))
    no_time = rest & times.isna().to_numpy()
    note[no_time] = "no acquisition time"
    if cycler is None:
        note[rest & ~no_time] = "no cycler table"
    else:
        wanted = rest & ~no_time
        other = other_cell(out, cycler)
        note[wanted & other] = [f"the file names another cell than the cycler file "
                                f"({cycler_name(cycler)})"] * int((wanted & other).sum())
        wanted &= ~other
        if wanted.any():
            placed = join_times(times[wanted], cycler, tolerance, after_end_s)
            idx = np.flatnonzero(wanted)
            cycle[idx] = placed["cycle"]
            soc[idx] = np.where(np.isfinite(soc[idx]), soc[idx], placed["state_of_charge"])
            potential[idx] = np.where(np.isfinite(potential[idx]), potential[idx],
                                      placed["potential_v"])
            ok = np.isfinite(placed["cycle"])
            source[idx[ok]] = "cycler"
            note[idx] = placed["note"]
    out["cycle"] = cycle
    out["state_of_charge"] = soc
    out["potential_v"] = potential
    out["cycle_source"] = source
    out["cycle_note"] = note
    return out


# ---------------------------------------------------------------------- techniques
def technique_of(frame: pd.DataFrame) -> pd.Series:
    """The technique of every row (see module notes: column, recipe prefix, engine).

    Examples
    --------
    >>> technique_of(pd.DataFrame({"recipe": ["xps-s2p-argyrodite 1a2b"], "engine": ["batched"]}))
    0    xps
    dtype: object
    """
    index = frame.index
    frame = frame.reset_index(drop=True)
    n = len(frame)
    given = (frame["technique"].astype(object) if "technique" in frame.columns
             else pd.Series([None] * n, index=frame.index, dtype=object))
    recipe = _recipe_names(frame)
    prefix = recipe.map(lambda r: r.split("-", 1)[0].lower() if isinstance(r, str) else None)
    prefix = prefix.where(prefix.isin(TECHNIQUES), None)
    engine = (frame["engine"].astype(object).map(lambda e: _ENGINE_TECHNIQUE.get(str(e).lower()))
              if "engine" in frame.columns else pd.Series([None] * n, index=frame.index))
    out = given.where(given.notna(), prefix).where(lambda s: s.notna(), engine)
    return out.fillna("unknown").astype(object).set_axis(index)


def _recipe_names(frame: pd.DataFrame) -> pd.Series:
    if "recipe" not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame["recipe"].astype(object).map(
        lambda r: str(r).split(" ", 1)[0] if isinstance(r, str) and r else None)


def _analysis_of(frame: pd.DataFrame) -> pd.Series:
    recipe = _recipe_names(frame)
    if "analysis" in frame.columns:
        given = frame["analysis"].astype(object)
        return given.where(given.notna(), recipe).fillna("").astype(object)
    return recipe.fillna("").astype(object)


# ------------------------------------------------------------------- doublet partners
@lru_cache(maxsize=64)
def _recipe_partners(recipe: str) -> dict[str, str] | None:
    """``{partner: main}`` of a built-in recipe named and hashed as in ``recipe`` (or None)."""
    from specssb.fitting.recipe import load_recipe

    parts = recipe.split(" ")
    if len(parts) != 2 or "/" in parts[0] or parts[0].endswith(".toml"):
        return None
    try:
        loaded = load_recipe(parts[0])
    except (SpecssbError, OSError):
        return None
    if loaded.hash != parts[1]:
        return None
    return {c.name: c.partner_of for c in loaded.components() if c.partner_of is not None}


def _fold_partners(rows: pd.DataFrame) -> pd.DataFrame:
    """Partner rows folded into their main component (additive quantities), others dropped."""
    recipe = (rows["recipe"].astype(object).fillna("").astype(str) if "recipe" in rows.columns
              else pd.Series("", index=rows.index))
    pairs = pd.DataFrame({"recipe": recipe, "species": rows["species"],
                          "_measurement": rows["_measurement"]}).drop_duplicates()
    present = set(zip(pairs["_measurement"], pairs["species"]))
    verdict: dict[tuple[str, str, str], str | None] = {}
    for name, species, where in zip(pairs["recipe"], pairs["species"], pairs["_measurement"]):
        partners = _recipe_partners(name) if name else None
        if partners is not None:
            verdict[(name, species, where)] = partners.get(species)
            continue
        match = _PARTNER_SUFFIX.match(species)
        main = match.group("main") if match else None
        verdict[(name, species, where)] = main if (where, main) in present else None
    main_of = pd.Series([verdict[k] for k in zip(recipe, rows["species"], rows["_measurement"])],
                        index=rows.index, dtype=object)
    is_partner = main_of.notna().to_numpy()
    if not is_partner.any():
        rows = rows.copy()
        rows["components"] = rows["species"].astype(object)
        return rows
    partners = rows[is_partner & rows["quantity"].isin(_ADDITIVE).to_numpy()].copy()
    partners["species"] = main_of[partners.index]
    mains = rows[~is_partner].copy()
    mains["components"] = mains["species"].astype(object)
    key = ["_measurement", "_index", "species", "quantity"]
    if len(partners):
        extra = partners.groupby(key, sort=False).agg(
            _add=("value", "sum"), _add_err=("stderr", "sum"),
            _names=("_partner_name", lambda s: "+".join(s)))
        mains = mains.join(extra, on=key)
        has = mains["_add"].notna()
        mains.loc[has, "value"] = mains.loc[has, "value"] + mains.loc[has, "_add"]
        mains.loc[has, "stderr"] = mains.loc[has, "stderr"] + mains.loc[has, "_add_err"]
        mains.loc[has, "components"] = mains.loc[has, "species"] + "+" + mains.loc[has, "_names"]
        mains = mains.drop(columns=["_add", "_add_err", "_names"])
    return mains


# ------------------------------------------------------------------ species vs cycle
def species_vs_cycle(
    frame: pd.DataFrame,
    *,
    quantities: Sequence[str] = DEFAULT_QUANTITIES,
) -> pd.DataFrame:
    """One value ± stderr per technique × analysis × species × quantity × cycle.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with a ``cycle`` column (from :func:`assign_cycles`, tags or the store) and the
        fit-table columns ``species``, ``quantity``, ``value``, ``stderr``, ``unit`` (``file``
        or ``source``, ``block``, ``index``, ``recipe``, ``engine``, ``converged`` when present).
    quantities : sequence of str
        The quantities to keep (default fractions, concentrations, integrals and areas).

    Returns
    -------
    pandas.DataFrame
        Columns ``technique``, ``analysis``, ``species``, ``quantity``, ``cycle`` (int),
        ``value``, ``stderr`` (see module notes for both), ``n_spectra`` (measurements: files
        and blocks), ``n_values`` (rows averaged: pixels × measurements), ``n_unconverged``,
        ``unit``, ``components`` (``li2s+li2s_2p12`` when a doublet partner was folded in);
        sorted by the keys and the cycle.

    Raises
    ------
    ConfigError
        A frame without ``cycle`` or without the fit-table columns.

    Examples
    --------
    >>> rows = pd.DataFrame({"species": "li2s", "quantity": "fraction", "cycle": [1, 1],
    ...                      "value": [0.1, 0.3], "stderr": [0.1, 0.1], "unit": "1",
    ...                      "file": ["a", "b"], "recipe": "xps-s2p x"})
    >>> species_vs_cycle(rows).round(6)[["technique", "value", "n_spectra"]].to_dict("records")
    [{'technique': 'xps', 'value': 0.2, 'n_spectra': 2}]
    """
    needed = ("cycle", "species", "quantity", "value")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ConfigError(f"species_vs_cycle needs the columns {missing} (run assign_cycles "
                          "first for 'cycle')", key="frame")
    rows = frame[frame["quantity"].isin(list(quantities))]
    rows = rows[pd.to_numeric(rows["cycle"].astype(object), errors="coerce").notna()]
    if rows.empty:
        return pd.DataFrame(columns=list(_TABLE_COLUMNS))
    rows = _prepared(rows.reset_index(drop=True))
    rows = _fold_partners(rows)
    rows = rows[np.isfinite(rows["value"].to_numpy(np.float64))]
    good = rows["converged"].to_numpy(bool)
    keys = [*_KEYS, "cycle"]
    bad_counts = rows[~good].groupby(keys, sort=False).size()
    records = []
    for subset, converged in ((rows[good], True), (rows[~good], False)):
        if subset.empty:
            continue
        seen = {tuple(r[: len(keys)]) for r in records}
        for key, group in _measurement_means(subset).groupby(keys, sort=True):
            if not converged and tuple(key) in seen:
                continue  # converged values exist for that cycle: the others are left out
            value, stderr = _combine(group["value"].to_numpy(), group["stderr"].to_numpy())
            records.append((*key, value, stderr, len(group), int(group["_n"].sum()),
                            int(bad_counts.get(key, 0)), converged, _joined(group["unit"]),
                            _joined(group["components"])))
    table = pd.DataFrame.from_records(records, columns=list(_TABLE_COLUMNS))
    table["cycle"] = table["cycle"].astype(np.int64)
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


def _prepared(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with the technique, analysis, measurement key and safe columns the tables need."""
    out = pd.DataFrame(index=rows.index)
    out["technique"] = technique_of(rows)
    out["analysis"] = _analysis_of(rows)
    out["species"] = rows["species"].astype(object).astype(str)
    out["_partner_name"] = out["species"]
    out["quantity"] = rows["quantity"].astype(object)
    out["cycle"] = pd.to_numeric(rows["cycle"].astype(object)).astype(np.float64).round()
    out["value"] = pd.to_numeric(rows["value"], errors="coerce").astype(np.float64)
    out["stderr"] = (pd.to_numeric(rows["stderr"], errors="coerce").astype(np.float64)
                     if "stderr" in rows.columns else np.nan)
    out["unit"] = rows["unit"].astype(object) if "unit" in rows.columns else ""
    out["converged"] = (rows["converged"].fillna(True).astype(bool) if "converged" in rows.columns
                        else True)
    if "recipe" in rows.columns:
        out["recipe"] = rows["recipe"].astype(object)
    where = rows["file"] if "file" in rows.columns else rows.get("source")
    where = (where.astype(object).where(where.notna(), None) if where is not None
             else pd.Series([None] * len(rows), index=rows.index))
    # rows without a file name are one measurement each
    where = where.where(where.notna(), pd.Series([f"<row {i}>" for i in range(len(rows))],
                                                  index=rows.index))
    block = rows["block"].astype(object).fillna("").astype(str) if "block" in rows.columns else ""
    out["_measurement"] = (out["analysis"].astype(str) + "\x1f" + where.astype(str) + "\x1f"
                           + block)
    out["_index"] = (rows["index"].astype(object).fillna("").astype(str)
                     if "index" in rows.columns else "")
    return out


def _measurement_means(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per measurement × species × quantity × cycle: the spatial mean of its pixels."""
    keys = [*_KEYS, "cycle", "_measurement"]
    out = []
    for key, group in rows.groupby(keys, sort=False):
        values = group["value"].to_numpy(np.float64)
        errors = group["stderr"].to_numpy(np.float64)
        n = values.size
        mean = float(values.mean())
        if n == 1:
            stderr = float(errors[0])
        else:
            propagated = float(np.sqrt(np.sum(errors**2)) / n)
            spread = float(values.std(ddof=1) / np.sqrt(n))
            stderr = max(propagated, spread) if np.isfinite(propagated) else spread
        out.append((*key, mean, stderr, n, _joined(group["unit"]), _joined(group["components"])))
    return pd.DataFrame.from_records(out, columns=[*keys, "value", "stderr", "_n", "unit",
                                                   "components"])


def _combine(values: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """Inverse-variance mean (or plain mean) and its stderr, the scatter's when larger."""
    values = np.asarray(values, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    n = values.size
    if n == 0:
        return np.nan, np.nan
    if np.all(np.isfinite(errors) & (errors > 0)):
        weights = 1.0 / errors**2
        total = weights.sum()
        mean = float(np.sum(weights * values) / total)
        internal = float(1.0 / np.sqrt(total))
        if n == 1:
            return mean, internal
        external = float(np.sqrt(np.sum(weights * (values - mean) ** 2) / ((n - 1) * total)))
        return mean, max(internal, external)
    mean = float(values.mean())
    return mean, (float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan)


def _joined(values: Iterable[Any]) -> str:
    return "; ".join(dict.fromkeys(str(v) for v in values if isinstance(v, str) and v))


# ---------------------------------------------------------------------------- trends
def trends(table: pd.DataFrame) -> pd.DataFrame:
    """A straight line ``value = intercept + slope × cycle`` per technique × species × quantity.

    Weighted by ``1 / stderr²`` when every cycle has a finite, positive stderr; then
    ``slope_stderr`` is the larger of the propagated error (from the stderrs alone) and that
    error scaled by ``sqrt(redchi)`` — points that scatter more than their error bars widen the
    uncertainty, never narrow it. Otherwise an ordinary least-squares line with errors from the
    residual scatter (``redchi`` NaN: there are no error bars to compare with). Two cycles give
    the line through both (stderrs propagated when known, NaN otherwise).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`species_vs_cycle`.

    Returns
    -------
    pandas.DataFrame
        ``technique``, ``analysis``, ``species``, ``quantity``, ``unit``, ``n_cycles``,
        ``first_cycle``, ``last_cycle``, ``slope_per_cycle``, ``slope_stderr``, ``intercept``,
        ``intercept_stderr``, ``redchi`` (reduced chi-square, NaN without weights or with fewer
        than three cycles), ``weighted``. A group with one cycle has NaN slope.

    Examples
    --------
    >>> t = pd.DataFrame({"technique": "nmr", "analysis": "a", "species": "x",
    ...                   "quantity": "fraction", "unit": "1", "cycle": [0, 1, 2],
    ...                   "value": [1.0, 3.0, 5.0], "stderr": [0.1, 0.1, 0.1]})
    >>> round(float(trends(t)["slope_per_cycle"].iloc[0]), 6)
    2.0
    """
    columns = [*_KEYS, "unit", "n_cycles", "first_cycle", "last_cycle", "slope_per_cycle",
               "slope_stderr", "intercept", "intercept_stderr", "redchi", "weighted"]
    records = []
    for key, group in _groups(table):
        group = group[np.isfinite(group["value"].to_numpy(np.float64))]
        x = group["cycle"].to_numpy(np.float64)
        y = group["value"].to_numpy(np.float64)
        s = group["stderr"].to_numpy(np.float64) if "stderr" in group else np.full(y.size, np.nan)
        fit = _line(x, y, s)
        unit = _joined(group["unit"]) if "unit" in group else ""
        records.append((*key, unit, int(np.unique(x).size),
                        int(x.min()) if x.size else -1, int(x.max()) if x.size else -1, *fit))
    return pd.DataFrame.from_records(records, columns=columns)


def _groups(table: pd.DataFrame) -> Iterable[tuple[tuple[Any, ...], pd.DataFrame]]:
    keys = [k for k in _KEYS if k in table.columns]
    if not keys or table.empty:
        return []
    return table.groupby(keys, sort=True)


def _line(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> tuple[float, ...]:
    """slope, slope_stderr, intercept, intercept_stderr, redchi, weighted."""
    nan = np.nan
    if np.unique(x).size < 2:
        return nan, nan, (float(y.mean()) if y.size else nan), nan, nan, False
    weighted = bool(np.all(np.isfinite(s) & (s > 0)))
    w = 1.0 / s**2 if weighted else np.ones_like(y)
    design = np.column_stack([np.ones_like(x), x])
    normal = design.T @ (design * w[:, None])
    cov = np.linalg.inv(normal)
    intercept, slope = cov @ (design.T @ (w * y))
    residual = y - (intercept + slope * x)
    dof = y.size - 2
    chi2 = float(np.sum(w * residual**2))
    if weighted:
        redchi = chi2 / dof if dof > 0 else nan
        scale = max(1.0, redchi) if dof > 0 else 1.0
    else:
        redchi = nan
        scale = chi2 / dof if dof > 0 else nan
    errors = np.sqrt(np.diag(cov) * scale)
    return float(slope), float(errors[1]), float(intercept), float(errors[0]), redchi, weighted


# ------------------------------------------------------------ correlation with capacity
def capacity_correlation(
    table: pd.DataFrame,
    cycle_summary: pd.DataFrame,
    *,
    capacity: str = "discharge_capacity_mah",
    cycle_offset: int = 0,
) -> pd.DataFrame:
    """Pearson and Spearman correlation between each species and the capacity, over cycles.

    The species value at cycle ``c`` is paired with the capacity of cycle ``c + cycle_offset``
    of ``cycle_summary`` (complete cycles only). With the cycle numbering of
    :func:`assign_cycles` a spectrum of cycle ``c`` was taken while cycle ``c`` ran (or after
    the record, ``c`` = the cycle after the last), so ``cycle_offset=0`` pairs it with the
    capacity of the cycle it was measured in; ``-1`` pairs it with the last cycle completed
    before it. ``r`` does not depend on the capacity's scale: the discharge capacity and the
    capacity retention give the same r.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`species_vs_cycle`.
    cycle_summary : pandas.DataFrame
        From :func:`specssb.report.echem.cycle_summary`.
    capacity : str, default "discharge_capacity_mah"
        The column of ``cycle_summary`` to correlate with (``capacity_retention``,
        ``coulombic_efficiency`` …).
    cycle_offset : int, default 0

    Returns
    -------
    pandas.DataFrame
        ``technique``, ``analysis``, ``species``, ``quantity``, ``capacity`` (the column),
        ``n`` (common cycles), ``cycles`` (their numbers, "0,1,2"), ``pearson_r``,
        ``pearson_p``, ``spearman_rho``, ``spearman_p`` (two-sided, :mod:`scipy.stats`); NaN
        with fewer than three common cycles or a constant series.

    Raises
    ------
    ConfigError
        ``capacity`` is not a column of ``cycle_summary``.
    """
    from scipy import stats

    if capacity not in cycle_summary.columns:
        raise ConfigError(f"cycle_summary has no column {capacity!r} (has: "
                          f"{', '.join(map(str, cycle_summary.columns))})", key="capacity")
    summary = cycle_summary
    if "complete" in summary.columns:
        summary = summary[summary["complete"].astype(bool)]
    by_cycle = pd.Series(pd.to_numeric(summary[capacity], errors="coerce").to_numpy(np.float64),
                         index=summary["cycle"].astype(np.int64).to_numpy() - cycle_offset)
    by_cycle = by_cycle[np.isfinite(by_cycle.to_numpy())]
    columns = [*_KEYS, "capacity", "n", "cycles", "pearson_r", "pearson_p", "spearman_rho",
               "spearman_p"]
    records = []
    for key, group in _groups(table):
        group = group[np.isfinite(group["value"].to_numpy(np.float64))]
        cycles = group["cycle"].astype(np.int64).to_numpy()
        common = np.isin(cycles, by_cycle.index.to_numpy())
        x = group["value"].to_numpy(np.float64)[common]
        y = by_cycle.loc[cycles[common]].to_numpy(np.float64)
        result = [np.nan] * 4
        constant = x.size and (np.ptp(x) == 0 or np.ptp(y) == 0)
        if x.size >= 3 and not constant:
            pearson = stats.pearsonr(x, y)
            spearman = stats.spearmanr(x, y)
            result = [float(pearson.statistic), float(pearson.pvalue),
                      float(spearman.statistic), float(spearman.pvalue)]
        records.append((*key, capacity, int(x.size), ",".join(map(str, cycles[common])),
                        *result))
    return pd.DataFrame.from_records(records, columns=columns)


# ------------------------------------------------------------------ across techniques
def default_aliases() -> dict[str, list[str]]:
    """Alias table built from the species names of ``specssb/library``.

    Every XPS species name (``xps_species.toml``) and Raman band name (``raman_bands.toml``)
    is a key with itself and ``<name>_band`` as aliases. A Raman band's chemical formula (its
    ``species`` entry up to the first blank or bracket, when it starts with a capital:
    ``Li2S``, ``PS4``, ``Li2CO3``) is added to the key it equals ignoring case (``li2s`` gets
    ``Li2S``); a formula shared by several bands becomes a key collecting them (``licoo2``:
    ``LiCoO2``, ``lco_eg``, ``lco_a1g``); any other formula becomes an alias of its band
    (``polysulfide`` gets ``Li2Sx``). Matching is case-insensitive, so an XAS LCF reference
    labelled ``Li2S`` joins ``li2s``.

    Returns
    -------
    dict of str to list of str
        Lower-case key → aliases.

    Examples
    --------
    >>> {"li2s", "Li2S", "li2s_band"} <= set(default_aliases()["li2s"])
    True
    """
    from specssb.library.raman_bands import bands
    from specssb.library.xps_tables import load_species

    table: dict[str, list[str]] = {}

    def add(key: str, *names: str) -> None:
        aliases = table.setdefault(key.lower(), [])
        for name in names:
            if name not in aliases:
                aliases.append(name)

    for item in load_species():
        add(item.name, item.name, f"{item.name}_band")
    formulas: dict[str, list[str]] = {}
    for band in bands():
        add(band.name, band.name, f"{band.name}_band")
        formula = re.split(r"[\s(]", str(band.species).strip(), maxsplit=1)[0]
        if re.fullmatch(r"[A-Z][A-Za-z0-9.]*", formula):  # a formula, not "cubic" or "graphite"
            formulas.setdefault(formula, []).append(band.name)
    for formula, names in formulas.items():
        if formula.lower() in table:  # Li2S -> li2s, PS4 -> ps4
            add(formula.lower(), formula, *names)
        elif len(names) > 1:  # LiCoO2 -> lco_eg, lco_a1g
            add(formula.lower(), formula, *names)
        else:  # Li2Sx -> an alias of the one band named for it (polysulfide)
            add(names[0], formula)
    return table


def cross_technique(
    table: pd.DataFrame,
    aliases: Mapping[str, Sequence[str]] | None = None,
    *,
    min_techniques: int = 2,
) -> pd.DataFrame:
    """Rows of one chemical species seen by several techniques, side by side.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`species_vs_cycle`.
    aliases : mapping of str to sequence of str, optional
        ``{"li2s": ["li2s", "Li2S", "li2s_band"]}``: each key a chemical species, each list the
        labels it goes by in recipes, LCF references and band names; compared ignoring case. A
        label listed under several keys goes to every one of them. Default
        :func:`default_aliases`.
    min_techniques : int, default 2
        Keep a chemical species only when at least this many techniques saw it.

    Returns
    -------
    pandas.DataFrame
        The rows of ``table`` whose species is an alias, with ``chemical`` (the key) first;
        sorted by chemical, quantity, cycle, technique. For a wide view:
        ``out.pivot_table(index=["chemical", "cycle"], columns=["technique", "quantity"],
        values="value")``.
    """
    if aliases is None:
        aliases = default_aliases()
    lookup: dict[str, list[str]] = {}
    for key, names in aliases.items():
        for name in [key, *names]:
            bucket = lookup.setdefault(str(name).lower(), [])
            if str(key).lower() not in bucket:
                bucket.append(str(key).lower())
    columns = ["chemical", *table.columns]
    if table.empty:
        return pd.DataFrame(columns=columns)
    species = table["species"].astype(str).str.lower()
    parts = []
    for label in pd.unique(species):
        for chemical in lookup.get(label, []):
            parts.append(table[species == label].assign(chemical=chemical))
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    count = out.groupby("chemical")["technique"].transform("nunique")
    out = out[count >= min_techniques]
    out = out[columns].sort_values(["chemical", "quantity", "cycle", "technique"], kind="stable")
    return out.reset_index(drop=True)
