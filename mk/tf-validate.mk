# Credential-free Terraform validation (tools/tf-validate). Included by the top-level Makefile.
# Per stack, on a copy under .local/tf-validate/<stack>/: `terraform init -backend=false`, `terraform validate`, and
# `terraform test` with every provider mocked and `command = plan`. Stacks whose providers cannot be installed with
# the Terraform CLI configuration in effect are skipped, naming them (exit 0); any other failure fails the target.
# CLI configuration: yours if the file exists (TF_CLI_CONFIG_FILE or ~/.terraformrc); else, when TF_PLUGIN_MIRROR is a
# directory, .local/tf-validate/terraformrc (that mirror for what it holds, the registry for the rest); else the
# registry. `make tf-validate TF_PLUGIN_MIRROR=` never writes one.

TF_PLUGIN_MIRROR ?= /opt/tf-plugins
TF_VALIDATE_DIR := .local/tf-validate
TF_VALIDATE_FIXTURE_OUT := $(TF_VALIDATE_DIR)/fixture-out
TF_VALIDATE_FIXTURE := $(TF_VALIDATE_FIXTURE_OUT)/stacks/tf-validate-fixture
TF_VALIDATE_RUN := node --require ts-node/register/transpile-only tools/tf-validate/run.ts \
	--work $(TF_VALIDATE_DIR) --plugin-mirror "$(TF_PLUGIN_MIRROR)"

.PHONY: tf-validate tf-validate-fixture tf-validate-fixture-synth

# The AWS-only fixture stack (tools/tf-validate/fixture), its aws provider pinned to the mirror's 5.100.0.
tf-validate-fixture-synth: $(NODE_STAMP)
	@node --require ts-node/register/transpile-only tools/tf-validate/fixture/main.ts $(TF_VALIDATE_FIXTURE_OUT)

tf-validate-fixture: tf-validate-fixture-synth ## [develop] AWS-only fixture: validate + mocked plan must pass, a broken copy must fail (make test)
	@$(TF_VALIDATE_RUN) --strict --fixture $(TF_VALIDATE_FIXTURE)

tf-validate: synth tf-validate-fixture-synth ## [develop] init + validate + mocked-provider plan of every stack and the fixture; skips stacks whose providers are not installable
	@$(TF_VALIDATE_RUN) --fixture $(TF_VALIDATE_FIXTURE) --stacks cdktf.out/stacks
