"""Raman benchmark: preprocessing + per-pixel fits of a map against RamanSPy + lmfit, baselines
against pybaselines, and a 10^6-pixel map streamed in chunks.

(a) Pipeline, 100 × 100 × 1,000 map (PS₄³⁻ Lorentzian 420–428 cm-1, FWHM 7–11, height
    600–1000 counts, on an exponential + quadratic fluorescence background, Poisson noise,
    cosmic spikes on 2 % of the pixels).
    specssb: ``despike`` (Whitaker–Hayes) → ``smooth`` (Savitzky–Golay 9/3) →
    ``subtract_baseline("asls", lam=1e6, p=0.01)`` → ``normalize("minmax")`` → one
    Lorentzian + fitted line per pixel over 380–470 cm-1 with ``engine.fit`` (batched).
    Reference: RamanSPy 0.2.10 steps that work on today's stack (``notes/raman.md`` §3):
    ``despike.WhitakerHayes(kernel_size=3, threshold=8)``, ``denoise.SavGol(9, 3)``,
    ``baseline.ASLS(lam=1e6, p=0.01)``, ``normalise.MinMax()`` on the whole
    ``SpectralImage`` (not ``denoise.Gaussian``, which blurs across pixels, nor
    ``normalise.AUC``, which fails on numpy ≥ 2.4), then an lmfit loop
    (``LorentzianModel + LinearModel``, ``Model.fit`` with lmfit's defaults, same window and
    start values). The lmfit loop runs on the first ``lmfit_pixels`` pixels and its time is
    scaled to the whole map (pixels are independent: time per pixel × pixels).
(b) Baseline alone: the same map, ``asls(lam=1e6, p=0.01)`` from the backgrounds registry on
    all pixels at once vs ``pybaselines.Baseline(x_data=x).asls`` in a loop (one ``Baseline``
    reused), same parameters; the results must agree to ``BASELINE_RTOL`` (relative to the
    largest value of the spectrum).
(c) Streaming: a 1000 × 1000 × 200 map generated 10,000 pixels at a time (never whole in
    memory), each chunk despiked → ``asls`` baseline → ``normalize("vector")`` → band area
    (trapezoids over 395–455 cm-1) into a 1000 × 1000 area map. Wall time and the peak memory
    of the job: ``tracemalloc`` peak (Python and numpy allocations) and ``ru_maxrss`` (the
    process's resident peak, run first so earlier jobs do not set it).

BLAS/OpenMP run on one thread (set before numpy is imported). Timings are medians of
``--repeats`` runs after a warm-up on one row.

Run::

    python -m benchmarks raman [--quick] [--seed N] [--repeats N]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402 - the thread limits above must precede numpy
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

if __package__ in (None, ""):  # run as a script: python benchmarks/raman.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

__all__ = ["FULL", "QUICK", "Sizes", "TARGETS", "main", "run"]

WINDOW = (380.0, 470.0)
BAND = (395.0, 455.0)
ASLS = {"lam": 1e6, "p": 0.01}
STREAM_ASLS = {"lam": 1e4, "p": 0.01}  # 200-point spectra: a softer penalty
BASELINE_RTOL = 1e-6

RECIPE = {
    "name": "bench-raman-pipeline", "technique": "raman",
    "select": {"window": list(WINDOW)},
    "background": {"kind": "linear", "fitted": True},
    "component": [{"species": "ps4", "shape": "lorentzian",
                   "height": {"value": "guess", "min": 0.0},
                   "center": {"value": 424.0, "min": 410.0, "max": 440.0},
                   "fwhm": {"value": 8.0, "min": 2.0, "max": 30.0}}],
}

#: (key, description, goal, comparison)
TARGETS = (
    ("pipeline_speedup", "(a) pipeline: specssb / (RamanSPy + lmfit loop)", 20.0, ">="),
    ("pipeline_center_median_diff", "(a) |centre specssb − lmfit|, median (cm-1)", 0.05, "<="),
    ("baseline_speedup", "(b) asls: batched / pybaselines loop", 1.5, ">="),
    ("baseline_max_rel_diff", "(b) asls: max |diff| / max(y) vs pybaselines", BASELINE_RTOL, "<="),
    ("stream_peak_gb", "(c) 10^6 pixels: peak memory (GB, larger of the two)", 4.0, "<="),
)


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of one run."""

    rows: int = 100
    columns: int = 100
    points: int = 1000
    lmfit_pixels: int = 200
    stream_rows: int = 1000
    stream_columns: int = 1000
    stream_points: int = 200
    stream_chunk_rows: int = 10
    repeats: int = 3


FULL = Sizes()
QUICK = Sizes(rows=6, columns=8, points=300, lmfit_pixels=6, stream_rows=20, stream_columns=30,
              stream_points=120, stream_chunk_rows=5, repeats=1)


# ---------------------------------------------------------------------------------- data
def synthetic_rows(rows: int, columns: int, n: int, seed: int, first_row: int = 0,
                   spike_fraction: float = 0.02) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Rows ``first_row …`` of a map: axis (cm-1), counts (rows, columns, n) and the truth
    (``height``, ``center``, ``fwhm`` per pixel). Deterministic per (seed, first_row)."""
    rng = np.random.default_rng([seed, first_row])
    shift = np.linspace(150.0, 1250.0, n)
    shape = (rows, columns, 1)
    height = rng.uniform(600, 1000, shape)
    center = rng.uniform(420, 428, shape)
    fwhm = rng.uniform(7, 11, shape)
    band = height / (1 + (2 * (shift - center) / fwhm) ** 2)
    scale = rng.uniform(0.7, 1.3, shape)
    t = (shift - 150.0) / 1100.0
    fluorescence = scale * (900 * np.exp(-2.5 * t) + 300 * t ** 2) + 100
    counts = rng.poisson(band + fluorescence).astype(float)
    hit = rng.random((rows, columns)) < spike_fraction
    channels = rng.integers(0, n, hit.sum())
    counts[hit, channels] += rng.uniform(500, 5000, hit.sum())
    truth = {"height": height[..., 0], "center": center[..., 0], "fwhm": fwhm[..., 0]}
    return shift, counts, truth


def as_spectrum(shift: np.ndarray, counts: np.ndarray) -> Any:
    from specssb import Axis, Spectrum

    return Spectrum(axis=Axis("raman_shift", "cm-1", shift), data=counts, technique="raman",
                    signal="counts", dims=("y", "x"))


def timed(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time (s) of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


# ------------------------------------------------------------------------------ pipelines
def specssb_pipeline(spectrum: Any, recipe: Any) -> tuple[Any, Any]:
    """despike → smooth → asls → minmax → batched Lorentzian fit; (processed, FitTable)."""
    from specssb.fitting.engine import fit
    from specssb.fitting.raman.preprocess import despike, normalize, smooth, subtract_baseline

    processed = normalize(subtract_baseline(smooth(despike(spectrum), "savgol", window_length=9,
                                                   polyorder=3), "asls", **ASLS), "minmax")
    return processed, fit(processed, recipe, engine="batched")


def ramanspy_preprocess(shift: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The RamanSPy 0.2.10 steps that work today (see module docstring); the processed cube."""
    import ramanspy as rp

    pipeline = rp.preprocessing.Pipeline([
        rp.preprocessing.despike.WhitakerHayes(kernel_size=3, threshold=8),
        rp.preprocessing.denoise.SavGol(window_length=9, polyorder=3),
        rp.preprocessing.baseline.ASLS(lam=ASLS["lam"], p=ASLS["p"]),
        rp.preprocessing.normalise.MinMax(),
    ])
    return pipeline.apply(rp.SpectralImage(counts, shift)).spectral_data


def lmfit_loop(shift: np.ndarray, spectra: np.ndarray) -> np.ndarray:
    """Lorentzian + line per spectrum with lmfit defaults over the window; centres (m,)."""
    from lmfit.models import LinearModel, LorentzianModel

    inside = (shift >= WINDOW[0]) & (shift <= WINDOW[1])
    x = shift[inside]
    model = LorentzianModel(prefix="ps4_") + LinearModel()
    centers = np.empty(spectra.shape[0])
    for i, y in enumerate(spectra[:, inside]):
        params = model.make_params(ps4_center=424.0, ps4_sigma=4.0, slope=0.0,
                                   intercept=float(np.min(y)))
        params["ps4_amplitude"].set(value=float(np.max(y) - np.min(y)) * np.pi * 4.0, min=0)
        params["ps4_center"].set(min=410.0, max=440.0)
        params["ps4_sigma"].set(min=1.0, max=15.0)
        centers[i] = model.fit(y, params, x=x).params["ps4_center"].value
    return centers


# ------------------------------------------------------------------------------------ jobs
def job_pipeline(sizes: Sizes, seed: int) -> dict[str, Any]:
    """(a) specssb pipeline vs RamanSPy preprocessing + lmfit loop."""
    from specssb.fitting.recipe import Recipe

    recipe = Recipe.from_dict(RECIPE)
    shift, counts, truth = synthetic_rows(sizes.rows, sizes.columns, sizes.points, seed)
    spectrum = as_spectrum(shift, counts)
    warm = as_spectrum(shift, counts[:1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        specssb_pipeline(warm, recipe), ramanspy_preprocess(shift, counts[:1])
        t_ours, (processed, table) = timed(lambda: specssb_pipeline(spectrum, recipe), sizes.repeats)
        t_rp, rp_cube = timed(lambda: ramanspy_preprocess(shift, counts), sizes.repeats)
        subset = rp_cube.reshape(-1, shift.size)[: sizes.lmfit_pixels]
        lmfit_loop(shift, subset[:1])
        t_lm, lm_centers = timed(lambda: lmfit_loop(shift, subset), sizes.repeats)
    pixels = sizes.rows * sizes.columns
    t_lm_map = t_lm / subset.shape[0] * pixels
    ours = table.values("center")["ps4"].to_numpy()
    true_center = truth["center"].ravel()
    return {
        "pixels": pixels, "points": sizes.points, "lmfit_pixels": subset.shape[0],
        "specssb_s": t_ours, "ramanspy_s": t_rp, "lmfit_subset_s": t_lm,
        "lmfit_map_s_scaled": t_lm_map, "reference_s": t_rp + t_lm_map,
        "pipeline_speedup": (t_rp + t_lm_map) / t_ours,
        "preprocess_only_ramanspy_s": t_rp,
        "pipeline_center_median_diff": float(np.median(np.abs(ours[: subset.shape[0]] - lm_centers))),
        "center_rms_error_specssb": float(np.sqrt(np.mean((ours - true_center) ** 2))),
        "center_rms_error_lmfit": float(np.sqrt(np.mean((lm_centers - true_center[: subset.shape[0]]) ** 2))),
        "converged": int(table.frame.groupby("spectrum")["converged"].first().sum()),
        "spikes_replaced": int(processed.history[0].parameters["points_replaced"]),
    }


def job_baseline(sizes: Sizes, seed: int) -> dict[str, Any]:
    """(b) batched asls vs a pybaselines loop, same parameters."""
    from pybaselines import Baseline

    from specssb.fitting.backgrounds import get_background

    shift, counts, _ = synthetic_rows(sizes.rows, sizes.columns, sizes.points, seed)
    flat = counts.reshape(-1, shift.size)
    asls = get_background("asls")

    def loop() -> np.ndarray:
        fitter = Baseline(x_data=shift)
        return np.array([fitter.asls(y, **ASLS)[0] for y in flat])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asls(shift, flat[:2], **ASLS), Baseline(x_data=shift).asls(flat[0], **ASLS)
        t_ours, (ours, _) = timed(lambda: asls(shift, flat, **ASLS), sizes.repeats)
        t_loop, reference = timed(loop, sizes.repeats)
    scale = np.abs(flat).max(axis=1, keepdims=True)
    return {"pixels": flat.shape[0], "specssb_s": t_ours, "pybaselines_s": t_loop,
            "baseline_speedup": t_loop / t_ours,
            "baseline_max_rel_diff": float(np.max(np.abs(ours - reference) / scale))}


def job_stream(sizes: Sizes, seed: int) -> dict[str, Any]:
    """(c) a map generated and processed chunk by chunk; wall time and peak memory."""
    from specssb.fitting.raman.preprocess import despike, normalize, subtract_baseline

    rows, columns, n, step = (sizes.stream_rows, sizes.stream_columns, sizes.stream_points,
                              sizes.stream_chunk_rows)
    area = np.empty((rows, columns))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for first in range(0, rows, step):
            count = min(step, rows - first)
            shift, counts, _ = synthetic_rows(count, columns, n, seed + 1, first_row=first)
            unit = normalize(subtract_baseline(despike(as_spectrum(shift, counts)), "asls",
                                               **STREAM_ASLS), "vector")
            inside = (shift >= BAND[0]) & (shift <= BAND[1])
            area[first:first + count] = np.trapezoid(unit.data[..., inside], shift[inside], axis=-1)
    wall = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {
        "pixels": rows * columns, "points": n, "chunk_pixels": step * columns, "wall_s": wall,
        "pixels_per_s": rows * columns / wall, "tracemalloc_peak_gb": traced_peak / 1e9,
        "ru_maxrss_gb": rss_peak / 1e9, "ru_maxrss_before_gb": rss_before * 1024 / 1e9,
        "stream_peak_gb": max(traced_peak, rss_peak) / 1e9,
        "area_map_finite": bool(np.all(np.isfinite(area))),
        "whole_map_would_be_gb": rows * columns * n * 8 / 1e9,
    }


# -------------------------------------------------------------------------------- running
def run(sizes: Sizes = FULL, seed: int = 0, out: Any = None) -> dict[str, Any]:
    """Run the three jobs (streaming first, for an honest ``ru_maxrss``), print, return figures.

    Returns
    -------
    dict
        ``environment``, ``stream``, ``pipeline``, ``baseline`` (figures) and ``targets``
        (``key``, ``description``, ``measured``, ``goal``, ``status``).
    """
    from threadpoolctl import threadpool_limits

    out = sys.stdout if out is None else out
    results: dict[str, Any] = {"environment": environment(), "sizes": sizes}
    print(f"specssb Raman benchmark  {results['environment']}", file=out)
    print(f"sizes: {sizes}  seed {seed}\n", file=out)
    with threadpool_limits(1):
        results["stream"] = job_stream(sizes, seed)
        _print_block("(c) streamed map: despike -> asls -> vector -> band area", results["stream"], out)
        results["pipeline"] = job_pipeline(sizes, seed)
        _print_block("(a) pipeline (lmfit time scaled from the subset to the whole map)",
                     results["pipeline"], out)
        results["baseline"] = job_baseline(sizes, seed)
        _print_block("(b) asls baseline alone", results["baseline"], out)
    figures = {**results["stream"], **results["pipeline"], **results["baseline"]}
    rows = []
    for key, description, goal, comparison in TARGETS:
        measured = figures[key]
        ok = measured >= goal if comparison == ">=" else measured <= goal
        rows.append({"key": key, "description": description, "measured": measured, "goal": goal,
                     "comparison": comparison, "status": "PASS" if ok else "FAIL"})
    results["targets"] = rows
    print("targets:", file=out)
    for row in rows:
        print(f"  {row['status']:<4}  {row['description']:<58} {row['measured']:.4g} "
              f"{row['comparison']} {row['goal']:g}", file=out)
    return results


def _print_block(title: str, figures: dict[str, Any], out: Any) -> None:
    print(title, file=out)
    for key, value in figures.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {key:<34} {text}", file=out)
    print(file=out)


def environment() -> str:
    """Date, Python and library versions, one line."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [time.strftime("%Y-%m-%d %H:%M"), f"python {platform.python_version()}"]
    for package in ("specssb", "numpy", "scipy", "numba", "ramanspy", "pybaselines", "lmfit"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} absent")
    return ", ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m benchmarks raman [--quick] [--seed N] [--repeats N]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks raman", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.repeats is not None:
        from dataclasses import replace

        sizes = replace(sizes, repeats=args.repeats)
    run(sizes, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
