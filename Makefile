# Set-up and everyday commands. Every target creates the virtualenv and installs
# what it needs first, so each one works on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install install-runtime browser demo serve test test-postgres lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What the service needs to run, and no more: `make demo` and `make serve`.
$(VENV)/.installed-runtime: $(BIN)/python pyproject.toml
	@echo "== installing the service's packages into $(VENV) (once)"
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Everything: the service, the test suite's clients and tools, lint.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-runtime

install-runtime: $(VENV)/.installed-runtime

install: $(VENV)/.installed

browser: install
	bash .ci/install-browser

demo: install-runtime
	bash scripts/demo

serve: install-runtime
	$(BIN)/detector db upgrade
	$(BIN)/detector serve

test: install browser
	$(BIN)/python -m pytest

test-postgres: install browser
	$(BIN)/python -m pytest -m db --database-url '$(PG_URL)'

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.synth
	$(BIN)/python -m benchmarks.pipeline
	$(BIN)/python -m benchmarks.dashboard

clean:
	rm -rf $(VENV) data artifacts .pytest_cache .mypy_cache .ruff_cache
