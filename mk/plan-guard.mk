# Plan guard (tools/plan-guard): see the target below. Included by the top-level Makefile.
# Refuses a plan that deletes or replaces a resource of a stateful type (stacks/protection/stateful-types.ts) unless its
# address is allowed. PLAN is `terraform show -json <planfile>` output, e.g. for one synthesized stack:
#
#   terraform -chdir=cdktf.out/stacks/members-prod plan -out=plan.tfplan
#   terraform -chdir=cdktf.out/stacks/members-prod show -json plan.tfplan > plan.json
#   make plan-guard PLAN=plan.json STACK=members-prod [ALLOW="addr1 addr2"] [SUMMARY=plan-guard.md]
#
# ALLOW and the environment variable PLAN_GUARD_ALLOW are merged. Exit 0 passed, 1 refused, 2 not a readable plan.

PLAN_GUARD_USAGE := usage: make plan-guard PLAN=plan.json [STACK=members-prod] [ALLOW="addr1 addr2"] [SUMMARY=file.md]

.PHONY: plan-guard

plan-guard: $(NODE_STAMP) ## [deploy] Refuse deletes/replaces of stateful resources in PLAN=plan.json (STACK, ALLOW, SUMMARY)
	@$(if $(PLAN),,echo '$(PLAN_GUARD_USAGE)' >&2; exit 2)
	node --require ts-node/register/transpile-only tools/plan-guard/main.ts '$(PLAN)' \
		$(if $(STACK),--stack '$(STACK)') $(foreach a,$(ALLOW),--allow '$(a)') $(if $(SUMMARY),--summary '$(SUMMARY)')
