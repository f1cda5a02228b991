# What tests/gateway/test_chat_page.py drives: Debian's Chromium and npm's playwright-core
# (pinned in tests/gateway/browser/package-lock.json; it uses /usr/bin/chromium, no browser
# download). Include it from the Makefile and make `pytest` depend on `gateway-browser`.
# Each step is skipped when its part is already there.
GATEWAY_BROWSER_DIR := tests/gateway/browser
GATEWAY_SUDO := $(shell [ "$$(id -u)" -eq 0 ] 2>/dev/null || echo sudo)

.PHONY: gateway-browser

gateway-browser:
	@if [ -x /usr/bin/chromium ]; then \
		echo "gateway-browser: $$(/usr/bin/chromium --version 2>/dev/null | head -n 1)"; \
	else \
		echo "gateway-browser: apt-get install chromium"; \
		$(GATEWAY_SUDO) apt-get update -qq && \
		$(GATEWAY_SUDO) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium; \
	fi
	@if [ -d $(GATEWAY_BROWSER_DIR)/node_modules/playwright-core ]; then \
		echo "gateway-browser: playwright-core in $(GATEWAY_BROWSER_DIR)/node_modules"; \
	else \
		echo "gateway-browser: npm ci in $(GATEWAY_BROWSER_DIR)"; \
		cd $(GATEWAY_BROWSER_DIR) && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
			npm ci --no-audit --no-fund --silent; \
	fi
