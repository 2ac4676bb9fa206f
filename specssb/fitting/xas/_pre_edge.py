"""Larch 2026.3.1 ``pre_edge`` internals for many spectra on one grid: ranges, fits, curves.

Used by :func:`specssb.fitting.xas.normalize.normalize` (see its module docstring for what is
reproduced). ``plan_ranges`` follows ``larch.xafs.pre_edge.preedge`` line by line with arrays (one
value per spectrum); ``normalize_block`` finds e0, plans the ranges and computes the edge
step and the first curves chunk by chunk (:data:`CHUNK_ROWS` spectra at a time, so the working
arrays stay in the processor cache); ``block_curves`` computes further curves on demand.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from specssb.errors import PhysicsWarning
from specssb.fitting.xas._e0 import (
    CHUNK_ROWS,
    find_e0_rows,
    index_nearest,
    index_of,
    index_of_shifted,
    remove_dups,
)
from specssb.fitting.xas._window_fit import fit_windows

__all__ = ["MAX_NNORM", "block_curves", "larch_grid", "normalize_block", "plan_ranges"]

MAX_NNORM = 5


def larch_grid(energy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Larch's two successive ``remove_dups``: in ``pre_edge`` (E1) and in ``preedge`` (E2)."""
    first = remove_dups(energy)
    return first, remove_dups(first)


def plan_ranges(
    grid: np.ndarray,
    e0: np.ndarray,
    pre1: float | None,
    pre2: float | None,
    norm1: float | None,
    norm2: float | None,
    nnorm: int | None,
    nvict: int,
) -> dict[str, np.ndarray]:
    """Ranges and fit windows of Larch's ``preedge`` for each e0 (arrays of e0's length)."""
    n = grid.size
    count = e0.size
    ie0 = index_nearest(grid, e0)
    if pre1 is None:
        start = grid[1] - e0
        p1 = np.where(ie0 > 20, 5.0 * np.round(start / 5.0), 2.0 * np.round(start / 2.0))
    else:
        p1 = np.full(count, float(pre1))
    p1 = np.maximum(p1, grid.min() - e0)
    p2 = 0.5 * p1 if pre2 is None else np.full(count, float(pre2))
    p1, p2 = np.minimum(p1, p2), np.maximum(p1, p2)
    short = (index_of_shifted(grid, e0, p2) - index_of_shifted(grid, e0, p1)) < 3
    vict = np.where(short, 0, int(nvict))
    npre = np.where(short, 0, 1)

    top = grid.max() - e0
    n2 = 5.0 * np.round(top / 5.0) if norm2 is None else np.full(count, float(norm2))
    n2 = np.where(n2 < 0, top - n2, n2)
    n2 = np.minimum(n2, top)
    if norm1 is None:
        n1 = np.minimum(25.0, 5.0 * np.round(n2 / 15.0))
    else:
        n1 = np.full(count, float(norm1))
    n1, n2 = np.minimum(n1, n2), np.maximum(n1, n2)
    n1 = np.minimum(n1, n2 - 2)
    if nnorm is None:
        degree = np.where(n2 - n1 < 30, 0, np.where(n2 - n1 < 300, 1, 2))
    else:
        degree = np.full(count, int(nnorm))
    degree = np.clip(degree, 0, MAX_NNORM)

    pre_start = index_of(grid, p1 + e0)
    pre_stop = index_nearest(grid, p2 + e0)
    pre_stop = np.where((npre == 0) & (pre_stop == pre_start), pre_stop + 1, pre_stop)
    pre_stop = np.where((npre == 1) & (pre_stop - pre_start < 2), np.minimum(n, pre_start + 2),
                        pre_stop)
    post_start = np.minimum(index_of(grid, n1 + e0), n - 3)
    post_stop = index_nearest(grid, n2 + e0)
    width = post_stop - post_start
    post_start = np.where(width < 2, post_start - 2, post_start)
    degree = np.where(width < 2, 0, np.where(width < 5, np.minimum(1, degree), degree))
    return {
        "e0": e0, "ie0": ie0, "pre1": p1, "pre2": p2, "norm1": n1, "norm2": n2,
        "nnorm": degree, "nvict": vict, "npre": npre, "pre_start": pre_start,
        "pre_stop": pre_stop, "post_start": post_start, "post_stop": post_stop,
    }


def normalize_block(
    energy: np.ndarray,
    mu: np.ndarray,
    given: np.ndarray,
    options: dict[str, Any],
    first_curves: tuple[str, ...],
    make_flat: bool,
) -> dict[str, Any]:
    """e0, ranges, edge step and the curves ``first_curves`` of Larch's ``pre_edge`` for the
    rows of ``mu`` (all finite) on the sorted grid ``energy``; other curves can come later from
    :func:`block_curves`."""
    grid_flat, grid = larch_grid(energy)
    inside = (given >= grid[1]) & (given <= grid[-2])
    outside = np.isfinite(given) & ~inside
    if outside.any():
        warnings.warn(
            f"e0 = {float(given[outside][0])} eV lies outside the data "
            f"({grid[1]:.3f}–{grid[-2]:.3f} eV); it is found from the data instead, as Larch "
            "does",
            PhysicsWarning,
            stacklevel=3,
        )
    e0 = given.copy()
    if not inside.any():
        e0 = find_e0_rows(grid, mu)
    elif not inside.all():
        search = ~inside
        e0[search] = find_e0_rows(grid, mu[search])
    plan = plan_ranges(grid, e0, **options)
    block = {"e0": e0, "found": ~inside, "plan": plan, "grid": grid,
             "flat_index": index_nearest(grid_flat, e0), "edge_step": np.empty(mu.shape[0])}
    block["first"] = block_curves(mu, block, first_curves, make_flat)
    return block


def block_curves(
    mu: np.ndarray, block: dict[str, Any], names: tuple[str, ...], make_flat: bool
) -> dict[str, np.ndarray]:
    """The curves ``names`` of one block, computed chunk by chunk (cache-sized)."""
    curves = {name: np.empty(mu.shape) for name in names}
    plan, flat_index = block["plan"], block["flat_index"]
    for first in range(0, mu.shape[0], CHUNK_ROWS):
        rows = slice(first, first + CHUNK_ROWS)
        chunk_plan = {name: value[rows] for name, value in plan.items()}
        chunk = {name: value[rows] for name, value in curves.items()}
        block["edge_step"][rows] = _curves(block["grid"], mu[rows], chunk_plan, flat_index[rows],
                                           make_flat, chunk)
    return curves


def _curves(
    grid: np.ndarray,
    mu: np.ndarray,
    plan: dict[str, np.ndarray],
    flat_index: np.ndarray | None,
    make_flat: bool,
    out: dict[str, np.ndarray],
) -> np.ndarray:
    """Fit pre- and post-edge for a chunk of rows; fill the curves named in ``out`` (the others
    stay chunk-sized temporaries) and return the edge step."""
    rows = np.arange(mu.shape[0])
    vict = plan["nvict"]
    power = vict[:, None] if np.any(vict != 0) else None
    scaled = mu * grid**power if power is not None else mu
    pre_edge = fit_windows(grid, scaled, plan["pre_start"], plan["pre_stop"], plan["npre"])
    if power is not None:
        pre_edge *= grid ** (-power)
    norm = np.subtract(mu, pre_edge, out=out.get("norm"))
    above = fit_windows(grid, norm, plan["post_start"], plan["post_stop"], plan["nnorm"])
    ie0 = plan["ie0"]
    edge_step = np.maximum(1.0e-12, np.abs((pre_edge[rows, ie0] + above[rows, ie0])
                                           - pre_edge[rows, ie0]))
    if "pre_edge" in out:
        out["pre_edge"][...] = pre_edge
    if "post_edge" in out:
        np.add(pre_edge, above, out=out["post_edge"])
    if "norm" not in out and "flat" not in out:
        return edge_step
    norm /= edge_step[:, None]
    if "flat" not in out:
        return edge_step
    flat = out["flat"]
    if not make_flat:
        flat[...] = norm
        return edge_step
    # Larch: flat = norm - r + r[ie0] above e0 (r = (post - pre) / step), norm below
    post_edge = out["post_edge"] if "post_edge" in out else pre_edge + above
    np.subtract(post_edge, pre_edge, out=flat)
    flat /= edge_step[:, None]
    flat -= flat[rows, flat_index][:, None]
    np.subtract(norm, flat, out=flat)
    below = np.arange(grid.size)[None, :] < flat_index[:, None]
    np.copyto(flat, norm, where=below)
    return edge_step
