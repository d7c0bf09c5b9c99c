/**
 * The policy pack's rules: what "secure by construction" means for this product, as checks over a stack's final,
 * synthesized Terraform JSON (after every other aspect, such as the Azure default tags, has run).
 *
 * Each rule has a stable id (`MEM-<area>-<n>`; 0xx errors fail synth, 1xx warnings are printed), a one-line
 * description, and a check that returns the offending resources with a message. Rules read resources by their
 * Terraform type and attributes, never by construct class, so they hold for any construct that emits the resource.
 */

import type { TerraformJson } from "../common/terraform-json";
import { DATA_RULES } from "./data-rules";
import { DEPLOY_RULES } from "./deploy-rules";

export type Severity = "error" | "warning";

export type { TerraformJson } from "../common/terraform-json";

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
  /** Groups that must be able to read the member tables (config readerGroups plus the PII reader group). */
  readonly tableReaders: readonly string[];
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
  readonly id: string;
  readonly severity: Severity;
  readonly description: string;
  check(tf: TerraformJson, ctx: RuleContext): Violation[];
}

// ---------------------------------------------------------------------------------------------------------------
// helpers over synthesized JSON

/** Blocks synthesize either as an object or as a one-element list, depending on the provider schema. */
export function asList(value: unknown): any[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function resources(tf: TerraformJson, type: string): [string, Record<string, any>][] {
  return Object.entries(tf.resource?.[type] ?? {});
}

/** The logical id `X` when `value` is exactly `${<type>.X.<attr>}` for one of `attrs`. */
export function referencedId(value: unknown, type: string, attrs: readonly string[]): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$/.exec(value);
  return match && match[1] === type && attrs.includes(match[3]) ? match[2] : undefined;
}

/** Resources of `type` whose `attribute` references the resource `targetType.targetId` (by id, name or literal). */
function attachedTo(
  tf: TerraformJson,
  type: string,
  attribute: string,
  targetType: string,
  targetId: string,
  literalNames: readonly unknown[] = [],
): [string, Record<string, any>][] {
  return resources(tf, type).filter(([, props]) => {
    const value = props[attribute];
    return (
      referencedId(value, targetType, ["id", "bucket", "name"]) === targetId ||
      (typeof value === "string" && literalNames.includes(value))
    );
  });
}

/** The statements of an IAM policy given as a `data.aws_iam_policy_document` reference or as a JSON literal. */
function policyStatements(tf: TerraformJson, policy: unknown): { effect: string; actions: string[]; conditions: { test: string; variable: string; values: string[] }[] }[] {
  if (typeof policy !== "string") return [];
  const docId = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/.exec(policy)?.[1];
  if (docId !== undefined) {
    const doc = tf.data?.aws_iam_policy_document?.[docId];
    return asList(doc?.statement).map((s) => ({
      effect: s.effect ?? "Allow",
      actions: asList(s.actions),
      conditions: asList(s.condition).map((c) => ({ test: c.test, variable: c.variable, values: asList(c.values).map(String) })),
    }));
  }
  try {
    const parsed = JSON.parse(policy);
    return asList(parsed.Statement).map((s) => ({
      effect: s.Effect ?? "Allow",
      actions: asList(s.Action),
      conditions: Object.entries(s.Condition ?? {}).flatMap(([test, byVariable]) =>
        Object.entries(byVariable as Record<string, unknown>).map(([variable, values]) => ({
          test,
          variable,
          values: asList(values).map(String),
        })),
      ),
    }));
  } catch {
    return [];
  }
}

export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

function missingTags(tags: unknown, required: readonly string[]): string[] {
  const present = tags !== null && typeof tags === "object" ? Object.keys(tags as object) : [];
  return required.filter((key) => !present.includes(key));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every cluster spec of a job: shared job clusters and per-task new clusters, with where they sit. */
export function jobClusters(job: Record<string, any>): { where: string; cluster: Record<string, any> }[] {
  return [
    ...asList(job.job_cluster).flatMap((jc) => asList(jc.new_cluster).map((cluster) => ({ where: `job_cluster "${jc.job_cluster_key}"`, cluster }))),
    ...asList(job.task).flatMap((task) => asList(task.new_cluster).map((cluster) => ({ where: `task "${task.task_key}" new_cluster`, cluster }))),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// the rules

const S3_BUCKET = "aws_s3_bucket";
const STORAGE_ACCOUNT = "azurerm_storage_account";

const BASE_RULES: readonly PolicyRule[] = [
  {
    id: "MEM-ENC-001",
    severity: "error",
    description: "Storage is encrypted at rest: S3 buckets with SSE-KMS under a customer-managed key, storage accounts with infrastructure encryption",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, bucket] of resources(tf, S3_BUCKET)) {
        const configs = attachedTo(tf, "aws_s3_bucket_server_side_encryption_configuration", "bucket", S3_BUCKET, id, [bucket.bucket]);
        const kms = configs.some(([, c]) =>
          asList(c.rule).some((r) =>
            asList(r.apply_server_side_encryption_by_default).some(
              (d) => ["aws:kms", "aws:kms:dsse"].includes(d.sse_algorithm) && typeof d.kms_master_key_id === "string" && d.kms_master_key_id !== "",
            ),
          ),
        );
        if (!kms) out.push({ address: `${S3_BUCKET}.${id}`, message: "no server-side encryption configuration with aws:kms and a customer-managed key (kms_master_key_id)" });
      }
      for (const [id, account] of resources(tf, STORAGE_ACCOUNT)) {
        if (!isTrue(account.infrastructure_encryption_enabled)) {
          out.push({ address: `${STORAGE_ACCOUNT}.${id}`, message: `infrastructure_encryption_enabled is ${JSON.stringify(account.infrastructure_encryption_enabled)}, expected true` });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-PUB-001",
    severity: "error",
    description: "Public access is blocked: all four S3 public-access blocks on, no public blobs or containers",
    check(tf) {
      const out: Violation[] = [];
      const flags = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];
      for (const [id, bucket] of resources(tf, S3_BUCKET)) {
        const blocks = attachedTo(tf, "aws_s3_bucket_public_access_block", "bucket", S3_BUCKET, id, [bucket.bucket]);
        const off = blocks.length === 0 ? flags : flags.filter((flag) => !blocks.some(([, b]) => isTrue(b[flag])));
        if (off.length > 0) out.push({ address: `${S3_BUCKET}.${id}`, message: `public access block missing or off: ${off.join(", ")}` });
      }
      for (const [id, account] of resources(tf, STORAGE_ACCOUNT)) {
        if (account.allow_nested_items_to_be_public !== false) {
          out.push({ address: `${STORAGE_ACCOUNT}.${id}`, message: `allow_nested_items_to_be_public is ${JSON.stringify(account.allow_nested_items_to_be_public)}, expected false` });
        }
      }
      for (const [id, container] of resources(tf, "azurerm_storage_container")) {
        if (container.container_access_type !== undefined && container.container_access_type !== "private") {
          out.push({ address: `azurerm_storage_container.${id}`, message: `container_access_type is ${JSON.stringify(container.container_access_type)}, expected "private"` });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-NET-001",
    severity: "error",
    description: "Private-network environments deny storage network access by default",
    check(tf, ctx) {
      if (!ctx.privateNetworkOnly) return [];
      const out: Violation[] = [];
      for (const [id, account] of resources(tf, STORAGE_ACCOUNT)) {
        const inline = asList(account.network_rules).some((r) => r.default_action === "Deny");
        const separate = attachedTo(tf, "azurerm_storage_account_network_rules", "storage_account_id", STORAGE_ACCOUNT, id).some(
          ([, r]) => r.default_action === "Deny",
        );
        if (!inline && !separate && account.public_network_access_enabled !== false) {
          out.push({ address: `${STORAGE_ACCOUNT}.${id}`, message: 'no network rules with default_action "Deny" although the environment is privateNetworkOnly' });
        }
      }
      for (const [id] of resources(tf, S3_BUCKET)) {
        // The AWS side has no network restriction yet (the config rejects privateNetworkOnly on AWS); if a bucket
        // ever appears in a private environment, it must say so in its policy.
        const policies = attachedTo(tf, "aws_s3_bucket_policy", "bucket", S3_BUCKET, id);
        const restricted = policies.some(([, p]) =>
          policyStatements(tf, p.policy).some((s) => s.effect === "Deny" && s.conditions.some((c) => /^aws:(SourceVpce|SourceVpc)$/.test(c.variable))),
        );
        if (!restricted) out.push({ address: `${S3_BUCKET}.${id}`, message: "no bucket policy denying access from outside a VPC (endpoint) although the environment is privateNetworkOnly" });
      }
      return out;
    },
  },
  {
    id: "MEM-TLS-001",
    severity: "error",
    description: "Storage accepts TLS only: S3 bucket policy denies aws:SecureTransport=false, storage accounts HTTPS only with TLS 1.2+",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, bucket] of resources(tf, S3_BUCKET)) {
        const policies = attachedTo(tf, "aws_s3_bucket_policy", "bucket", S3_BUCKET, id, [bucket.bucket]);
        const denies = policies.some(([, p]) =>
          policyStatements(tf, p.policy).some(
            (s) =>
              s.effect === "Deny" &&
              s.actions.some((a) => a === "s3:*" || a === "*") &&
              s.conditions.some((c) => c.test === "Bool" && c.variable === "aws:SecureTransport" && c.values.includes("false")),
          ),
        );
        if (!denies) out.push({ address: `${S3_BUCKET}.${id}`, message: 'no bucket policy with a Deny of s3:* when "aws:SecureTransport" is false' });
      }
      for (const [id, account] of resources(tf, STORAGE_ACCOUNT)) {
        const problems: string[] = [];
        // Explicit, not the provider default: the stack states what it relies on.
        if (!isTrue(account.https_traffic_only_enabled)) problems.push(`https_traffic_only_enabled is ${JSON.stringify(account.https_traffic_only_enabled)}, expected true`);
        if (!["TLS1_2", "TLS1_3"].includes(account.min_tls_version)) problems.push(`min_tls_version is ${JSON.stringify(account.min_tls_version)}, expected "TLS1_2"`);
        if (problems.length > 0) out.push({ address: `${STORAGE_ACCOUNT}.${id}`, message: problems.join("; ") });
      }
      return out;
    },
  },
  {
    id: "MEM-CLU-001",
    severity: "error",
    description: "Every job cluster uses a cluster policy of the stack (policy_id) and applies its defaults; no all-purpose clusters",
    check(tf) {
      const out: Violation[] = [];
      const policies = new Set(Object.keys(tf.resource?.databricks_cluster_policy ?? {}));
      for (const [id, job] of resources(tf, "databricks_job")) {
        const problems: string[] = [];
        for (const { where, cluster } of jobClusters(job)) {
          const policy = referencedId(cluster.policy_id, "databricks_cluster_policy", ["id"]);
          if (policy === undefined || !policies.has(policy)) problems.push(`${where}: policy_id ${JSON.stringify(cluster.policy_id)} is not a databricks_cluster_policy of this stack`);
          if (!isTrue(cluster.apply_policy_default_values)) problems.push(`${where}: apply_policy_default_values is not true`);
        }
        for (const task of asList(job.task)) {
          if (task.existing_cluster_id !== undefined) problems.push(`task "${task.task_key}" runs on existing_cluster_id (all-purpose compute outside the policy)`);
        }
        if (problems.length > 0) out.push({ address: `databricks_job.${id}`, message: problems.join("; ") });
      }
      return out;
    },
  },
  {
    id: "MEM-SEC-001",
    severity: "error",
    description: "No literal secret values: every databricks_secret string_value is a sensitive Terraform variable without a default",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, secret] of resources(tf, "databricks_secret")) {
        const name = typeof secret.string_value === "string" ? /^\$\{var\.([A-Za-z0-9_-]+)\}$/.exec(secret.string_value)?.[1] : undefined;
        const variable = name === undefined ? undefined : tf.variable?.[name];
        if (name === undefined) {
          out.push({ address: `databricks_secret.${id}`, message: `string_value of key ${JSON.stringify(secret.key)} is not a \${var.…} reference` });
        } else if (!variable || variable.sensitive !== true) {
          out.push({ address: `databricks_secret.${id}`, message: `variable ${name} is not declared sensitive` });
        } else if (variable.default !== undefined) {
          out.push({ address: `databricks_secret.${id}`, message: `variable ${name} has a default value (a literal secret in code)` });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-TAG-001",
    severity: "error",
    description: "Every taggable resource carries the standard tags (AWS through provider default_tags, azurerm and jobs directly)",
    check(tf, ctx) {
      const out: Violation[] = [];
      const hasAws = Object.keys(tf.resource ?? {}).some((type) => type.startsWith("aws_"));
      if (hasAws) {
        const providers = asList(tf.provider?.aws);
        if (providers.length === 0) out.push({ address: "provider.aws", message: "no aws provider with default_tags" });
        providers.forEach((provider, index) => {
          const tags = Object.assign({}, ...asList(provider.default_tags).map((d) => d.tags ?? {}));
          const missing = missingTags(tags, ctx.requiredTags);
          if (missing.length > 0) out.push({ address: `provider.aws${provider.alias ? `.${provider.alias}` : `[${index}]`}`, message: `default_tags lack ${missing.join(", ")}` });
        });
      }
      for (const [type, byId] of Object.entries(tf.resource ?? {})) {
        const direct = type.startsWith("azurerm_") || type === "databricks_job";
        if (!direct) continue;
        for (const [id, props] of Object.entries(byId)) {
          const path: string | undefined = props["//"]?.metadata?.path;
          if (type !== "databricks_job" && (path === undefined || !ctx.taggablePaths.has(path))) continue;
          const missing = missingTags(props.tags, ctx.requiredTags);
          if (missing.length > 0) out.push({ address: `${type}.${id}`, message: `tags lack ${missing.join(", ")}` });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-LOC-001",
    severity: "error",
    description: "External locations cover the landing or managed-storage prefix (or below), never a whole bucket or container",
    check(tf, ctx) {
      const out: Violation[] = [];
      const folders = [ctx.landingPrefix, ctx.managedPrefix].map((f) => escapeRegExp(f.replace(/^\/+|\/+$/g, ""))).join("|");
      const allowed = new RegExp(`^[a-z0-9]+://[^/]+/(${folders})/([^/]+/)*$`);
      for (const [id, location] of resources(tf, "databricks_external_location")) {
        if (typeof location.url !== "string" || !allowed.test(location.url)) {
          out.push({ address: `databricks_external_location.${id}`, message: `url ${JSON.stringify(location.url)} is not inside /${ctx.landingPrefix}/ or /${ctx.managedPrefix}/ of its bucket or container` });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-JOB-001",
    severity: "error",
    description: "Jobs notify someone on failure (email_notifications.on_failure or webhook_notifications.on_failure)",
    check(tf) {
      return resources(tf, "databricks_job")
        .filter(([, job]) => {
          const emails = asList(job.email_notifications).flatMap((n) => asList(n.on_failure));
          const hooks = asList(job.webhook_notifications).flatMap((n) => asList(n.on_failure));
          return emails.length === 0 && hooks.length === 0;
        })
        .map(([id]) => ({ address: `databricks_job.${id}`, message: "no failure notification (on_failure is empty)" }));
    },
  },
  {
    id: "MEM-JOB-002",
    severity: "error",
    description: "Jobs and each of their tasks have a timeout (timeout_seconds > 0)",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, job] of resources(tf, "databricks_job")) {
        const problems: string[] = [];
        if (!(Number(job.timeout_seconds) > 0)) problems.push(`job timeout_seconds is ${JSON.stringify(job.timeout_seconds)}`);
        for (const task of asList(job.task)) {
          if (!(Number(task.timeout_seconds) > 0)) problems.push(`task "${task.task_key}" timeout_seconds is ${JSON.stringify(task.timeout_seconds)}`);
        }
        if (problems.length > 0) out.push({ address: `databricks_job.${id}`, message: `${problems.join("; ")}, expected > 0` });
      }
      return out;
    },
  },
  {
    id: "MEM-JOB-101",
    severity: "warning",
    description: "Tasks retry transient failures (max_retries >= 1)",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, job] of resources(tf, "databricks_job")) {
        const noRetry = asList(job.task).filter((task) => !(Number(task.max_retries) >= 1) && Number(task.max_retries) !== -1);
        if (noRetry.length > 0) out.push({ address: `databricks_job.${id}`, message: `task(s) ${noRetry.map((t) => `"${t.task_key}"`).join(", ")} never retry` });
      }
      return out;
    },
  },
  {
    id: "MEM-JOB-102",
    severity: "warning",
    description: "Development environments deploy schedules and triggers paused",
    check(tf, ctx) {
      if (!ctx.developmentMode) return [];
      return resources(tf, "databricks_job")
        .filter(([, job]) => [...asList(job.schedule), ...asList(job.trigger)].some((t) => t.pause_status === "UNPAUSED"))
        .map(([id]) => ({ address: `databricks_job.${id}`, message: "runs unpaused in a development environment" }));
    },
  },
  {
    id: "MEM-KMS-101",
    severity: "warning",
    description: "Customer-managed KMS keys rotate (enable_key_rotation)",
    check(tf) {
      return resources(tf, "aws_kms_key")
        .filter(([, key]) => !isTrue(key.enable_key_rotation))
        .map(([id]) => ({ address: `aws_kms_key.${id}`, message: "enable_key_rotation is not true" }));
    },
  },
];

/** Every rule of the pack: the base rules above, deployability (deploy-rules.ts) and data safety (data-rules.ts). */
export const RULES: readonly PolicyRule[] = [...BASE_RULES, ...DEPLOY_RULES, ...DATA_RULES];
