# The VS Code extension (extension/): `make extension` installs its npm packages (from
# package-lock.json), checks that its settings match quill.config one for one, type-checks
# (tsc --noEmit, strict) and lints (eslint), runs its unit tests (node --test), bundles it with
# esbuild and packages it with vsce as extension/dist/quill.vsix.
#
# `make e2e` runs that .vsix in a real Code-OSS (code-server from npm) driven by playwright-core
# in Debian's Chromium, against the real `quill lsp` on the embedded model; screenshots of each
# step land in extension/e2e/artifacts/. `make e2e-deps` installs what it needs: Debian's
# chromium, libkrb5-dev (code-server's native modules) and ripgrep (packed into the cache file
# @vscode/ripgrep reads instead of downloading), then code-server and playwright-core.
# Each install step is skipped when its part is already there.
VENV ?= .venv
EXT_DIR := extension
EXT_E2E_DIR := $(EXT_DIR)/e2e
EXT_VSIX := $(EXT_DIR)/dist/quill.vsix
EXT_NPM := nice npm
EXT_SUDO := $(shell [ "$$(id -u)" -eq 0 ] 2>/dev/null || echo sudo)
EXT_APT_PACKAGES := chromium libkrb5-dev ripgrep
# @vscode/ripgrep (a code-server dependency) downloads rg from GitHub unless this file exists
EXT_RG_CACHE := $(EXT_E2E_DIR)/.tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
EXT_SOURCES := $(wildcard $(EXT_DIR)/src/*.ts $(EXT_DIR)/src/*/*.ts $(EXT_DIR)/media/*) \
	$(EXT_DIR)/package.json $(EXT_DIR)/esbuild.mjs $(EXT_DIR)/README.md

.PHONY: extension extension-deps extension-lint extension-unit extension-package e2e-deps e2e

extension: extension-lint extension-unit extension-package

extension-deps: $(EXT_DIR)/node_modules/.installed

$(EXT_DIR)/node_modules/.installed: $(EXT_DIR)/package-lock.json
	cd $(EXT_DIR) && $(EXT_NPM) ci --no-audit --no-fund
	touch $@

extension-lint: extension-deps setup
	$(VENV)/bin/python $(EXT_DIR)/scripts/sync_settings.py --check
	cd $(EXT_DIR) && node_modules/.bin/tsc --noEmit -p . && node_modules/.bin/eslint src test

extension-unit: extension-deps
	cd $(EXT_DIR) && rm -rf out && node_modules/.bin/tsc -p tsconfig.test.json && node --test out/test/

extension-package: $(EXT_VSIX)

$(EXT_VSIX): $(EXT_DIR)/node_modules/.installed $(EXT_SOURCES)
	cd $(EXT_DIR) && nice node esbuild.mjs && node_modules/.bin/vsce package --no-dependencies \
		--skip-license --allow-missing-repository -o dist/quill.vsix

e2e-deps:
	@if [ -x /usr/bin/chromium ] && command -v rg >/dev/null && \
		dpkg-query -W -f='$${Status}' libkrb5-dev 2>/dev/null | grep -q 'ok installed'; then \
		echo "e2e-deps: chromium, libkrb5-dev and ripgrep installed"; \
	else \
		echo "e2e-deps: apt-get install $(EXT_APT_PACKAGES)"; \
		$(EXT_SUDO) apt-get update -qq && \
		$(EXT_SUDO) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(EXT_APT_PACKAGES); \
	fi
	@if [ -x $(EXT_E2E_DIR)/node_modules/.bin/code-server ] && \
		[ -d $(EXT_E2E_DIR)/node_modules/playwright-core ]; then \
		echo "e2e-deps: code-server and playwright-core in $(EXT_E2E_DIR)/node_modules"; \
	else \
		mkdir -p $(dir $(EXT_RG_CACHE)) && \
		tar czf $(EXT_RG_CACHE) -C "$$(dirname "$$(command -v rg)")" rg && \
		echo "e2e-deps: npm ci in $(EXT_E2E_DIR) (code-server builds its native modules)" && \
		cd $(EXT_E2E_DIR) && TMPDIR="$$PWD/.tmp" npm_config_yes=true npm_config_unsafe_perm=true \
			PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(EXT_NPM) ci --no-audit --no-fund; \
	fi

e2e: setup extension-package e2e-deps
	node $(EXT_E2E_DIR)/run.mjs --vsix $(EXT_VSIX) --python $(VENV)/bin/python \
		--artifacts $(EXT_E2E_DIR)/artifacts
