"""The numba kernels behind :mod:`specssb.fitting._whittaker_fused` (imported only with numba).

They are module-level functions that call each other as globals. numba's on-disk cache keys a
function by its bytecode and the pickled contents of its closure; a compiled function captured
in a closure pickles with an id that is new in every process, so, written as closures, these
kernels were compiled again by every process (about a second) and added an entry to the cache
index each time.
"""

from __future__ import annotations

import numba
import numpy as np

from specssb.fitting._whittaker_fused import _EPS, _EXP_CAP, LANES

_jit = numba.njit(cache=True, nogil=True)


@_jit
def load(y, s, g, yl, w, y_l1):  # pragma: no cover - compiled
    total = 0.0
    for j in range(y.shape[1]):
        yl[j, g] = y[s, j]
        w[j, g] = 1.0
        total += abs(y[s, j])
    y_l1[g] = total


@_jit
def idle(g, yl, w):  # pragma: no cover - compiled
    # an unused lane solves a harmless system (y = 0, w = 1) whose result is dropped
    for j in range(yl.shape[0]):
        yl[j, g] = 0.0
        w[j, g] = 1.0


@_jit
def next_spectrum(y, following, g, first, yl, w, y_l1, spectrum, iteration):  # pragma: no cover
    # lane g takes spectrum `following` if one is left (returns the next one), else idles (-1)
    if following < y.shape[0]:
        load(y, following, g, yl, w, y_l1)
        spectrum[g], iteration[g] = following, first
        return following + 1
    idle(g, yl, w)
    spectrum[g] = -1
    return following


@_jit
def solve_penta(bands, yl, w, ab, z):  # pragma: no cover - compiled
    # solve() for kd = 2 (second differences) with the running values in registers: the
    # same operations in the same order (subtracting the zero terms at the first rows is
    # exact), so the same bits. ab[r, j, c] as in solve().
    n = bands.shape[1]
    l1_prev = np.zeros(LANES)  # l1 of row j − 1
    l2_prev = np.zeros(LANES)  # l2 of row j − 1
    l2_prev2 = np.zeros(LANES)  # l2 of row j − 2
    z_prev = np.zeros(LANES)
    z_prev2 = np.zeros(LANES)
    for j in range(n):
        b0, b1, b2 = bands[0, j], bands[1, j], bands[2, j]
        for c in range(LANES):
            pivot = b0 + w[j, c]
            pivot -= l2_prev2[c] * l2_prev2[c]
            pivot -= l1_prev[c] * l1_prev[c]
            off1 = b1 - l2_prev[c] * l1_prev[c]
            root = np.sqrt(pivot)
            inverse = 1.0 / root
            l1 = off1 * inverse
            l2 = b2 * inverse
            ab[0, j, c] = root
            ab[1, j, c] = l1
            ab[2, j, c] = l2
            value = w[j, c] * yl[j, c]
            value -= z_prev2[c] * l2_prev2[c]
            value -= z_prev[c] * l1_prev[c]
            value /= root
            z[j, c] = value
            z_prev2[c] = z_prev[c]
            z_prev[c] = value
            l2_prev2[c] = l2_prev[c]
            l2_prev[c] = l2
            l1_prev[c] = l1
    for j in range(n - 1, -1, -1):
        for c in range(LANES):
            value = z[j, c]
            if j + 2 < n:
                value -= ab[2, j, c] * z[j + 2, c]
            if j + 1 < n:
                value -= ab[1, j, c] * z[j + 1, c]
            z[j, c] = value / ab[0, j, c]


@_jit
def solve(bands, yl, w, ab, z):  # pragma: no cover - compiled
    # (W + bands) z = W y, column by column as LAPACK dpbtf2, forward (dpbtrs) fused in
    kd, n, lanes = bands.shape[0] - 1, bands.shape[1], LANES
    for j in range(n):
        for c in range(lanes):
            ab[0, j, c] = bands[0, j] + w[j, c]
            z[j, c] = w[j, c] * yl[j, c]
        for r in range(1, kd + 1):
            for c in range(lanes):
                ab[r, j, c] = bands[r, j]
    for j in range(n):
        kn = min(kd, n - 1 - j)
        for c in range(lanes):
            ab[0, j, c] = np.sqrt(ab[0, j, c])
        for r in range(1, kn + 1):
            for c in range(lanes):
                ab[r, j, c] *= 1.0 / ab[0, j, c]
        for s in range(1, kn + 1):
            for q in range(s, kn + 1):
                for c in range(lanes):
                    ab[q - s, j + s, c] -= ab[q, j, c] * ab[s, j, c]
        for c in range(lanes):
            z[j, c] /= ab[0, j, c]
        for r in range(1, kn + 1):
            for c in range(lanes):
                z[j + r, c] -= z[j, c] * ab[r, j, c]
    for j in range(n - 1, -1, -1):
        for r in range(min(kd, n - 1 - j), 0, -1):
            for c in range(lanes):
                z[j, c] -= ab[r, j, c] * z[j + r, c]
        for c in range(lanes):
            z[j, c] /= ab[0, j, c]


@_jit
def asls_rule(yl, z, p, w, nw, out):  # pragma: no cover - compiled
    # new weights and, in the same pass, weight_change(w, nw, out)
    q = 1.0 - p
    old = np.zeros(LANES)
    change = np.zeros(LANES)
    for j in range(yl.shape[0]):
        for c in range(LANES):
            new = p if yl[j, c] > z[j, c] else q
            nw[j, c] = new
            d = new - w[j, c]
            change[c] += d * d
            old[c] += w[j, c] * w[j, c]
    for c in range(LANES):
        out[c] = np.sqrt(change[c]) / max(np.sqrt(old[c]), _EPS)


@_jit
def negative_stats(yl, z, count, total):  # pragma: no cover - compiled
    # number and (signed) sum of the negative residuals y − z of each lane
    for c in range(LANES):
        count[c] = 0.0
        total[c] = 0.0
    for j in range(yl.shape[0]):
        for c in range(LANES):
            r = yl[j, c] - z[j, c]
            if r < 0:
                count[c] += 1.0
                total[c] += r


@_jit
def arpls_rule(yl, z, nw, count, total, spread):  # pragma: no cover - compiled
    n = yl.shape[0]
    negative_stats(yl, z, count, total)
    mean = np.empty(LANES)
    for c in range(LANES):
        mean[c] = total[c] / max(count[c], 1.0)
        spread[c] = 0.0
    for j in range(n):
        for c in range(LANES):
            r = yl[j, c] - z[j, c]
            if r < 0:
                d = r - mean[c]
                spread[c] += d * d
    for c in range(LANES):
        std = np.sqrt(spread[c] / max(count[c] - 1.0, 1.0))
        spread[c] = _EPS if std == 0 else std  # spread now holds σ
    for j in range(n):
        for c in range(LANES):
            std = spread[c]
            t = -(2.0 / std) * ((yl[j, c] - z[j, c]) - (2.0 * std - mean[c]))
            nw[j, c] = 1.0 / (1.0 + np.exp(-t))


@_jit
def airpls_rule(yl, z, nw, iteration, normalize, count, total):  # pragma: no cover - compiled
    n = yl.shape[0]
    negative_stats(yl, z, count, total)
    for c in range(LANES):
        l1 = total[c] if total[c] != 0 else -1.0
        scale = min(iteration[c], 50) / l1
        peak = 0.0
        for j in range(n):
            r = yl[j, c] - z[j, c]
            if r < 0:
                e = np.exp(min(max(scale * r, 0.0), _EXP_CAP))
                nw[j, c] = e
                peak = max(peak, e)
            else:
                nw[j, c] = 0.0
        if normalize and peak > 0:
            for j in range(n):
                if yl[j, c] - z[j, c] < 0:
                    nw[j, c] = nw[j, c] / peak


@_jit
def weight_change(w, nw, out):  # pragma: no cover - compiled
    # pybaselines relative_difference(w, nw) per lane
    old = np.zeros(LANES)
    change = np.zeros(LANES)
    for j in range(w.shape[0]):
        for c in range(LANES):
            d = nw[j, c] - w[j, c]
            change[c] += d * d
            old[c] += w[j, c] * w[j, c]
    for c in range(LANES):
        out[c] = np.sqrt(change[c]) / max(np.sqrt(old[c]), _EPS)


@_jit
def kernel(y, bands, rule, max_iter, tol, extra, baseline, weights,
           iterations, converged):  # pragma: no cover - compiled
    m, n = y.shape
    kd = bands.shape[0] - 1
    airpls = rule == 2
    first, last = (1, max_iter + 2) if airpls else (0, max_iter + 1)
    ab = np.empty((kd + 1, n, LANES))
    z = np.empty((n, LANES))
    yl = np.empty((n, LANES))
    w = np.empty((n, LANES))
    nw = np.empty((n, LANES))
    spectrum = np.full(LANES, -1, np.int64)
    iteration = np.zeros(LANES, np.int64)
    y_l1 = np.zeros(LANES)
    count = np.empty(LANES)
    total = np.empty(LANES)
    spread = np.empty(LANES)
    difference = np.empty(LANES)
    following = 0
    for g in range(LANES):
        following = next_spectrum(y, following, g, first, yl, w, y_l1, spectrum, iteration)
    busy = min(m, LANES)
    while busy > 0:
        if kd == 2:
            solve_penta(bands, yl, w, ab, z)
        else:
            solve(bands, yl, w, ab, z)
        if rule == 0:
            asls_rule(yl, z, extra, w, nw, difference)
            for c in range(LANES):
                count[c] = n  # never stops early
        elif rule == 1:
            arpls_rule(yl, z, nw, count, total, spread)
            weight_change(w, nw, difference)
        else:
            airpls_rule(yl, z, nw, iteration, extra != 0, count, total)
            for c in range(LANES):
                difference[c] = abs(total[c]) / max(y_l1[c], _EPS)
        for g in range(LANES):
            s = spectrum[g]
            if s < 0:
                continue
            i = iteration[g]
            early = count[g] < 2
            ok = (not early) and difference[g] < tol
            if early or ok or i == last - 1:
                keep_old = ok or early
                for j in range(n):
                    baseline[s, j] = z[j, g]
                    weights[s, j] = w[j, g] if keep_old else nw[j, g]
                if airpls:
                    iterations[s] = i - 1 if early else i
                else:
                    iterations[s] = i if early else i + 1
                converged[s] = ok
                following = next_spectrum(y, following, g, first, yl, w, y_l1, spectrum, iteration)
                if spectrum[g] < 0:
                    busy -= 1
            else:
                for j in range(n):
                    w[j, g] = nw[j, g]
                iteration[g] = i + 1
