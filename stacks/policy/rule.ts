/**
 * What a policy rule is. Ids are `MEM-<area>-<nnn>`; the number alone decides the severity (severityOf): 0xx are
 * errors that fail synth, 1xx warnings that are printed. Rules read resources by their Terraform type and attributes,
 * never by construct class, so they hold for any construct that emits the resource.
 */
import type { TerraformJson } from "../common/terraform-json";

export type { TerraformJson };
export type Severity = "error" | "warning";

/** The one place severity is decided: the rule number's hundreds digit (0 error, 1 warning). */
export function severityOf(ruleId: string): Severity {
  const match = /^MEM-[A-Z]{3}-([01])\d\d$/.exec(ruleId);
  if (!match) throw new Error(`policy rule id: got ${JSON.stringify(ruleId)}, expected MEM-<AREA>-<0xx error | 1xx warning>`);
  return match[1] === "0" ? "error" : "warning";
}

/** What a rule needs to know about the environment the stack deploys. */
export interface PolicyOptions {
  /** Folder of the bucket/container that external locations may cover (config `storage.landingPrefix`). */
  readonly landingPrefix: string;
  /** Folder holding a created catalog's managed storage (config `storage.managedPrefix`); its location may cover it. */
  readonly managedPrefix: string;
  /** The environment promises private-network storage (config `storage.privateNetworkOnly`). */
  readonly privateNetworkOnly: boolean;
  /** Tag keys every taggable resource must carry (the keys of `standardTags`). */
  readonly requiredTags: readonly string[];
  /** Development mode: schedules and triggers are expected to deploy paused. */
  readonly developmentMode: boolean;
  /** The environment opted into local state for hand deploys (config `stateBackend: {type: "local"}`). */
  readonly localStateOptIn: boolean;
  /** Stateful resources must be protected (config `protectStatefulResources`, on in production). */
  readonly protectStatefulResources: boolean;
  /** Groups that must be able to query the readers' masked view (config readerGroups plus the PII reader group). */
  readonly tableReaders: readonly string[];
  /** Groups that read the tables themselves, PII unmasked: the PII reader group and the platform group. */
  readonly piiReaders: readonly string[];
  /** Who the jobs run as: the only other principal with data grants on the tables' schema. */
  readonly jobPrincipal: string;
  /** Schema of the member tables (config `catalog.schema`). */
  readonly schemaName: string;
  /** Schema of the readers' masked view (config `catalog.maskedSchema`, default `<schema>_masked`). */
  readonly maskedSchemaName: string;
}

export interface RuleContext extends PolicyOptions {
  /** Construct paths of resources whose provider class has a `tags` attribute. */
  readonly taggablePaths: ReadonlySet<string>;
}

/** One offending resource, as a rule reports it. */
export interface Violation {
  /** Terraform address, `type.logical_id` (or `provider.aws` for provider-level findings). */
  readonly address: string;
  readonly message: string;
}

export interface PolicyRule {
  /** Stable id, `MEM-<area>-<nnn>`; its number gives the severity. */
  readonly id: string;
  /** What the rule checks, in one line (printed with every finding). */
  readonly description: string;
  /** Why it matters: the risk or the documented behaviour it encodes (the tables in docs/safety/policy-as-code.md). */
  readonly explanation: string;
  check(tf: TerraformJson, ctx: RuleContext): Violation[];
}
