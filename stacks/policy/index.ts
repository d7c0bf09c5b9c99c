export { blockingFindings, type Finding, formatFinding, PolicyPack, suppressPolicy } from "./pack";
export { type PolicyOptions, type PolicyRule, type Severity, severityOf } from "./rule";
export { RULES } from "./rules";

import { standardTags } from "../common/tags";
import type { EnvironmentConfig } from "../config/schema";
import { PolicyPack } from "./pack";
import type { PolicyOptions } from "./rule";

/** The pack configured for one validated environment, as MembersStack applies it. */
export function policyPackFor(env: EnvironmentConfig): PolicyPack {
  return new PolicyPack(policyOptionsFor(env));
}

/** What the rules need to know about one validated environment. */
export function policyOptionsFor(env: EnvironmentConfig): PolicyOptions {
  return {
    landingPrefix: env.storage.landingPrefix,
    managedPrefix: env.storage.managedPrefix,
    privateNetworkOnly: env.storage.privateNetworkOnly,
    requiredTags: Object.keys(standardTags(env)),
    developmentMode: env.mode === "development",
    localStateOptIn: env.stateBackend.type === "local",
    protectStatefulResources: env.protectStatefulResources,
    tableReaders: env.tableReaders,
    piiReaders: [env.databricks.piiReaderGroup, env.databricks.platformGroup],
    jobPrincipal: env.jobPrincipal,
    schemaName: env.catalog.schema,
    maskedSchemaName: env.catalog.maskedSchema ?? `${env.catalog.schema}_masked`,
  };
}
