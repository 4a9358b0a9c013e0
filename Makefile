# layerport developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install install-test run test check lint typecheck bench bench-registry clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(VENV)/.installed $@

install: $(VENV)/.installed ## Create .venv and install layerport
install-test: $(VENV)/.installed-test ## Create .venv and install layerport with test tools

run: install ## Run layerport on the embedded default (SQLite and files in ~/.local/share/layerport, http://127.0.0.1:5000)
	$(BIN)/layerport serve $(ARGS)

test: install-test ## Run the whole test suite against real servers and clients
	$(BIN)/pytest $(ARGS)

lint: install-test ## ruff format check and ruff lint
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

typecheck: install-test ## mypy --strict on src
	$(BIN)/mypy

check: lint typecheck test ## Everything CI checks

bench: install-test ## Run the benchmarks (by hand; figures go in issue notes)
	$(BIN)/python bench/get_download_url.py
	$(BIN)/python bench/layer_rss.py --size-mib 64
	$(BIN)/python bench/layer_rss.py --size-mib 1024

bench-registry: install-test ## Side by side with CNCF Distribution (needs Debian's docker-registry and skopeo)
	$(BIN)/python bench/registry_vs_distribution.py

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
