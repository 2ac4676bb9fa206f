# Two commands work on a fresh machine with only Python and make:
#   make demo   creates .venv, installs specssb, reads sample_data/ and writes a report
#   make test   creates .venv, installs specssb with its test extras, runs the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test docs sample-data clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-core

demo: $(VENV)/.installed-core
	$(BIN)/specssb demo --data sample_data --out demo_output

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# Regenerate the generated documentation and the sample files (both are committed).
docs: $(VENV)/.installed-core
	$(BIN)/specssb formats --markdown > docs/formats.md

sample-data: $(VENV)/.installed-core
	$(BIN)/python sample_data/generate.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache
