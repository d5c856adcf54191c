# The commands people run. `make run` and `make test` are the two in the README.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build: on this project's machines pip takes it from a local wheel.
TORCH_SPEC ?= torch==2.13.0
TIKTOKEN_CACHE := .cache/tiktoken
INSTALLED := $(VENV)/.installed
DEV_INSTALLED := $(VENV)/.installed-dev

.PHONY: run install index serve test test-fast lint format bench clean browser

run: index  ## install, build the index if missing or stale, serve the API (:8000) and the chat (:8501)
	$(BIN)/reformqa run

install: $(INSTALLED)

$(INSTALLED): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m index.tokens $(TIKTOKEN_CACHE)
	$(BIN)/python -m index.onnx_export  # the ONNX graph of the model, exported from local weights
	@touch $@

$(DEV_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	@touch $@

index: install  ## build the index from docs_corpus/ unless it is up to date
	$(BIN)/reformqa index build --if-stale

serve: install
	$(BIN)/reformqa serve

test: $(DEV_INSTALLED) browser  ## the whole suite: fast, slow (real corpus) and browser tests
	$(BIN)/python -m pytest

# Debian's Chromium, which the browser tests drive (Playwright's own download cannot work here)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test-fast: $(DEV_INSTALLED)
	$(BIN)/python -m pytest -m "not slow"

lint: $(DEV_INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: index
	$(BIN)/python bench/latency.py
	$(BIN)/python bench/ask.py

clean:
	rm -rf $(VENV) data .cache .pytest_cache .ruff_cache
