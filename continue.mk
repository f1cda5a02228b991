# What tests/continue/ runs: Continue's CLI (`cn`, npm @continuedev/cli) and its config schema
# package (@continuedev/config-yaml), pinned in tests/continue/cli/package-lock.json and
# installed with `npm ci`. Included from the Makefile: `make pytest` runs `make continue-cli`
# first. Skipped when the lock file's packages are already installed.
CONTINUE_CLI_DIR := tests/continue/cli

.PHONY: continue-cli

continue-cli: $(CONTINUE_CLI_DIR)/node_modules/.package-lock.json

$(CONTINUE_CLI_DIR)/node_modules/.package-lock.json: $(CONTINUE_CLI_DIR)/package.json $(CONTINUE_CLI_DIR)/package-lock.json
	@echo "continue-cli: npm ci in $(CONTINUE_CLI_DIR)"
	cd $(CONTINUE_CLI_DIR) && npm ci --no-audit --no-fund --silent
	@touch $@
