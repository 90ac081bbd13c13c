# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Each creates .venv when missing and installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
# pip's configured local mirrors print one warning per package they lack: hide only those.
QUIET_PIP := 2>&1 | { grep -v "^WARNING: Location 'file://" || true; }
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet -e ".[dev]" $(QUIET_PIP)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/driftscope demo

lint: $(STAMP)
	$(BIN)/ruff check driftscope tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy driftscope

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/detectors.py

clean:
	rm -rf $(VENV) .driftscope .pytest_cache .mypy_cache .ruff_cache
