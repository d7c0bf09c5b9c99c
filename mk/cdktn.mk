# The cdktf -> CDK Terrain (cdktn) lane (tools/cdktn; docs/maintainers/cdktn.md). Included by the top-level Makefile.
# Everything lives under .local/cdktn/: node_modules (npm ci of tools/cdktn/package.json + package-lock.json, only when
# the lock changes; never the root's), app/ (the codemod's rewritten copy), out/cdktf and out/cdktn (both synths of
# tools/cdktn/synth.ts) and report.md. Fails on a type error, a policy-pack error (synth), a missing or extra stack or
# address (compare), or a failing jest suite on the variant; attribute differences are only reported.

CDKTN_DIR := .local/cdktn
CDKTN_STAMP := $(CDKTN_DIR)/node_modules/.package-lock.stamp
CDKTN_RUN := node --require ts-node/register/transpile-only

.PHONY: cdktn-check

$(CDKTN_STAMP): tools/cdktn/package.json tools/cdktn/package-lock.json
	mkdir -p $(CDKTN_DIR)
	cp tools/cdktn/package.json tools/cdktn/package-lock.json $(CDKTN_DIR)/
	cd $(CDKTN_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

cdktn-check: $(NODE_STAMP) wheel $(JDBC_DRIVER_JAR) $(CDKTN_STAMP) ## [maintain] Build the app on CDK Terrain (.local/cdktn): tsc, synth, compare with cdktf (report.md), jest
	$(CDKTN_RUN) tools/cdktn/codemod.ts $(CDKTN_DIR)/app
	cd $(CDKTN_DIR)/app && ../node_modules/.bin/tsc --noEmit -p .
	$(CDKTN_RUN) tools/cdktn/synth.ts $(CDKTN_DIR)/out/cdktf
	cd $(CDKTN_DIR)/app && $(CDKTN_RUN) tools/cdktn/synth.ts ../out/cdktn
	$(CDKTN_RUN) tools/cdktn/compare.ts $(CDKTN_DIR)/out/cdktf $(CDKTN_DIR)/out/cdktn --report $(CDKTN_DIR)/report.md
	cd $(CDKTN_DIR)/app && ../node_modules/.bin/jest --ci

# Part of `make test` (the Makefile's test target), right after the node checks: warm, it adds about 65 s
# (docs/maintainers/cdktn.md), under the 90 s bar issue 17 set for it. Cold (first npm ci into .local/cdktn) about 95 s.
