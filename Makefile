# sessionary: every command a developer or CI needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench install clean chromium

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet -e clients/python
	touch $(STAMP)

install: $(STAMP)

## Start the product: SQLite under ./data, a demo organization and several thousand sessions.
run: $(STAMP)
	$(BIN)/sessionary demo

## Lint, type check, then the whole test suite (PostgreSQL too when SESSIONARY_TEST_POSTGRES_URL is set).
test: $(STAMP) chromium lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The console's browser tests drive Debian's headless Chromium (never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench clients/python
	$(BIN)/ruff format --check src tests bench clients/python
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/list.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/journey.py
	$(BIN)/python bench/otlp.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/purge.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache test-artifacts
