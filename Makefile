# The two commands a new user needs: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench package chromium model clean FORCE

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

## Run the whole job end to end on the embedded local stack; writes out/digest.html and out/digest.eml.
demo: $(STAMP)
	@$(PY) -m infra.demo

## Install, then lint (ruff), type-check (mypy) and run the whole test suite.
test: $(STAMP) chromium lint typecheck
	@$(PY) -m pytest -q

## Debian's Chromium for the digest screenshot test (installed only if missing).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null 2>&1 && $$SUDO apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "warning: could not install Debian's chromium; the digest screenshot test will be skipped"; }

## Build the AWS deployment offline: one zip with the code, templates, accounts file and the runtime dependencies
## (pip, manylinux wheels for Python 3.12), then .serverless/ (CloudFormation template) through the Serverless
## Framework CLI (osls, from npm). STAGE=prod make package; the accounts file is accounts.<stage>.yaml, or
## ACCOUNTS_FILE=...; stage dev falls back to infra/accounts.example.yaml. Deploying: see infra/deploy.md.
STAGE ?= dev
ACCOUNTS_FILE ?= $(or $(wildcard accounts.$(STAGE).yaml),$(if $(filter dev,$(STAGE)),infra/accounts.example.yaml))
DEPS_DIR := build/deps
ARTIFACT := build/socialaudit.zip
# The runtime dependencies of pyproject.toml, minus boto3 (the Lambda runtime provides it).
LAYER_DEPS = $$($(PY) -c "import tomllib; d = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
	print(' '.join(repr(x) for x in d if not x.lower().startswith(('boto3', 'botocore'))))")

node_modules/.package-lock.json: package.json package-lock.json
	@npm ci --no-audit --no-fund --loglevel=error

$(DEPS_DIR)/.installed: pyproject.toml $(STAMP)
	@rm -rf $(DEPS_DIR) && mkdir -p $(DEPS_DIR)
	@set -o pipefail; eval $(PY) -m pip install -q --disable-pip-version-check --no-compile \
	  --platform manylinux2014_x86_64 --implementation cp --python-version 3.12 --only-binary=:all: \
	  --target $(DEPS_DIR) $(LAYER_DEPS) 2>&1 | { grep -v "^WARNING: Location" || true; }
	@rm -rf $(DEPS_DIR)/bin && touch $@

$(ARTIFACT): $(DEPS_DIR)/.installed FORCE
	@test -n "$(ACCOUNTS_FILE)" || { echo "package: stage $(STAGE) needs accounts.$(STAGE).yaml or ACCOUNTS_FILE=..."; exit 2; }
	@$(PY) -c "import sys; from functions.config import load_accounts; load_accounts(sys.argv[1])" "$(ACCOUNTS_FILE)"
	@rm -rf build/package && mkdir -p build/package && cp -r $(DEPS_DIR)/. build/package/ && rm build/package/.installed
	@cp -r functions templates build/package/ && cp "$(ACCOUNTS_FILE)" build/package/accounts.yaml
	@find build/package -name __pycache__ -prune -exec rm -rf {} + && rm -f $@
	@cd build/package && zip -q -r -X ../socialaudit.zip .

package: $(STAMP) node_modules/.package-lock.json $(ARTIFACT)
	@AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_SESSION_TOKEN= SLS_TELEMETRY_DISABLED=1 \
	  npx --no-install osls package --stage $(STAGE) 2>&1 | { grep -v "AWS SDK for JavaScript\|node >=22\|first week of\|receiving updates\|a.co/\|trace-warnings\|^$$" || true; }; \
	  test "$${PIPESTATUS[0]}" = 0
	@echo "packaged stage $(STAGE) with $(ACCOUNTS_FILE): .serverless/cloudformation-template-update-stack.json, $(ARTIFACT)"

FORCE:

lint: $(STAMP)
	@$(VENV)/bin/ruff check functions infra tests

typecheck: $(STAMP)
	@$(VENV)/bin/mypy functions

## Benchmarks (issue 8): engine throughput, full local audit at 10k/50k/100k items (time, peak RSS, S3 PUTs),
## platform requests per run against the minimum, handler cold start. Prints a report (about 5 minutes);
## the figures go to out/bench.json. Not tests: nothing fails on time.
bench: $(STAMP)
	@$(PY) -m tests.bench

## Retrain the learned evaluator's model (functions/guidelines/policies/alliance-cme.model.json) on the labelled
## sets in the repository. The blind3 holdout is never trained on: it measures the model on unseen posts.
TRAINING_SETS := ../shared/corpus/posts.jsonl:../shared/corpus/labels.jsonl \
	infra/samples/posts.jsonl:infra/samples/labels.jsonl \
	$(foreach set,blind1 blind2 blind4,tests/fixtures/$(set)/posts.jsonl:tests/fixtures/$(set)/labels.jsonl) \
	$(foreach labels,$(sort $(wildcard tests/fixtures/engine_*_labels.jsonl)),$(subst _labels,,$(labels)):$(labels))
model: $(STAMP)
	@$(PY) -m functions.cli policy train --out functions/guidelines/policies/alliance-cme.model.json \
		$(foreach pair,$(TRAINING_SETS),--set $(subst :, ,$(pair)))

clean:
	rm -rf out .serverless .pytest_cache build
