# make run   - set up a local virtual environment, then serve with embedded defaults and demo accounts
# make test  - set up, then run the whole test suite (SQLite and embedded Valkey unless ATTN_TEST_* say otherwise)
# make browser - Debian's chromium for the browser tests: installed when missing and possible, else how to get it;
#                and axe-core (pinned, checked) for the accessibility tests, fetched into .cache/ when missing
# make sso-provider - the test OpenID Provider (npm oidc-provider, pinned by its package-lock.json)
#                installed with npm ci into .cache/oidc-provider/ when missing or changed
# make xmlsec - Debian's xmlsec1, which SAML sign-in (pysaml2) signs and verifies with: installed when
#               missing and possible, else how to get it
# make test-cluster - the store, service, API, sweep and event-stream tests (not the slow ones) on a
#                3-primary Redis Cluster started on loopback (tests/support/redis_cluster.py)
# make check - lint, format check and type check
# make bench - the benchmark suite (starts the service itself; see bench/README.md)

VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
APT_GET ?= apt-get
CHROMIUM ?= /usr/bin/chromium

CLUSTER_TESTS ?= tests/store tests/services tests/api tests/tasks tests/http/test_event_streams.py

.PHONY: run test test-cluster check lint format bench clean setup browser sso-provider xmlsec

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "ATTN needs Python 3.11 or newer on PATH (python3.11, python3.12, ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.cluster
	$(BIN)/python -m bench.profile

run: $(STAMP)
	$(BIN)/attn serve --demo

test: $(STAMP) browser sso-provider xmlsec
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-cluster: $(STAMP)
	ATTN_TEST_REDIS_URL= ATTN_TEST_REDIS_CLUSTER=1 $(BIN)/python -m pytest $(CLUSTER_TESTS) -m "not slow and not e2e" $(PYTEST_ARGS)

# The browser tests look for Chromium where tests/support/browser.py does: ATTN_CHROMIUM,
# /usr/bin/chromium, then chromium on PATH. Only root with apt-get can install it; everyone
# else is told how, and this target succeeds either way so that `make test` never stops here.
# apt-get never prompts (no terminal, -y, old config files kept) and is bounded by a timeout.
FIND_CHROMIUM = for c in "$$ATTN_CHROMIUM" "$(CHROMIUM)" "$$(command -v chromium)"; do \
	if [ -n "$$c" ] && [ -f "$$c" ] && [ -x "$$c" ]; then echo "$$c"; break; fi; done
APT = DEBIAN_FRONTEND=noninteractive $$(command -v timeout >/dev/null 2>&1 && echo timeout 600) \
	$(APT_GET) -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold

browser:
	@found="$$($(FIND_CHROMIUM))"; \
	if [ -n "$$found" ]; then \
		echo "browser: Chromium is $$found"; \
	elif [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
		echo "browser: installing Debian's chromium with $(APT_GET)"; \
		$(APT) install chromium </dev/null || { $(APT) update </dev/null && $(APT) install chromium </dev/null; } || true; \
		found="$$($(FIND_CHROMIUM))"; \
		if [ -n "$$found" ]; then echo "browser: Chromium is $$found"; \
		else echo "browser: $(APT_GET) could not install chromium; the browser tests will be skipped"; fi; \
	else \
		echo "browser: Chromium not found; the browser tests will be skipped until it is there."; \
		echo "browser: install Debian's chromium package as root (apt-get install chromium, then make browser),"; \
		echo "browser: or set ATTN_CHROMIUM to the path of a Chromium binary."; \
	fi
	@if [ -n "$(PYTHON)" ]; then $(PYTHON) tests/support/axe_source.py || true; \
	else echo "browser: no Python 3.11+ to fetch axe-core; the accessibility tests will fetch it or be skipped"; fi

# Needs Node.js (node and npm on PATH; Debian's nodejs and npm are installed when missing and
# root with apt-get can) and the npm registry once; the single sign-on tests skip, saying why,
# when it cannot be had. Never stops `make test`.
sso-provider:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
			echo "sso-provider: installing Debian's nodejs and npm with $(APT_GET)"; \
			$(APT) install nodejs npm </dev/null || { $(APT) update </dev/null && $(APT) install nodejs npm </dev/null; } || true; \
		else echo "sso-provider: Node.js not found; install nodejs and npm (the single sign-on tests skip until then)"; fi; \
	fi
	@if [ -n "$(PYTHON)" ]; then $(PYTHON) -m tests.support.oidc_harness || true; \
	else echo "sso-provider: no Python 3.11+; the single sign-on tests will install it or be skipped"; fi

# SAML sign-in calls Debian's xmlsec1 binary; as with Chromium, only root with apt-get installs
# it, everyone else is told how, and `make test` goes on (the SAML tests are then skipped).
xmlsec:
	@if command -v xmlsec1 >/dev/null 2>&1; then \
		echo "xmlsec: xmlsec1 is $$(command -v xmlsec1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null 2>&1; then \
		echo "xmlsec: installing Debian's xmlsec1 with $(APT_GET)"; \
		$(APT) install xmlsec1 </dev/null || { $(APT) update </dev/null && $(APT) install xmlsec1 </dev/null; } || true; \
		command -v xmlsec1 >/dev/null 2>&1 && echo "xmlsec: xmlsec1 is $$(command -v xmlsec1)" \
			|| echo "xmlsec: $(APT_GET) could not install xmlsec1; the SAML tests will be skipped"; \
	else \
		echo "xmlsec: xmlsec1 not found; SAML sign-in and its tests need it."; \
		echo "xmlsec: install Debian's xmlsec1 package as root (apt-get install xmlsec1)."; \
	fi

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) attn-data .pytest_cache .mypy_cache .ruff_cache
