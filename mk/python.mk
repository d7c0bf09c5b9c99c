# Python side: notebooks venv, Ruff, local MariaDB, pytest, demo.
# Included by the top-level Makefile; also works standalone: `make -f mk/python.mk py-test|demo`.
#
# Use an existing MySQL server instead of the local MariaDB by exporting MEMBERS_MYSQL_HOST (and
# MEMBERS_MYSQL_PORT/USER/PASSWORD/DATABASE); mariadb-up/-down then do nothing.

PY_MK_FILE := $(abspath $(lastword $(MAKEFILE_LIST)))
PY_ROOT ?= $(abspath $(dir $(PY_MK_FILE))..)
# One Python for every venv: the first >= 3.11 on PATH by any name (tools/find-python.sh); `make PYTHON=...` picks one.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell '$(PY_ROOT)/tools/find-python.sh' 2>/dev/null)
endif
# A recipe's first line when it needs $(PYTHON): says which Python is missing and how to name one.
REQUIRE_PYTHON = @test -n '$(PYTHON)' || '$(PY_ROOT)/tools/find-python.sh' >/dev/null
PY_PYTHON ?= $(PYTHON)
PY_VENV ?= $(PY_ROOT)/.venv
PY_BIN := $(PY_VENV)/bin/python
PY_RUFF := $(PY_VENV)/bin/ruff
PY_REQUIREMENTS := $(PY_ROOT)/notebooks/requirements.txt
PY_VENV_STAMP := $(PY_VENV)/.requirements.installed
# The default suite leaves out the slow tests (the one-million-row reliability test, @pytest.mark.slow): they run in
# `make py-test-slow` and in `make bench`. One process: two pytest-xdist workers (-n 2, a JVM each) measured no faster
# on 2 cores (355 s against 358 s, 2026-12-05): a single local session already keeps both cores busy.
PY_PYTEST_ARGS ?= -q -m "not slow"
PY_PYTEST_SLOW_ARGS ?= -q -m slow
PY_DEMO_ROWS ?= $(or $(ROWS),1000)

MARIADB_DIR ?= $(PY_ROOT)/.local/mariadb
# Below Linux's ephemeral range (32768-60999): a port in it can be held by any client connection's local end, and
# the server's bind then fails though nothing listens (a CI run on 33306, 2026-12-06).
MARIADB_PORT ?= 13306
MARIADB_DATABASE ?= members
MARIADB_USER ?= members_app
# Local, loopback-only test server; not a real credential.
MARIADB_PASSWORD ?= local-test-only
MARIADB_BUFFER_POOL ?= 256M
MARIADB_SH := $(PY_ROOT)/notebooks/scripts/mariadb.sh

ifeq ($(strip $(MEMBERS_MYSQL_HOST)),)
MARIADB_MANAGED := 1
# The server's CA (mariadb.sh writes it under $(MARIADB_DIR)/tls): the tests and the demo verify the server with it.
PY_DB_ENV := MEMBERS_MYSQL_HOST=127.0.0.1 MEMBERS_MYSQL_PORT=$(MARIADB_PORT) MEMBERS_MYSQL_USER=$(MARIADB_USER) \
	MEMBERS_MYSQL_PASSWORD='$(MARIADB_PASSWORD)' MEMBERS_MYSQL_DATABASE=$(MARIADB_DATABASE) \
	MEMBERS_MYSQL_CA='$(MARIADB_DIR)/tls/ca.pem' MEMBERS_MYSQL_TRUST_STORE='$(MARIADB_DIR)/tls/truststore.p12'
else
MARIADB_MANAGED :=
PY_DB_ENV :=
endif
PY_MARIADB_ENV := MARIADB_DIR='$(MARIADB_DIR)' MARIADB_PORT=$(MARIADB_PORT) MARIADB_DATABASE=$(MARIADB_DATABASE) \
	MARIADB_USER=$(MARIADB_USER) MARIADB_PASSWORD='$(MARIADB_PASSWORD)' MARIADB_BUFFER_POOL=$(MARIADB_BUFFER_POOL)
PY_MARIADB_DOWN := $(if $(MARIADB_MANAGED),$(PY_MARIADB_ENV) $(MARIADB_SH) down,true)

.PHONY: venv lint-py format-py mariadb-up mariadb-down chromium py-test py-test-slow demo py-clean

venv: $(PY_VENV_STAMP) ## [develop] Python venv .venv from notebooks/requirements.txt (reinstalls when it changes)

# Re-installs whenever requirements.txt changes.
# members_pipeline is installed editable from notebooks/pyproject.toml: the notebooks, the runner and the tests import
# it as Databricks does (from the wheel), with no sys.path tricks.
$(PY_VENV_STAMP): $(PY_REQUIREMENTS) $(PY_ROOT)/notebooks/pyproject.toml
	$(REQUIRE_PYTHON)
	@test -x $(PY_BIN) || $(PY_PYTHON) -m venv $(PY_VENV)
	@echo "venv: installing notebooks/requirements.txt into $(PY_VENV) (pyspark and delta-spark: about 2 minutes the first time)" >&2
	$(PY_BIN) -m pip install -q -r $(PY_REQUIREMENTS)
	$(PY_BIN) -m pip install -q --no-deps -e $(PY_ROOT)/notebooks
	@touch $@

# Check mode only (CI): every Python file of the repository, rules and line length in ruff.toml.
lint-py: venv ## [develop] Ruff lint and format check of every Python file (ruff.toml); `make format-py` fixes
	cd $(PY_ROOT) && $(PY_RUFF) check . && $(PY_RUFF) format --check .

format-py: venv ## [develop] Ruff: apply the safe lint fixes and format every Python file
	cd $(PY_ROOT) && $(PY_RUFF) check --fix . && $(PY_RUFF) format .

mariadb-up: ## [develop] Start the local MariaDB on 127.0.0.1:13306 (installs mariadb-server if missing)
ifeq ($(MARIADB_MANAGED),1)
	@$(PY_MARIADB_ENV) $(MARIADB_SH) up
else
	@echo "using existing MySQL server $(MEMBERS_MYSQL_HOST):$(or $(MEMBERS_MYSQL_PORT),3306) (MEMBERS_MYSQL_HOST set)"
endif

mariadb-down: ## [develop] Stop the local MariaDB
	@$(PY_MARIADB_DOWN)

# Headless Chromium: the health report's browser test (notebooks/tests/test_health.py) and `make diagrams` render with
# Debian's package, installed when missing.
chromium: ## [develop] Install Debian's chromium when it is missing (the health report test and the diagrams render with it)
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# pytest with the given options in notebooks/; stops MariaDB afterwards even when pytest fails, keeps pytest's exit code.
PY_PYTEST_RUN = cd $(PY_ROOT)/notebooks && $(PY_DB_ENV) $(PY_BIN) -m pytest $(1) tests; rc=$$?; \
	$(PY_MARIADB_DOWN); exit $$rc

py-test: venv lint-py mariadb-up chromium ## [develop] Ruff, then pytest: unit, JDBC against MariaDB, Spark + Delta, notebooks end to end (not -m slow)
	@$(call PY_PYTEST_RUN,$(PY_PYTEST_ARGS))

py-test-slow: venv mariadb-up ## [develop] pytest -m slow only: the one-million-row reliability test (also a `make bench` step)
	@$(call PY_PYTEST_RUN,$(PY_PYTEST_SLOW_ARGS))

# make demo [ROWS=100000]: generate -> extract -> load, then extract + load again (expects zero changes).
demo: venv mariadb-up ## [first look] Generate, extract, load, then rerun (zero changes); make demo ROWS=100000 (VERBOSE=1: Spark's own output)
	@cd $(PY_ROOT) && $(PY_DB_ENV) $(PY_BIN) notebooks/run_demo.py --rows $(PY_DEMO_ROWS) $(if $(VERBOSE),--verbose); rc=$$?; \
	$(if $(MARIADB_KEEP),true,$(PY_MARIADB_DOWN)); exit $$rc

# Local state only; the venv is kept (delete .venv by hand to rebuild it).
py-clean: mariadb-down ## [develop] Stop MariaDB, remove its data, the local Spark/demo state and Python caches (keeps .venv)
	rm -rf $(MARIADB_DIR) $(PY_ROOT)/.local/runner $(PY_ROOT)/.local/demo $(PY_ROOT)/notebooks/.pytest_cache
	find $(PY_ROOT)/notebooks -name __pycache__ -type d -prune -exec rm -rf {} +
