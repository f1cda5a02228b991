# Benchmark dependencies, kept apart from the project's own virtualenv.  Included from the
# Makefile; also usable alone: `make -f bench.mk bench-deps`.
#
# aider-chat goes into its own virtualenv (its pins clash with Quill's): `quill bench index`
# and `quill bench context` find it at .bench-venvs/aider/bin/python (or $QUILL_AIDER_PYTHON).
# universal-ctags is what `quill bench index` compares cold indexing with.
PYTHON ?= python3
BENCH_VENVS ?= .bench-venvs
AIDER_VENV := $(BENCH_VENVS)/aider
AIDER_PACKAGE := aider-chat==0.86.2
SUDO := $(shell [ "$$(id -u)" -eq 0 ] 2>/dev/null || echo sudo)

.PHONY: bench-deps bench-ctags

bench-deps: $(AIDER_VENV)/.installed bench-ctags

$(AIDER_VENV)/.installed: bench.mk
	$(PYTHON) -m venv $(AIDER_VENV)
	$(AIDER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AIDER_VENV)/bin/python -m pip install --quiet '$(AIDER_PACKAGE)'
	touch $@

bench-ctags:
	@if ctags --version 2>/dev/null | grep -q 'Universal Ctags'; then \
		echo "universal-ctags: installed"; \
	else \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y universal-ctags; \
	fi
