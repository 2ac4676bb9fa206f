"""The table's string columns, built from Arrow buffers, hold exactly the strings they should."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from specssb.fitting.result import _taken, _tiled


@pytest.mark.parametrize("values", [["background", "ps4", "ps4"], ["µ", "", "cm⁻¹", "a,b"], [""], []])
@pytest.mark.parametrize("times", [0, 1, 5])
def test_tiled_strings_are_the_block_repeated(values, times):
    built = _tiled(values, times)
    assert built.type == pa.large_string()
    assert built.to_pylist() == values * times
    built.validate(full=True)


def test_taken_strings_follow_the_codes():
    codes = np.array([2, 0, 0, 1, 2])
    assert _taken(["a", "bb", "ccc"], codes).to_pylist() == ["ccc", "a", "a", "bb", "ccc"]
    assert _taken(pa.array(["x", "y"], type=pa.large_string()), codes[:2] % 2).to_pylist() == ["x", "x"]
    assert _taken(["only"], codes).to_pylist() == ["only"] * 5  # one value: tiled
