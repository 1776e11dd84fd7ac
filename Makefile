# scout: `make run` starts the local stack, `make test` runs lint and every test.
# Both work on a fresh Debian machine with Python 3.11 and Node 20: they create .venv,
# install the Python and Node dependencies, and install Debian's chromium when missing.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_DIR := layers/node
NODE_STAMP := $(NODE_DIR)/node_modules/.package-lock.json
PORT ?= 3000
PYTEST_ARGS ?=

.PHONY: setup run test lint unit integration e2e bench build openapi chromium clean

setup: $(PY_STAMP) $(if $(wildcard $(NODE_DIR)/package-lock.json),$(NODE_STAMP)) chromium

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $@

$(NODE_STAMP): $(NODE_DIR)/package-lock.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium (never a downloaded browser); only root can install it.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "chromium is missing: run 'sudo apt-get install chromium'" >&2; exit 1; \
		fi; \
	fi

run: setup
	$(BIN)/scout dev --port $(PORT)

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: setup
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

integration: setup
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

e2e: setup
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

lint: $(PY_STAMP)
	$(BIN)/ruff check layers functions tests bench
	$(BIN)/ruff format --check layers functions tests bench
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

bench: setup
	$(BIN)/python -m bench

openapi: $(PY_STAMP)
	$(BIN)/python -m scout.cli.openapi --write

# `sam build` needs the SAM CLI (its own venv: its pins clash with ours); the scan worker
# image needs Docker, so without it only the zip functions are built.
build:
	@command -v sam >/dev/null || { echo "install the SAM CLI: pipx install aws-sam-cli" >&2; exit 1; }
	sam validate --lint
	sam build

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache
