# Artifacts the stacks upload that are not built here (docs/safety/security.md): downloaded by URL into .local/artifacts/
# (outside git) and kept only when their sha256 is the one pinned in stacks/config/platform.json. Synth checks the
# sha256 again (stacks/databricks/artifacts.ts) before the stack uploads the file. Included by the top-level Makefile.
#
#   make jdbc-driver   the MySQL Connector/J jar of platform.json jdbcDriver.jar (the extract job's library)

ARTIFACTS_DIR := .local/artifacts
PLATFORM_JSON := stacks/config/platform.json
JDBC_DRIVER_URL := $(shell node -p "require('./$(PLATFORM_JSON)').jdbcDriver.jar.url" 2>/dev/null)
JDBC_DRIVER_SHA256 := $(shell node -p "require('./$(PLATFORM_JSON)').jdbcDriver.jar.sha256" 2>/dev/null)
JDBC_DRIVER_JAR := $(ARTIFACTS_DIR)/$(notdir $(JDBC_DRIVER_URL))

.PHONY: jdbc-driver

# Re-checked whenever platform.json changes; a file that does not match is deleted, never kept.
$(JDBC_DRIVER_JAR): $(PLATFORM_JSON)
	@[ -n '$(JDBC_DRIVER_URL)' ] && [ -n '$(JDBC_DRIVER_SHA256)' ] || { echo "jdbc-driver: no jdbcDriver.jar url/sha256 in $(PLATFORM_JSON)" >&2; exit 1; }
	@mkdir -p $(ARTIFACTS_DIR)
	@if [ -f '$@' ] && echo '$(JDBC_DRIVER_SHA256)  $@' | sha256sum --check --strict --quiet 2>/dev/null; then touch '$@'; exit 0; fi; \
	echo "jdbc-driver: downloading $(JDBC_DRIVER_URL)"; \
	curl -fsSL --retry 3 -o '$@.part' '$(JDBC_DRIVER_URL)' || { rm -f '$@.part'; exit 1; }; \
	got=$$(sha256sum '$@.part' | cut -d' ' -f1); \
	if [ "$$got" != '$(JDBC_DRIVER_SHA256)' ]; then \
	  rm -f '$@.part' '$@'; \
	  echo "jdbc-driver: REFUSED $(JDBC_DRIVER_URL): sha256 $$got, expected $(JDBC_DRIVER_SHA256) ($(PLATFORM_JSON))" >&2; exit 1; \
	fi; \
	mv '$@.part' '$@'; echo "jdbc-driver: $@ (sha256 $$got, as pinned)"

jdbc-driver: $(JDBC_DRIVER_JAR) ## [develop] Download the JDBC driver jar the stacks upload into .local/artifacts/, refused unless its sha256 is platform.json's

# Provider lock files (stacks/common/provider-locks.ts): regenerate them after a provider bump, where the Terraform
# registry is reachable, then review and commit stacks/provider-locks/. Synth copies them into each stack directory.
.PHONY: provider-locks
provider-locks: synth ## [deploy] Rewrite stacks/provider-locks/*.terraform.lock.hcl with terraform providers lock (needs the registry)
	node --require ts-node/register/transpile-only tools/provider-locks/main.ts cdktf.out
