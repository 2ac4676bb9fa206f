"""The worked examples in the user guide run as written (on the committed sample data)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = ["xas.md", "xps.md"]


def _python_blocks(page: str) -> list[str]:
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("page", PAGES)
def test_worked_example_runs(page, monkeypatch):
    blocks = _python_blocks(page)
    assert blocks, f"docs/{page} has no python example"
    monkeypatch.chdir(REPO)  # the examples use paths relative to the repository
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the examples show the physics warnings they trigger
        exec(compile(blocks[0], f"docs/{page}", "exec"), namespace)  # noqa: S102 - our own docs


def test_xas_example_prints_what_the_page_shows(monkeypatch):
    monkeypatch.chdir(REPO)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(_python_blocks("xas.md")[0], "docs/xas.md", "exec"), namespace)  # noqa: S102
    fractions = namespace["lcf"].fractions().round(3)
    assert fractions.iloc[0].tolist() == [0.934, 0.066] and fractions.iloc[1].tolist() == [0.792, 0.208]
    assert round(float(namespace["edges"].half_height_energy[0]), 3) == 8343.071
