import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { strToU8, zipSync } from "fflate";
import { buildApp } from "../stacks/app";
import platform from "../stacks/config/platform.json";
import type { AppConfigInput, EnvironmentConfig } from "../stacks/config/schema";
import { validateConfig } from "../stacks/config/validate";
import { deploymentConfKey, deploymentSettingNames, jobParameterNames, MembersPipeline, NOTEBOOK_CONTRACT } from "../stacks/databricks/pipeline";
import { builtWheel, DEFAULT_NOTEBOOKS_DIR } from "../stacks/databricks/workspace-code";
import { pipelineSettings } from "../stacks/members-stack";
import { testConfig } from "./fixtures/test-config";
import { onlyResource, resourcesOf, synthAll, type TerraformJson } from "./synth-helpers";

const environments = validateConfig(testConfig);
const envOf = (name: string): EnvironmentConfig => environments.find((e) => e.name === name)!;

let stacks: Record<string, TerraformJson>;
let dev: TerraformJson;
let prod: TerraformJson;
let azure: TerraformJson;
/** dev deployed by hand (local state) without a run-as principal: its jobs run as the platform group. */
let handDev: TerraformJson;
beforeAll(() => {
  const devInput = testConfig.environments.find((e) => e.name === "sandbox")!;
  const { runAsServicePrincipal: _, ...databricks } = devInput.databricks;
  handDev = synthAll({ environments: [{ ...devInput, databricks, stateBackend: { type: "local" } }] } as AppConfigInput).stacks["members-sandbox"];
  ({ stacks } = synthAll());
  dev = stacks["members-sandbox"];
  prod = stacks["members-live"];
  azure = stacks["members-lab"];
});

/** The one resource of `type` whose logical id starts with `prefix` (cdktf appends a hash). */
function resource(json: TerraformJson, type: string, prefix: string): { id: string; props: Record<string, any> } {
  const matches = Object.entries(resourcesOf(json, type)).filter(([id]) => id.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${matches.map(([id]) => id).join(", ") || "none"}`);
  return { id: matches[0][0], props: matches[0][1] };
}
const ref = (type: string, id: string, attr: string) => `\${${type}.${id}.${attr}}`;
/** The deploy root as the stacks reference it: the owned databricks_directory's path. */
const rootOf = (json: TerraformJson) => ref("databricks_directory", onlyResource(json, "databricks_directory").id, "path");
/** A stand-in for the managed-storage external location a landing zone provides. */
const MANAGED = { url: "s3://bucket/managed/", location: { fqn: "databricks_external_location.managed" } };
const extractJob = (json: TerraformJson) => resource(json, "databricks_job", "pipeline_extract-job_");
const loadJob = (json: TerraformJson) => resource(json, "databricks_job", "pipeline_load-job_");
const policyOf = (json: TerraformJson) => onlyResource(json, "databricks_cluster_policy");
const definitionOf = (json: TerraformJson): Record<string, any> => JSON.parse(policyOf(json).props.definition);
const paramsOf = (job: Record<string, any>): Record<string, string> =>
  Object.fromEntries(job.parameter.map((p: { name: string; default: string }) => [p.name, p.default]));
/** A notebook's deployment settings as the job cluster carries them (`spark.members.<notebook>.<widget>` Spark conf). */
const settingsOf = (job: Record<string, any>, notebook: "extract" | "load" | "generate"): Record<string, string> => {
  const prefix = deploymentConfKey(notebook, "");
  const conf: Record<string, string> = job.job_cluster[0].new_cluster.spark_conf;
  return Object.fromEntries(Object.entries(conf).flatMap(([key, value]) => (key.startsWith(prefix) ? [[key.slice(prefix.length), value]] : [])));
};

/** A cluster attribute addressed by a policy path (`spark_conf.<key>` and `custom_tags.<key>` keep dots in keys). */
function clusterValue(cluster: Record<string, any>, policyPath: string): unknown {
  const map = /^(spark_conf|custom_tags)\.(.+)$/.exec(policyPath);
  if (map) return cluster[map[1]]?.[map[2]];
  return policyPath.split(".").reduce<any>((node, key) => node?.[key], cluster);
}

describe("MySQL secret scope", () => {
  const KEYS = ["host", "port", "database", "user", "password"];

  test("five sensitive variables named for TF_VAR_mysql_<key>, no defaults", () => {
    for (const json of [dev, azure]) {
      expect(
        Object.keys(json.variable!)
          .filter((v) => v.startsWith("mysql_") && !v.startsWith("mysql_generator_"))
          .sort(),
      ).toEqual(KEYS.map((k) => `mysql_${k}`).sort());
      for (const key of KEYS) {
        expect(json.variable![`mysql_${key}`]).toEqual(expect.objectContaining({ type: "string", sensitive: true }));
        expect(json.variable![`mysql_${key}`]).not.toHaveProperty("default");
      }
    }
  });

  test("each secret's value is a reference to its sensitive variable, in the pipeline's scope", () => {
    const scope = resource(dev, "databricks_secret_scope", "pipeline_mysql-secrets_");
    expect(scope.props.name).toBe("globex-lake-sandbox-mysql");
    const secrets = Object.entries(resourcesOf(dev, "databricks_secret"))
      .filter(([id]) => id.startsWith("pipeline_mysql-secrets_"))
      .map(([, secret]) => secret);
    expect(secrets.map((s) => s.key).sort()).toEqual([...KEYS].sort());
    for (const secret of secrets) {
      expect(secret.string_value).toBe(`\${var.mysql_${secret.key}}`);
      expect(secret.scope).toBe(ref("databricks_secret_scope", scope.id, "name"));
    }
  });

  test("READ on the scope for the job principal: the run-as service principal, else the platform group", () => {
    expect(resource(prod, "databricks_secret_acl", "pipeline_mysql-secrets_").props).toEqual(
      expect.objectContaining({ permission: "READ", principal: envOf("live").databricks.runAsServicePrincipal }),
    );
    expect(resource(dev, "databricks_secret_acl", "pipeline_mysql-secrets_").props).toEqual(
      expect.objectContaining({ permission: "READ", principal: envOf("sandbox").databricks.runAsServicePrincipal }),
    );
    expect(resource(handDev, "databricks_secret_acl", "pipeline_mysql-secrets_").props).toEqual(
      expect.objectContaining({ permission: "READ", principal: "members-platform" }),
    );
  });

  test("canary values in TF_VAR_* never reach cdktf.out", () => {
    const canaries: Record<string, string> = {
      TF_VAR_mysql_host: "canary-host-5f3a.invalid",
      TF_VAR_mysql_port: "canary-port-48213",
      TF_VAR_mysql_database: "canary-db-91c7",
      TF_VAR_mysql_user: "canary-user-0b2e",
      TF_VAR_mysql_password: "canary-pw-Zq8!x",
      TF_VAR_mysql_generator_password: "canary-gen-pw-7Kd",
    };
    const saved = Object.fromEntries(Object.keys(canaries).map((k) => [k, process.env[k]]));
    const outdir = mkdtempSync(path.join(tmpdir(), "members-canary-"));
    try {
      Object.assign(process.env, canaries);
      buildApp(testConfig, new App({ outdir })).synth();
      const files = walk(outdir);
      const stackFiles = files.filter((f) => f.endsWith("cdk.tf.json") && !f.includes("members-bootstrap-"));
      expect(stackFiles).toHaveLength(testConfig.environments.length);
      for (const file of files) {
        const text = readFileSync(file, "utf8");
        for (const value of Object.values(canaries)) expect(text.includes(value) ? `${file} contains ${value}` : "").toBe("");
      }
      // The synthesized stacks still wire the secrets to the variables the canaries were meant for.
      expect(readFileSync(stackFiles[0], "utf8")).toContain("${var.mysql_password}");
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("job cluster policy", () => {
  test("fixes cluster type, runtime, UC access mode, UTC and cost tags", () => {
    const def = definitionOf(prod);
    expect(def.cluster_type).toEqual({ type: "fixed", value: "job" });
    expect(def.spark_version).toEqual({ type: "fixed", value: platform.databricksRuntime.sparkVersion });
    expect(def.data_security_mode).toEqual({ type: "fixed", value: "SINGLE_USER" });
    expect(def["spark_conf.spark.sql.session.timeZone"]).toEqual({ type: "fixed", value: "UTC" });
    for (const [tag, value] of Object.entries({ project: "globex-lakehouse", environment: "live", "cost-center": "data-eng" })) {
      expect(def[`custom_tags.${tag}`]).toEqual({ type: "fixed", value });
    }
    expect(policyOf(prod).props.name).toBe("globex-lake-live-job-compute");
  });

  test("limits node types and workers per environment", () => {
    const def = definitionOf(prod);
    const allowed = ["m6gd.large", "m6gd.xlarge", "m6gd.2xlarge"];
    expect(def.node_type_id).toEqual({ type: "allowlist", values: allowed, defaultValue: "m6gd.xlarge" });
    expect(def.driver_node_type_id).toEqual({ type: "allowlist", values: allowed, defaultValue: "m6gd.xlarge" });
    expect(def["autoscale.max_workers"]).toEqual(expect.objectContaining({ type: "range", maxValue: 8 }));
    expect(def["autoscale.min_workers"]).toEqual(expect.objectContaining({ type: "range", maxValue: 8 }));
    expect(def.num_workers).toEqual(expect.objectContaining({ type: "range", maxValue: 8 }));
    expect(definitionOf(azure)["autoscale.max_workers"]).toEqual(expect.objectContaining({ maxValue: 2 }));
    expect(definitionOf(azure).node_type_id.values).toEqual(["Standard_D4ads_v5"]);
  });

  test("maxWorkers 0 (dev) makes every job cluster single node", () => {
    const def = definitionOf(dev);
    expect(def.num_workers).toEqual(expect.objectContaining({ type: "fixed", value: 0 }));
    expect(def["spark_conf.spark.databricks.cluster.profile"]).toEqual(expect.objectContaining({ type: "fixed", value: "singleNode" }));
    expect(def["spark_conf.spark.master"]).toEqual(expect.objectContaining({ type: "fixed", value: "local[*]" }));
    expect(def["custom_tags.ResourceClass"]).toEqual(expect.objectContaining({ type: "fixed", value: "SingleNode" }));
    expect(Object.keys(def).filter((k) => k.startsWith("autoscale."))).toEqual([]);
  });

  test("spot with on-demand fallback and the first node on demand, per cloud", () => {
    const aws = definitionOf(prod);
    expect(aws["aws_attributes.availability"]).toEqual({ type: "fixed", value: "SPOT_WITH_FALLBACK" });
    expect(aws["aws_attributes.first_on_demand"]).toEqual({ type: "fixed", value: 1 });
    expect(Object.keys(aws).some((k) => k.startsWith("azure_attributes."))).toBe(false);

    const az = definitionOf(azure);
    expect(az["azure_attributes.availability"]).toEqual({ type: "fixed", value: "SPOT_WITH_FALLBACK_AZURE" });
    expect(az["azure_attributes.first_on_demand"]).toEqual({ type: "fixed", value: 1 });
    expect(az["azure_attributes.spot_bid_max_price"]).toEqual({ type: "fixed", value: -1 });
    expect(Object.keys(az).some((k) => k.startsWith("aws_attributes."))).toBe(false);
  });

  test("spot off means on demand only", () => {
    const env = testConfig.environments.find((e) => e.name === "lab")!;
    const { stacks: custom } = synthAll({ environments: [{ ...env, cluster: { ...env.cluster, spot: false } }] } as AppConfigInput);
    const def = definitionOf(custom["members-lab"]);
    expect(def["azure_attributes.availability"]).toEqual({ type: "fixed", value: "ON_DEMAND_AZURE" });
    expect(def).not.toHaveProperty(["azure_attributes.spot_bid_max_price"]);
    const cluster = extractJob(custom["members-lab"]).props.job_cluster[0].new_cluster;
    expect(cluster.azure_attributes.availability).toBe("ON_DEMAND_AZURE");
  });

  test("forbids init scripts from every source", () => {
    const def = definitionOf(azure);
    for (const source of ["workspace", "volumes", "s3", "abfss", "gcs", "dbfs", "file"]) {
      expect(def[`init_scripts.*.${source}.destination`]).toEqual({ type: "forbidden" });
    }
  });

  test("CAN_USE for the job principal on this policy", () => {
    const policy = policyOf(prod);
    const perm = resource(prod, "databricks_permissions", "pipeline_job-policy_");
    expect(perm.props.cluster_policy_id).toBe(ref("databricks_cluster_policy", policy.id, "id"));
    expect(perm.props.access_control).toEqual([
      { service_principal_name: envOf("live").databricks.runAsServicePrincipal, permission_level: "CAN_USE" },
    ]);
    expect(resource(handDev, "databricks_permissions", "pipeline_job-policy_").props.access_control).toEqual([
      { group_name: "members-platform", permission_level: "CAN_USE" },
    ]);
  });
});

describe("job clusters", () => {
  test.each(["members-sandbox", "members-live", "members-lab"])("%s: both jobs use the policy, apply its defaults and satisfy it", (name) => {
    const json = stacks[name];
    const policy = policyOf(json);
    const def = definitionOf(json);
    for (const job of [extractJob(json), loadJob(json)]) {
      const [cluster] = job.props.job_cluster;
      const nc = cluster.new_cluster;
      expect(nc.policy_id).toBe(ref("databricks_cluster_policy", policy.id, "id"));
      expect(nc.apply_policy_default_values).toBe(true);
      expect(job.props.task[0].job_cluster_key).toBe(cluster.job_cluster_key);
      for (const [attr, rule] of Object.entries(def)) {
        const value = clusterValue(nc, attr);
        if (value === undefined) continue;
        if (rule.type === "fixed") expect([attr, value]).toEqual([attr, rule.value]);
        if (rule.type === "allowlist") expect(rule.values).toContain(value);
        if (rule.type === "range") expect(value as number).toBeLessThanOrEqual(rule.maxValue);
        if (rule.type === "forbidden") throw new Error(`${name}: cluster sets forbidden ${attr}`);
      }
    }
  });

  test("single-node dev cluster and autoscaling prod cluster", () => {
    const devCluster = extractJob(dev).props.job_cluster[0].new_cluster;
    expect(devCluster.num_workers).toBe(0);
    expect(devCluster.spark_conf["spark.databricks.cluster.profile"]).toBe("singleNode");
    expect(devCluster).not.toHaveProperty("autoscale");
    expect(extractJob(prod).props.job_cluster[0].new_cluster.autoscale).toEqual({ min_workers: 1, max_workers: 8 });
  });

  test("cloud attributes: spot with fallback, first node on demand", () => {
    expect(extractJob(prod).props.job_cluster[0].new_cluster.aws_attributes).toEqual({
      availability: "SPOT_WITH_FALLBACK",
      first_on_demand: 1,
      zone_id: "auto",
    });
    const az = extractJob(azure).props.job_cluster[0].new_cluster;
    expect(az.azure_attributes).toEqual({ availability: "SPOT_WITH_FALLBACK_AZURE", first_on_demand: 1, spot_bid_max_price: -1 });
    expect(az).not.toHaveProperty("aws_attributes");
  });

  test("both tasks attach the members_pipeline wheel; the extract task also the checked JDBC driver jar from its volume", () => {
    const wheel = ref("databricks_workspace_file", onlyResource(azure, "databricks_workspace_file").id, "workspace_path");
    const jar = ref("databricks_file", onlyResource(azure, "databricks_file").id, "path");
    expect(extractJob(azure).props.task[0].library).toEqual([{ whl: wheel }, { jar }]);
    expect(loadJob(azure).props.task[0].library).toEqual([{ whl: wheel }]);
  });
});

describe("uploaded code", () => {
  test("each task's notebook path references the uploaded notebook of the same name under the deploy root", () => {
    for (const [job, name] of [
      [extractJob(prod), "extract_members"],
      [loadJob(prod), "load_members"],
    ] as const) {
      const notebook = resource(prod, "databricks_notebook", `pipeline_code_${name}_`);
      expect(notebook.props).toEqual(
        expect.objectContaining({
          path: `${rootOf(prod)}/${name}`,
          language: "PYTHON",
          // A stack-relative asset path (content-hashed), never the synthesizing machine's absolute path.
          source: expect.stringMatching(new RegExp(`^assets/[^/]+/[0-9A-F]+/${name}\\.py$`)),
        }),
      );
      expect(job.props.task[0].notebook_task).toEqual({ notebook_path: ref("databricks_notebook", notebook.id, "path"), source: "WORKSPACE" });
    }
  });

  test("notebooks and package files carry the md5 of their content", () => {
    const all = [...Object.values(resourcesOf(dev, "databricks_notebook")), ...Object.values(resourcesOf(dev, "databricks_workspace_file"))];
    expect(all.length).toBeGreaterThan(3);
    for (const r of all) {
      const file = r.path.includes("/dist/")
        ? builtWheel(path.join(DEFAULT_NOTEBOOKS_DIR, "dist"))
        : path.join(DEFAULT_NOTEBOOKS_DIR, `${path.basename(r.path)}.py`);
      expect(r.md5).toBe(createHash("md5").update(readFileSync(file)).digest("hex"));
    }
  });

  test("the package is one wheel under dist/ of the deploy root, holding every module and contract.json", () => {
    const wheel = builtWheel(path.join(DEFAULT_NOTEBOOKS_DIR, "dist"));
    const file = onlyResource(azure, "databricks_workspace_file").props;
    expect(file.path).toBe(`${rootOf(azure)}/dist/${path.basename(wheel)}`);
    expect(file.source).toMatch(new RegExp(`^assets/[^/]+/[0-9A-F]+/${path.basename(wheel).replace(/\./g, "\\.")}$`));
    // The wheel is a zip: its central directory names every module of the package.
    const zip = readFileSync(wheel).toString("latin1");
    const modules = readdirSync(path.join(DEFAULT_NOTEBOOKS_DIR, "members_pipeline")).filter((f) => /\.(py|json)$/.test(f));
    expect(modules).toContain("contract.json");
    for (const m of modules) expect(zip).toContain(`members_pipeline/${m}`);
  });

  test("development deploys a generator job (started by hand) with the wheel; production none", () => {
    const generator = resource(dev, "databricks_job", "pipeline_generate-job_").props;
    expect(generator.schedule).toBeUndefined();
    expect(generator.trigger).toBeUndefined();
    expect(generator.task[0].library).toEqual([
      { whl: ref("databricks_workspace_file", onlyResource(dev, "databricks_workspace_file").id, "workspace_path") },
    ]);
    // The generator reads its own scope (its own MySQL user), never the extract's.
    expect(settingsOf(generator, "generate").secret_scope).toBe(
      ref("databricks_secret_scope", resource(dev, "databricks_secret_scope", "pipeline_generator-secrets_").id, "name"),
    );
    expect(resource(dev, "databricks_secret_scope", "pipeline_generator-secrets_").props.name).toBe("globex-lake-sandbox-mysql-generator");
    expect(Object.keys(resourcesOf(prod, "databricks_job")).some((id) => id.includes("generate"))).toBe(false);
  });

  test("a change to a notebook's content changes its synthesized resource, and only that one", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "members-notebooks-"));
    try {
      cpSync(DEFAULT_NOTEBOOKS_DIR, dir, { recursive: true, filter: (src) => !src.includes("__pycache__") });
      const synth = () => {
        const stack = new TerraformStack(Testing.app(), "t");
        new MembersPipeline(stack, "pipeline", {
          ...pipelineSettings(envOf("sandbox")),
          landingUrl: "s3://bucket/landing/",
          managedStorage: MANAGED,
          notebooksDir: dir,
        });
        return JSON.parse(Testing.synth(stack)) as TerraformJson;
      };
      const before = synth();
      const file = path.join(dir, "load_members.py");
      writeFileSync(file, `${readFileSync(file, "utf8")}\n# COMMAND ----------\nprint("changed")\n`);
      const after = synth();
      const changed = (json: TerraformJson, name: string) => resource(json, "databricks_notebook", `pipeline_code_${name}_`).props;
      expect(changed(after, "load_members")).not.toEqual(changed(before, "load_members"));
      expect(changed(after, "load_members").md5).not.toBe(changed(before, "load_members").md5);
      expect(changed(after, "load_members").source).not.toBe(changed(before, "load_members").source);
      expect(changed(after, "extract_members")).toEqual(changed(before, "extract_members"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("deployed code lives in a folder the stack owns", () => {
  test("default root: /Deployments/<prefix>-<env>, from the configuration only; platform group CAN_READ in production (CAN_MANAGE in development), job principal CAN_READ, nobody else", () => {
    const dir = onlyResource(prod, "databricks_directory");
    expect(dir.props.path).toBe(`/Deployments/${envOf("live").names.base}`);
    // Nothing depends on who runs the plan (a PR plan identity, a person): no identity data source at all.
    for (const json of Object.values(stacks)) expect(json.data?.databricks_current_user).toBeUndefined();
    const permissions = resource(prod, "databricks_permissions", "pipeline_code_root-permissions_").props;
    expect(permissions.directory_path).toBe(ref("databricks_directory", dir.id, "path"));
    // Production: the platform group may read, not edit, what runs as the job principal with the MySQL secrets.
    expect(permissions.access_control).toEqual([
      { group_name: "members-platform", permission_level: "CAN_READ" },
      { service_principal_name: envOf("live").databricks.runAsServicePrincipal, permission_level: "CAN_READ" },
    ]);
    // Development: the platform group may edit; the job principal reads.
    expect(resource(dev, "databricks_permissions", "pipeline_code_root-permissions_").props.access_control).toEqual([
      { group_name: "members-platform", permission_level: "CAN_MANAGE" },
      { service_principal_name: envOf("sandbox").databricks.runAsServicePrincipal, permission_level: "CAN_READ" },
    ]);
    // A hand-deployed dev without a run-as principal runs as the platform group itself: one entry.
    expect(resource(handDev, "databricks_permissions", "pipeline_code_root-permissions_").props.access_control).toEqual([
      { group_name: "members-platform", permission_level: "CAN_MANAGE" },
    ]);
  });

  test("an explicit deploy root is used as given", () => {
    const env = testConfig.environments.find((e) => e.name === "sandbox")!;
    const json = synthAll({ environments: [{ ...env, databricks: { ...env.databricks, deployRoot: "/Workspace/Deployments/members/dev" } }] }).stacks[
      "members-sandbox"
    ];
    // Written without the /Workspace prefix, which the provider's read-back may drop (a replacement on every plan).
    expect(onlyResource(json, "databricks_directory").props.path).toBe("/Deployments/members/dev");
  });

  test("the member-data generator is uploaded to development environments only", () => {
    const names = (json: TerraformJson) =>
      Object.values(resourcesOf(json, "databricks_notebook"))
        .map((n: any) => path.basename(n.path))
        .sort();
    expect(names(dev)).toEqual(["extract_members", "generate_member_data", "load_members"]);
    expect(names(prod)).toEqual(["extract_members", "load_members"]);
    expect(names(stacks["members-preview"])).toEqual(["extract_members", "load_members"]);
  });

  test("the load job gets the data guards as parameters, the PII reader group and retention as fixed settings", () => {
    expect(paramsOf(loadJob(prod).props)).toEqual(
      expect.objectContaining({ max_deleted_share: "0.05", max_quarantined_share: "0.01", accept_mass_change: "false" }),
    );
    expect(settingsOf(loadJob(prod).props, "load")).toEqual(
      expect.objectContaining({ pii_reader_group: "members-pii-readers", pii_retention_days: "30", history_retention_days: "7" }),
    );
  });
});

describe("deployment settings (a run cannot change them)", () => {
  test.each(["members-sandbox", "members-live", "members-lab"])(
    "%s: every job cluster carries each deployment setting of its notebook, fixed by the policy; none is a job parameter",
    (name) => {
      const json = stacks[name];
      const definition = definitionOf(json);
      const jobs = [
        [extractJob(json).props, "extract"],
        [loadJob(json).props, "load"],
      ] as const;
      for (const [job, notebook] of jobs) {
        const settings = settingsOf(job, notebook);
        // Every setting is pinned, except one left at an empty default (no empty Spark conf values): the notebook
        // then fixes it to that empty default itself.
        const unpinned = deploymentSettingNames(notebook).filter((name) => !(name in settings));
        for (const name of unpinned) expect(NOTEBOOK_CONTRACT.notebooks[notebook]).toHaveProperty([name, "default"], "");
        expect(Object.keys(settings).every((name) => deploymentSettingNames(notebook).includes(name))).toBe(true);
        for (const [widget, value] of Object.entries(settings)) {
          expect(definition[`spark_conf.${deploymentConfKey(notebook, widget)}`]).toEqual({ type: "fixed", value });
          expect(Object.keys(paramsOf(job))).not.toContain(widget);
        }
      }
    },
  );

  test("the extract's TLS mode and trust store come from the configuration's mysql block (VERIFY_IDENTITY by default)", () => {
    expect(settingsOf(extractJob(prod).props, "extract").ssl_mode).toBe("VERIFY_IDENTITY");
    expect(settingsOf(extractJob(prod).props, "extract")).not.toHaveProperty("trust_store_path");
    const env = testConfig.environments.find((e) => e.name === "live")!;
    const trustStorePath = "/Volumes/members/members/certs/mysql-ca.p12";
    const json = synthAll({ environments: [{ ...env, mysql: { sslMode: "VERIFY_IDENTITY", trustStorePath } }] } as AppConfigInput).stacks[
      "members-live"
    ];
    expect(settingsOf(extractJob(json).props, "extract")).toEqual(
      expect.objectContaining({ ssl_mode: "VERIFY_IDENTITY", trust_store_path: trustStorePath }),
    );
  });

  test("the load's PII reader group, retention and target come from the configuration, not from the contract's defaults", () => {
    const env = testConfig.environments.find((e) => e.name === "live")!;
    const json = synthAll({
      environments: [
        { ...env, databricks: { ...env.databricks, piiReaderGroup: "hr-pii" }, load: { piiRetentionDays: 90, historyRetentionDays: 3 } },
      ],
    } as AppConfigInput).stacks["members-live"];
    expect(settingsOf(loadJob(json).props, "load")).toEqual(
      expect.objectContaining({ pii_reader_group: "hr-pii", pii_retention_days: "90", history_retention_days: "3", table: "members" }),
    );
  });
});

describe("catalog and grants", () => {
  test("created catalog and schemas get authoritative least-privilege grants: readers get the masked view only", () => {
    const catalog = onlyResource(prod, "databricks_catalog");
    const schemas = resourcesOf(prod, "databricks_schema");
    const schema = resource(prod, "databricks_schema", "pipeline_catalog_schema_");
    const masked = resource(prod, "databricks_schema", "pipeline_catalog_masked-schema_");
    expect(Object.keys(schemas)).toHaveLength(2);
    expect(catalog.props.name).toBe("lake");
    expect(schema.props).toEqual(expect.objectContaining({ name: "members", catalog_name: ref("databricks_catalog", catalog.id, "name") }));
    expect(masked.props).toEqual(expect.objectContaining({ name: "members_masked", catalog_name: ref("databricks_catalog", catalog.id, "name") }));
    const env = envOf("live");
    const sp = env.databricks.runAsServicePrincipal;
    const analysts = "members-analysts";
    const trusted = [env.databricks.piiReaderGroup, env.databricks.platformGroup];
    expect(resource(prod, "databricks_grants", "pipeline_catalog_catalog-grants_").props).toEqual({
      catalog: ref("databricks_catalog", catalog.id, "name"),
      grant: [sp, ...trusted, analysts].map((principal) => ({ principal, privileges: ["USE_CATALOG"] })),
    });
    const schemaGrants = resource(prod, "databricks_grants", "pipeline_catalog_schema-grants_").props;
    expect(schemaGrants.schema).toBe(`${ref("databricks_catalog", catalog.id, "name")}.${ref("databricks_schema", schema.id, "name")}`);
    // The tables (members, quarantine, load log: PII unmasked): the job, the PII reader group and the platform group.
    expect(schemaGrants.grant).toEqual([
      { principal: sp, privileges: ["USE_SCHEMA", "CREATE_TABLE", "MODIFY", "SELECT", "READ_VOLUME"] },
      ...trusted.map((principal) => ({ principal, privileges: ["USE_SCHEMA", "SELECT"] })),
    ]);
    // The view: everyone who reads; the job creates and replaces it.
    const maskedGrants = resource(prod, "databricks_grants", "pipeline_catalog_masked-schema-grants_").props;
    expect(maskedGrants.schema).toBe(`${ref("databricks_catalog", catalog.id, "name")}.${ref("databricks_schema", masked.id, "name")}`);
    expect(maskedGrants.grant).toEqual([
      { principal: sp, privileges: ["USE_SCHEMA", "CREATE_TABLE"] },
      ...[...trusted, analysts].map((principal) => ({ principal, privileges: ["USE_SCHEMA", "SELECT"] })),
    ]);
    expect(resourcesOf(prod, "databricks_grant")).toEqual({});
    // Who can SELECT what, read from the grants: a reader group never reaches a table.
    const selects = (grants: { principal: string; privileges: string[] }[]) =>
      grants.filter((g) => g.privileges.includes("SELECT")).map((g) => g.principal);
    expect(selects(schemaGrants.grant)).not.toContain(analysts);
    expect(selects(maskedGrants.grant)).toEqual([...trusted, analysts]);
    // The load creates the view in the masked schema it is given.
    expect(settingsOf(loadJob(prod).props, "load").masked_schema).toBe(ref("databricks_schema", masked.id, "name"));
  });

  test("existing catalog and schema are looked up and get additive, non-authoritative grants", () => {
    const env = testConfig.environments.find((e) => e.name === "sandbox")!;
    const { stacks: custom } = synthAll({
      environments: [{ ...env, catalog: { name: "shared", create: false, schema: "members", createSchema: false, maskedSchema: "members_view" } }],
    } as AppConfigInput);
    const json = custom["members-sandbox"];
    expect(resourcesOf(json, "databricks_catalog")).toEqual({});
    expect(resourcesOf(json, "databricks_schema")).toEqual({});
    expect(Object.keys(resourcesOf(json, "databricks_grants")).filter((id) => id.startsWith("pipeline_"))).toEqual([]);
    const catalogData = Object.entries(json.data!.databricks_catalog);
    const schemaData = Object.entries(json.data!.databricks_schema).sort(([, a], [, b]) => a.name.localeCompare(b.name));
    expect(catalogData.map(([, v]) => v.name)).toEqual(["shared"]);
    const catalogRef = `\${data.databricks_catalog.${catalogData[0][0]}.name}`;
    expect(schemaData.map(([, v]) => v.name)).toEqual([`${catalogRef}.members`, `${catalogRef}.members_view`]);
    const grants = Object.values(resourcesOf(json, "databricks_grant"));
    expect(grants).toEqual(
      expect.arrayContaining([
        { catalog: catalogRef, principal: env.databricks.runAsServicePrincipal, privileges: ["USE_CATALOG"] },
        expect.objectContaining({ schema: `\${data.databricks_schema.${schemaData[0][0]}.name}`, principal: env.databricks.runAsServicePrincipal }),
        {
          schema: `\${data.databricks_schema.${schemaData[1][0]}.name}`,
          principal: env.databricks.runAsServicePrincipal,
          privileges: ["USE_SCHEMA", "CREATE_TABLE"],
        },
      ]),
    );
    // The load job is pointed at the looked-up objects.
    expect(settingsOf(loadJob(json).props, "load").catalog).toBe(catalogRef);
  });
});

describe("extract job", () => {
  test("schedule and time zone from config; paused in dev, running in prod", () => {
    expect(extractJob(dev).props.schedule).toEqual({ quartz_cron_expression: "0 0 2 * * ?", timezone_id: "UTC", pause_status: "PAUSED" });
    expect(extractJob(prod).props.schedule).toEqual({
      quartz_cron_expression: "0 0 2 * * ?",
      timezone_id: "Europe/London",
      pause_status: "UNPAUSED",
    });
    expect(extractJob(azure).props.schedule).toEqual({
      quartz_cron_expression: "0 30 1 * * ?",
      timezone_id: "Europe/Amsterdam",
      pause_status: "PAUSED",
    });
  });

  test("one run at a time, queued; retries with an interval; task and run timeouts; duration health rule", () => {
    const job = extractJob(prod).props;
    const taskTimeout = envOf("live").cluster.taskTimeoutMinutes * 60;
    expect(job.max_concurrent_runs).toBe(1);
    expect(job.queue).toEqual({ enabled: true });
    const [task] = job.task;
    expect(task).toEqual(
      expect.objectContaining({ max_retries: 2, min_retry_interval_millis: 300_000, retry_on_timeout: false, timeout_seconds: taskTimeout }),
    );
    expect(job.timeout_seconds).toBeGreaterThanOrEqual(taskTimeout * 3);
    const [rule] = job.health.rules;
    expect(rule).toEqual(expect.objectContaining({ metric: "RUN_DURATION_SECONDS", op: "GREATER_THAN" }));
    expect(rule.value).toBeGreaterThan(0);
    expect(rule.value).toBeLessThan(taskTimeout);
    expect(extractJob(dev).props.task[0].timeout_seconds).toBe(120 * 60);
  });

  test("failure and duration e-mails go to the configured addresses", () => {
    expect(extractJob(dev).props.email_notifications).toEqual(
      expect.objectContaining({
        on_failure: ["lake-alerts@example.com"],
        on_duration_warning_threshold_exceeded: ["lake-alerts@example.com"],
      }),
    );
  });

  test("run_as only when a service principal is configured; each plan checks it is no workspace admin", () => {
    expect(extractJob(prod).props.run_as).toEqual({ service_principal_name: envOf("live").databricks.runAsServicePrincipal });
    expect(extractJob(dev).props.run_as).toEqual({ service_principal_name: envOf("sandbox").databricks.runAsServicePrincipal });
    expect(extractJob(handDev).props).not.toHaveProperty("run_as");
    expect(handDev.data?.databricks_service_principal).toBeUndefined();
    // The admin check: the principal and the admins group (nested members too) read at plan, and a precondition.
    const sp = Object.entries(prod.data!.databricks_service_principal);
    const admins = Object.entries(prod.data!.databricks_group);
    expect(sp.map(([, v]) => v.application_id)).toEqual([envOf("live").databricks.runAsServicePrincipal]);
    expect(admins.map(([, v]) => [v.display_name, v.recursive])).toEqual([["admins", true]]);
    const check = resource(prod, "terraform_data", "pipeline_run-as-not-admin_check").props;
    expect(check.lifecycle.precondition[0].condition).toBe(
      `\${!contains(tolist(data.databricks_group.${admins[0][0]}.service_principals), data.databricks_service_principal.${sp[0][0]}.id)}`,
    );
    expect(check.lifecycle.precondition[0].error_message).toMatch(
      /is a member of the workspace group "admins": jobs must run as a dedicated, non-admin/,
    );
    expect(loadJob(prod).props.run_as).toEqual(extractJob(prod).props.run_as);
  });

  test("parameters: run date from the job start, tuning; secret scope, landing URL, TLS and source fixed by the deployment", () => {
    const scope = resource(prod, "databricks_secret_scope", "pipeline_mysql-secrets_");
    const params = paramsOf(extractJob(prod).props);
    expect(settingsOf(extractJob(prod).props, "extract")).toEqual(
      expect.objectContaining({
        secret_scope: ref("databricks_secret_scope", scope.id, "name"),
        landing_path: expect.stringMatching(/^s3:\/\/.+\/landing\/$/),
        source_table: "members",
      }),
    );
    expect(params).toEqual({
      run_date: "{{job.start_time.iso_date}}",
      run_id: "{{job.run_id}}",
      partition_count: "8",
      fetch_size: "0",
    });
    // Exactly the contract's job parameters (the notebook declares its widgets from the same contract.json).
    expect(Object.keys(params).sort()).toEqual(jobParameterNames("extract").sort());
  });

  test("names and tags", () => {
    const job = extractJob(prod).props;
    expect(job.name).toBe("globex-lake-live-extract-members");
    expect(job.tags).toEqual(expect.objectContaining({ project: "globex-lakehouse", environment: "live", "cost-center": "data-eng" }));
  });
});

describe("load job", () => {
  test("AWS: a file-arrival trigger on the landing URL, which ends with / and lies in the external location", () => {
    const job = loadJob(prod).props;
    const location = resource(prod, "databricks_external_location", "landing_unity-catalog_landing_location_").props;
    expect(job.trigger).toEqual({
      pause_status: "UNPAUSED",
      file_arrival: { url: location.url, min_time_between_triggers_seconds: 300, wait_after_last_change_seconds: 120 },
    });
    expect(job.trigger.file_arrival.url).toMatch(/\/$/);
    expect(job).not.toHaveProperty("schedule");
    expect(loadJob(dev).props.trigger.pause_status).toBe("PAUSED");
    expect(settingsOf(job, "load").landing_path).toBe(location.url);
  });

  test.each(["members-live", "members-lab"])("%s: both jobs are created after the external location exists", (name) => {
    const json = stacks[name];
    const location = resource(json, "databricks_external_location", "landing_unity-catalog_landing_location_");
    for (const job of [extractJob(json), loadJob(json)]) {
      expect(job.props.depends_on).toContain(`databricks_external_location.${location.id}`);
      expect(settingsOf(job.props, "load").landing_path).toBe(location.props.url);
      expect(settingsOf(job.props, "extract").landing_path).toBe(location.props.url);
    }
  });

  test("Azure (config: schedule): a paused quartz schedule instead of a trigger", () => {
    const job = loadJob(azure).props;
    expect(job.schedule).toEqual({ quartz_cron_expression: "0 30 3 * * ?", timezone_id: "Europe/Amsterdam", pause_status: "PAUSED" });
    expect(job).not.toHaveProperty("trigger");
    expect(settingsOf(job, "load").landing_path).toMatch(/^abfss:\/\/[^@/]+@[^/]+\.dfs\.core\.windows\.net\/landing\/$/);
    expect(settingsOf(job, "load").landing_path).toBe(settingsOf(extractJob(azure).props, "extract").landing_path);
  });

  test("settings reference the created catalog and schema and name the members table", () => {
    const catalog = onlyResource(azure, "databricks_catalog");
    const schema = resource(azure, "databricks_schema", "pipeline_catalog_schema_");
    const params = paramsOf(loadJob(azure).props);
    expect(settingsOf(loadJob(azure).props, "load")).toEqual(
      expect.objectContaining({
        catalog: ref("databricks_catalog", catalog.id, "name"),
        schema: ref("databricks_schema", schema.id, "name"),
        table: "members",
      }),
    );
    expect(params).toEqual(expect.objectContaining({ ingest_date: "" }));
    expect(Object.keys(params).sort()).toEqual(jobParameterNames("load").sort());
  });

  test("same hygiene as the extract job", () => {
    const load = loadJob(prod).props;
    const extract = extractJob(prod).props;
    for (const key of ["max_concurrent_runs", "queue", "timeout_seconds", "health", "email_notifications", "tags"]) {
      expect([key, load[key]]).toEqual([key, extract[key]]);
    }
    const pick = ({ max_retries, min_retry_interval_millis, retry_on_timeout, timeout_seconds }: Record<string, unknown>) => ({
      max_retries,
      min_retry_interval_millis,
      retry_on_timeout,
      timeout_seconds,
    });
    expect(pick(load.task[0])).toEqual(pick(extract.task[0]));
  });
});

describe("job permissions and outputs", () => {
  test("manage-run for the platform group, view for the viewer group, on each job", () => {
    for (const [job, prefix] of [
      [extractJob(azure), "pipeline_extract-job_"],
      [loadJob(azure), "pipeline_load-job_"],
    ] as const) {
      expect(resource(azure, "databricks_permissions", prefix).props).toEqual({
        job_id: ref("databricks_job", job.id, "id"),
        access_control: [
          { group_name: "members-platform", permission_level: "CAN_MANAGE_RUN" },
          { group_name: "users", permission_level: "CAN_VIEW" },
        ],
      });
    }
  });

  test("stable outputs: job ids and URLs, secret scope, notebook paths", () => {
    const out = prod.output!;
    const extract = extractJob(prod).id;
    const load = loadJob(prod).id;
    expect(out.extract_job_id.value).toBe(ref("databricks_job", extract, "id"));
    expect(out.extract_job_url.value).toBe(ref("databricks_job", extract, "url"));
    expect(out.load_job_id.value).toBe(ref("databricks_job", load, "id"));
    expect(out.load_job_url.value).toBe(ref("databricks_job", load, "url"));
    expect(out.secret_scope.value).toBe(
      ref("databricks_secret_scope", resource(prod, "databricks_secret_scope", "pipeline_mysql-secrets_").id, "name"),
    );
    expect(out.extract_notebook_path.value).toBe(
      ref("databricks_notebook", resource(prod, "databricks_notebook", "pipeline_code_extract_members_").id, "path"),
    );
    expect(out.deploy_root.value).toBe(rootOf(prod));
  });
});

describe("bad input fails early with got/expected", () => {
  const build = (props: Partial<ConstructorParameters<typeof MembersPipeline>[2]>) => () =>
    new MembersPipeline(new TerraformStack(Testing.app(), "t"), "pipeline", {
      ...pipelineSettings(envOf("sandbox")),
      landingUrl: "s3://bucket/landing/",
      managedStorage: MANAGED,
      ...props,
    });

  test("landing URL without a trailing slash", () => {
    expect(build({ landingUrl: "s3://bucket/landing" })).toThrow(
      'MembersPipeline: landingUrl: got "s3://bucket/landing", expected an s3://, abfss:// or gs:// URL ending with "/"',
    );
  });

  test("landing URL that is not a cloud storage URL", () => {
    expect(build({ landingUrl: "/tmp/landing/" })).toThrow(/landingUrl: got "\/tmp\/landing\/", expected/);
  });

  test("a Terraform reference is accepted (checked at plan time)", () => {
    const stack = new TerraformStack(Testing.app(), "t");
    const bucket = new TerraformVariable(stack, "bucket", { type: "string" });
    expect(
      () =>
        new MembersPipeline(stack, "pipeline", {
          ...pipelineSettings(envOf("sandbox")),
          landingUrl: `s3://${bucket.stringValue}/landing/`,
          managedStorage: MANAGED,
        }),
    ).not.toThrow();
  });

  test("partition count out of the notebook's range", () => {
    expect(build({ extractPartitionCount: 0 })).toThrow("MembersPipeline: extractPartitionCount: got 0, expected an integer between 1 and 256");
  });

  test("notebooks folder without a built wheel", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "members-empty-"));
    try {
      for (const name of ["extract_members", "load_members", "generate_member_data"]) writeFileSync(path.join(dir, `${name}.py`), "# x\n");
      expect(build({ notebooksDir: dir })).toThrow(
        /PipelineCode: package wheel: got \[\], expected exactly one members_pipeline-<version>-py3-none-any\.whl .*make wheel/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test("a stale wheel (package sources changed since `make wheel`) is refused, naming the files", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "members-stale-"));
    try {
      for (const name of ["extract_members", "load_members", "generate_member_data"]) writeFileSync(path.join(dir, `${name}.py`), "# x\n");
      mkdirSync(path.join(dir, "members_pipeline", "__pycache__"), { recursive: true });
      mkdirSync(path.join(dir, "dist"));
      writeFileSync(path.join(dir, "members_pipeline", "load.py"), "VERSION = 2\n");
      writeFileSync(path.join(dir, "members_pipeline", "new.py"), "x = 1\n");
      writeFileSync(path.join(dir, "members_pipeline", "__pycache__", "load.cpython-311.pyc"), "ignored");
      const wheel = (files: Record<string, string>) =>
        writeFileSync(
          path.join(dir, "dist", "members_pipeline-0.2.0-py3-none-any.whl"),
          zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)]))),
        );
      wheel({ "members_pipeline/load.py": "VERSION = 1\n", "members_pipeline/gone.py": "", "members_pipeline-0.2.0.dist-info/RECORD": "" });
      expect(build({ notebooksDir: dir })).toThrow(
        /PipelineCode: package wheel: got "members_pipeline-0\.2\.0-py3-none-any\.whl", expected a wheel built from the current members_pipeline sources \(these differ: gone\.py, load\.py, new\.py\); run `make wheel`/,
      );
      wheel({ "members_pipeline/load.py": "VERSION = 2\n", "members_pipeline/new.py": "x = 1\n" });
      expect(build({ notebooksDir: dir })).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
