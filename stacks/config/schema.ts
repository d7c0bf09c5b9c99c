/**
 * The typed, validated shape of every environment. One zod schema is the single source of truth for both the
 * TypeScript types (z.input for what authors write, z.output for what constructs receive) and the checks. A field's
 * meaning is its `.describe()` text: docs/reference/configuration.md is generated from them (`make docs-reference`).
 */
import { z } from "zod";
import contract from "../../notebooks/members_pipeline/contract.json";
import prices from "../../tools/cost/prices.json";
import platform from "./platform.json";
import { quartzProblem } from "./quartz";
import { AWS_REGIONS, AZURE_LOCATIONS } from "./regions";
import type { ConfigProblem } from "./validate";

/**
 * A cross-field check that runs as soon as the fields it reads are valid, even when siblings are not, so a single
 * parse reports every problem (zod skips plain refinements of an object with any invalid field). Never on a value
 * that is not an object: a missing `cluster` is reported as missing, not as a TypeError from the check.
 */
function crossCheck<T>(fields: readonly string[], check: (value: T, ctx: z.RefinementCtx) => void) {
  return z.superRefine<T>(check, {
    when: (payload) =>
      typeof payload.value === "object" && payload.value !== null && !payload.issues.some((issue) => fields.includes(String(issue.path?.[0]))),
  });
}

/** S3 bucket naming rules (general purpose buckets). */
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "a valid S3 bucket name (3-63 characters)" })
  .refine((n) => !/^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|--x-s3|--table-s3)$|\.\./.test(n), {
    error: "a valid S3 bucket name (no reserved prefix or suffix)",
  });

/** Azure storage account naming rules: 3-24 lower-case letters and digits, globally unique. */
const storageAccountName = z.string().regex(/^[a-z0-9]{3,24}$/, { error: "a valid storage account name (3-24 lower-case letters and digits)" });

/** Names derived from prefix and environment; global names (bucket, account) must be unique per cloud. */
export function resourceNames(prefix: string, environment: string): ResourceNames {
  const base = `${prefix}-${environment}`;
  return {
    base,
    bucket: `${base}-landing`,
    storageAccount: `${prefix}${environment}lake`.replace(/-/g, ""),
    keyVault: `${base}-kv`,
    container: "landing",
    unityCatalogAccess: `${base.replace(/-/g, "_")}_landing`,
    unityCatalogRole: `${base}-uc-landing`,
    accessConnector: `${base}-uc`,
  };
}

/**
 * The Databricks provider's `auth_type` values this product supports (Databricks unified client authentication).
 * Azure AD ones authenticate with a Microsoft Entra ID token, which a Key Vault-backed secret scope requires.
 */
export const AZURE_AD_AUTH_TYPES = ["azure-client-secret", "github-oidc-azure", "azure-msi", "azure-cli"] as const;
export const DATABRICKS_AUTH_TYPES = ["oauth-m2m", "github-oidc", "databricks-cli", "pat", ...AZURE_AD_AUTH_TYPES] as const;
export type DatabricksAuthType = (typeof DATABRICKS_AUTH_TYPES)[number];

/** Workspace folders under /Shared: every workspace user has CAN MANAGE there (Databricks workspace ACL docs). */
export const SHARED_WORKSPACE_FOLDER = /^(\/Workspace)?\/Shared(\/|$)/;

/** The placeholder application id an example config carries; never a real service principal. */
const PLACEHOLDER_UUID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;

/**
 * Node types per cloud, from the cost model's price list (tools/cost/prices.json), the one list of node types this
 * product knows: a typo or another cloud's type would fail only when the job cluster starts, and `make cost` could not
 * price it.
 */
function knownNodeTypes(cloud: "aws" | "azure"): string[] {
  return Object.entries(prices.nodeTypes)
    .filter(([, price]) => price.cloud === cloud)
    .map(([nodeType]) => nodeType);
}

const TIME_ZONES = new Set(Intl.supportedValuesOf("timeZone").concat(["UTC", "Etc/UTC"]));

/** Environment names become stack names, state keys and parts of resource names: keep them short and DNS-safe. */
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,14}[a-z0-9]$/;
const environmentName = z.string().regex(ENVIRONMENT_NAME, {
  error: "expected 2-16 characters: lower-case letters, digits and hyphens, starting with a letter",
});

const namePrefix = z.string().regex(/^[a-z][a-z0-9-]{1,18}[a-z0-9]$/, {
  error: "expected 3-20 characters: lower-case letters, digits and hyphens, starting with a letter",
});

/** Unity Catalog identifiers we create or reference; kept to plain names so no quoting is ever needed. */
const ucName = z.string().regex(/^[a-z_][a-z0-9_]{0,254}$/, {
  error: "expected a lower-case identifier (letters, digits, underscores)",
});

/** Paused schedules and triggers deploy but never fire (validate.ts resolves the default). */
const paused = z.boolean().optional().describe("Deploy it paused (it never fires). Default: paused in development mode, running otherwise.");

const schedule = z.strictObject({
  // Checked field by field (quartz.ts).
  cron: z
    .string()
    .superRefine((cron, ctx) => {
      const problem = quartzProblem(cron);
      if (problem !== undefined) ctx.addIssue({ code: "custom", input: cron, message: `expected ${problem}` });
    })
    .describe("Quartz cron expression (6 or 7 fields), e.g. `0 0 2 * * ?` for 02:00 every day."),
  timezone: z
    .string()
    .refine((tz) => TIME_ZONES.has(tz), { error: "expected an IANA time zone such as UTC or Europe/Berlin" })
    .default("UTC")
    .describe("IANA time zone the cron is evaluated in."),
  paused,
});

const loadTrigger = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      type: z.literal("file_arrival"),
      minTimeBetweenTriggersSeconds: z.number().int().min(60).max(86_400).default(300).describe("Minimum seconds between triggered runs."),
      waitAfterLastChangeSeconds: z
        .number()
        .int()
        .min(60)
        .max(3_600)
        .default(120)
        .describe("Seconds without new files before a run starts, so one batch's files arrive together."),
      paused,
    }),
    schedule.extend({ type: z.literal("schedule") }),
  ],
  { error: 'expected a trigger with type "file_arrival" or "schedule"' },
);

const cluster = z
  .strictObject({
    nodeType: z
      .string()
      .min(1)
      .describe("Node type of driver and workers: one of allowedNodeTypes, and one the cost model knows (tools/cost/prices.json)."),
    allowedNodeTypes: z.array(z.string().min(1)).min(1).optional().describe("Node types the cluster policy allows. Default: just nodeType."),
    minWorkers: z.number().int().min(0).max(100).describe("Autoscale minimum; minWorkers 0 and maxWorkers 0 mean a single-node cluster."),
    maxWorkers: z.number().int().min(0).max(100).describe("Autoscale maximum, the cluster policy's worker cap; at least minWorkers."),
    runtimeVersion: z
      .string()
      .refine((v) => v in platform.supportedRuntimes, {
        error: `expected one of the tested runtimes: ${Object.keys(platform.supportedRuntimes).join(", ")}`,
      })
      .default(platform.databricksRuntime.sparkVersion)
      .describe(
        "Databricks runtime (`spark_version`), pinned by the cluster policy: only LTS lines whose Spark version the notebooks are tested on (platform.json `supportedRuntimes`).",
      ),
    spot: z.boolean().default(true).describe("Use spot instances with on-demand fallback (the first node, the driver, is always on demand)."),
    // Job clusters have no idle autotermination; this caps each task instead.
    taskTimeoutMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60)
      .default(120)
      .describe("Minutes each task attempt may run before it is stopped; the run-duration warning fires before that."),
  })
  .check(
    crossCheck(["minWorkers", "maxWorkers", "nodeType", "allowedNodeTypes"], (c, ctx) => {
      if (c.minWorkers > c.maxWorkers) {
        ctx.addIssue({
          code: "custom",
          path: ["minWorkers"],
          input: c.minWorkers,
          message: `expected minWorkers <= maxWorkers (${c.maxWorkers})`,
        });
      }
      if (c.allowedNodeTypes && !c.allowedNodeTypes.includes(c.nodeType)) {
        ctx.addIssue({
          code: "custom",
          path: ["nodeType"],
          input: c.nodeType,
          message: `expected one of allowedNodeTypes (${c.allowedNodeTypes.join(", ")})`,
        });
      }
    }),
  );

const stateKey = z.string().min(1).optional().describe("State key. Default: `members/<environment>.tfstate`.");

const s3Backend = z.strictObject({
  type: z.literal("s3"),
  bucket: z.string().min(3).describe("State bucket; members-bootstrap-aws creates it."),
  key: stateKey,
  region: z.enum(AWS_REGIONS, { error: "expected an AWS region code such as eu-west-1" }).describe("Region of the state bucket."),
  kmsKeyAlias: z
    .string()
    .regex(/^alias\/[a-zA-Z0-9/_-]{1,250}$/, { error: "expected a KMS key alias (alias/<name>)" })
    .refine((alias) => !alias.startsWith("alias/aws/"), { error: "expected a customer-managed key's alias, not an AWS-managed alias/aws/..." })
    .optional()
    .describe(
      "Alias of the customer-managed KMS key that encrypts the state (the backend's `kms_key_id`); the bootstrap stack creates the key under it. Default: `alias/<bucket>`.",
    ),
});

const azurermBackend = z.strictObject({
  type: z.literal("azurerm"),
  resourceGroupName: z.string().min(1).describe("Resource group of the state storage account."),
  storageAccountName: z
    .string()
    .regex(/^[a-z0-9]{3,24}$/, { error: "expected 3-24 lower-case letters and digits" })
    .describe("Storage account holding the state; members-bootstrap-azure creates it."),
  containerName: z.string().min(3).describe("Container holding the state."),
  key: stateKey,
});

/**
 * Local state, for hand deploys only: CI deploys from throwaway runners, where local state is lost after each run and
 * the next deploy fails on "already exists". tools/list-stacks.ts never lists such a stack for CI.
 */
const localBackend = z.strictObject({
  type: z.literal("local"),
  path: z.string().min(1).optional().describe("State file, relative to the stack's folder in cdktf.out. Default: `terraform.<stack>.tfstate`."),
});

const stateBackend = z
  .discriminatedUnion("type", [s3Backend, azurermBackend, localBackend], {
    error:
      'expected a state backend: {type: "s3", ...} or {type: "azurerm", ...} (CI deploys need remote state), or {type: "local"} for hand deploys only',
  })
  .describe("Where Terraform keeps the stack's state: `s3` (AWS) or `azurerm` (Azure), which CI deploys need, or `local` for hand deploys only.");

const storage = z
  .strictObject({
    landingPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: "expected one folder name (letters, digits, _ and -)" })
      .default("landing")
      .describe("Folder under the bucket/container that the landing external location grants: the landing zone."),
    // Unity Catalog rejects overlapping locations, and no lifecycle rule may ever expire or tier the managed Delta files.
    managedPrefix: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: "expected one folder name (letters, digits, _ and -)" })
      .default("managed")
      .describe(
        "Folder under the same bucket/container holding a created catalog's managed tables, with an external location of its own; not landingPrefix, and no lifecycle rule touches it.",
      ),
    retentionDays: z.number().int().min(1).max(3650).describe("Days landing objects are kept before they expire."),
    // The default avoids tiering short-lived files: transition fees and minimum storage durations would cost more than they save.
    coolAfterDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe(
        "Days before landing objects move to a cheaper tier; below retentionDays. Default: 30 when retentionDays is above 30, else no tiering.",
      ),
    privateNetworkOnly: z
      .boolean()
      .default(false)
      .describe(
        "Azure only (refused on AWS): the storage firewall denies by default; the access connector, allowedIpRanges and azure.allowedSubnetIds get through.",
      ),
    // Without it nobody else can read the objects until the bucket policy is changed (docs/safety/security.md).
    breakGlassRoleArn: z
      .string()
      .regex(/^arn:aws(-[a-z]+)*:iam::\d{12}:role\/([\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/, {
        error: "expected an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
      })
      .optional()
      .describe(
        "AWS only: an emergency IAM role that the landing bucket's and key's policies let read and decrypt the data besides the Unity Catalog role; it needs IAM permissions of its own.",
      ),
    allowedIpRanges: z
      .array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/, { error: "expected an IPv4 CIDR range" }))
      .default([])
      .describe("IPv4 CIDR ranges allowed through the storage firewall when privateNetworkOnly is on, and through the Key Vault's firewall."),
  })
  .check(
    crossCheck(["landingPrefix", "managedPrefix"], (s, ctx) => {
      if (s.managedPrefix === s.landingPrefix) {
        ctx.addIssue({
          code: "custom",
          path: ["managedPrefix"],
          input: s.managedPrefix,
          message: `expected a folder other than landingPrefix ("${s.landingPrefix}"): Unity Catalog rejects overlapping external locations`,
        });
      }
    }),
    crossCheck(["coolAfterDays", "retentionDays"], (s, ctx) => {
      if (s.coolAfterDays !== undefined && s.coolAfterDays >= s.retentionDays) {
        ctx.addIssue({
          code: "custom",
          path: ["coolAfterDays"],
          input: s.coolAfterDays,
          message: `expected fewer days than retentionDays (${s.retentionDays})`,
        });
      }
    }),
  );

const catalog = z.strictObject({
  name: ucName.describe("Catalog holding the member tables."),
  create: z.boolean().default(true).describe("Create the catalog (true) or reference an existing one (false)."),
  schema: ucName.default("members").describe("Schema of the member tables (members, quarantine, load log)."),
  createSchema: z.boolean().default(true).describe("Create the schema (true) or reference an existing one (false); the masked schema follows it."),
  maskedSchema: ucName.optional().describe("Schema of the readers' masked view (readers are granted only this schema). Default: `<schema>_masked`."),
});

/** Defaults and bounds of the load job's guard and retention parameters: notebooks/members_pipeline/contract.json. */
const LOAD_PARAMS = contract.notebooks.load;
const LOAD_DEFAULTS = {
  maxDeletedShare: Number(LOAD_PARAMS.max_deleted_share.default),
  maxQuarantinedShare: Number(LOAD_PARAMS.max_quarantined_share.default),
  piiRetentionDays: Number(LOAD_PARAMS.pii_retention_days.default),
  historyRetentionDays: Number(LOAD_PARAMS.history_retention_days.default),
};
const bounded = (spec: { min: number; max: number }) => z.number().min(spec.min).max(spec.max);

/** The load job's data guards and retention (job parameters of load_members). */
const load = z.strictObject({
  maxDeletedShare: bounded(LOAD_PARAMS.max_deleted_share)
    .default(LOAD_DEFAULTS.maxDeletedShare)
    .describe("Refuse a snapshot that would flag more than this share of the active members deleted (0-1)."),
  maxQuarantinedShare: bounded(LOAD_PARAMS.max_quarantined_share)
    .default(LOAD_DEFAULTS.maxQuarantinedShare)
    .describe("Refuse a batch with more than this share of its rows quarantined (0-1)."),
  piiRetentionDays: bounded(LOAD_PARAMS.pii_retention_days)
    .int()
    .default(LOAD_DEFAULTS.piiRetentionDays)
    .describe("Days after a member is flagged deleted before its PII is erased (the row stays as a tombstone)."),
  historyRetentionDays: bounded(LOAD_PARAMS.history_retention_days)
    .int()
    .default(LOAD_DEFAULTS.historyRetentionDays)
    .describe("Days Delta keeps removed files and log history: erased values leave the files at most this long after."),
});

/** SQL warehouse ids: 16 hexadecimal digits (the id in the warehouse's URL and Connection details). */
export const SQL_WAREHOUSE_ID = /^[0-9a-f]{16}$/;
/** Defaults of the health dashboard and alerts (the staleness threshold the local report draws too: contract.json): alerts every 6 hours (each wakes the warehouse for its auto-stop). */
const HEALTH_DEFAULTS = {
  staleAfterHours: contract.healthStaleAfterHours,
  alertSchedule: { cron: "0 0 0/6 * * ?", timezone: "UTC" },
};

/** The pipeline's health picture (stacks/databricks/pipeline-health.ts): a dashboard, alerts and their SQL warehouse. */
const health = z.strictObject({
  enabled: z
    .boolean()
    .optional()
    .describe(
      "Deploy the health dashboard, its alerts and (without warehouseId) a SQL warehouse. Default: on in production mode, off in development.",
    ),
  warehouseId: z
    .string()
    .regex(SQL_WAREHOUSE_ID, { error: "expected a SQL warehouse id (16 hexadecimal digits)" })
    .optional()
    .describe(
      "Id of an existing SQL warehouse the dashboard and alerts use; the stack then creates none (and grants nothing on it). Default: a small serverless warehouse of the stack's own.",
    ),
  staleAfterHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 14)
    .default(HEALTH_DEFAULTS.staleAfterHours)
    .describe("The staleness alert fires when the last loaded batch is older than this many hours (a daily load: a bit over 24)."),
  alertSchedule: schedule
    .default(HEALTH_DEFAULTS.alertSchedule)
    .describe("When the alerts evaluate (one quartz schedule for all, so one warehouse start serves them). Default: every 6 hours, UTC."),
});

/** Connector/J sslMode values, weakest first (the extract's ssl_mode setting). */
export const MYSQL_SSL_MODES = ["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"] as const;
export type MysqlSslMode = (typeof MYSQL_SSL_MODES)[number];
/** The notebooks' default (contract.json): the server's certificate chains to a trusted CA and names the host. */
const MYSQL_DEFAULTS = { sslMode: contract.notebooks.extract.ssl_mode.default as MysqlSslMode };

/**
 * How the extract authenticates the MySQL server: its deployment settings ssl_mode and trust_store_path. Production
 * requires VERIFY_IDENTITY (checked below): REQUIRED only encrypts, and the password goes to whoever answers.
 */
const mysql = z.strictObject({
  sslMode: z
    .enum(MYSQL_SSL_MODES, { error: `expected a Connector/J sslMode, one of ${MYSQL_SSL_MODES.join(", ")}` })
    .default(MYSQL_DEFAULTS.sslMode)
    .describe("Connector/J sslMode of the extract's JDBC connection; production requires VERIFY_IDENTITY."),
  // In a volume because the executors opening the JDBC partitions read it.
  trustStorePath: z
    .string()
    .regex(/^\/Volumes\/[^/\s]+\/[^/\s]+\/[^/\s]+\/[^\s?#&;]*[^/\s?#&;]$/, {
      error: "expected a file in a Unity Catalog volume, /Volumes/<catalog>/<schema>/<volume>/<path>",
    })
    .optional()
    .describe(
      "Password-less PKCS12 trust store with the CA of the MySQL server's certificate, in a Unity Catalog volume; with VERIFY_CA or VERIFY_IDENTITY only. Default: the JVM's trust store.",
    ),
});

const azure = z.strictObject({
  resourceGroupName: z
    .string()
    .regex(/^[A-Za-z0-9._()-]{1,89}[A-Za-z0-9_()-]$/, {
      error: "expected 1-90 letters, digits, '.', '_', '-', '(' or ')', not ending in '.'",
    })
    .describe("Resource group holding the storage account and the access connector."),
  createResourceGroup: z.boolean().default(true).describe("Create the resource group (true) or use an existing one (false)."),
  allowedSubnetIds: z
    .array(
      z.string().regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/virtualNetworks\/[^/]+\/subnets\/[^/]+$/i, {
        error: "expected a subnet resource id (/subscriptions/.../virtualNetworks/.../subnets/...)",
      }),
    )
    .default([])
    .describe(
      "Subnet ids of the workspace's classic compute (VNet injection, with a Microsoft.Storage service endpoint), allowed through the storage firewall; required when storage.privateNetworkOnly is on.",
    ),
  keyVaultSecretScope: z
    .boolean()
    .default(false)
    .describe("Back the secret scope with an Azure Key Vault instead of Databricks-managed secrets; needs an Azure AD databricks.authType."),
});

const tagKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_.:/=+@-]{0,126}$/, { error: "expected a tag key" });

export const environmentSchema = z
  .strictObject({
    name: environmentName.describe("Environment name: the stack is `members-<name>`; part of state keys and resource names."),
    cloud: z.enum(["aws", "azure"], { error: 'expected "aws" or "azure"' }).describe("Cloud of the landing storage and the Databricks workspace."),
    region: z.string().min(1).describe("AWS region code or Azure location name, checked against the chosen cloud."),
    prefix: namePrefix.describe(
      "Prefix of every resource name; keep it short: bucket, storage account and Key Vault names derive from it and the environment name.",
    ),
    mode: z
      .enum(["development", "production"], { error: 'expected "development" or "production"' })
      .describe(
        "`development` deploys schedules and triggers paused unless they say otherwise (the Asset Bundles convention) and adds the member-data generator job; `production` protects stateful resources and requires a run-as service principal and mysql.sslMode VERIFY_IDENTITY.",
      ),
    databricks: z
      .strictObject({
        host: z
          .url({ protocol: /^https$/, error: "expected an https:// workspace URL" })
          .describe("Workspace URL, e.g. https://dbc-example.cloud.databricks.com."),
        // Explicit, because with several methods' variables in the environment (DATABRICKS_CLIENT_ID and ARM_* on Azure)
        // the SDK refuses to choose. The workflows export only the chosen method's variables (docs/deploy/credentials.md).
        authType: z
          .enum(DATABRICKS_AUTH_TYPES, {
            error: `expected the Databricks provider's auth_type, one of ${DATABRICKS_AUTH_TYPES.join(", ")}`,
          })
          .describe("How the Databricks provider authenticates (its `auth_type`); on AWS not an Azure AD type."),
        runAsServicePrincipal: z
          .uuid({ error: "expected a service principal application id (UUID)" })
          .optional()
          .describe(
            "Application id of the service principal the jobs run as; required in production mode and with remote state (CI deploys). Omitted: the jobs run as the deployer.",
          ),
        platformGroup: z
          .string()
          .min(1)
          .default("members-platform")
          .describe("Group that may manage and run the jobs and owns the deployed code; the job principal when no service principal is set."),
        viewerGroup: z.string().min(1).default("users").describe("Group that may view the jobs and their runs."),
        readerGroups: z
          .array(z.string().min(1))
          .default([])
          .describe("Account groups that may query the members view in the masked schema: PII masked, the tables themselves not readable."),
        piiReaderGroup: z
          .string()
          .min(1)
          .default(LOAD_PARAMS.pii_reader_group.default)
          .describe("Account group that sees PII unmasked: reads the tables (members, quarantine, load log) and the view unmasked."),
        // Never under /Shared, where every user can edit the code the jobs run with the MySQL secrets.
        deployRoot: z
          .string()
          .regex(/^\/[^\s]*[^/\s]$/, { error: "expected an absolute workspace path without a trailing slash" })
          .optional()
          .describe(
            "Workspace folder the code is deployed to, created and owned by the stack; not under /Shared or another user's home. Default: `/Deployments/<prefix>-<environment>`.",
          ),
      })
      .describe("The Databricks workspace, how the provider authenticates to it, and who runs, manages and reads what the stack deploys."),
    catalog: catalog.describe("The Unity Catalog catalog and schemas of the member tables, created or existing."),
    load: load.default(LOAD_DEFAULTS).describe("The load job's data guards and retention (parameters of load_members)."),
    mysql: mysql
      .default(MYSQL_DEFAULTS)
      .describe("How the extract authenticates the MySQL server over TLS (its deployment settings ssl_mode and trust_store_path)."),
    protectStatefulResources: z
      .boolean()
      .optional()
      .describe(
        "Protect stateful resources (lifecycle.prevent_destroy, no force_destroy, longest KMS deletion window). Default: on in production mode, off in development.",
      ),
    health: health
      .default(HEALTH_DEFAULTS)
      .describe(
        "The health dashboard and alerts deployed with the pipeline (docs/operations/health.md); their e-mails go to notifications.failureEmails.",
      ),
    notifications: z
      .strictObject({
        failureEmails: z
          .array(z.email({ error: "expected an e-mail address" }))
          .min(1, { error: "expected at least one e-mail address" })
          .describe("Addresses told about every failed run and every run that exceeds its duration warning (at least one)."),
      })
      .describe("Who hears about failed and slow runs."),
    schedules: z
      .strictObject({
        extract: schedule.describe("When the extract job runs: a quartz schedule."),
        load: loadTrigger.describe("What starts the load job: new files in the landing zone (`file_arrival`) or a quartz schedule (`schedule`)."),
      })
      .describe("When the two jobs run."),
    cluster: cluster.describe("Job compute: the cluster policy every job cluster uses, and the task timeout."),
    storage: storage.describe("The landing storage: folders, retention and network access."),
    azure: azure.optional().describe("Azure environments only, and required there: resource group, storage firewall subnets, secret scope backing."),
    tags: z
      .record(tagKey, z.string().max(256))
      .default({})
      .describe("Tags on every taggable resource and fixed cost tags of the job clusters; the stack adds `environment`, `managed-by` and `stack`."),
    stateBackend,
  })
  .check(
    crossCheck(["cloud", "region"], (env, ctx) => {
      const regions: readonly string[] = env.cloud === "aws" ? AWS_REGIONS : AZURE_LOCATIONS;
      if (!regions.includes(env.region)) {
        ctx.addIssue({
          code: "custom",
          path: ["region"],
          input: env.region,
          message: env.cloud === "aws" ? "expected an AWS region code such as eu-west-1" : "expected an Azure location name such as westeurope",
        });
      }
    }),
    crossCheck(["cloud", "azure", "stateBackend"], (env, ctx) => {
      if (env.cloud === "azure" && !env.azure) {
        ctx.addIssue({
          code: "custom",
          path: ["azure"],
          input: env.azure,
          message: "expected an azure block (resourceGroupName, ...) for an Azure environment",
        });
      }
      if (env.cloud === "aws" && env.azure) {
        ctx.addIssue({
          code: "custom",
          path: ["azure"],
          input: env.azure,
          message: "expected no azure block in an AWS environment",
        });
      }
      const backend = env.stateBackend?.type;
      if ((backend === "s3" && env.cloud !== "aws") || (backend === "azurerm" && env.cloud !== "azure")) {
        ctx.addIssue({
          code: "custom",
          path: ["stateBackend", "type"],
          input: backend,
          message: `expected the ${env.cloud === "aws" ? "s3 backend for an AWS" : "azurerm backend for an Azure"} environment`,
        });
      }
    }),
    crossCheck(["cloud", "cluster"], (env, ctx) => {
      const known = knownNodeTypes(env.cloud);
      const check = (nodeType: string, path: (string | number)[]) => {
        if (known.includes(nodeType)) return;
        ctx.addIssue({
          code: "custom",
          path: ["cluster", ...path],
          input: nodeType,
          message: `expected a node type the cost model knows for ${env.cloud} (${known.slice(0, 4).join(", ")}${known.length > 4 ? ", ..." : ""}); if it is real, add it to tools/cost/prices.json`,
        });
      };
      check(env.cluster.nodeType, ["nodeType"]);
      env.cluster.allowedNodeTypes?.forEach((nodeType, index) => {
        check(nodeType, ["allowedNodeTypes", index]);
      });
    }),
    crossCheck(["cloud", "storage"], (env, ctx) => {
      // Only the Azure landing zone implements private-network storage (firewall default Deny); on AWS the flag
      // would be silently ignored, so it is refused rather than promised (found by __tests__/config-fuzz.test.ts).
      if (env.cloud === "aws" && env.storage.privateNetworkOnly) {
        ctx.addIssue({
          code: "custom",
          path: ["storage", "privateNetworkOnly"],
          input: env.storage.privateNetworkOnly,
          message: "expected false on AWS (private-network storage is implemented for Azure only)",
        });
      }
      if (env.cloud === "azure" && env.storage.breakGlassRoleArn !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["storage", "breakGlassRoleArn"],
          input: env.storage.breakGlassRoleArn,
          message: "expected no IAM role on Azure (the break-glass role is an exception in the AWS bucket and key policies)",
        });
      }
    }),
    crossCheck(["cloud", "storage", "azure"], (env, ctx) => {
      // Default-deny admits only the access connector (resource instance rule), so the external location validates,
      // but classic job clusters read and write the landing files from the workspace's subnets and get 403.
      if (env.cloud === "azure" && env.storage.privateNetworkOnly && (env.azure?.allowedSubnetIds.length ?? 0) === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["azure", "allowedSubnetIds"],
          input: env.azure?.allowedSubnetIds ?? [],
          message:
            'expected the workspace\'s VNet-injected subnets (with a Microsoft.Storage service endpoint) when storage.privateNetworkOnly is on: job clusters reach the storage from them and are refused otherwise (docs/deploy/prerequisites.md, "Private storage")',
        });
      }
    }),
    crossCheck(["cloud", "databricks", "azure"], (env, ctx) => {
      const auth = env.databricks.authType;
      const azureAd = (AZURE_AD_AUTH_TYPES as readonly string[]).includes(auth);
      if (env.cloud === "aws" && azureAd) {
        ctx.addIssue({
          code: "custom",
          path: ["databricks", "authType"],
          input: auth,
          message: `expected an auth type for a Databricks workspace on AWS (${DATABRICKS_AUTH_TYPES.filter((t) => !(AZURE_AD_AUTH_TYPES as readonly string[]).includes(t)).join(", ")})`,
        });
      }
      if (env.azure?.keyVaultSecretScope && !azureAd) {
        ctx.addIssue({
          code: "custom",
          path: ["databricks", "authType"],
          input: auth,
          message: `expected an Azure AD auth type (${AZURE_AD_AUTH_TYPES.join(", ")}) when azure.keyVaultSecretScope is on: the provider creates Key Vault-backed scopes only with a Microsoft Entra ID token`,
        });
      }
    }),
    crossCheck(["mode", "mysql"], (env, ctx) => {
      const { sslMode, trustStorePath } = env.mysql;
      if (env.mode === "production" && sslMode !== "VERIFY_IDENTITY") {
        ctx.addIssue({
          code: "custom",
          path: ["mysql", "sslMode"],
          input: sslMode,
          message:
            "expected VERIFY_IDENTITY in production mode: weaker modes do not check that the certificate names the MySQL host, so the password goes to whoever terminates TLS",
        });
      }
      if (trustStorePath !== undefined && sslMode !== "VERIFY_CA" && sslMode !== "VERIFY_IDENTITY") {
        ctx.addIssue({
          code: "custom",
          path: ["mysql", "trustStorePath"],
          input: trustStorePath,
          message: `expected no trust store with sslMode ${sslMode} (it applies to VERIFY_CA and VERIFY_IDENTITY only)`,
        });
      }
    }),
    crossCheck(["mode", "databricks", "stateBackend"], (env, ctx) => {
      const sp = env.databricks.runAsServicePrincipal;
      // Remote state means CI deploys it: without run_as the jobs would run as the CI deployer, a workspace admin.
      const ciDeployed = env.stateBackend.type !== "local";
      if ((env.mode === "production" || ciDeployed) && (sp === undefined || PLACEHOLDER_UUID.test(sp))) {
        ctx.addIssue({
          code: "custom",
          path: ["databricks", "runAsServicePrincipal"],
          input: sp,
          message: `expected the application id of a dedicated, non-admin service principal the ${env.mode === "production" ? "production" : "CI-deployed"} jobs run as (not the all-zero placeholder): without it they run as whoever deployed them`,
        });
      }
      const root = env.databricks.deployRoot;
      if (root !== undefined) {
        const shared = SHARED_WORKSPACE_FOLDER.test(root);
        const owner = /^(?:\/Workspace)?\/Users\/([^/]+)/.exec(root)?.[1];
        if (shared || (owner !== undefined && owner !== sp)) {
          ctx.addIssue({
            code: "custom",
            path: ["databricks", "deployRoot"],
            input: root,
            message: shared
              ? "expected a folder the stack owns, not under /Shared, where every workspace user can edit the code the jobs run with the MySQL secrets"
              : "expected a folder the stack owns, not another user's home folder (omit deployRoot for the stack's own folder under /Deployments, or use the run-as service principal's home)",
          });
        }
      }
    }),
    crossCheck(["name", "prefix", "azure"], (env, ctx) => {
      const vault = resourceNames(env.prefix, env.name).keyVault;
      // Key Vault names: 3-24 characters, letters, digits and hyphens, no two hyphens in a row.
      if (env.azure?.keyVaultSecretScope && (!/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/.test(vault) || vault.includes("--"))) {
        ctx.addIssue({
          code: "custom",
          path: ["prefix"],
          input: env.prefix,
          message: `expected a prefix that, with environment "${env.name}", gives a Key Vault name of at most 24 characters without "--" (it gives "${vault}")`,
        });
      }
    }),
    // The landing store's global name on the environment's own cloud: an S3 bucket on AWS, a storage account on Azure.
    crossCheck(["name", "prefix", "cloud"], (env, ctx) => {
      const names = resourceNames(env.prefix, env.name);
      for (const [rule, name] of env.cloud === "aws"
        ? ([[bucketName, names.bucket]] as const)
        : ([[storageAccountName, names.storageAccount]] as const)) {
        const result = rule.safeParse(name);
        if (!result.success) {
          ctx.addIssue({
            code: "custom",
            path: ["prefix"],
            input: env.prefix,
            message: `expected a prefix that, with environment "${env.name}", gives ${result.error.issues[0].message} (it gives "${name}")`,
          });
        }
      }
    }),
  );

/** GitHub `owner/name`: what the CI identities' OIDC trust names (`repo:<owner>/<name>:environment:<env>`). */
export const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

/** The CI identities (stacks/bootstrap): which repository's workflows may assume them. */
const github = z.strictObject({
  repository: z
    .string()
    .regex(GITHUB_REPOSITORY, { error: "expected a GitHub repository as owner/name" })
    .describe("The repository whose workflows plan and deploy, `owner/name`, with the case GitHub uses in the OIDC token's subject."),
});

export const appConfigSchema = z.strictObject({
  environments: z
    .array(environmentSchema)
    .min(1, { error: "expected at least one environment" })
    .describe("Every environment this repository deploys; one stack per entry, `members-<name>`."),
  github: github
    .optional()
    .describe(
      "The GitHub repository CI runs in. With it, the app also synthesizes the bootstrap stacks (members-bootstrap-aws, members-bootstrap-azure) that create the CI identities and state stores; without it, none.",
    ),
});

export type EnvironmentInput = z.input<typeof environmentSchema>;
export type AppConfigInput = z.input<typeof appConfigSchema>;
export type ParsedEnvironment = z.output<typeof environmentSchema>;

/** An environment after validation, with every default filled in and derived names computed. */
export interface EnvironmentConfig extends ParsedEnvironment {
  readonly stackName: string;
  readonly names: ResourceNames;
  /** Explicit deploy root; undefined means the stack's own `/Deployments/<prefix>-<environment>` folder. */
  readonly deployRoot: string | undefined;
  /** Stateful resources get prevent_destroy and friends (stacks/protection). */
  readonly protectStatefulResources: boolean;
  /** Groups granted the readers' masked view: readerGroups plus the PII reader group. */
  readonly tableReaders: string[];
  readonly extractPaused: boolean;
  readonly loadPaused: boolean;
  /** Deploy the health dashboard and alerts (health.enabled, default: production mode). */
  readonly healthEnabled: boolean;
  /** The health alerts deploy paused (health.alertSchedule.paused, default: development mode). */
  readonly healthAlertsPaused: boolean;
  readonly allowedNodeTypes: string[];
  /**
   * Who the jobs run as and who gets data grants: the run-as service principal's application id when configured,
   * otherwise the platform group.
   */
  readonly jobPrincipal: string;
  /** Days before landing objects move to a cheaper tier; undefined means no tiering. */
  readonly coolAfterDays: number | undefined;
  /** Fields still holding an example or placeholder value (placeholders.ts): the stack then refuses to deploy. */
  readonly placeholders: readonly ConfigProblem[];
}

export interface ResourceNames {
  /** S3 bucket (AWS) holding the landing zone. */
  readonly bucket: string;
  /** ADLS Gen2 storage account (Azure). */
  readonly storageAccount: string;
  /** Key Vault (Azure) behind a Key Vault-backed secret scope. */
  readonly keyVault: string;
  /** Container (Azure) holding the landing zone. */
  readonly container: string;
  /** Base of names of everything else: secret scope, jobs, cluster policy. */
  readonly base: string;
  /** Storage credential and landing external location in Unity Catalog (`<name>_managed` for managed storage). */
  readonly unityCatalogAccess: string;
  /** IAM role Unity Catalog assumes (AWS). */
  readonly unityCatalogRole: string;
  /** Databricks access connector (Azure). */
  readonly accessConnector: string;
}
