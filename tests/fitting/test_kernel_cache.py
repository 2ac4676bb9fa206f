"""numba's on-disk cache serves the compiled kernels to every new process.

numba keys a cached function by its bytecode and the pickled contents of its closure; a
compiled function captured in a closure pickles with an id that is new in every process, so
kernels written that way were compiled again by each process (0.3–3 s) and added an entry to
the cache index each time (the index of one kernel had grown to 576 entries). A second
process doing the same work must find everything in the cache and write nothing new.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")

WORK = """
import warnings
import numpy as np
from specssb import Axis, Spectrum, fit
from specssb.fitting.backgrounds import get_background
from specssb.fitting.raman.preprocess import despike
from specssb.fitting.recipe import Recipe

warnings.simplefilter("ignore")
x = np.linspace(-10.0, 10.0, 120)
rng = np.random.default_rng(0)
y = 50.0 / (1.0 + (x / 1.5) ** 2) + 5.0 + rng.normal(0.0, 0.5, (6, x.size))
spectrum = Spectrum(axis=Axis("raman_shift", "cm-1", x), data=y, technique="raman",
                    signal="counts", dims=("i",))
for shape in ("lorentzian", "gaussian", "gl", "sgl"):
    mixing = "" if shape in ("lorentzian", "gaussian") else "m = {value = 30, vary = false}"
    fit(spectrum, Recipe.from_text(f'''
name = "cache-{shape}"
technique = "raman"
[background]
kind = "shirley"
[[component]]
species = "band"
shape = "{shape}"
height = {{value = "guess", min = 0}}
center = {{value = 0.5, min = -3, max = 3}}
fwhm = {{value = 2, min = 0.5, max = 8}}
{mixing}
'''))
for kind in ("asls", "arpls", "airpls"):
    get_background(kind)(x, y)
despike(spectrum)
"""


def _run(cache: Path) -> None:
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "SPECSSB_FUSED_KERNELS": "1"}
    subprocess.run([sys.executable, "-c", WORK], env=environment, check=True, timeout=600,
                   cwd=Path(__file__).resolve().parents[2])


def test_a_second_process_compiles_nothing(tmp_path):
    _run(tmp_path)
    first = sorted(path.name for path in tmp_path.rglob("*.nbc"))
    assert len(first) >= 10  # the kernels were compiled and cached
    _run(tmp_path)
    assert sorted(path.name for path in tmp_path.rglob("*.nbc")) == first
