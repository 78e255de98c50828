# The front door. `make` alone lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PINPIPE := .venv/bin/pinpipe
PYTEST := .venv/bin/pytest
SETUP_STAMP := build/stamps/.setup-done
SETUP_INPUTS := scripts/setup.sh pyproject.toml requirements.lock requirements-localstack.lock \
	requirements-tools.lock compose/kafka/pom.xml compose/connect/pom.xml compose/spark/pom.xml \
	services/s3_sink_connector/pom.xml $(shell find services/s3_sink_connector/src -type f 2>/dev/null)

.PHONY: help setup up down status logs reset demo report test test-unit test-integration lint format compose bench lock dist

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-18s\033[0m %s\n", $$1, $$2}'

$(SETUP_STAMP): $(SETUP_INPUTS)
	@bash scripts/setup.sh
	@touch $@

setup: ## install everything (Python envs, Java components, LocalStack); idempotent
	@bash scripts/setup.sh
	@touch $(SETUP_STAMP)

up: $(SETUP_STAMP) ## start the whole stack as local processes and wait until healthy
	@$(PINPIPE) up

down: $(SETUP_STAMP) ## stop every process of the stack (data is kept)
	@$(PINPIPE) down

status: $(SETUP_STAMP) ## show services, health, URLs (pinpipe status --json for scripts)
	@$(PINPIPE) status

logs: $(SETUP_STAMP) ## where each service logs, and a tail of each
	@$(PINPIPE) logs

reset: $(SETUP_STAMP) ## wipe all pipeline data (keeps installs); the stack must be down
	@$(PINPIPE) reset --yes

DEMO_ROWS ?= 11000
DEMO_STREAM_EVENTS ?= 300
demo: $(SETUP_STAMP) ## set up, start the stack, run the pipeline end to end, write the report (DEMO_ROWS, DEMO_SOURCE=DIR)
	@$(PINPIPE) demo --rows $(DEMO_ROWS) --stream-events $(DEMO_STREAM_EVENTS) $(if $(DEMO_SOURCE),--source "$(DEMO_SOURCE)")

report: $(SETUP_STAMP) ## write the report from the lake (the stack must be up)
	@$(PINPIPE) report

test: $(SETUP_STAMP) ## run every test: unit, then integration against the real stack
	@$(PYTEST) tests/unit tests/spark tests/integration tests/e2e tests/faults

test-unit: $(SETUP_STAMP) ## run the fast unit tests only
	@$(PYTEST) -m unit tests/unit tests/spark

lint: $(SETUP_STAMP) ## ruff lint and format check, mypy (strict), cfn-lint and cdk-nag on the cloud templates
	@.venv/bin/ruff check . && .venv/bin/ruff format --check . && bash scripts/typecheck.sh
	@.venv/bin/python -m pinpipe.aws.lint

format: $(SETUP_STAMP) ## format the code
	@.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench: $(SETUP_STAMP) ## benchmarks: generator, batch vs DuckDB (BENCH_EVENTS=…), recovery, up, DAG vs batch run, streaming (starts the stack)
	@.venv/bin/python -m bench.generator
	@.venv/bin/python -m bench.batch
	@.venv/bin/python -m bench.recovery
	@.venv/bin/python -m bench.up
	@$(PINPIPE) up
	@.venv/bin/python -m bench.dag
	@.venv/bin/python -m bench.streaming

dist: $(SETUP_STAMP) ## build what the cloud runs into dist/: the wheel, the Databricks jobs, the MWAA bundle (PROFILE=aws)
	@$(PINPIPE) dist --profile $(or $(PROFILE),aws)

compose: $(SETUP_STAMP) ## regenerate docker-compose.yml from the service definitions
	@$(PINPIPE) compose

lock: ## re-resolve the Python lock files (after changing dependencies)
	@build/uv/bin/uv pip compile -q pyproject.toml --extra sandbox --extra airflow --extra deploy --extra dev -o requirements.lock
	@build/uv/bin/uv pip compile -q requirements-localstack.in --exclude-newer 2025-09-30 -o requirements-localstack.lock
	@build/uv/bin/uv pip compile -q requirements-tools.in -o requirements-tools.lock
