import { type ITerraformDependable, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { standardTags } from "../common/tags";
import platform from "../config/platform.json";
import type { EnvironmentConfig } from "../config/schema";
import { MembersCatalog } from "./catalog";
import { type Cloud, JobClusterPolicy } from "./cluster-policy";
import { type JobTrigger, PipelineJob } from "./jobs";
import { requireLiteral, requireProp } from "../common/validation";
import { jobPrincipalOf } from "./principal";
import { MysqlSecretScope } from "./secrets";
import { PipelineCode } from "./workspace-code";

/** The Delta table load_members merges into (quarantine and load-log tables derive from it). */
export const MEMBERS_TABLE = "members";

export interface MembersPipelineProps {
  /** The validated environment. */
  readonly environment: EnvironmentConfig;
  /**
   * Cloud of the workspace; picks the spot settings (aws_attributes or azure_attributes).
   * @default environment.cloud
   */
  readonly cloud?: Cloud;
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
  readonly secretsKeyVault?: { readonly resourceId: string; readonly dnsName: string };
  /**
   * Storage root of the catalog when the environment creates it, registered by its own external location.
   * @default none (required when the environment creates the catalog)
   */
  readonly managedStorage?: { readonly url: string; readonly location: ITerraformDependable };
  /**
   * Local folder with the notebook sources and the members_pipeline package.
   * @default the repository's notebooks/ folder
   */
  readonly notebooksDir?: string;
  /**
   * Parallel JDBC partitions of the extract.
   * @default 8
   */
  readonly extractPartitionCount?: number;
  /**
   * JDBC fetch size (rows per round trip) of the extract.
   * @default 10000
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
  readonly extractJob: PipelineJob;
  readonly loadJob: PipelineJob;

  constructor(scope: Construct, id: string, props: MembersPipelineProps) {
    super(scope, id);
    const env = props.environment;
    const cloud = props.cloud ?? env.cloud;
    const partitionCount = props.extractPartitionCount ?? 8;
    const fetchSize = props.extractFetchSize ?? 10_000;
    validate(props, partitionCount, fetchSize);

    const principal = jobPrincipalOf(env);
    const tags = standardTags(env);
    const base = env.names.base;

    this.secrets = new MysqlSecretScope(this, "mysql-secrets", {
      scopeName: `${base}-mysql`,
      reader: principal,
      keyVault: props.secretsKeyVault,
    });

    this.clusterPolicy = new JobClusterPolicy(this, "job-policy", {
      policyName: `${base}-job-compute`,
      cloud,
      sparkVersion: env.cluster.runtimeVersion,
      allowedNodeTypes: env.allowedNodeTypes,
      defaultNodeType: env.cluster.nodeType,
      minWorkers: env.cluster.minWorkers,
      maxWorkers: env.cluster.maxWorkers,
      spot: env.cluster.spot,
      costTags: tags,
      user: principal,
    });

    const platformGroup = { kind: "group", name: env.databricks.platformGroup } as const;
    this.code = new PipelineCode(this, "code", {
      deployRoot: env.deployRoot,
      folderName: env.name,
      owners: platformGroup,
      readers: principal,
      // The generator writes test members into MySQL: never part of a production deploy.
      includeGenerator: env.mode === "development",
      notebooksDir: props.notebooksDir,
    });

    this.catalog = new MembersCatalog(this, "catalog", {
      catalogName: env.catalog.name,
      createCatalog: env.catalog.create,
      schemaName: env.catalog.schema,
      createSchema: env.catalog.createSchema,
      jobPrincipal: principal,
      readers: env.tableReaders,
      managedStorage: props.managedStorage,
      properties: { project: tags.project ?? "members-lakehouse", environment: env.name },
    });

    const shared = {
      cluster: this.clusterPolicy.jobClusterSpec(),
      taskTimeoutMinutes: env.cluster.taskTimeoutMinutes,
      failureEmails: env.notifications.failureEmails,
      runAsServicePrincipal: env.databricks.runAsServicePrincipal,
      tags,
      operators: platformGroup,
      viewers: { kind: "group", name: env.databricks.viewerGroup },
      dependsOn: props.dependsOn,
    } as const;

    const extract = env.schedules.extract;
    this.extractJob = new PipelineJob(this, "extract-job", {
      ...shared,
      jobName: `${base}-extract-members`,
      description: "MySQL members -> cleaned, typed Parquet batch in the landing zone (one partition per run date).",
      taskKey: "extract_members",
      notebookPath: this.code.notebooks.extract_members.path,
      libraries: [{ maven: { coordinates: platform.jdbcDriver.maven } }],
      parameters: {
        secret_scope: this.secrets.scopeName,
        landing_path: props.landingUrl,
        // The run's own start date, so a rerun of a past run rewrites that day's partition, not today's.
        run_date: "{{job.start_time.iso_date}}",
        run_id: "{{job.run_id}}",
        partition_count: String(partitionCount),
        fetch_size: String(fetchSize),
      },
      trigger: { kind: "schedule", cron: extract.cron, timezone: extract.timezone, paused: env.extractPaused },
    });

    const load = env.schedules.load;
    const loadTrigger: JobTrigger =
      load.type === "file_arrival"
        ? {
            kind: "file_arrival",
            url: props.landingUrl,
            minTimeBetweenTriggersSeconds: load.minTimeBetweenTriggersSeconds,
            waitAfterLastChangeSeconds: load.waitAfterLastChangeSeconds,
            paused: env.loadPaused,
          }
        : { kind: "schedule", cron: load.cron, timezone: load.timezone, paused: env.loadPaused };
    this.loadJob = new PipelineJob(this, "load-job", {
      ...shared,
      jobName: `${base}-load-members`,
      description: "Complete landing batches -> Delta members table (MERGE), with quarantine and load log.",
      taskKey: "load_members",
      notebookPath: this.code.notebooks.load_members.path,
      parameters: {
        landing_path: props.landingUrl,
        catalog: this.catalog.catalogName,
        schema: this.catalog.schemaName,
        table: MEMBERS_TABLE,
        // Empty: every pending batch. Set it in "Run now with different parameters" to load one date.
        ingest_date: "",
        // Sees PII unmasked; the column masks also exempt the job's own identity (its MERGE reads the table).
        pii_reader_group: env.databricks.piiReaderGroup,
        // Data guards: refuse a snapshot that would flag or quarantine an unusual share (README "Data guards").
        max_deleted_share: String(env.load.maxDeletedShare),
        max_quarantined_share: String(env.load.maxQuarantinedShare),
        // "true" in "Run now with different parameters" accepts one run's mass change deliberately.
        accept_mass_change: "false",
        pii_retention_days: String(env.load.piiRetentionDays),
        history_retention_days: String(env.load.historyRetentionDays),
      },
      trigger: loadTrigger,
    });

    // Output names are the interface of `cdktf output` and of CI scripts: fixed, not derived from construct paths.
    const outputs: Record<string, { value: string; description: string }> = {
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
    };
    for (const [name, { value, description }] of Object.entries(outputs)) {
      new TerraformOutput(this, name.replace(/_/g, "-"), { value, description }).overrideLogicalId(name);
    }
  }
}

function validate(props: MembersPipelineProps, partitionCount: number, fetchSize: number): void {
  requireLiteral("MembersPipeline", "landingUrl", props.landingUrl,
    (u) => /^(s3|abfss|gs):\/\/[^\s]+\/$/.test(u), 'an s3://, abfss:// or gs:// URL ending with "/"');
  // The same bounds the notebook's widget parser enforces, so a bad value fails at synth, not at 02:00.
  requireProp("MembersPipeline", "extractPartitionCount", partitionCount, (n) => Number.isInteger(n) && n >= 1 && n <= 256, "an integer between 1 and 256");
  requireProp("MembersPipeline", "extractFetchSize", fetchSize, (n) => Number.isInteger(n) && n >= 100 && n <= 1_000_000, "an integer between 100 and 1000000");
}
