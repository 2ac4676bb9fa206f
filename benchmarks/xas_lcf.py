"""XAS LCF benchmark: batched :func:`specssb.fitting.xas.lcf.fit_lcf` against a loop of Larch's
``lincombo_fit``, side by side in one run.

Data: 10,000 mixtures of three Fe K-edge references (Fe foil, FeO, Fe2O3 from
``../shared/data/xas/xdi/data``, normalized by Larch's ``pre_edge`` with explicit ranges and
interpolated onto a 0.5 eV XANES grid, 7080–7250 eV) with Dirichlet fractions (each at least
0.05, so the optimum lies inside the bounds and both tools solve the same problem) and
Gaussian noise of 0.005. Without the shared data, three synthetic arctan + white-line shapes
stand in (the report says which).

Paths, fitting window 7095–7180 eV (grid energies, so both tools use the same points):

- **batched**: ``fit_lcf(stack, references, emin=..., emax=..., nonnegative=True,
  sum_to_one=True)`` on all spectra, tidy table included.
- **Larch loop**: ``larch.math.lincombo_fit(group, components, xmin=..., xmax=...,
  sum_to_one=True, vary_e0=False)`` on the first ``--larch`` spectra (default 100), one call per
  spectrum as a script does, Groups built beforehand; its time per spectrum is scaled to the
  whole set.

Agreement: the largest absolute weight difference between the two on the spectra Larch fitted
(target ≤ 1e-6) and the largest relative stderr difference (reported). BLAS and OpenMP are
limited to one thread; timings are medians of ``--repeats`` runs after a warm-up.

Run::

    python -m benchmarks xas-lcf [--quick] [--spectra N] [--larch N] [--seed N] [--repeats N]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402 - the thread limits above must precede numpy
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

if __package__ in (None, ""):  # run as a script: python benchmarks/xas_lcf.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

__all__ = ["main", "run_lcf"]

GRID = np.arange(7080.0, 7250.0 + 0.25, 0.5)
WINDOW = (7095.0, 7180.0)
FE_FILES = ("fe_metal_rt", "feo_rt1", "fe2o3_rt")
SHARED = Path(os.environ.get("SPECSSB_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))

#: (key, description, goal, comparison)
TARGETS = (
    ("lcf_vs_larch", "LCF: batched / Larch lincombo_fit loop", 100.0, ">="),
    ("lcf_max_weight_diff", "LCF: max |weight diff| vs Larch", 1e-6, "<="),
)


def references(seed: int = 0) -> tuple[dict[str, np.ndarray], str]:
    """label -> normalized reference on :data:`GRID`, and where they came from."""
    paths = [SHARED / "xas" / "xdi" / "data" / f"{name}.xdi" for name in FE_FILES]
    if all(path.exists() for path in paths):
        import specssb
        from larch import Group
        from larch.xafs import pre_edge

        out = {}
        for name, path in zip(FE_FILES, paths):
            spectrum = specssb.read(path)[0]
            group = Group(energy=np.array(spectrum.axis.values), mu=np.array(spectrum.data))
            pre_edge(group, e0=7112.0, pre1=-150.0, pre2=-50.0, norm1=100.0, norm2=700.0,
                     nnorm=2, make_flat=False)
            out[name] = np.interp(GRID, group.energy, group.norm)
        return out, "real Fe K references (Fe foil, FeO, Fe2O3; XDI test set, Larch pre_edge)"

    def edge(e0: float, peak: float, height: float) -> np.ndarray:
        return (0.5 + np.arctan((GRID - e0) / 1.5) / np.pi
                + height * np.exp(-0.5 * ((GRID - peak) / 2.5) ** 2))
    return ({"metal": edge(7112.0, 7118.0, 0.15), "oxide2": edge(7120.0, 7125.0, 0.6),
             "oxide3": edge(7124.0, 7131.0, 0.9)},
            "synthetic arctan + white-line references (../shared/data absent)")


def mixtures(
    basis: np.ndarray, n: int, seed: int, noise: float = 0.005
) -> tuple[np.ndarray, np.ndarray]:
    """Fractions (n, k), each >= 0.05, and noisy mixtures (n, points)."""
    rng = np.random.default_rng(seed)
    k = basis.shape[0]
    fractions = 0.05 + (1 - 0.05 * k) * rng.dirichlet(np.full(k, 2.0), size=n)
    return fractions, fractions @ basis + rng.normal(0.0, noise, (n, basis.shape[1]))


def timed(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls after one warm-up call, and the last result."""
    result = function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run_lcf(n_spectra: int = 10_000, n_larch: int = 100, *, seed: int = 0, repeats: int = 3,
            out: Any = None) -> dict[str, Any]:
    """Run the LCF job, print the report to ``out`` (default stdout) and return the figures.

    Returns
    -------
    dict
        ``lcf`` (figures: ``batched_seconds``, ``larch_seconds_per_spectrum``,
        ``larch_seconds_scaled``, ``lcf_vs_larch``, ``lcf_max_weight_diff``,
        ``max_stderr_rel_diff``, ``max_fraction_error`` …), ``targets`` (rows with ``key``,
        ``description``, ``measured``, ``goal``, ``status``), ``environment``.
    """
    out = sys.stdout if out is None else out
    _limit_threads()
    from larch import Group
    from larch.math import lincombo_fit

    from specssb.fitting.xas.lcf import fit_lcf
    from specssb.spectrum import Axis, Spectrum

    basis_map, origin = references(seed)
    labels = list(basis_map)
    basis = np.array([basis_map[label] for label in labels])
    fractions, data = mixtures(basis, n_spectra, seed)
    axis = Axis("energy", "eV", GRID)
    stack = Spectrum(axis, data, "xas", "norm", dims=("scan",))
    refs = {label: Spectrum(axis, basis_map[label], "xas", "norm") for label in labels}

    batched_seconds, result = timed(
        lambda: fit_lcf(stack, refs, emin=WINDOW[0], emax=WINDOW[1]), repeats)

    n_larch = min(n_larch, n_spectra)
    components = [Group(energy=GRID, norm=basis_map[label], filename=label) for label in labels]
    groups = [Group(energy=GRID, norm=row) for row in data[:n_larch]]

    def larch_loop() -> list[Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [lincombo_fit(g, components, xmin=WINDOW[0], xmax=WINDOW[1], sum_to_one=True,
                                 vary_e0=False) for g in groups]

    larch_seconds, larch = timed(larch_loop, max(1, repeats - 2))
    larch_weights = np.array([[r.weights[label] for label in labels] for r in larch])
    larch_stderr = np.array([[r.params[label].stderr for label in labels] for r in larch])
    per_spectrum = larch_seconds / n_larch
    figures = {
        "spectra": n_spectra, "larch_spectra": n_larch, "points": int(result.energy.size),
        "references": labels, "origin": origin,
        "batched_seconds": batched_seconds, "batched_per_second": n_spectra / batched_seconds,
        "larch_seconds": larch_seconds, "larch_seconds_per_spectrum": per_spectrum,
        "larch_seconds_scaled": per_spectrum * n_spectra,
        "lcf_vs_larch": per_spectrum * n_spectra / batched_seconds,
        "lcf_max_weight_diff": float(np.abs(result.weights[:n_larch] - larch_weights).max()),
        "max_stderr_rel_diff": float(np.abs(result.stderr[:n_larch] / larch_stderr - 1).max()),
        "max_fraction_error": float(np.abs(result.weights - fractions).max()),
        "windows_equal": bool(np.array_equal(larch[0].xdata, result.energy)),
    }
    results = {"lcf": figures, "environment": _environment()}
    results["targets"] = _evaluate(figures)
    _report(results, seed, repeats, out)
    return results


def _limit_threads() -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scipy's stack
        return
    threadpool_limits(1)


def _evaluate(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, description, goal, comparison in TARGETS:
        measured = figures.get(key)
        ok = measured >= goal if comparison == ">=" else measured <= goal
        rows.append({"key": key, "description": description, "measured": measured, "goal": goal,
                     "comparison": comparison, "status": "PASS" if ok else "FAIL"})
    return rows


def _environment() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("specssb", "numpy", "scipy", "lmfit", "xraylarch"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "absent"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, {platform.system()}",
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def _report(results: dict[str, Any], seed: int, repeats: int, out: Any) -> None:
    env, r = results["environment"], results["lcf"]
    print(f"specssb XAS LCF benchmark — {env['date']}", file=out)
    print(f"python {env['python']}; {env['versions']}", file=out)
    print(f"{env['machine']}; BLAS/OpenMP threads = 1", file=out)
    print(f"seed {seed}; median of {repeats} repeat(s) (Larch loop: {max(1, repeats - 2)}); "
          "wall-clock seconds\n", file=out)
    print(f"LCF of {r['spectra']:,} spectra against {len(r['references'])} references "
          f"({', '.join(r['references'])}): {r['origin']}", file=out)
    print(f"  window {WINDOW[0]:.0f}-{WINDOW[1]:.0f} eV, {r['points']} points; non-negative, "
          f"sum to one; same points in both tools: {'yes' if r['windows_equal'] else 'NO'}", file=out)
    print(f"  {'batched fit_lcf':<34} {r['spectra']:>7} spectra {r['batched_seconds']:9.3f} s "
          f"{r['batched_per_second']:12,.0f} spectra/s", file=out)
    print(f"  {'Larch lincombo_fit loop':<34} {r['larch_spectra']:>7} spectra "
          f"{r['larch_seconds']:9.3f} s {1 / r['larch_seconds_per_spectrum']:12,.0f} spectra/s "
          f"(scaled to {r['spectra']:,}: {r['larch_seconds_scaled']:.1f} s)", file=out)
    print(f"  batched / Larch loop {r['lcf_vs_larch']:,.0f}x", file=out)
    print(f"  max |weight diff| vs Larch {r['lcf_max_weight_diff']:.2e}; max rel. stderr diff "
          f"{r['max_stderr_rel_diff']:.2e}; max |weight - true fraction| "
          f"{r['max_fraction_error']:.4f}\n", file=out)
    print(f"{'target':<42} {'measured':>12} {'goal':>10}  result", file=out)
    for row in results["targets"]:
        measured = row["measured"]
        text = f"{measured:,.1f}" if measured >= 10 else f"{measured:.2e}"
        print(f"{row['description']:<42} {text:>12} {row['comparison']}{row['goal']:<8g}  "
              f"{row['status']}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m benchmarks xas-lcf [--quick] [--spectra N] [--larch N] ...``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks xas-lcf",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 spectra, 20 Larch fits, 1 repeat")
    parser.add_argument("--spectra", type=int, default=None, help="spectra to fit (default 10,000)")
    parser.add_argument("--larch", type=int, default=None, help="spectra in the Larch loop (100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=None, help="median of N timings (3)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    spectra = args.spectra or (500 if args.quick else 10_000)
    larch = args.larch or (20 if args.quick else 100)
    repeats = args.repeats or (1 if args.quick else 3)
    results = run_lcf(spectra, larch, seed=args.seed, repeats=repeats)
    return 0 if all(row["status"] == "PASS" for row in results["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
