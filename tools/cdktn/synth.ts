/**
 * `make cdktn-check` synthesizes both lanes with this one driver: as it is (cdktf, from the repository root) and as the
 * codemod rewrote it (cdktn, from .local/cdktn/app). Usage: synth.ts <outdir>; writes <outdir>/stacks/<stack>/cdk.tf.json.
 *
 * Every shipped environment, plus one coverage stack that only exists here: azure-dev with the Key Vault-backed secret
 * scope, the one code path that uses the azuread provider (the shipped stacks never do), so both hand-written
 * bindings (tools/cdktn/bindings.ts) are compared too. A policy-pack error throws, as in `make synth`.
 */
import { mkdirSync, rmSync } from "node:fs";
import { App } from "cdktf";
import { buildApp } from "../../stacks/app";
import { config } from "../../stacks/config/environments";
import type { AppConfigInput, EnvironmentInput } from "../../stacks/config/schema";

/** Suffix of the coverage stack's environment name. */
export const COVERAGE_SUFFIX = "-kv";
/** Suffix of its catalog name: on the same metastore as its original, it may not share the catalog (validate.ts). */
export const COVERAGE_CATALOG_SUFFIX = "_kv";

/** The shipped environments and the Key Vault coverage copy of the first Azure one. */
export function comparedConfig(shipped: AppConfigInput = config): AppConfigInput {
  const azure = shipped.environments.find((e) => e.cloud === "azure" && e.azure);
  if (!azure?.azure) return shipped;
  const coverage: EnvironmentInput = {
    ...azure,
    name: `${azure.name}${COVERAGE_SUFFIX}`,
    catalog: { ...azure.catalog, name: `${azure.catalog.name}${COVERAGE_CATALOG_SUFFIX}` },
    azure: { ...azure.azure, keyVaultSecretScope: true },
    // A state container of its own: with github set, no two environments share a state store (validate.ts).
    stateBackend:
      azure.stateBackend.type === "azurerm"
        ? { ...azure.stateBackend, containerName: `${azure.stateBackend.containerName}${COVERAGE_SUFFIX}` }
        : azure.stateBackend,
  };
  return { ...shipped, environments: [...shipped.environments, coverage] };
}

if (require.main === module) {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error("usage: synth.ts <outdir>");
    process.exit(2);
  }
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  buildApp(comparedConfig(), new App({ outdir })).synth();
}
