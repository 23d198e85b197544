# The two commands a new user needs: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench package chromium clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

## Run the whole job end to end on the embedded local stack; writes out/digest.html and out/digest.eml.
demo: $(STAMP)
	@$(PY) -m infra.demo

## Install, then run the whole test suite.
test: $(STAMP) chromium
	@$(PY) -m pytest -q

## Debian's Chromium for the digest screenshot test (installed only if missing).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "warning: could not install Debian's chromium; the digest screenshot test will be skipped"; }

lint: $(STAMP)
	@$(VENV)/bin/ruff check functions infra tests

typecheck: $(STAMP)
	@$(VENV)/bin/mypy functions

clean:
	rm -rf out .serverless .pytest_cache
