# Silk Road Tracker: `make run` serves the API on an embedded database with the fixtures loaded;
# `make test` runs the whole suite against a throwaway database. Both work on a fresh clone.

SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
DB_PORT ?= 27017
PG_PORT ?= 5433
DATA_DIR ?= .data
export HOST PORT DB_PORT PG_PORT DATA_DIR

TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
FERRETDB := .build/ferretdb
PY := $(VENV)/bin/python
#: The OpenAPI linter the suite runs (tests/test_contract_lint.py), installed locally from npm.
REDOCLY_VERSION := 2.77.0
REDOCLY := $(TOOLS)/node/node_modules/.bin/redocly

.PHONY: run test lint typecheck unit contracts fuzz bench bench-latency clean deps database tools

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

# The environment is rebuilt only when the lock file changes.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

# The embedded database. PostgreSQL 15 and its extensions (pgvector, pg_cron, DocumentDB) are
# installed into the system once by embedded/build.sh, which skips what is already there;
# the FerretDB 2.5 launcher is built from the Go module proxy, again only when ferretdb/ changes.
$(FERRETDB): ferretdb/main.go ferretdb/go.mod ferretdb/go.sum
	@mkdir -p $(dir $@)
	@echo "==> Building FerretDB 2.5 from the Go module proxy (about 2 minutes the first time)"
	cd ferretdb && go build -trimpath -o ../$(FERRETDB) .

database: $(FERRETDB)
	@embedded/build.sh

$(REDOCLY):
	npm install --prefix $(TOOLS)/node --no-audit --no-fund --silent @redocly/cli@$(REDOCLY_VERSION)

tools: $(REDOCLY)

deps: $(VENV)/.synced database

run: deps
	@scripts/run.sh

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check service tests bench examples embedded
	$(VENV)/bin/ruff format --check service tests bench examples embedded

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

contracts: $(VENV)/.synced
	$(PY) -m service contracts write

test: deps tools lint typecheck
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

# Contract fuzzing with a larger budget than `make test` (which runs 10 examples per operation).
fuzz: deps
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} \
	  FUZZ_PHASES=$${FUZZ_PHASES:-examples,coverage,fuzzing,stateful} \
	  $(VENV)/bin/pytest -q -s tests/test_contract_fuzz.py -o timeout=3600

# Latency of each query shape at 10,000 and 100,000 generated records (a throwaway database).
bench-latency: deps
	$(PY) -m bench.latency $(BENCH_ARGS)

# Side-by-side benchmark (service, raw twin, Eve); BENCH_QUICK=1 for the short version.
bench: deps
	bench/setup.sh
	$(PY) -m bench.run

clean:
	rm -rf .build $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
