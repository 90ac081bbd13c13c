# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Each creates .venv when missing and installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
# pip's configured local mirrors print one warning per package they lack, and setuptools
# an "Editable installation" notice of 9 lines (between two "!!"): hide only those.
QUIET_PIP := 2>&1 | { grep -v "^WARNING: Location 'file://" || true; } | awk \
	'/BuildBackendWarning: Editable installation/ {s = 1; n = 0; next} \
	 s == 1 && ++n > 12 {s = 0} \
	 s == 1 && /^ *!!$$/ {if (++b == 2) s = 2; next} \
	 s == 1 {next} \
	 s == 2 {s = 0; b = 0; if (/with strategy, WheelFile/) next} \
	 {print}'
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench clean

# (silent recipes: make echoed each pip line with the whole awk filter, the first thing a
# new user read)
$(STAMP): pyproject.toml
	@echo "installing Driftscope and its dependencies into $(VENV) (a few minutes the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip $(QUIET_PIP)
	@$(BIN)/python -m pip install --quiet -e ".[dev]" $(QUIET_PIP)
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/driftscope demo

lint: $(STAMP)
	$(BIN)/ruff check driftscope tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy driftscope

# Two workers (pytest-xdist), each running whole test files (--dist loadfile: a module's
# fixtures are built once): the suite took 31 min on this 2-core machine, 18 min so.
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
unit: $(STAMP)
	$(BIN)/python -m pytest -q $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/detectors.py

clean:
	rm -rf $(VENV) .driftscope .pytest_cache .mypy_cache .ruff_cache
