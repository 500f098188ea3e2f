# Sightline: `make run` sets everything up and serves the platform; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONPATH := $(CURDIR):$(CURDIR)/platform

.PHONY: run test setup venv frontend env migrate demo lint format test-smoke clean

run: setup demo  ## set up, load the demo project, serve on http://$(HOST):$(PORT) with one worker
	@bash deploy/run-dev.sh $(HOST) $(PORT)

test: setup  ## every test (set DATABASE_URL to run them on PostgreSQL)
	@bash deploy/ensure-chromium.sh
	$(VENV)/bin/ruff check .
	cd frontend && npm test
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key-not-for-production} \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

test-smoke: setup  ## the smoke part of the suite (used on the SQLite default in CI)
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret-key-not-for-production} \
		$(VENV)/bin/pytest -m smoke $(PYTEST_ARGS)

setup: venv frontend env

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	$(PIP) install -q --no-deps -e .
	touch $@

frontend: frontend/dist/index.html

frontend/dist/index.html: $(shell find frontend/src frontend/index.html frontend/package.json frontend/vite.config.ts -type f 2>/dev/null)
	cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build

env: .env

.env:
	@sed "s/^DJANGO_SECRET_KEY=$$/DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')/" .env.example > .env
	@echo "wrote .env (development settings with a random secret key)"

migrate: setup
	$(PY) manage.py prepare_data_dir
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

lint:
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

clean:
	rm -rf var frontend/dist
