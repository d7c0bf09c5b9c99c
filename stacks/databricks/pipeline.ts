import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import contract from "../../notebooks/members_pipeline/contract.json";
import { fixedOutputs } from "../common/outputs";
import { requireLiteral, requireProp } from "../common/validation";
import type { ManagedStorage } from "../unity-catalog/landing-location";
import { PipelineArtifacts } from "./artifacts";
import { MembersCatalog } from "./catalog";
import { type Cloud, JobClusterPolicy, type JobClusterPolicyProps } from "./cluster-policy";
import { type JobTrigger, PipelineJob } from "./jobs";
import type { Principal } from "./principal";
import { RunAsNotAdmin } from "./run-as-check";
import { type KeyVaultReference, MysqlSecretScope } from "./secrets";
import { PipelineCode } from "./workspace-code";

/**
 * The stack <-> notebook contract (notebooks/members_pipeline/contract.json, shipped with the package): parameter
 * names, widget defaults and bounds of each notebook, and the MySQL secret keys. The notebooks declare their widgets
 * and parse them from the same file.
 */
export const NOTEBOOK_CONTRACT = contract;
export type ContractNotebook = keyof typeof contract.notebooks;
const EXTRACT = contract.notebooks.extract;
const LOAD = contract.notebooks.load;

type WidgetSpec = { readonly default: string; readonly job?: boolean; readonly deployment?: boolean };
const widgetsOf = (notebook: ContractNotebook): [string, WidgetSpec][] => Object.entries(contract.notebooks[notebook]);

/**
 * Names of the widgets the deployment fixes (`deployment: true` in the contract): who sees PII, where data comes from
 * and lands, which secret scope and TLS mode, retention. They are never job parameters, so "Run now with different
 * parameters" cannot change them; the job cluster carries them in its Spark conf, fixed by the cluster policy, and the
 * notebook refuses a widget that differs.
 */
export function deploymentSettingNames(notebook: ContractNotebook): string[] {
  return widgetsOf(notebook)
    .filter(([, spec]) => spec.deployment === true)
    .map(([name]) => name);
}

/** The Spark conf key holding one deployment setting (`spark.members.<notebook>.<widget>`), as the notebooks read it. */
export const deploymentConfKey = (notebook: ContractNotebook, widget: string): string => `${contract.deploymentConfPrefix}.${notebook}.${widget}`;

/** Names of the notebook parameters a job passes: every widget except those marked `job: false` or `deployment: true`. */
export function jobParameterNames(notebook: ContractNotebook): string[] {
  return widgetsOf(notebook)
    .filter(([, spec]) => spec.job !== false && spec.deployment !== true)
    .map(([name]) => name);
}

/**
 * A notebook's deployment settings as Spark conf entries: each given value, or the contract default. An empty value
 * gets no entry (a cluster's Spark conf holds no empty values); the notebook then fixes it to its empty default.
 */
function deploymentSettings(notebook: ContractNotebook, values: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const names = deploymentSettingNames(notebook);
  const unknown = Object.keys(values).filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new Error(`MembersPipeline: ${unknown.join(", ")} are not deployment settings of ${notebook} (contract.json: ${names.join(", ")})`);
  }
  const specs = contract.notebooks[notebook] as Record<string, WidgetSpec>;
  return Object.fromEntries(
    names.map((name) => [deploymentConfKey(notebook, name), values[name] ?? specs[name].default] as const).filter(([, value]) => value !== ""),
  );
}

/** The job's parameters, checked against the contract: exactly its job parameter names (order as given). */
function jobParameters<N extends ContractNotebook>(
  notebook: N,
  values: Partial<Record<keyof (typeof contract.notebooks)[N], string>>,
): Record<string, string> {
  const expected = [...jobParameterNames(notebook)].sort();
  const got = Object.keys(values).sort();
  if (JSON.stringify(expected) !== JSON.stringify(got)) {
    throw new Error(`MembersPipeline: ${notebook} job parameters ${got.join(", ")} differ from the contract's ${expected.join(", ")}`);
  }
  return values as Record<string, string>;
}

/** The Delta table load_members merges into (quarantine and load-log tables derive from it). */
export const MEMBERS_TABLE = LOAD.table.default;

/** A schedule or a file-arrival trigger, before the landing URL is known (the pipeline fills it in). */
export type LoadTriggerSetting = Omit<Extract<JobTrigger, { kind: "file_arrival" }>, "url"> | Extract<JobTrigger, { kind: "schedule" }>;

/** The load job's data guards and retention (job parameters of load_members). */
export interface LoadSettings {
  readonly maxDeletedShare: number;
  readonly maxQuarantinedShare: number;
  readonly piiRetentionDays: number;
  readonly historyRetentionDays: number;
}

export interface MembersPipelineProps {
  /** Cloud of the workspace; picks the spot settings (aws_attributes or azure_attributes). */
  readonly cloud: Cloud;
  /** Short environment name: a catalog property. */
  readonly environmentName: string;
  /** Base of every Databricks object name (`<prefix>-<env>`): scope, cluster policy, jobs. */
  readonly namePrefix: string;
  /** Who the jobs run as and who gets the data grants. */
  readonly jobPrincipal: Principal;
  /** Application id of the run-as service principal. @default the deployer (development only) */
  readonly runAsServicePrincipal?: string;
  /** May manage and run the jobs; owns the deployed code. */
  readonly platformGroup: string;
  /** May view the jobs and their runs. */
  readonly viewerGroup: string;
  /** Groups that may query the readers' masked view. @default none */
  readonly tableReaders?: readonly string[];
  /** Sees PII unmasked: reads the tables, and the view unmasks PII for it. */
  readonly piiReaderGroup: string;
  readonly catalog: {
    readonly name: string;
    readonly create: boolean;
    readonly schema: string;
    readonly createSchema: boolean;
    /** @default `<schema>_masked` */
    readonly maskedSchema?: string;
  };
  /** Job compute the cluster policy allows. */
  readonly cluster: Omit<JobClusterPolicyProps, "policyName" | "cloud" | "costTags" | "user"> & { readonly taskTimeoutMinutes: number };
  /** When the extract runs. */
  readonly extractSchedule: Extract<JobTrigger, { kind: "schedule" }>;
  /** When the load runs: on file arrival in the landing folder, or on a schedule. */
  readonly loadTrigger: LoadTriggerSetting;
  readonly load: LoadSettings;
  readonly failureEmails: readonly string[];
  /** Job tags and cluster cost tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Workspace folder the code is deployed to. @default `/Deployments/<namePrefix>` (PipelineCode) */
  readonly deployRoot?: string;
  /**
   * The platform group may only read the deployed code (production): only the deployer changes what runs as the job
   * principal.
   * @default false
   */
  readonly codeReadOnlyForPlatform?: boolean;
  /**
   * How the extract authenticates the MySQL server (deployment settings ssl_mode and trust_store_path).
   * @default `ssl_mode` of contract.json (VERIFY_IDENTITY) with the JVM's trust store
   */
  readonly mysql?: { readonly sslMode?: string; readonly trustStorePath?: string };
  /** Also deploy the member-data generator notebook (development environments). @default false */
  readonly includeGenerator?: boolean;
  /**
   * Landing folder inside the external location (`s3://bucket/landing/` or
   * `abfss://container@account.dfs.core.windows.net/landing/`). Must end with "/": the load job's file-arrival
   * trigger watches it. May be a Terraform reference.
   */
  readonly landingUrl: string;
  /**
   * The jobs are created after these, e.g. the external location (a file-arrival trigger is validated against it).
   * @default none
   */
  readonly dependsOn?: ITerraformDependable[];
  /**
   * Azure Key Vault backing the MySQL secret scope.
   * @default a Databricks-backed scope filled from TF_VAR_mysql_*
   */
  readonly secretsKeyVault?: KeyVaultReference;
  /**
   * Storage root of the catalog when it is created, registered by its own external location.
   * @default none (required when catalog.create is true)
   */
  readonly managedStorage?: ManagedStorage;
  /**
   * Local folder with the notebook sources and the members_pipeline package.
   * @default the repository's notebooks/ folder
   */
  readonly notebooksDir?: string;
  /**
   * Local folder holding the downloaded, sha256-checked artifacts the stack uploads (the JDBC driver jar).
   * @default the repository's .local/artifacts (`make jdbc-driver`)
   */
  readonly artifactsDir?: string;
  /**
   * Parallel JDBC partitions of the extract.
   * @default `partition_count` of contract.json
   */
  readonly extractPartitionCount?: number;
  /**
   * JDBC fetch size of the extract: 0 streams the rows; N fetches N rows a round trip through a server-side cursor,
   * for which MySQL first copies the whole result into a temporary table.
   * @default `fetch_size` of contract.json (0)
   */
  readonly extractFetchSize?: number;
}

/**
 * The cloud-agnostic Databricks side of one environment: MySQL secrets, job cluster policy, uploaded code, catalog
 * and schema with grants, the extract and load jobs, and their outputs.
 */
export class MembersPipeline extends Construct {
  readonly secrets: MysqlSecretScope;
  readonly clusterPolicy: JobClusterPolicy;
  readonly code: PipelineCode;
  readonly catalog: MembersCatalog;
  /** The checked JDBC driver jar in a volume of the pipeline's schema. */
  readonly artifacts: PipelineArtifacts;
  readonly extractJob: PipelineJob;
  readonly loadJob: PipelineJob;
  /** The development-only member-data generator job, when the generator is deployed. */
  readonly generateJob?: PipelineJob;
  /** The generator's own MySQL credentials (development only), when the generator is deployed. */
  readonly generatorSecrets?: MysqlSecretScope;

  constructor(scope: Construct, id: string, props: MembersPipelineProps) {
    super(scope, id);
    const partitionCount = props.extractPartitionCount ?? Number(EXTRACT.partition_count.default);
    const fetchSize = props.extractFetchSize ?? Number(EXTRACT.fetch_size.default);
    validate(props, partitionCount, fetchSize);
    const principal = props.jobPrincipal;
    const base = props.namePrefix;

    this.secrets = new MysqlSecretScope(this, "mysql-secrets", {
      scopeName: `${base}-mysql`,
      reader: principal,
      keyVault: props.secretsKeyVault,
    });

    const platformGroup = { kind: "group", name: props.platformGroup } as const;
    this.code = new PipelineCode(this, "code", {
      deployRoot: props.deployRoot,
      folderName: props.namePrefix,
      owners: platformGroup,
      readOnlyForOwners: props.codeReadOnlyForPlatform,
      readers: principal,
      includeGenerator: props.includeGenerator,
      notebooksDir: props.notebooksDir,
    });

    this.catalog = new MembersCatalog(this, "catalog", {
      catalogName: props.catalog.name,
      createCatalog: props.catalog.create,
      schemaName: props.catalog.schema,
      createSchema: props.catalog.createSchema,
      jobPrincipal: principal,
      readers: props.tableReaders,
      // The platform group operates the load (quarantine, load log): trusted with PII like the PII reader group.
      piiReaders: [props.piiReaderGroup, props.platformGroup],
      maskedSchemaName: props.catalog.maskedSchema,
      managedStorage: props.managedStorage,
      properties: { project: props.tags.project ?? "members-lakehouse", environment: props.environmentName },
    });

    // Under the catalog construct: the volume lives in the pipeline's schema, whose grants let the job principal read it.
    this.artifacts = new PipelineArtifacts(this.catalog, "artifacts", {
      catalogName: this.catalog.catalogName,
      schemaName: this.catalog.schemaName,
      artifactsDir: props.artifactsDir,
    });

    if (props.includeGenerator) {
      // Its own credentials (a MySQL user with DDL rights on the test database), never the extract's read-only ones.
      this.generatorSecrets = new MysqlSecretScope(this, "generator-secrets", {
        scopeName: `${base}-mysql-generator`,
        reader: principal,
        variablePrefix: "mysql_generator",
        usedBy: "the development member-data generator",
      });
    }

    // Everything a run must not change, pinned in the job clusters' Spark conf and fixed by their policy.
    const fixedSparkConf = {
      ...deploymentSettings("extract", {
        secret_scope: this.secrets.scopeName,
        landing_path: props.landingUrl,
        ssl_mode: props.mysql?.sslMode,
        trust_store_path: props.mysql?.trustStorePath,
      }),
      ...deploymentSettings("load", {
        landing_path: props.landingUrl,
        catalog: this.catalog.catalogName,
        schema: this.catalog.schemaName,
        table: MEMBERS_TABLE,
        // The readers' view shows PII unmasked to this group only; the view lives in the masked schema.
        pii_reader_group: props.piiReaderGroup,
        masked_schema: this.catalog.maskedSchemaName,
        pii_retention_days: String(props.load.piiRetentionDays),
        history_retention_days: String(props.load.historyRetentionDays),
      }),
      ...(this.generatorSecrets ? deploymentSettings("generate", { secret_scope: this.generatorSecrets.scopeName }) : {}),
    };
    const { taskTimeoutMinutes, ...cluster } = props.cluster;
    this.clusterPolicy = new JobClusterPolicy(this, "job-policy", {
      ...cluster,
      policyName: `${base}-job-compute`,
      cloud: props.cloud,
      costTags: props.tags,
      user: principal,
      fixedSparkConf,
    });

    // Plans stop while the run-as principal is a workspace admin (or the deployer itself).
    if (props.runAsServicePrincipal) new RunAsNotAdmin(this, "run-as-not-admin", { applicationId: props.runAsServicePrincipal });

    const shared = {
      cluster: this.clusterPolicy.jobClusterSpec(),
      taskTimeoutMinutes,
      failureEmails: props.failureEmails,
      runAsServicePrincipal: props.runAsServicePrincipal,
      tags: props.tags,
      operators: platformGroup,
      viewers: { kind: "group", name: props.viewerGroup },
      dependsOn: props.dependsOn,
    } as const;

    this.extractJob = new PipelineJob(this, "extract-job", {
      ...shared,
      jobName: `${base}-extract-members`,
      description: "MySQL members -> cleaned, typed Parquet batch in the landing zone (one partition per run date).",
      taskKey: "extract_members",
      notebookPath: this.code.notebooks.extract_members.path,
      // The JDBC driver from the stack's volume, checked by sha256 before upload; never Maven coordinates resolved
      // without a checksum at every cluster start (MEM-JOB-003).
      libraries: [{ whl: this.code.wheelPath }, { jar: this.artifacts.jdbcDriverPath }],
      parameters: jobParameters("extract", {
        // The run's own start date, so a rerun of a past run rewrites that day's partition, not today's.
        run_date: "{{job.start_time.iso_date}}",
        run_id: "{{job.run_id}}",
        partition_count: String(partitionCount),
        fetch_size: String(fetchSize),
      }),
      trigger: props.extractSchedule,
    });

    const load = props.load;
    this.loadJob = new PipelineJob(this, "load-job", {
      ...shared,
      jobName: `${base}-load-members`,
      description: "Complete landing batches -> Delta members table (MERGE), with quarantine and load log.",
      taskKey: "load_members",
      notebookPath: this.code.notebooks.load_members.path,
      libraries: [{ whl: this.code.wheelPath }],
      parameters: jobParameters("load", {
        // Empty: every pending batch. Set it in "Run now with different parameters" to load one date.
        ingest_date: LOAD.ingest_date.default,
        // Data guards: refuse a snapshot that would flag or quarantine an unusual share (docs/safety/changing-things-safely.md).
        max_deleted_share: String(load.maxDeletedShare),
        max_quarantined_share: String(load.maxQuarantinedShare),
        // "true" in "Run now with different parameters" accepts one run's mass change deliberately.
        accept_mass_change: LOAD.accept_mass_change.default,
      }),
      trigger: props.loadTrigger.kind === "file_arrival" ? { ...props.loadTrigger, url: props.landingUrl } : props.loadTrigger,
    });

    if (this.code.generator) {
      // Development only: fills a test MySQL with fake members, started by hand ("Run now with different parameters").
      const generate = contract.notebooks.generate;
      this.generateJob = new PipelineJob(this, "generate-job", {
        ...shared,
        jobName: `${base}-generate-members`,
        description: "Development only: fills the test MySQL database with seeded fake members (started by hand).",
        taskKey: "generate_member_data",
        notebookPath: this.code.generator.path,
        libraries: [{ whl: this.code.wheelPath }],
        parameters: jobParameters(
          "generate",
          Object.fromEntries(jobParameterNames("generate").map((name) => [name, String(generate[name as keyof typeof generate].default)])),
        ),
      });
    }

    fixedOutputs(this, {
      extract_job_id: { value: this.extractJob.job.id, description: "Extract job id" },
      extract_job_url: { value: this.extractJob.job.url, description: "Extract job in the workspace UI" },
      load_job_id: { value: this.loadJob.job.id, description: "Load job id" },
      load_job_url: { value: this.loadJob.job.url, description: "Load job in the workspace UI" },
      secret_scope: { value: this.secrets.scopeName, description: "Secret scope holding the MySQL connection" },
      deploy_root: { value: this.code.deployRoot, description: "Workspace folder of the notebooks and members_pipeline" },
      extract_notebook_path: { value: this.code.notebooks.extract_members.path, description: "Extract notebook" },
      load_notebook_path: { value: this.code.notebooks.load_members.path, description: "Load notebook" },
      members_table: {
        value: `${this.catalog.catalogName}.${this.catalog.schemaName}.${MEMBERS_TABLE}`,
        description: "Delta table the load job merges into",
      },
    });
  }
}

function validate(props: MembersPipelineProps, partitionCount: number, fetchSize: number): void {
  requireLiteral(
    "MembersPipeline",
    "landingUrl",
    props.landingUrl,
    (u) => /^(s3|abfss|gs):\/\/[^\s]+\/$/.test(u),
    'an s3://, abfss:// or gs:// URL ending with "/"',
  );
  // The contract's bounds, which the notebook's widget parser enforces too: a bad value fails at synth, not at 02:00.
  for (const [prop, value, { min, max }] of [
    ["extractPartitionCount", partitionCount, EXTRACT.partition_count],
    ["extractFetchSize", fetchSize, EXTRACT.fetch_size],
  ] as const) {
    requireProp("MembersPipeline", prop, value, (n) => Number.isInteger(n) && n >= min && n <= max, `an integer between ${min} and ${max}`);
  }
}
