# Entry points for people and CI. Every target installs what it is missing, so a fresh clone needs only `make <target>`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
REPO_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
NODE_STAMP := node_modules/.package-lock.stamp
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := .local/tools/actionlint-$(ACTIONLINT_VERSION)/actionlint

include mk/python.mk
include mk/policy.mk
include mk/bench.mk
include mk/plan-guard.mk
include mk/tf-validate.mk
include mk/aws-rehearsal.mk
include mk/artifacts.mk
include mk/cdktn.mk

.PHONY: help doctor wheel synth test node-test fork-check typecheck lint-ts lint-duplicates jest lint-workflows diagrams cost clean address-contract docs-links

help: ## [first look] List the targets by what you are doing (tools/make-help.awk)
	@awk -f tools/make-help.awk $(MAKEFILE_LIST)

# The members_pipeline wheel the jobs attach (notebooks/pyproject.toml); rebuilt when a package file changes. The stack
# uploads it, so synth (and the synth tests) need it. Hatchling's fixed zip timestamps make it reproducible.
# The build backend comes from notebooks/build-requirements.txt only (every pin with its sha256, --require-hashes,
# wheels only) in a venv of its own, and the build runs without isolation in it: nothing unpinned is fetched.
WHEEL_DIR := notebooks/dist
WHEEL_STAMP := $(WHEEL_DIR)/.built
WHEEL_BUILD_REQUIREMENTS := notebooks/build-requirements.txt
WHEEL_BUILD_VENV := .local/wheel-build-venv
WHEEL_BUILD_STAMP := $(WHEEL_BUILD_VENV)/.requirements.installed
$(WHEEL_BUILD_STAMP): $(WHEEL_BUILD_REQUIREMENTS)
	$(REQUIRE_PYTHON)
	rm -rf $(WHEEL_BUILD_VENV)
	$(PY_PYTHON) -m venv $(WHEEL_BUILD_VENV)
	$(WHEEL_BUILD_VENV)/bin/python -m pip install -q --disable-pip-version-check --require-hashes --only-binary :all: -r $(WHEEL_BUILD_REQUIREMENTS)
	@touch $@

$(WHEEL_STAMP): notebooks/pyproject.toml $(WHEEL_BUILD_STAMP) $(wildcard notebooks/members_pipeline/*.py notebooks/members_pipeline/*.json notebooks/members_pipeline/health/*.sql)
	rm -rf $(WHEEL_DIR)
	$(WHEEL_BUILD_VENV)/bin/python -m pip wheel -q --no-deps --no-build-isolation --disable-pip-version-check -w $(WHEEL_DIR) ./notebooks
	@touch $@

wheel: $(WHEEL_STAMP) ## [develop] Build the members_pipeline wheel into notebooks/dist/ (the one code artifact the jobs attach)

# npm ci only when the lock file changed since the last install.
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

synth: $(NODE_STAMP) $(WHEEL_STAMP) $(JDBC_DRIVER_JAR) ## [first look] Synthesize every environment's stack into cdktf.out/ (no credentials needed)
	node --require ts-node/register/transpile-only main.ts
	@ls cdktf.out/stacks | sed 's/^/  synthesized /'

doctor: $(NODE_STAMP) ## [first look] What a fork still has to adapt (example values in stacks/config) and what this machine lacks, with fixes; quiet when ready
	@node --require ts-node/register/transpile-only tools/doctor.ts

cost: synth ## [first look] Estimate compute cost per run and per month of every stack (tools/cost/prices.json)
	@node --require ts-node/register/transpile-only tools/cost/report.ts

typecheck: $(NODE_STAMP) ## [develop] tsc --noEmit over the app and the tests
	npx tsc --noEmit -p .

jest: $(NODE_STAMP) $(WHEEL_STAMP) $(JDBC_DRIVER_JAR) ## [develop] Jest suites (synth tests, config validation)
	npx jest --ci

lint-ts: $(NODE_STAMP) ## [develop] Biome (lint + format check, config in biome.json) over the TypeScript, JS and JSON; `npx biome check --write .` fixes
	npx biome ci --colors=off .

lint-duplicates: $(NODE_STAMP) ## [develop] jscpd: no block of 6+ lines copied between source files (tests excluded; .jscpd.json)
	npx jscpd stacks tools notebooks main.ts

# Relative links and #anchors of README.md, docs/ and notebooks/README.md, and every docs page reachable from the README.
docs-links: $(NODE_STAMP) ## [develop] Check every relative link and #anchor in README.md, docs/ and notebooks/README.md; every docs page reachable
	node --require ts-node/register/transpile-only tools/docs/check-links.ts

node-test: typecheck lint-ts lint-duplicates docs-links jest

# The fork lane (jest.fork.config.js): jest once more, stacks/config/environments.ts replaced by
# __tests__/fixtures/forked-environments.ts (other prefixes and repository, the Azure example removed, a `qa` added).
# Green means the tests test the code, not the shipped example: a fork's edits to environments.ts leave them green.
# Part of `make test`: warm, it takes about as long as jest itself (75 s on 2 cores), under the lanes' 90 s bar.
fork-check: $(NODE_STAMP) $(WHEEL_STAMP) $(JDBC_DRIVER_JAR) ## [maintain] Jest on a forked configuration (jest.fork.config.js): no test may depend on the shipped example
	npx jest --ci -c jest.fork.config.js

# Built from source with the Go toolchain (the module proxy), pinned; no prebuilt binary download.
$(ACTIONLINT):
	GOBIN=$(REPO_ROOT)/$(dir $(ACTIONLINT)) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

lint-workflows: $(ACTIONLINT) ## [develop] actionlint over .github/workflows
	$(ACTIONLINT) -color=false
	@echo "actionlint: workflows OK"

RENDERER_STAMP := diagrams/renderer/node_modules/.package-lock.stamp
$(RENDERER_STAMP): diagrams/renderer/package.json diagrams/renderer/package-lock.json
	cd diagrams/renderer && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

# Debian's Chromium; mermaid-cli's own browser download is skipped.
diagrams: $(NODE_STAMP) $(WHEEL_STAMP) $(JDBC_DRIVER_JAR) $(RENDERER_STAMP) ## [first look] Regenerate the stack diagrams and render every diagrams/*.mmd to SVG
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	node --require ts-node/register/transpile-only tools/resource-diagram.ts
	diagrams/render.sh

test: node-test fork-check cdktn-check lint-workflows policy-check tf-validate-fixture aws-rehearsal bootstrap-rehearsal py-test ## [first look] Everything CI runs: type-check, Biome, jscpd, the docs' links, jest, the fork lane, the cdktn lane, actionlint, checkov, terraform validate + mocked plan (fixture), the AWS rehearsal and the AWS bootstrap on moto, Ruff + pytest (Spark + Delta + MariaDB) last

clean: py-clean ## [develop] Remove build output and local state (keeps node_modules and .venv)
	rm -rf cdktf.out dist coverage

address-contract: $(NODE_STAMP) $(JDBC_DRIVER_JAR) ## [deploy] Rewrite __tests__/protected-addresses.json after the first deploy of an environment or a reviewed rename/move (docs/safety/changing-things-safely.md)
	node --require ts-node/register/transpile-only tools/address-contract/main.ts

.PHONY: ci-identities-doc
ci-identities-doc: $(NODE_STAMP) ## [deploy] Regenerate docs/deploy/ci-identities.md (GitHub environments, Databricks federation policies) from the config
	node --require ts-node/register/transpile-only tools/ci-identities-doc.ts

.PHONY: docs-reference
docs-reference: $(NODE_STAMP) ## [maintain] Regenerate docs/reference/ (configuration fields, policy rules, notebook parameters) from the code
	node --require ts-node/register/transpile-only tools/docs/reference.ts

.PHONY: bootstrap-rehearsal
bootstrap-rehearsal: synth $(AWS_REHEARSAL_STAMP) ## [develop] Apply members-bootstrap-aws on moto: no changes on a second plan, destroy refused
	node --require ts-node/register/transpile-only tools/bootstrap-rehearsal.ts --work .local/bootstrap-rehearsal \
		--python $(AWS_REHEARSAL_VENV)/bin/python --plugin-mirror "$(TF_PLUGIN_MIRROR)"
