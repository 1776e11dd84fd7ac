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

.PHONY: setup run test lint unit integration e2e bench build openapi chromium clean image image-tools image-test

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

# The scan worker image without Docker or a registry: buildah builds the Dockerfile on a
# bookworm base made by debootstrap from this machine's Debian mirror (built once, then kept).
IMAGE ?= localhost/scout-scan-worker
BASE_IMAGE ?= localhost/scout-bookworm-base
IMAGE_TOOLS := buildah debootstrap podman
# The CA bundle the build's npm and pip trust (this machine's, which may hold a proxy's CA).
CA_BUNDLE ?= $(or $(SSL_CERT_FILE),/etc/ssl/certs/ca-certificates.crt)

image-tools:
	@missing=$$(for tool in $(IMAGE_TOOLS); do command -v $$tool >/dev/null || echo $$tool; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing:" $$missing "- run 'sudo apt-get install" $$missing"'" >&2; exit 1; \
		fi; \
	fi

image: image-tools
	$(PYTHON) functions/scan_worker/image/debian_base.py $(BASE_IMAGE)
	buildah bud --isolation chroot --layers --force-rm --quiet --build-arg BASE=$(BASE_IMAGE) \
		--secret id=ca-certificates,src=$(CA_BUNDLE) \
		--file functions/scan_worker/Dockerfile --tag $(IMAGE) .
	$(PYTHON) functions/scan_worker/image/report.py $(IMAGE)

# The image's own entry point under a local Lambda Runtime API, with Lambda's constraints
# (tests/image); it starts Chromium, so it waits for other browser runs on this machine.
image-test: setup image-tools
	SCOUT_IMAGE=$(IMAGE) flock /tmp/scout-chromium.lock \
		$(BIN)/python -m pytest tests/image -p no:cacheprovider -v $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache
