# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
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
