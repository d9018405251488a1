# Bazaar: the two commands are `make run` and `make test`; everything else supports them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs on both cores (pytest-xdist; each worker gets its own test database).
# `make test PYTEST_ARGS=` runs it in one process, `PYTEST_ARGS="-k cart"` picks tests.
PYTEST_ARGS ?= -n 2
# beat's record of the last runs: git-ignored, never committed.
BEAT_SCHEDULE ?= .celery/beat-schedule

.DEFAULT_GOAL := help
.PHONY: help run test lint format lock serve worker beat migrate seed check clean integration fuzz bench docs

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per requirements file: installs again only when the pins change.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

migrate: $(VENV)/.runtime-installed  ## Apply database migrations
	$(BIN)/python manage.py migrate --noinput

seed: migrate  ## Load the demo data (idempotent)
	$(BIN)/python manage.py seed_demo

run: seed  ## Set up .venv, migrate, seed the demo, serve on http://127.0.0.1:8000
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

serve: export DEBUG ?= false
serve: migrate  ## Serve production-like with gunicorn (DEBUG off unless set in the environment)
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn config.wsgi --config gunicorn.conf.py --bind $(HOST):$(PORT)

worker: $(VENV)/.runtime-installed  ## Run background tasks from Redis (needs REDIS_URL or CELERY_BROKER_URL)
	$(BIN)/celery -A config worker -l info

beat: $(VENV)/.runtime-installed  ## Send the periodic tasks (one per deployment; needs REDIS_URL)
	@mkdir -p $(dir $(BEAT_SCHEDULE))
	$(BIN)/celery -A config beat -l info --schedule $(BEAT_SCHEDULE)

test: $(VENV)/.dev-installed  ## Set up .venv and run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed  ## ruff check, ruff format --check, lint-imports (imports run one way)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: $(VENV)/.dev-installed  ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: $(VENV)/.dev-installed  ## Re-compile the pinned requirements from the .in files
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

check: $(VENV)/.dev-installed  ## Django's system checks and the migration check
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:  ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache

integration: $(VENV)/.dev-installed  ## The multi-server suite (needs PostgreSQL and Redis on 127.0.0.1)
	$(BIN)/python -m pytest -p no:cacheprovider -m integration tests/integration

bench: $(VENV)/.dev-installed  ## The API at 10k and 1M products: req/s, p50/p99, SQL per request (PostgreSQL, wrk; ~15 min the first time)
	bench/growth.sh

docs: $(VENV)/.dev-installed  ## Serve the documentation (docs/, mkdocs-material) on http://127.0.0.1:8001
	$(BIN)/mkdocs serve -a 127.0.0.1:8001

fuzz: $(VENV)/.dev-installed  ## Schemathesis on a live gunicorn + PostgreSQL server (needs PostgreSQL on 127.0.0.1)
	.ci/fuzz $(FUZZ_ARGS)
