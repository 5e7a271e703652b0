# Targets a newcomer can guess. Every target installs what it needs first.
SHELL := /bin/bash
# Python 3.12 (the Lambda runtime) when the machine has it, else python3 (>= 3.11).
PY_BOOT ?= $(shell for p in $$(ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null) python3.12 python3; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export PYTHONPATH := $(CURDIR)/layers/common:$(CURDIR)

.PHONY: install dev test lint typecheck unit synth bench judge-eval token client clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PY_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy layers/common functions infra local examples bench cli

unit: install
	$(PY) -m pytest tests/unit

test: lint typecheck
	$(PY) -m pytest -n 2 --dist loadfile tests

dev: install
	$(PY) -m local.stack

token: install
	$(PY) -m local.token $(USER) $(if $(ADMIN),--admin,)

# Machine credentials on the running local stack: prints a client id and secret (SCOPES="agent-jobs/admin …").
client: install
	$(PY) -m local.client $(NAME) $(foreach s,$(SCOPES),--scope $(s))

synth: install
	$(PY) infra/app.py

bench: install
	$(PY) -m bench.run

# The labelled judge cases against OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL (the offline stand-in
# without a key: a smoke test). Writes bench/judge/results.json.
judge-eval: install
	$(PY) -m bench.judge.run

clean:
	rm -rf cdk.out .local .pytest_cache .mypy_cache .ruff_cache test-output
