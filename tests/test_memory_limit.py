"""The memory ceiling (issue 9): limit strings, readers and the fit refusing arrays above it
before allocating them, and ``--memory-limit`` on the command line."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import specssb
from specssb import _memory
from specssb._memory import (ENVIRONMENT_VARIABLE, check_allocation, memory_limit,
                             parse_memory_size, physical_memory, set_memory_limit)
from specssb.cli import app
from specssb.errors import ConfigError, MemoryLimitError, SpecssbError
from specssb.parsers._common import make_source
from specssb.parsers.raman_spe import parse_spe

sys.path.insert(0, str(Path(__file__).resolve().parent / "parsers"))
from test_raman_spe import write_spe  # noqa: E402  (the SPE writer of the reader's tests)

VAMAS = Path(__file__).resolve().parents[1] / "sample_data" / "xps" / "cell01_cycle00.vms"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_limit_set(monkeypatch):
    """Each test starts without $SPECSSB_MEMORY_LIMIT and leaves none behind (the CLI option
    sets it in this process)."""
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "none")
    monkeypatch.delenv(ENVIRONMENT_VARIABLE)


# ---------------------------------------------------------------------- limit strings
@pytest.mark.parametrize(("text", "size"), [
    ("4GiB", 4 * 2**30), ("500MB", 500_000_000), ("2048", 2048), ("1.5 GB", 1_500_000_000),
    ("16k", 16 * 1024), ("64 mib", 64 * 2**20), (" 2T ", 2 * 2**40), ("100B", 100),
    ("none", None), ("OFF", None), ("unlimited", None),
])
def test_limit_strings_are_read(text, size):
    assert parse_memory_size(text) == size


def test_a_percentage_is_of_the_physical_memory():
    total = physical_memory()
    if total is None:
        with pytest.raises(ConfigError, match="physical memory of this machine is unknown"):
            parse_memory_size("50%")
    else:
        assert parse_memory_size("50%") == total // 2


@pytest.mark.parametrize("text", ["four GB", "-3MB", "0", "0.0001B", "12 parsecs", "", "4 G iB",
                                  "1e9", "GiB"])
def test_bad_limit_strings_are_refused_clearly(text):
    with pytest.raises(ConfigError) as error:
        parse_memory_size(text)
    message = str(error.value)
    assert ENVIRONMENT_VARIABLE in message
    assert "not a memory size" in message or "above zero" in message


def test_the_default_is_a_share_of_the_physical_memory_and_the_variable_overrides_it(monkeypatch):
    total = physical_memory()
    assert memory_limit() == (None if total is None else int(total * _memory.DEFAULT_FRACTION))
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "3MiB")
    assert memory_limit() == 3 * 2**20
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "none")
    assert memory_limit() is None
    check_allocation(1e30, "anything")  # no ceiling: nothing is refused
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "lots")
    with pytest.raises(ConfigError, match="'lots' is not a memory size"):
        memory_limit()
    with pytest.raises(ConfigError, match="not a memory size"):
        set_memory_limit("lots")
    assert set_memory_limit("2MB") == 2_000_000
    assert set_memory_limit(None) == (None if total is None else int(total * _memory.DEFAULT_FRACTION))


# ---------------------------------------------------------------------- readers
def test_a_reader_refuses_an_array_above_the_ceiling_before_allocating_it(monkeypatch):
    frames = np.arange(100 * 20_000, dtype=float).reshape(100, 1, 20_000) % 60_000
    data = write_spe(frames)  # 4 MB of uint16: 16 MB as float64
    source = make_source("big_map.spe", "princeton-spe", sha256="0" * 64)
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "2MiB")
    tracemalloc.start()
    try:
        with pytest.raises(MemoryLimitError) as error:
            parse_spe(data, source=source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20, f"{peak} bytes were allocated before the refusal"
    message = str(error.value)
    assert message.startswith("big_map.spe: intensities (100 × 1 × 20000 float64 values)")
    assert "needs 15.3 MiB, above the memory limit of 2.0 MiB" in message
    assert "--memory-limit or SPECSSB_MEMORY_LIMIT" in message
    assert isinstance(error.value, SpecssbError) and isinstance(error.value, MemoryError)
    assert error.value.path == "big_map.spe" and error.value.limit == 2 * 2**20
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "64MiB")  # raised: the same file reads
    [spectrum] = parse_spe(data, source=source)
    assert spectrum.data.shape == (100, 20_000)


# ---------------------------------------------------------------------- fit
def test_a_fit_whose_working_arrays_exceed_the_ceiling_fails_clearly(monkeypatch):
    from specssb.fitting.engine import fit
    from specssb.fitting.recipe import load_recipe

    recipe = load_recipe("xps-s2p-argyrodite")
    spectra = [s for s in specssb.read(VAMAS) if recipe.applies_to(s)] * 50
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "200KiB")
    tracemalloc.start()
    try:
        with pytest.raises(MemoryLimitError, match=r"fit working arrays \(1 chunk\(s\) of 50 spectra × "
                                                   r"\d+ points × \d+ free parameters.*above the memory "
                                                   r"limit of 200.0 KiB"):
            fit(spectra, recipe, engine="batched")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20  # the refusal came before the solver's arrays


# ---------------------------------------------------------------------- command line
def test_the_option_sets_the_ceiling_and_exceeding_it_exits_1(tmp_path):
    result = runner.invoke(app, ["fit", str(VAMAS), "--recipe", "xps-s2p-argyrodite", "--out",
                                 str(tmp_path), "--memory-limit", "4KiB"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1].startswith("MemoryLimitError: fit working arrays")
    assert "above the memory limit of 4.0 KiB" in result.stderr
    assert not (tmp_path / "fits.parquet").exists()
    import os

    assert os.environ[ENVIRONMENT_VARIABLE] == "4KiB"  # set for the process and its workers


@pytest.mark.parametrize("command", ["fit", "report", "watch"])
def test_a_bad_option_value_is_a_usage_error(tmp_path, command):
    arguments = {"fit": [str(VAMAS), "--recipe", "xps-s2p-argyrodite"]}.get(command, [str(tmp_path)])
    result = runner.invoke(app, [command, *arguments, "--memory-limit", "lots"])
    assert result.exit_code == 2, result.output
    assert "--memory-limit" in result.output and "'lots' is not a memory size" in result.output
