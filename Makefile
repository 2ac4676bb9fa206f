# Two commands work on a fresh machine with only Python and make:
#   make demo   creates .venv, installs specssb, reads sample_data/ and writes a report
#   make test   creates .venv, installs specssb with its test extras, runs the whole suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test fuzz docs sample-data clean

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

# Long parser fuzzing (tests/fuzz): many hypothesis examples, every sample and boundary; prints
# the cases run per format. FUZZ_EXAMPLES=200 make fuzz for a shorter run.
# With FUZZ_EXAMPLES >= 2000 it also kills `specssb report` 200 times at random moments
# (tests/fuzz/test_kill_report.py; SPECSSB_KILL_COUNT=N sets the count, SPECSSB_KILL_SEED=S replays
# a printed seed) and runs the concurrent-writer tests at 10-40 rounds (make test: 4 kills, and
# 4 rounds of the store-level writers only).
FUZZ_EXAMPLES ?= 2000
fuzz: $(VENV)/.installed-test
	SPECSSB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/fuzz \
	  tests/report/test_store.py::test_two_processes_adding_at_once_neither_corrupt_nor_duplicate \
	  -q -s -p no:cacheprovider

# Regenerate the generated documentation and the sample files (both are committed).
docs: $(VENV)/.installed-core
	$(BIN)/specssb formats --markdown > docs/formats.md

sample-data: $(VENV)/.installed-core
	$(BIN)/python sample_data/generate.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache
