# Two commands for a fresh machine with only Python 3.11+ and make:
#   make dev    run everything locally (embedded PostgreSQL + Redis, API, worker);
#               make dev DEV_ARGS="--workers auto" runs one API process per core
#   make test   ruff, mypy --strict and pytest against real PostgreSQL and Redis
# Both install exactly what requirements-dev.lock pins (hash-checked). After changing the
# dependencies in pyproject.toml, run `make lock` and commit the two lock files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock

.PHONY: dev test lint typecheck pytest fmt bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the lock or pyproject.toml changes. The project itself is built with the
# locked hatchling (no isolated build fetching an unpinned one). `pip check` catches a lock that
# is stale against pyproject.toml (a dependency added without `make lock`).
$(STAMP): $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/python -m pip check || { echo "requirements-dev.lock does not satisfy pyproject.toml: run 'make lock'" >&2; exit 1; }
	touch $(STAMP)

# `make dev DEV_ARGS="--workers auto"`: one API process per core (without auto-reload).
dev: $(STAMP)
	$(BIN)/ticaret dev $(DEV_ARGS)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

fmt: $(STAMP)
	$(BIN)/ruff format src tests bench migrations
	$(BIN)/ruff check --fix src tests bench migrations

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Re-resolve both locks after editing dependencies in pyproject.toml; versions already locked
# are kept unless they must move. `make lock LOCK_ARGS=--upgrade` moves everything to the newest
# allowed release, `LOCK_ARGS="--upgrade-package fastapi"` one package. One universal
# resolution (every OS and Python >= 3.11, markers inline) with the hashes of the files the
# package index serves; uv is installed into .venv for this command only.
UV_COMPILE = $(BIN)/uv pip compile --no-config --universal --generate-hashes --quiet \
	--custom-compile-command 'make lock' $(LOCK_ARGS)

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	$(UV_COMPILE) pyproject.toml -o $(LOCK)
	$(UV_COMPILE) pyproject.toml --extra dev --group build -c $(LOCK) -o $(DEV_LOCK)

clean:
	rm -rf $(VENV) .test-data .mypy_cache .ruff_cache .pytest_cache
