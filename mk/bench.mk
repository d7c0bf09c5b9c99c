# Benchmarks: `make bench` writes .local/bench/results.md and prints it. Included by the top-level Makefile.
# Not part of `make test`: nothing here fails on a speed figure (only a broken harness or pipeline fails it, and the
# slow one-million-row reliability test, which runs here as a step: its failure fails `make bench`, after the
# results are written). Speed goals (issue 15) are columns with a verdict (goal met / not met), never a failure.
#
#   make bench                                         full run (synth x5, jest, pytest + the 1M-row test, 100k + 1M
#                                                      members: extract, first load, daily load; cost)
#   make bench BENCH_ROWS="1000000 10000000"           goals at 1M and 10M members (growth 1M -> 10M); the 10M
#                                                      tables take minutes to generate once, then are kept; Spark
#                                                      steps run BENCH_RUNS times below 10M, BENCH_LARGE_RUNS at 10M
#                                                      (3: the goals' verdicts are medians; about 26 min with the data kept)
#   make bench BENCH_ROWS="1000000 10000000" BENCH_LARGE_RUNS=1   quicker, one run per Spark step at 10M (a verdict
#                                                      then rests on one run: 10M steps vary by about 10 % here)
#   make bench BENCH_ROWS=20000 BENCH_RUNS=1 BENCH_SYNTH_RUNS=1 BENCH_SLOW_RUNS=0   quick check of the harness
#
# The bench runs its own MariaDB (the mk/python.mk mariadb-up/-down targets with a separate data dir and port), so
# it never stops the server of a `make test` running at the same time and its big tables never reach the tests'
# server. With MEMBERS_MYSQL_HOST exported, that server is used instead and nothing is started.

BENCH_ROWS ?= 100000 1000000
BENCH_RUNS ?= 3
BENCH_LARGE_RUNS ?= 3
BENCH_SYNTH_RUNS ?= 5
BENCH_JEST_RUNS ?= 1
BENCH_PYTEST_RUNS ?= 1
BENCH_SLOW_RUNS ?= 1
BENCH_DIR := $(REPO_ROOT)/.local/bench
BENCH_MARIADB_DIR ?= $(BENCH_DIR)/mariadb
BENCH_MARIADB_PORT ?= 13307
# 10M members with random uuid keys are ~2.5 GB of InnoDB pages: with the tests' 256M pool, generating them thrashes
# (9M rows in 15 min, measured); with the table in memory it is CPU-bound.
BENCH_MARIADB_BUFFER_POOL ?= 4G
BENCH_MARIADB_VARS := MARIADB_DIR='$(BENCH_MARIADB_DIR)' MARIADB_PORT=$(BENCH_MARIADB_PORT) MARIADB_BUFFER_POOL=$(BENCH_MARIADB_BUFFER_POOL)

ifeq ($(MARIADB_MANAGED),1)
# With the bench server's own CA: the test suites it runs verify the server (else they check it against the tests' CA).
BENCH_DB_ENV := MEMBERS_MYSQL_HOST=127.0.0.1 MEMBERS_MYSQL_PORT=$(BENCH_MARIADB_PORT) MEMBERS_MYSQL_USER=$(MARIADB_USER) \
	MEMBERS_MYSQL_PASSWORD='$(MARIADB_PASSWORD)' MEMBERS_MYSQL_DATABASE=$(MARIADB_DATABASE) \
	MEMBERS_MYSQL_CA='$(BENCH_MARIADB_DIR)/tls/ca.pem' MEMBERS_MYSQL_TRUST_STORE='$(BENCH_MARIADB_DIR)/tls/truststore.p12'
else
BENCH_DB_ENV :=
endif

# The recipe calls make through this variable, not $(MAKE) directly: GNU make runs a recipe line that names $(MAKE)
# even under `make -n`, and this one starts with `rm -rf` of the results folder (a dry run removed a running bench's).
BENCH_SUBMAKE = $(MAKE)

.PHONY: bench

bench: $(NODE_STAMP) wheel venv jdbc-driver ## [maintain] Benchmarks + cost model -> .local/bench/results.md (BENCH_ROWS, BENCH_RUNS; not in make test)
	@set -euo pipefail; parts='$(BENCH_DIR)/parts'; out='$(BENCH_DIR)/results.md'; \
	rm -rf "$$parts"; mkdir -p "$$parts"; \
	trap '$(BENCH_SUBMAKE) --no-print-directory mariadb-down $(BENCH_MARIADB_VARS)' EXIT; \
	$(BENCH_SUBMAKE) --no-print-directory mariadb-up $(BENCH_MARIADB_VARS); \
	command -v mariadb >/dev/null || command -v mysql >/dev/null || { echo "bench: no mariadb client on PATH" >&2; exit 1; }; \
	{ echo "# Benchmark results"; echo; \
	  echo "$$(date -u '+%Y-%m-%d %H:%M UTC'), commit $$(git rev-parse --short HEAD)$$(git diff --quiet HEAD -- || echo ' + uncommitted changes'),"; \
	  echo "$$(nproc) CPUs, $$(free -g | awk '/^Mem:/{print $$2}') GB RAM, load average at start $$(cut -d' ' -f1-3 /proc/loadavg)."; \
	  echo "Settings: BENCH_ROWS='$(BENCH_ROWS)' BENCH_RUNS=$(BENCH_RUNS) BENCH_LARGE_RUNS=$(BENCH_LARGE_RUNS)" \
	       "BENCH_SYNTH_RUNS=$(BENCH_SYNTH_RUNS) BENCH_JEST_RUNS=$(BENCH_JEST_RUNS) BENCH_PYTEST_RUNS=$(BENCH_PYTEST_RUNS)" \
	       "BENCH_SLOW_RUNS=$(BENCH_SLOW_RUNS)."; \
	  echo "Peak RSS = largest resident set of any process in the step's process tree (rusage; the Spark JVM included)."; \
	  echo; } > "$$parts/0-header.md"; \
	echo "bench: 1/4 synth (python3 tools/bench/synth_bench.py, $(BENCH_SYNTH_RUNS) runs)" >&2; \
	{ echo "## 1. Synth"; echo; $(PY_BIN) tools/bench/synth_bench.py '$(REPO_ROOT)' $(BENCH_SYNTH_RUNS); echo; } > "$$parts/1-synth.md"; \
	echo "bench: 2/4 test suites (jest x$(BENCH_JEST_RUNS), pytest x$(BENCH_PYTEST_RUNS), pytest -m slow x$(BENCH_SLOW_RUNS))" >&2; \
	slow_rc=0; { echo "## 2. Test suites"; echo; $(BENCH_DB_ENV) $(PY_BIN) tools/bench/suites_bench.py '$(REPO_ROOT)' \
	    --jest-runs $(BENCH_JEST_RUNS) --pytest-runs $(BENCH_PYTEST_RUNS) --slow-runs $(BENCH_SLOW_RUNS) --pytest-args '$(PY_PYTEST_ARGS)'; } > "$$parts/2-suites.md" \
	    || slow_rc=$$?; \
	echo "bench: 3/4 extract and load (members: $(BENCH_ROWS))" >&2; \
	{ echo "## 3-5. Extract, first and daily load, peak memory, growth"; echo; $(BENCH_DB_ENV) $(PY_BIN) tools/bench/pipeline_bench.py \
	    --rows $(BENCH_ROWS) --runs $(BENCH_RUNS) --large-runs $(BENCH_LARGE_RUNS); } > "$$parts/3-pipeline.md"; \
	echo "bench: 4/4 cost model (make cost)" >&2; \
	{ echo "## Cost model (make cost)"; echo; $(BENCH_SUBMAKE) -s --no-print-directory cost | grep -v '^  synthesized '; echo; } > "$$parts/4-cost.md"; \
	echo "Load average at the end: $$(cut -d' ' -f1-3 /proc/loadavg)." > "$$parts/5-footer.md"; \
	cat "$$parts"/*.md > "$$out"; echo; cat "$$out"; echo; echo "bench: written to $$out" >&2; \
	[ $$slow_rc = 0 ] || { echo "bench: FAILED: the slow test step (pytest -m slow, one million rows) failed (.local/bench/pytest-slow.log)" >&2; exit 1; }
