# Policy checks over the synthesized stacks: checkov (pinned, own venv) on every stack, skips from one file.
# The cdktf policy pack (stacks/policy) runs inside every synth, so `synth` below already fails on a rule error;
# its jest cases, and the configuration fuzzing, run with `make jest`.
# Included by the top-level Makefile (needs its `synth` target).

POLICY_PYTHON ?= $(PYTHON)
CHECKOV_VENV ?= .local/checkov-venv
CHECKOV_LOCK := tools/checkov/requirements.lock
CHECKOV_STAMP := $(CHECKOV_VENV)/.requirements.installed

.PHONY: checkov-venv policy-check

# A venv of its own: checkov's pins (packaging<24, importlib-metadata<8) conflict with the notebooks' (.venv).
$(CHECKOV_STAMP): $(CHECKOV_LOCK)
	$(REQUIRE_PYTHON)
	@test -x $(CHECKOV_VENV)/bin/python || $(POLICY_PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r $(CHECKOV_LOCK)
	@touch $@

checkov-venv: $(CHECKOV_STAMP) ## [develop] Install the pinned checkov into .local/checkov-venv

policy-check: synth $(CHECKOV_STAMP) ## [develop] checkov over every synthesized stack: zero failures, skips only from tools/checkov/skips.yaml
	$(CHECKOV_VENV)/bin/python tools/checkov/run.py cdktf.out
