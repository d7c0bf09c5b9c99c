# AWS rehearsal (tools/aws-rehearsal): the real hashicorp/aws provider applies the AWS half of the production stack
# against moto on 127.0.0.1, then proves: no perpetual diff, destroy and rename refused by prevent_destroy, the plan
# guard refusing a deleted protected resource, the S3 state lock honoured. Included by the top-level Makefile.
# moto comes pinned from tools/aws-rehearsal/requirements.lock into its own venv, .local/aws-rehearsal/venv.
# The aws provider comes from the Terraform CLI configuration as in tf-validate (mk/tf-validate.mk, TF_PLUGIN_MIRROR).
# When it cannot be installed the rehearsal is skipped, saying why (exit 0); under `make test` or CI=... it fails.
# `make aws-rehearsal-self-test` rehearses mutated copies (a perpetual diff, each prevent_destroy dropped) that must fail.

TF_PLUGIN_MIRROR ?= /opt/tf-plugins
AWS_REHEARSAL_PYTHON ?= $(PYTHON)
AWS_REHEARSAL_DIR := .local/aws-rehearsal
AWS_REHEARSAL_VENV := $(AWS_REHEARSAL_DIR)/venv
AWS_REHEARSAL_LOCK := tools/aws-rehearsal/requirements.lock
AWS_REHEARSAL_STAMP := $(AWS_REHEARSAL_VENV)/.requirements.installed
# The stack directory to rehearse; empty: the configuration's last production AWS stack (tools/aws-rehearsal/rehearsed-stack.ts).
AWS_REHEARSAL_STACK ?=
AWS_REHEARSAL_STRICT ?= $(if $(CI),--strict)
# Extra driver arguments, e.g. AWS_REHEARSAL_ARGS=--keep keeps the working directories (.local/aws-rehearsal/run).
AWS_REHEARSAL_ARGS ?=
AWS_REHEARSAL_RUN = node --require ts-node/register/transpile-only tools/aws-rehearsal/run.ts $(if $(AWS_REHEARSAL_STACK),--stack $(AWS_REHEARSAL_STACK)) \
	--work $(AWS_REHEARSAL_DIR) --python $(AWS_REHEARSAL_VENV)/bin/python --plugin-mirror "$(TF_PLUGIN_MIRROR)"

.PHONY: aws-rehearsal-venv aws-rehearsal aws-rehearsal-self-test

$(AWS_REHEARSAL_STAMP): $(AWS_REHEARSAL_LOCK)
	$(REQUIRE_PYTHON)
	@test -x $(AWS_REHEARSAL_VENV)/bin/python || $(AWS_REHEARSAL_PYTHON) -m venv $(AWS_REHEARSAL_VENV)
	$(AWS_REHEARSAL_VENV)/bin/python -m pip install -q --disable-pip-version-check -r $(AWS_REHEARSAL_LOCK)
	@touch $@

aws-rehearsal-venv: $(AWS_REHEARSAL_STAMP) ## [develop] Install the pinned moto into .local/aws-rehearsal/venv

# In `make test` a skip is a failure: the rehearsal must really run there.
test: AWS_REHEARSAL_STRICT := --strict

aws-rehearsal: synth $(AWS_REHEARSAL_STAMP) ## [develop] Apply the production stack's AWS half on moto: no perpetual diff, destroy/rename refused, plan guard, state lock (make test)
	@$(AWS_REHEARSAL_RUN) $(AWS_REHEARSAL_STRICT) $(AWS_REHEARSAL_ARGS)

aws-rehearsal-self-test: synth $(AWS_REHEARSAL_STAMP) ## [develop] Rehearse mutated copies (perpetual diff, each prevent_destroy dropped): every one must fail
	@$(AWS_REHEARSAL_RUN) --self-test $(AWS_REHEARSAL_ARGS)
