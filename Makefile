# Bedrock Usage Monitor: developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
CHECKOV_VENV := .venv-checkov
MUTATION_VENV := .venv-mutation
BIN         := $(VENV)/bin
# python3.13 from PATH, else from pyenv; empty when neither has one that runs (a pyenv shim may not).
PYTHON313   ?= $(shell for p in "$$(command -v python3.13)" \
                 $$(command -v pyenv >/dev/null 2>&1 && ls -d "$$(pyenv root)"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV); do \
                 [ -n "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)

# Offline by construction: fake credentials and a region for everything that is not a real deploy,
# so no test, build or demo can reach (or be billed by) a real AWS account.
OFFLINE_ENV := AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing \
               AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing AWS_CONFIG_FILE=/dev/null \
               AWS_SHARED_CREDENTIALS_FILE=/dev/null SAM_CLI_TELEMETRY=0 POWERTOOLS_TRACE_DISABLED=1
# sam build needs python3.13 on PATH; the venv provides it.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: help venv lint typecheck template-check unit test build deploy demo preview bench purge-data clean lock mutation

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/.installed: requirements-dev.txt constraints.txt layers/common/requirements.txt pyproject.toml
	@if [ -z "$(PYTHON313)" ]; then \
	  echo "error: python3.13 not found on PATH or in pyenv." >&2; \
	  echo "Install it (e.g. 'pyenv install 3.13', or your OS package python3.13) and run make again," >&2; \
	  echo "or point make at it: make PYTHON313=/path/to/python3.13 venv" >&2; exit 1; fi
	@echo "Creating $(VENV) with $(PYTHON313)"
	@[ -x $(BIN)/python3.13 ] || $(PYTHON313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@# checkov pins its own pytest and friends, so it lives in a venv of its own.
	@[ -x $(CHECKOV_VENV)/bin/python ] || $(PYTHON313) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

$(MUTATION_VENV)/.installed: requirements-mutation.txt
	@# mutmut needs a newer click than aws-sam-cli allows, so it lives in a venv of its own.
	@if [ -z "$(PYTHON313)" ]; then echo "error: python3.13 not found (see 'make venv')" >&2; exit 1; fi
	@[ -x $(MUTATION_VENV)/bin/python ] || $(PYTHON313) -m venv $(MUTATION_VENV)
	$(MUTATION_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-mutation.txt
	@touch $@

venv: $(BIN)/.installed $(CHECKOV_VENV)/.installed ## Create .venv (python3.13) with every pinned dev dependency

lint: $(BIN)/.installed ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every optional part switched on, so checkov also judges what sits in the true branch of each Fn::If.
RESOLVE_OPTIONS := AlertEmail=ops@example.com SenderEmail=digest@example.com ReportRecipients=finops@example.com \
  AlarmRouting=default=ops@example.com TextDataDelivery=true MaskPiiInLogs=true LogKeyPrefix=bedrock \
  KmsKeyArn=arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000 \
  TakeOverExistingLogging=true ReportCostExplorer=true PriceOverridesParameter=/bedrock-usage/prices \
  ReportRegions=us-east-1,eu-west-1 CurExport=true CostAllocationTagKeys=team,cost-center \
  SourceAccounts=o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/
# source-account.yaml (the StackSet template for each source account): a sink ARN is required; options on.
SOURCE_SINK := MonitoringSinkArn=arn:aws:oam:us-east-1:111111111111:sink/00000000-0000-0000-0000-000000000000
SOURCE_OPTIONS := $(SOURCE_SINK) TextDataDelivery=true MaskPiiInLogs=true LogKeyPrefix=bedrock \
  KmsKeyArn=arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000 TakeOverExistingLogging=true

template-check: venv ## cfn-lint (SAM and transformed), sam validate --lint, checkov; template.yaml and source-account.yaml
	@mkdir -p build
	env $(OFFLINE_ENV) $(BIN)/python scripts/transform_template.py template.yaml build/transformed.json
	env $(OFFLINE_ENV) $(BIN)/cfn-lint --ignore-checks I4010 -- template.yaml build/transformed.json
	env $(OFFLINE_ENV) $(BIN)/sam validate --lint --template-file template.yaml
	@# checkov does not evaluate Conditions or Fn::If: scan the template as it deploys with the defaults, and
	@# with every option on, too.
	$(BIN)/python scripts/resolve_template.py build/transformed.json build/resolved.json
	$(BIN)/python scripts/resolve_template.py build/transformed.json build/resolved-options.json $(RESOLVE_OPTIONS)
	$(CHECKOV_VENV)/bin/checkov --skip-download --quiet --compact --framework cloudformation \
	  -f build/transformed.json -f build/resolved.json -f build/resolved-options.json
	@# The same checks on the source-account template.
	env $(OFFLINE_ENV) $(BIN)/python scripts/transform_template.py source-account.yaml build/source-transformed.json
	env $(OFFLINE_ENV) $(BIN)/cfn-lint --ignore-checks I4010 -- source-account.yaml build/source-transformed.json
	env $(OFFLINE_ENV) $(BIN)/sam validate --lint --template-file source-account.yaml
	$(BIN)/python scripts/resolve_template.py build/source-transformed.json build/source-resolved.json $(SOURCE_SINK)
	$(BIN)/python scripts/resolve_template.py build/source-transformed.json build/source-resolved-options.json $(SOURCE_OPTIONS)
	$(CHECKOV_VENV)/bin/checkov --skip-download --quiet --compact --framework cloudformation \
	  -f build/source-transformed.json -f build/source-resolved.json -f build/source-resolved-options.json

unit: $(BIN)/.installed ## pytest only (add ARGS=... for pytest options)
	env $(OFFLINE_ENV) $(BIN)/pytest $(ARGS)

test: lint template-check unit ## Everything CI runs: lint, template checks, unit and integration tests

mutation: $(MUTATION_VENV)/.installed ## Mutation testing (mutmut, 1 worker) of analyze, digest, logfiles, price, notification, logging_config; score per module
	env $(OFFLINE_ENV) $(MUTATION_VENV)/bin/python scripts/mutation.py $(ARGS)

build: $(BIN)/.installed ## sam build (offline: no AWS account needed)
	env $(OFFLINE_ENV) $(BIN)/sam build --template-file template.yaml

deploy: $(BIN)/.installed ## sam build, then sam deploy --guided against your AWS credentials
	$(BIN)/sam build --template-file template.yaml
	$(BIN)/sam deploy --guided

demo: $(BIN)/.installed ## Run the whole pipeline on an embedded AWS emulator; writes build/demo/ (ARGS="--accounts 3")
	@# PYTHONPATH: run this checkout's package even when the venv's editable install points elsewhere.
	env $(OFFLINE_ENV) PYTHONPATH=$(CURDIR)/layers/common $(BIN)/python -m scripts.demo $(ARGS)

preview: $(BIN)/.installed ## Render the demo digest in headless Chromium to build/demo/digest.png
	env $(OFFLINE_ENV) $(BIN)/python -m scripts.preview

bench: $(BIN)/.installed ## Benchmarks (API calls, cold start, log scan, render), each against its anchor
	@# PYTHONPATH: measure this checkout's package even when the venv's editable install points elsewhere.
	env $(OFFLINE_ENV) PYTHONPATH=$(CURDIR)/layers/common $(BIN)/python -m bench $(ARGS)

purge-data: $(BIN)/.installed ## DESTRUCTIVE: delete the retained log bucket and log group (asks first)
	$(BIN)/python scripts/purge_data.py $(ARGS)

lock: ## Re-resolve constraints.txt from requirements-dev.txt (needs network to PyPI)
	rm -rf .venv-lock && $(PYTHON313) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements-dev.txt
	.venv-lock/bin/pip freeze --exclude-editable > constraints.txt && rm -rf .venv-lock

clean: ## Remove build outputs (keeps .venv)
	rm -rf .aws-sam build .pytest_cache .mypy_cache .ruff_cache
