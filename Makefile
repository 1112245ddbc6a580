# Silk Road Tracker: `make run` serves the API on an embedded database with the fixtures loaded;
# `make test` runs the whole suite against a throwaway database. Both work on a fresh clone.

SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
DB_PORT ?= 27017
DATA_DIR ?= .data
export HOST PORT DB_PORT DATA_DIR

TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
FERRETDB := .build/ferretdb
PY := $(VENV)/bin/python

.PHONY: run test lint typecheck unit contracts fuzz bench clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

# The environment is rebuilt only when the lock file changes.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

# FerretDB 1.24.2 with SQLite, built from the Go module proxy; rebuilt only when its sources change.
$(FERRETDB): ferretdb/main.go ferretdb/go.mod ferretdb/go.sum
	@mkdir -p $(dir $@)
	@echo "Building FerretDB (first build takes a few minutes)..."
	cd ferretdb && go build -trimpath -o ../$(FERRETDB) .

deps: $(VENV)/.synced $(FERRETDB)

run: deps
	@scripts/run.sh

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check service tests bench examples
	$(VENV)/bin/ruff format --check service tests bench examples

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

contracts: $(VENV)/.synced
	$(PY) -m service contracts write

test: deps lint typecheck
	FERRETDB_BIN=$(FERRETDB) $(VENV)/bin/pytest -q $(PYTEST_ARGS)

# Contract fuzzing with a larger budget than `make test` (which runs 10 examples per operation).
fuzz: deps
	FERRETDB_BIN=$(FERRETDB) FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} \
	  FUZZ_PHASES=$${FUZZ_PHASES:-examples,coverage,fuzzing,stateful} \
	  $(VENV)/bin/pytest -q -s tests/test_contract_fuzz.py -o timeout=3600

# Latency of search, facets and stats on 10,000 generated records (a throwaway FerretDB).
bench-latency: deps
	FERRETDB_BIN=$(FERRETDB) $(PY) -m bench.latency $(BENCH_ARGS)

# Side-by-side benchmark (service, raw twin, Eve); BENCH_QUICK=1 for the short version.
bench: deps
	bench/setup.sh
	$(PY) -m bench.run

clean:
	rm -rf .build $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
