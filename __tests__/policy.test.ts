/**
 * The policy pack (stacks/policy): every rule passes on the stacks of the test configuration (fixtures/test-config.ts) and fails, naming its id and the offending
 * resource, when one resource of a real stack is broken with an override. Also: errors fail synth, warnings do not,
 * suppressions need a reason.
 */

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App, Aspects, TerraformProvider, TerraformResource, type TerraformStack, Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import type { TerraformJson } from "../stacks/common/terraform-json";
import { config as shipped } from "../stacks/config/environments";
import type { AppConfigInput, EnvironmentInput } from "../stacks/config/schema";
import { validateConfig } from "../stacks/config/validate";
import { blockingFindings, type Finding, PolicyPack, policyOptionsFor, RULES, severityOf, suppressPolicy } from "../stacks/policy";
import { testConfig, testEnv } from "./fixtures/test-config";

/** One environment's stack, built fresh (so a test may break it) but not yet synthesized. */
function stackOf(env: EnvironmentInput, app: App = Testing.app()): TerraformStack {
  const config: AppConfigInput = { environments: [env] };
  return buildApp(config, app).node.children[0] as TerraformStack;
}

function packOf(stack: TerraformStack): PolicyPack {
  const pack = Aspects.of(stack).all.find((a): a is PolicyPack => a instanceof PolicyPack);
  if (!pack) throw new Error(`${stack.node.id} has no PolicyPack aspect`);
  return pack;
}

/** Findings after every aspect ran, as at synth. */
/** Rules that reported a violation in some test: the test configuration's stacks report none, so each comes from a broken case. */
const fired = new Set<string>();
function record(findings: Finding[]): Finding[] {
  for (const f of findings) fired.add(f.ruleId);
  return findings;
}

function findingsOf(stack: TerraformStack): Finding[] {
  Testing.synth(stack);
  return record(packOf(stack).evaluate(stack));
}

/** The first resource of `type` (whose construct path contains `pathPart`, when given). */
function resourceOf(stack: TerraformStack, type: string, pathPart = ""): TerraformResource {
  const found = stack.node
    .findAll()
    .filter((c): c is TerraformResource => c instanceof TerraformResource && c.terraformResourceType === type && c.node.path.includes(pathPart));
  if (found.length === 0) throw new Error(`no ${type} ${pathPart} in ${stack.node.id}`);
  return found[0];
}

/** The policy options MembersStack derives for an environment of the test configuration. */
function optionsOf(name: string) {
  return policyOptionsFor(validateConfig({ environments: [testEnv(name)] })[0]);
}

/** Findings of a stack of the test configuration evaluated by a pack with other options (a rule's environment-dependent side). */
function findingsWith(stack: TerraformStack, options: ReturnType<typeof optionsOf>): Finding[] {
  Testing.synth(stack);
  return record(new PolicyPack(options).evaluate(stack));
}

function providerOf(stack: TerraformStack, type: string): TerraformProvider {
  const provider = stack.node.findAll().find((c): c is TerraformProvider => c instanceof TerraformProvider && c.terraformResourceType === type);
  if (!provider) throw new Error(`no provider ${type} in ${stack.node.id}`);
  return provider;
}

/** Breaks one resource of a fresh stack of the test configuration and returns what the pack reports. */
function broken(
  envName: string,
  type: string,
  overrides: Record<string, unknown>,
  env?: Partial<EnvironmentInput>,
  pathPart = "",
): { findings: Finding[]; address: string } {
  const stack = stackOf({ ...testEnv(envName), ...env } as EnvironmentInput);
  const resource = resourceOf(stack, type, pathPart);
  for (const [key, value] of Object.entries(overrides)) resource.addOverride(key, value);
  return { findings: findingsOf(stack), address: `${type}.${resource.friendlyUniqueId}` };
}

function expectViolation(result: { findings: Finding[]; address: string }, ruleId: string, message?: RegExp): void {
  const hits = result.findings.filter((f) => f.ruleId === ruleId);
  expect(hits.map((f) => f.address)).toContain(result.address);
  if (message) expect(hits.find((f) => f.address === result.address)?.message).toMatch(message);
}

const ENVIRONMENTS = testConfig.environments.map((e) => e.name);

/** The policy pack's annotations, `[MEM-...]`; the placeholder warning (example values) is another construct's. */
const packAnnotations = (annotations: { message: string }[]) => annotations.filter((a) => a.message.startsWith("[MEM-"));

describe("the test configuration's stacks (fixtures/test-config.ts)", () => {
  const findings: Record<string, Finding[]> = {};
  beforeAll(() => {
    for (const name of ENVIRONMENTS) findings[name] = findingsOf(stackOf(testEnv(name)));
  });

  test.each(ENVIRONMENTS)("%s passes every rule, errors and warnings alike", (name) => {
    expect(findings[name]).toEqual([]);
  });

  test("both clouds are covered by the test configuration's stacks", () => {
    expect(new Set(testConfig.environments.map((e) => e.cloud))).toEqual(new Set(["aws", "azure"]));
  });

  test("every rule has a unique id, a severity, a description and an explanation", () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^MEM-[A-Z]{3}-[01]\d\d$/);
      // 0xx: errors, 1xx: warnings, decided in one place.
      expect(severityOf(rule.id)).toBe(rule.id.endsWith(`-0${rule.id.slice(-2)}`) ? "error" : "warning");
      expect(rule.description.length).toBeGreaterThan(20);
      expect(rule.explanation.length).toBeGreaterThan(30);
    }
  });
});

describe("the shipped configuration (stacks/config/environments.ts, or a fork's)", () => {
  test.each(shipped.environments.map((e) => e.name))("%s synthesizes and passes every rule, errors and warnings alike", (name) => {
    const env = shipped.environments.find((e) => e.name === name)!;
    const stack = stackOf(env);
    expect(() => Testing.synth(stack)).not.toThrow();
    expect(findingsOf(stack)).toEqual([]);
  });
});

describe("each rule fails on a broken resource", () => {
  test("MEM-ENC-001: S3 bucket without SSE-KMS (the finding names the bucket)", () => {
    const aes = broken("sandbox", "aws_s3_bucket_server_side_encryption_configuration", {
      "rule.0.apply_server_side_encryption_by_default.sse_algorithm": "AES256",
      "rule.0.apply_server_side_encryption_by_default.kms_master_key_id": undefined,
    });
    expect(aes.findings.map((f) => [f.ruleId, f.address.split(".")[0]])).toEqual([["MEM-ENC-001", "aws_s3_bucket"]]);
    // An encryption configuration of another bucket does not count.
    const other = broken("sandbox", "aws_s3_bucket_server_side_encryption_configuration", { bucket: "some-other-bucket" });
    expect(other.findings.map((f) => [f.ruleId, f.address.split(".")[0]])).toEqual([["MEM-ENC-001", "aws_s3_bucket"]]);
  });

  test("MEM-ENC-001: storage account without infrastructure encryption", () => {
    expectViolation(
      broken("lab", "azurerm_storage_account", { infrastructure_encryption_enabled: false }),
      "MEM-ENC-001",
      /infrastructure_encryption_enabled/,
    );
  });

  test("MEM-PUB-001: S3 public access block with one flag off", () => {
    const r = broken("live", "aws_s3_bucket_public_access_block", { block_public_policy: false });
    const hit = r.findings.find((f) => f.ruleId === "MEM-PUB-001");
    expect(hit?.address).toMatch(/^aws_s3_bucket\./);
    expect(hit?.message).toContain("block_public_policy");
  });

  test("MEM-PUB-001: public blobs or a public container", () => {
    expectViolation(broken("lab", "azurerm_storage_account", { allow_nested_items_to_be_public: true }), "MEM-PUB-001");
    expectViolation(broken("lab", "azurerm_storage_container", { container_access_type: "blob" }), "MEM-PUB-001");
  });

  test("MEM-SQL-001: a warehouse that is not serverless, never stops, or lacks the standard tags", () => {
    const classic = broken("live", "databricks_sql_endpoint", { enable_serverless_compute: false });
    expectViolation(classic, "MEM-SQL-001", /enable_serverless_compute false, expected true/);
    expectViolation(broken("live", "databricks_sql_endpoint", { auto_stop_mins: 0 }), "MEM-SQL-001", /auto_stop_mins 0, expected 1-30/);
    expectViolation(broken("live", "databricks_sql_endpoint", { tags: null }), "MEM-SQL-001", /custom_tags lack .*stack/);
  });

  test("MEM-NET-001: private environment whose firewall allows by default", () => {
    const r = broken("lab", "azurerm_storage_account_network_rules", { default_action: "Allow" });
    expect(r.findings.find((f) => f.ruleId === "MEM-NET-001")?.address).toMatch(/^azurerm_storage_account\./);
  });

  test("MEM-NET-001: passes a public environment without network rules", () => {
    const stack = stackOf({ ...testEnv("lab"), storage: { retentionDays: 14, privateNetworkOnly: false } } as EnvironmentInput);
    expect(findingsOf(stack).filter((f) => f.ruleId === "MEM-NET-001")).toEqual([]);
  });

  test("MEM-NET-001: a bucket in a private environment needs a VPC condition (pack used directly)", () => {
    const stack = stackOf(testEnv("sandbox"));
    Testing.synth(stack);
    const pack = new PolicyPack({ ...optionsOf("sandbox"), privateNetworkOnly: true, requiredTags: [] });
    expect(
      record(pack.evaluate(stack))
        .filter((f) => f.ruleId === "MEM-NET-001")
        .map((f) => f.address)[0],
    ).toMatch(/^aws_s3_bucket\./);
  });

  test("MEM-TLS-001: bucket policy without the deny-non-TLS statement", () => {
    const r = broken("live", "aws_s3_bucket_policy", {
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "*" }] }),
    });
    expect(r.findings.find((f) => f.ruleId === "MEM-TLS-001")?.address).toMatch(/^aws_s3_bucket\./);
  });

  test("MEM-TLS-001: a literal JSON deny-non-TLS policy passes", () => {
    const r = broken("live", "aws_s3_bucket_policy", {
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Deny", Principal: "*", Action: "s3:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }],
      }),
    });
    expect(r.findings).toEqual([]);
  });

  test("MEM-TLS-001: storage account allowing TLS 1.0 or plain HTTP", () => {
    expectViolation(broken("lab", "azurerm_storage_account", { min_tls_version: "TLS1_0" }), "MEM-TLS-001", /min_tls_version/);
    expectViolation(broken("lab", "azurerm_storage_account", { https_traffic_only_enabled: false }), "MEM-TLS-001", /https_traffic_only_enabled/);
  });

  test("MEM-CLU-001: job cluster without the policy, or not applying its defaults, or an all-purpose cluster", () => {
    expectViolation(broken("sandbox", "databricks_job", { "job_cluster.0.new_cluster.policy_id": "ABCDEF0123456789" }), "MEM-CLU-001", /policy_id/);
    expectViolation(
      broken("sandbox", "databricks_job", { "job_cluster.0.new_cluster.apply_policy_default_values": false }),
      "MEM-CLU-001",
      /apply_policy_default_values/,
    );
    expectViolation(broken("lab", "databricks_job", { "task.0.existing_cluster_id": "0101-000000-abcdefgh" }), "MEM-CLU-001", /existing_cluster_id/);
  });

  test("MEM-CLU-002: a job cluster without a value its policy fixes (perpetual diff), or outside an allowlist or range", () => {
    // The cost tags the policy fixes: the Jobs API writes them into the job, so a spec without them diffs forever.
    expectViolation(
      broken("live", "databricks_job", { "job_cluster.0.new_cluster.custom_tags": undefined }),
      "MEM-CLU-002",
      /custom_tags\.project is fixed to "globex-lakehouse" by the policy but missing from the spec/,
    );
    expectViolation(
      broken("lab", "databricks_job", { "job_cluster.0.new_cluster.spark_conf": { "spark.sql.session.timeZone": "Europe/Paris" } }),
      "MEM-CLU-002",
      /spark_conf\.spark\.sql\.session\.timeZone: got "Europe\/Paris", expected "UTC"/,
    );
    expectViolation(
      broken("live", "databricks_job", { "job_cluster.0.new_cluster.node_type_id": "m6gd.16xlarge" }),
      "MEM-CLU-002",
      /node_type_id: got "m6gd\.16xlarge", expected one of m6gd\.large, m6gd\.xlarge, m6gd\.2xlarge/,
    );
    expectViolation(
      broken("live", "databricks_job", { "job_cluster.0.new_cluster.autoscale.max_workers": 20 }),
      "MEM-CLU-002",
      /autoscale\.max_workers: got 20, expected a number in \[1, 8\]/,
    );
    expectViolation(
      broken("live", "databricks_job", { "job_cluster.0.new_cluster.init_scripts": [{ s3: { destination: "s3://x/init.sh" } }] }),
      "MEM-CLU-002",
      /init_scripts\.0\.s3\.destination: got "s3:\/\/x\/init\.sh", expected nothing \(forbidden by the policy\)/,
    );
  });

  test("MEM-JOB-004: a deployment setting passed as a job parameter, missing from the cluster's Spark conf, or not fixed by the policy", () => {
    const parameter = [
      { name: "pii_reader_group", default: "account users" },
      { name: "ingest_date", default: "" },
    ];
    expectViolation(
      broken("live", "databricks_job", { parameter }, undefined, "load-job"),
      "MEM-JOB-004",
      /job parameter "pii_reader_group" is a deployment setting/,
    );
    // Spark conf keys hold dots, which addOverride splits on: these cases change the synthesized JSON and run the rule on it.
    const loadJobWith = (key: string, value: string | undefined) => {
      const stack = stackOf(testEnv("live"));
      Testing.synth(stack);
      const tf = stack.toTerraform() as TerraformJson;
      const [id, job] = Object.entries(tf.resource?.databricks_job ?? {}).find(([name]) => name.includes("load-job"))!;
      const conf = job.job_cluster[0].new_cluster.spark_conf;
      if (value === undefined) delete conf[key];
      else conf[key] = value;
      const rule = RULES.find((r) => r.id === "MEM-JOB-004")!;
      const findings = rule.check(tf, optionsOf("live") as never).map((v) => ({ ...v, ruleId: rule.id }) as Finding);
      return { findings: record(findings), address: `databricks_job.${id}` };
    };
    expectViolation(
      loadJobWith("spark.members.load.pii_reader_group", undefined),
      "MEM-JOB-004",
      /spark_conf has no spark\.members\.load\.pii_reader_group/,
    );
    expectViolation(
      loadJobWith("spark.members.load.pii_retention_days", "0"),
      "MEM-JOB-004",
      /spark\.members\.load\.pii_retention_days is not fixed to "0" by the cluster policy/,
    );
  });

  test("MEM-JOB-003: a wheel named by the workspace file's plain path, a DBFS library, a relative notebook path", () => {
    const wheel = broken("live", "databricks_job", {
      "task.0.library": [{ whl: "${databricks_workspace_file.pipeline_code_package-wheel_637A6C3E.path}" }],
    });
    expectViolation(wheel, "MEM-JOB-003", /library whl: .* a workspace object's `path` .* reference its `workspace_path`/);
    expectViolation(
      broken("live", "databricks_job", { "task.0.library": [{ whl: "/Users/someone/dist/x.whl" }] }),
      "MEM-JOB-003",
      /expected \/Workspace\/\.\.\./,
    );
    expectViolation(broken("live", "databricks_job", { "task.0.library": [{ jar: "dbfs:/FileStore/x.jar" }] }), "MEM-JOB-003", /library jar/);
    expectViolation(broken("live", "databricks_job", { "task.0.notebook_task.notebook_path": "load_members" }), "MEM-JOB-003", /notebook_path/);
    // Coordinates resolved from a repository at every cluster start, with no checksum (issue 25 item 8).
    expectViolation(
      broken("live", "databricks_job", { "task.0.library": [{ maven: { coordinates: "com.mysql:mysql-connector-j:9.5.0" } }] }),
      "MEM-JOB-003",
      /library maven: .* without a checksum/,
    );
    expectViolation(broken("live", "databricks_job", { "task.0.library": [{ pypi: { package: "pymysql==1.1.1" } }] }), "MEM-JOB-003", /library pypi/);
    // The accepted forms, the uploaded volume file's path reference among them.
    for (const whl of ["/Workspace/Deployments/x.whl", "/Volumes/main/default/libs/x.whl", "s3://bucket/x.whl"]) {
      expect(broken("live", "databricks_job", { "task.0.library": [{ whl }] }).findings).toEqual([]);
    }
    expect(broken("live", "databricks_job", { "task.0.library": [{ jar: "${databricks_file.a_jdbc-driver_1234ABCD.path}" }] }).findings).toEqual([]);
  });

  test("MEM-SEC-001: a literal secret value", () => {
    expectViolation(broken("sandbox", "databricks_secret", { string_value: "hunter2" }), "MEM-SEC-001", /not a \$\{var/);
  });

  test("MEM-SEC-001: a secret from a non-sensitive or defaulted variable", () => {
    const stack = stackOf(testEnv("sandbox"));
    stack.addOverride("variable.mysql_password.sensitive", false);
    stack.addOverride("variable.mysql_host.default", "db.internal");
    const hits = findingsOf(stack).filter((f) => f.ruleId === "MEM-SEC-001");
    expect(hits.map((f) => f.message).sort()).toEqual([
      "variable mysql_host has a default value (a literal secret in code)",
      "variable mysql_password is not declared sensitive",
    ]);
  });

  test("MEM-TAG-001: AWS provider default_tags missing a standard key", () => {
    const stack = stackOf(testEnv("preview"));
    const provider = stack.node.findAll().find((c): c is TerraformProvider => c instanceof TerraformProvider && c.terraformResourceType === "aws");
    provider!.addOverride("default_tags.0.tags.cost-center", undefined);
    const hit = findingsOf(stack).find((f) => f.ruleId === "MEM-TAG-001");
    expect(hit?.address).toMatch(/^provider\.aws/);
    expect(hit?.message).toContain("cost-center");
  });

  test("MEM-TAG-001: an azurerm resource or a job without the standard tags", () => {
    expectViolation(broken("lab", "azurerm_resource_group", { tags: undefined }), "MEM-TAG-001", /environment/);
    expectViolation(broken("lab", "azurerm_storage_account", { "tags.stack": undefined }), "MEM-TAG-001", /stack/);
    expectViolation(broken("live", "databricks_job", { "tags.cost-center": undefined }), "MEM-TAG-001", /cost-center/);
  });

  test("MEM-TAG-001: resources that cannot carry tags are not asked to", () => {
    // azurerm_role_assignment and azurerm_storage_container have no tags attribute in the provider.
    const stack = stackOf(testEnv("lab"));
    const json = JSON.parse(Testing.synth(stack));
    expect(json.resource.azurerm_role_assignment).toBeDefined();
    expect(packOf(stack).evaluate(stack)).toEqual([]);
  });

  test("MEM-LOC-001: an external location over the whole bucket or container, or another prefix", () => {
    expectViolation(broken("sandbox", "databricks_external_location", { url: "s3://globex-lake-sandbox-landing/" }), "MEM-LOC-001");
    expectViolation(broken("lab", "databricks_external_location", { url: "abfss://landing@globexlklablake.dfs.core.windows.net/" }), "MEM-LOC-001");
    expectViolation(broken("sandbox", "databricks_external_location", { url: "s3://globex-lake-sandbox-landing/curated/" }), "MEM-LOC-001");
    // Narrower than the landing prefix is fine.
    const narrower = broken("sandbox", "databricks_external_location", { url: "s3://globex-lake-sandbox-landing/landing/members/" });
    expect(narrower.findings).toEqual([]);
  });

  test("MEM-JOB-001: a job without failure notifications", () => {
    expectViolation(broken("live", "databricks_job", { "email_notifications.on_failure": undefined }), "MEM-JOB-001");
  });

  test("MEM-JOB-002: a job or a task without a timeout", () => {
    expectViolation(broken("live", "databricks_job", { timeout_seconds: 0 }), "MEM-JOB-002", /job timeout_seconds/);
    expectViolation(broken("live", "databricks_job", { "task.0.timeout_seconds": undefined }), "MEM-JOB-002", /task "extract_members"/);
  });

  test("MEM-JOB-101 (warning): a task that never retries", () => {
    const r = broken("live", "databricks_job", { "task.0.max_retries": 0 });
    expectViolation(r, "MEM-JOB-101");
    expect(r.findings.every((f) => f.severity === "warning")).toBe(true);
  });

  test("MEM-JOB-102 (warning): an unpaused schedule in development mode, fine in production", () => {
    const dev = broken("sandbox", "databricks_job", { "schedule.pause_status": "UNPAUSED" });
    expectViolation(dev, "MEM-JOB-102");
    expect(blockingFindings(dev.findings)).toEqual([]);
    // staging is production mode: unpaused is the point.
    expect(broken("preview", "databricks_job", { "schedule.pause_status": "UNPAUSED" }).findings).toEqual([]);
  });

  test("MEM-KMS-101 (warning): a KMS key without rotation", () => {
    const r = broken("live", "aws_kms_key", { enable_key_rotation: false });
    expectViolation(r, "MEM-KMS-101");
    expect(blockingFindings(r.findings)).toEqual([]);
  });
});

describe("deployability rules (MEM-DEP) and data safety (MEM-DAT) fail on the old way of writing a stack", () => {
  const ids = (findings: Finding[]) => findings.map((f) => f.ruleId);

  test("MEM-DEP-001: local state without the explicit opt-in", () => {
    const stack = stackOf({ ...testEnv("sandbox"), stateBackend: { type: "local" } } as EnvironmentInput);
    expect(ids(findingsOf(stack))).not.toContain("MEM-DEP-001"); // opted in: a hand deploy
    expect(findingsWith(stack, { ...optionsOf("sandbox"), localStateOptIn: false }).find((f) => f.ruleId === "MEM-DEP-001")?.message).toMatch(
      /expected s3 or azurerm/,
    );
  });

  test("MEM-DEP-002: Databricks provider without auth_type", () => {
    const stack = stackOf(testEnv("lab"));
    providerOf(stack, "databricks").addOverride("auth_type", undefined);
    expect(findingsOf(stack).find((f) => f.ruleId === "MEM-DEP-002")?.address).toBe("provider.databricks");
  });

  test("MEM-DEP-003: created catalog without a storage root, or one outside the stack's locations", () => {
    expectViolation(broken("live", "databricks_catalog", { storage_root: undefined }), "MEM-DEP-003", /storage_root is undefined/);
    expectViolation(broken("lab", "databricks_catalog", { storage_root: "abfss://other@elsewhere.dfs.core.windows.net/x/" }), "MEM-DEP-003");
  });

  test("MEM-DEP-004: an external location inside another", () => {
    const r = broken(
      "sandbox",
      "databricks_external_location",
      { url: "s3://${aws_s3_bucket.landing_storage_bucket_2664DE92.bucket}/landing/tables/" },
      undefined,
      "managed",
    );
    expect(r.findings.filter((f) => f.ruleId === "MEM-DEP-004").map((f) => f.message)[0]).toMatch(/overlaps/);
  });

  test("MEM-DEP-005: a lifecycle rule that would expire the managed tables (both clouds)", () => {
    expectViolation(
      broken("live", "aws_s3_bucket_lifecycle_configuration", { "rule.0.filter.0.prefix": "" }),
      "MEM-DEP-005",
      /landing-expiry[\s\S]*managed/,
    );
    expectViolation(broken("live", "aws_s3_bucket_lifecycle_configuration", { "rule.0.filter.0.prefix": "managed/" }), "MEM-DEP-005");
    expectViolation(broken("lab", "azurerm_storage_management_policy", { "rule.0.filters.prefix_match": ["landing/"] }), "MEM-DEP-005");
    expectViolation(broken("lab", "azurerm_storage_management_policy", { "rule.0.filters.prefix_match": undefined }), "MEM-DEP-005");
  });

  test("MEM-DEP-006: azurerm reaching the storage data plane", () => {
    const stack = stackOf(testEnv("lab"));
    providerOf(stack, "azurerm").addOverride("features.0.storage", undefined);
    expect(findingsOf(stack).find((f) => f.ruleId === "MEM-DEP-006")?.address).toBe("provider.azurerm");
  });

  test("MEM-DEP-007: a default-deny firewall without the job clusters' subnets", () => {
    expectViolation(broken("lab", "azurerm_storage_account_network_rules", { virtual_network_subnet_ids: undefined }), "MEM-DEP-007", /403/);
  });

  test("MEM-DEP-008: code under /Shared, or outside an owned folder with permissions", () => {
    expectViolation(broken("sandbox", "databricks_directory", { path: "/Shared/members-pipeline/dev" }), "MEM-DEP-008", /under \/Shared/);
    expectViolation(
      broken("sandbox", "databricks_notebook", { path: "/Shared/members-pipeline/dev/extract_members" }),
      "MEM-DEP-008",
      /not inside a databricks_directory/,
    );
    const stack = stackOf(testEnv("sandbox"));
    resourceOf(stack, "databricks_permissions", "root-permissions").addOverride("directory_path", "/Users/someone/else");
    expect(findingsOf(stack).filter((f) => f.ruleId === "MEM-DEP-008").length).toBeGreaterThan(3);
  });

  test("MEM-DEP-009: a Key Vault-backed scope with a non-Azure AD login", () => {
    const env = { ...testEnv("lab"), azure: { ...testEnv("lab").azure!, keyVaultSecretScope: true } } as EnvironmentInput;
    expect(ids(findingsOf(stackOf(env)))).not.toContain("MEM-DEP-009");
    const stack = stackOf(env);
    providerOf(stack, "databricks").addOverride("auth_type", "oauth-m2m");
    expect(findingsOf(stack).find((f) => f.ruleId === "MEM-DEP-009")?.message).toMatch(/AZURE_KEYVAULT with provider auth_type "oauth-m2m"/);
  });

  test("MEM-DEP-010: a Terraform version constraint admitting CLIs before 1.11", () => {
    for (const constraint of [">= 1.5.0", undefined, "~> 1.10"]) {
      const stack = stackOf(testEnv("sandbox"));
      stack.addOverride("terraform.required_version", constraint);
      expect(ids(findingsOf(stack))).toContain("MEM-DEP-010");
    }
    const ok = stackOf(testEnv("sandbox"));
    ok.addOverride("terraform.required_version", "~> 1.11");
    expect(ids(findingsOf(ok))).not.toContain("MEM-DEP-010");
  });

  test("MEM-DEP-011: file events left to the server's default, or off where provider 1.99 cannot send off", () => {
    expectViolation(
      broken("live", "databricks_external_location", { enable_file_events: undefined }),
      "MEM-DEP-011",
      /enable_file_events is not set: Databricks turns file events on by default/,
    );
    // The provider pin is the cdktf bindings' (1.99.0); the cdktn lane's bindings pin a newer one, so set it here.
    const off = stackOf(testEnv("live"));
    off.addOverride("terraform.required_providers.databricks.version", "1.99.0");
    const location = resourceOf(off, "databricks_external_location");
    location.addOverride("enable_file_events", false);
    location.addOverride("file_event_queue", undefined);
    expectViolation(
      { findings: findingsOf(off), address: `databricks_external_location.${location.friendlyUniqueId}` },
      "MEM-DEP-011",
      /enable_file_events is false, which databricks provider "1\.99\.0" drops on create \(fixed in 1\.117, PR #5762\)/,
    );
    expectViolation(broken("lab", "databricks_external_location", { file_event_queue: undefined }), "MEM-DEP-011", /without a file_event_queue/);
  });

  test("MEM-DEP-011: off is accepted from a provider that sends it; then file-event roles are standing privileges", () => {
    const stack = stackOf(testEnv("lab"));
    providerOf(stack, "databricks"); // the provider exists; its version constraint is what the rule reads
    stack.addOverride("terraform.required_providers.databricks.version", "~> 1.117");
    for (const location of stack.node
      .findAll()
      .filter((c): c is TerraformResource => c instanceof TerraformResource && c.terraformResourceType === "databricks_external_location")) {
      location.addOverride("enable_file_events", false);
      location.addOverride("file_event_queue", undefined);
    }
    const findings = findingsOf(stack).filter((f) => f.ruleId === "MEM-DEP-011");
    expect(findings.map((f) => f.address.split(".")[0])).toEqual(["azurerm_role_assignment", "azurerm_role_assignment", "azurerm_role_assignment"]);
    expect(findings.map((f) => f.message).join("\n")).toMatch(
      /"Storage Queue Data Contributor" although no external location has enable_file_events/,
    );
  });

  test("MEM-DEP-011: managed file events without the permissions their queue needs (both clouds)", () => {
    // The findings are on the locations whose queues the identity may not create.
    const on = (r: { findings: Finding[] }) => r.findings.filter((f) => f.ruleId === "MEM-DEP-011");
    const aws = on(
      broken("live", "aws_iam_role_policy", {
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: "*" }] }),
      }),
    );
    expect(aws.map((f) => f.address.split(".")[0])).toEqual(["databricks_external_location", "databricks_external_location"]);
    expect(aws[0].message).toMatch(
      /^managed_sqs file events, but no IAM role policy of the stack allows s3:GetBucketNotification, s3:PutBucketNotification, sns:/,
    );
    const azure = on(
      broken("lab", "azurerm_role_assignment", { role_definition_name: "Reader" }, undefined, "eventgrid-eventsubscription-contributor"),
    );
    expect(azure.map((f) => f.message)).toEqual([
      "managed_aqs file events, but the stack assigns no EventGrid EventSubscription Contributor",
      "managed_aqs file events, but the stack assigns no EventGrid EventSubscription Contributor",
    ]);
  });

  test("MEM-DEP-018: a catalog, credential or location reachable from every workspace on the metastore", () => {
    expectViolation(broken("live", "databricks_catalog", { isolation_mode: "OPEN" }), "MEM-DEP-018", /got "OPEN", expected "ISOLATED"/);
    expectViolation(
      broken("live", "databricks_storage_credential", { isolation_mode: undefined }),
      "MEM-DEP-018",
      /expected "ISOLATION_MODE_ISOLATED"/,
    );
    expectViolation(broken("lab", "databricks_external_location", { isolation_mode: "ISOLATION_MODE_OPEN" }), "MEM-DEP-018");
  });

  test("MEM-DEP-012: a runtime too old to MERGE into the masked members table", () => {
    expectViolation(
      broken("live", "databricks_job", { "job_cluster.0.new_cluster.spark_version": "14.3.x-scala2.12" }),
      "MEM-DEP-012",
      /older than 16\.3/,
    );
    expectViolation(
      broken("live", "databricks_cluster_policy", { definition: JSON.stringify({ spark_version: { type: "fixed", value: "15.4.x-scala2.12" } }) }),
      "MEM-DEP-012",
    );
  });

  test("MEM-DEP-013: readers without the masked view, PII readers without the tables, a reader granted the tables", () => {
    const noTables = broken("live", "databricks_grants", { grant: undefined }, undefined, "catalog/schema-grants");
    expect(noTables.findings.filter((f) => f.ruleId === "MEM-DEP-013").map((f) => f.message)).toEqual([
      expect.stringMatching(/PII reader group "members-pii-readers" lacks USE_SCHEMA, SELECT on members$/),
      expect.stringMatching(/PII reader group "members-platform" lacks USE_SCHEMA, SELECT on members$/),
    ]);
    const noView = broken("live", "databricks_grants", { grant: undefined }, undefined, "masked-schema-grants");
    expect(noView.findings.filter((f) => f.ruleId === "MEM-DEP-013").map((f) => f.message)).toEqual([
      expect.stringMatching(/reader group "members-analysts" lacks USE_SCHEMA, SELECT on members_masked$/),
      expect.stringMatching(/reader group "members-pii-readers" lacks USE_SCHEMA, SELECT on members_masked$/),
    ]);
    // The earlier design: readers granted the tables' schema (masks on the table) reads PII unmasked now.
    // (addOverride concatenates arrays: the extra grant joins the construct's own.)
    const earlier = broken(
      "live",
      "databricks_grants",
      { grant: [{ principal: "members-analysts", privileges: ["USE_SCHEMA", "SELECT"] }] },
      undefined,
      "catalog/schema-grants",
    );
    expect(earlier.findings.filter((f) => f.ruleId === "MEM-DEP-013").map((f) => f.message)).toEqual([
      expect.stringMatching(/"members-analysts" can SELECT the tables of schema members \(PII unmasked\); readers get the view in members_masked/),
    ]);
  });

  test("MEM-DEP-014: production or CI-deployed jobs without a run-as service principal, or one not checked against admins; the generator in production", () => {
    expectViolation(broken("live", "databricks_job", { run_as: undefined }), "MEM-DEP-014", /no run_as/);
    // Development with remote state is deployed by CI (a workspace admin): its jobs need a run-as principal too.
    expectViolation(broken("sandbox", "databricks_job", { run_as: undefined }), "MEM-DEP-014", /no run_as.*in CI, a workspace admin/);
    const unchecked = broken("live", "terraform_data", { "lifecycle.precondition.0.condition": "${true}" }, undefined, "run-as-not-admin");
    expect(unchecked.findings.filter((f) => f.ruleId === "MEM-DEP-014").map((f) => f.message)).toEqual([
      expect.stringMatching(/run_as 7{8}-.* is not checked against the workspace "admins" group at plan/),
      expect.stringMatching(/run_as 7{8}-.* is not checked against the workspace "admins" group at plan/),
    ]);
    // dev (generator deployed) judged as production.
    const findings = findingsWith(stackOf(testEnv("sandbox")), { ...optionsOf("sandbox"), developmentMode: false }).filter(
      (f) => f.ruleId === "MEM-DEP-014",
    );
    expect(findings.map((f) => f.address.split(".")[0])).toEqual(["databricks_notebook"]);
  });

  test("MEM-DEP-015: IAM propagation shorter than 60 s or not re-run when the trust policy changes", () => {
    for (const override of [{ create_duration: "30s" }, { "triggers.trust": undefined }]) {
      const hit = broken("live", "time_sleep", override).findings.find((f) => f.ruleId === "MEM-DEP-015");
      expect(hit?.address).toMatch(/^aws_iam_role\./);
      expect(hit?.message).toMatch(/at least 60s whose triggers include the role's assume_role_policy/);
    }
  });

  test("MEM-DEP-016: a lifecycle rule with an empty filter", () => {
    expectViolation(
      broken("sandbox", "aws_s3_bucket_lifecycle_configuration", { "rule.2.filter.0.prefix": undefined }),
      "MEM-DEP-016",
      /empty filter/,
    );
  });

  test("MEM-DEP-017: a deploy root derived from the identity running the plan", () => {
    expectViolation(
      broken("live", "databricks_directory", { path: "${data.databricks_current_user.me.home}/.bundle/members-pipeline/prod" }),
      "MEM-DEP-017",
      /path = .*databricks_current_user.* depends on who runs Terraform/,
    );
  });

  test("MEM-DEP-019: a group that may edit the production code folder; development may", () => {
    expectViolation(
      broken("live", "databricks_permissions", { "access_control.0.permission_level": "CAN_MANAGE" }, undefined, "root-permissions"),
      "MEM-DEP-019",
      /members-platform has CAN_MANAGE on the production code folder, expected CAN_READ/,
    );
    expect(findingsOf(stackOf(testEnv("sandbox"))).filter((f) => f.ruleId === "MEM-DEP-019")).toEqual([]);
  });

  test("MEM-DAT-001: an unprotected stateful resource in a production stack; development is not asked", () => {
    expectViolation(broken("live", "aws_s3_bucket", { "lifecycle.prevent_destroy": false }), "MEM-DAT-001", /prevent_destroy/);
    expectViolation(broken("live", "aws_s3_bucket", { force_destroy: true }), "MEM-DAT-001", /force_destroy/);
    expectViolation(broken("live", "aws_kms_key", { deletion_window_in_days: 7 }), "MEM-DAT-001", /deletion_window_in_days/);
    expectViolation(broken("live", "databricks_schema", { lifecycle: undefined }), "MEM-DAT-001");
    expectViolation(broken("lab", "azurerm_storage_account", { lifecycle: undefined }, { protectStatefulResources: true }), "MEM-DAT-001");
    expect(ids(broken("sandbox", "aws_s3_bucket", { force_destroy: true }).findings)).not.toContain("MEM-DAT-001");
  });
});

describe("synth", () => {
  let outdir: string;
  beforeEach(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-synth-"));
  });
  afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test("fails on an error, listing every violation with its rule id and construct path", () => {
    const stack = stackOf(testEnv("sandbox"), new App({ outdir }));
    resourceOf(stack, "databricks_secret").addOverride("string_value", "hunter2");
    resourceOf(stack, "databricks_job").addOverride("timeout_seconds", 0);
    expect(() => (stack.node.scope as App).synth()).toThrow(
      /\[members-sandbox\/pipeline\/mysql-secrets\/secret-\w+\] \[MEM-SEC-001\][\s\S]*\[members-sandbox\/pipeline\/extract-job\/job\] \[MEM-JOB-002\]/,
    );
  });

  test("passes with a warning, which lands in the manifest", () => {
    const app = new App({ outdir });
    const stack = stackOf(testEnv("live"), app);
    resourceOf(stack, "aws_kms_key").addOverride("enable_key_rotation", false);
    app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, "manifest.json"), "utf8"));
    expect(packAnnotations(manifest.stacks["members-live"].annotations)).toEqual([
      expect.objectContaining({ level: "@cdktf/warn", message: expect.stringContaining("[MEM-KMS-101] aws_kms_key.") }),
    ]);
  });

  test("a suppression with a reason silences one rule below a construct and is reported as info", () => {
    const app = new App({ outdir });
    const stack = stackOf(testEnv("sandbox"), app);
    const job = resourceOf(stack, "databricks_job");
    job.addOverride("timeout_seconds", 0);
    suppressPolicy(job.node.scope!, "MEM-JOB-002", "test: the run timeout is enforced by an external scheduler");
    expect(findingsOf(stack).find((f) => f.ruleId === "MEM-JOB-002")?.suppressedBecause).toMatch(/external scheduler/);
    app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, "manifest.json"), "utf8"));
    expect(packAnnotations(manifest.stacks["members-sandbox"].annotations)).toEqual([
      expect.objectContaining({ level: "@cdktf/info", message: expect.stringContaining("[MEM-JOB-002] suppressed: test:") }),
    ]);
  });

  test("a suppression needs a known rule id and a reason", () => {
    const stack = stackOf(testEnv("sandbox"));
    expect(() => suppressPolicy(stack, "MEM-XXX-001", "because it is fine here")).toThrow(/ruleId: got "MEM-XXX-001"/);
    expect(() => suppressPolicy(stack, "MEM-JOB-002", "")).toThrow(/reason: got ""/);
  });
});

// Last in the file: jest runs a file's tests in order, so every failing case above has run.
test("every rule reported a violation in some failing case above (its check works, not just its id appears)", () => {
  expect(RULES.map((r) => r.id).filter((id) => !fired.has(id))).toEqual([]);
});
