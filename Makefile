# Inkling: `make run` to try it, `make test` to check it. Nothing else by hand.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# What running needs (make run), then what the tests and benchmarks add (make test).
RUN    := $(VENV)/.installed-run
DEV    := $(VENV)/.installed-dev
SHELL  := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# pip notes every configured package location this machine lacks; they are not errors.
QUIET_PIP := grep -v "^WARNING: Location '.*' is ignored" || true

.PHONY: install run test lint bench clean

$(RUN): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e . 2>&1 | $(QUIET_PIP)
	touch $@

$(DEV): $(RUN)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]' 2>&1 | $(QUIET_PIP)
	touch $@

install: $(DEV)

run: $(RUN)
	$(BIN)/inkling demo

# The tests run on every core (pytest-xdist, a test module per worker), but for those that
# stop the shared PostgreSQL, which run alone after them. The CLI tests start `inkling`
# hundreds of times: where PYTHONDONTWRITEBYTECODE is set each start would compile the
# sources again, so they are compiled once here.
test: $(DEV)
	./scripts/test-services
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m compileall -q src
	$(BIN)/pytest -n auto --maxprocesses 4 --dist loadfile -m "not alone"
	$(BIN)/pytest -m alone

lint: $(DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(DEV)
	./scripts/test-services
	$(BIN)/python bench/instrument.py --corpus tests/fixtures/html
	$(BIN)/python bench/linearity.py
	$(BIN)/python bench/loader.py
	$(BIN)/python bench/tracker.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
