"""Shared fixtures.

Real instrument files live in ``../shared/data`` (beside the repository; override with the
environment variable ``SPECSSB_SHARED_DATA``). They are read only through :func:`shared_data`,
which skips the test cleanly when the folder is absent, so the suite passes on a user's machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SPECSSB_SHARED_DATA", REPO.parent / "shared" / "data"))
SAMPLE_DATA = REPO / "sample_data"


def shared_path(*parts: str) -> Path:
    """Path under ``../shared/data``; skips the calling test when it does not exist."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real test data not available: {path} (../shared/data is absent)")
    return path


@pytest.fixture
def shared_data() -> Callable[..., Path]:
    """``shared_data("xps", "lg4x", "0-150W.vms")`` -> Path, or skip when absent."""
    return shared_path


@pytest.fixture
def sample_data() -> Path:
    """The committed ``sample_data/`` folder of generated files."""
    return SAMPLE_DATA


@pytest.fixture
def import_benchmark(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], object]:
    """``import_benchmark("xas")`` -> the module ``benchmarks.xas``, imported from the repository
    with single-threaded BLAS variables (as the benchmarks set them), restored afterwards."""
    import importlib

    def load(name: str) -> object:
        monkeypatch.syspath_prepend(str(REPO))
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            monkeypatch.setenv(variable, "1")
        return importlib.import_module(f"benchmarks.{name}")

    return load

