import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DatabricksProvider } from "@cdktf/provider-databricks/lib/provider";
import { App, TerraformStack, Testing } from "cdktf";
import contract from "../notebooks/members_pipeline/contract.json";
import type { AppConfigInput, EnvironmentInput } from "../stacks/config/schema";
import { type ConfigError, formatProblem, validateConfig } from "../stacks/config/validate";
import { LOAD_LOG_TABLE_SUFFIX, loadTableNames, QUARANTINE_TABLE_SUFFIX } from "../stacks/databricks/catalog";
import { healthDashboard, widgetKind } from "../stacks/databricks/health-dashboard";
import {
  DEFAULT_HEALTH_QUERIES_DIR,
  parseHealthQuery,
  piiColumns,
  piiColumnsTouched,
  readHealthQueries,
  renderHealthQuery,
} from "../stacks/databricks/health-queries";
import { MEMBERS_TABLE } from "../stacks/databricks/pipeline";
import { HEALTH_WAREHOUSE, PipelineHealth } from "../stacks/databricks/pipeline-health";
import { DEFAULT_NOTEBOOKS_DIR } from "../stacks/databricks/workspace-code";
import { healthSettings } from "../stacks/members-stack";
import { testConfig } from "./fixtures/test-config";
import { onlyResource, resourcesOf, synthAll, type TerraformJson } from "./synth-helpers";

const HEALTH_TYPES = ["databricks_dashboard", "databricks_alert_v2", "databricks_sql_endpoint", "databricks_notification_destination"];
const queryFiles = () =>
  readdirSync(DEFAULT_HEALTH_QUERIES_DIR)
    .filter((f) => f.endsWith(".sql"))
    .map((f) => f.replace(/\.sql$/, ""))
    .sort();
const withEnvironment = (name: string, change: (e: EnvironmentInput) => EnvironmentInput): AppConfigInput => ({
  environments: testConfig.environments.filter((e) => e.name === name).map((e) => change(structuredClone(e))),
});
const live = validateConfig(testConfig).find((e) => e.name === "live")!;

let stacks: Record<string, TerraformJson>;
let prod: TerraformJson;
beforeAll(() => {
  ({ stacks } = synthAll());
  prod = stacks["members-live"];
});

describe("a production stack", () => {
  test("carries the dashboard, published with embedded credentials in the deploy root", () => {
    const { props } = onlyResource(prod, "databricks_dashboard");
    expect(props.embed_credentials).toBe(true);
    expect(props.parent_path).toMatch(/^\$\{databricks_directory\.pipeline_code_root_[A-Z0-9]+\.path\}$/);
    expect(props.warehouse_id).toMatch(/^\$\{databricks_sql_endpoint\.health_warehouse_[A-Z0-9]+\.id\}$/);
    expect(props.file_path).toMatch(/^assets\/.+\.lvdash\.json$/);
  });

  test("carries one alert per query with an `-- alert:` line: at least a refused load, staleness and the quarantine share", () => {
    const alerts = Object.values(resourcesOf(prod, "databricks_alert_v2"));
    const alerting = readHealthQueries().filter((q) => q.alert);
    expect(alerts).toHaveLength(alerting.length);
    const byColumn = Object.fromEntries(alerts.map((a) => [a.evaluation.source.name, a]));
    const stale = byColumn.hours_since_last_load;
    const quarantine = byColumn.quarantine_share;
    const refused = alerts.find((a) => /refused/.test(a.evaluation.source.name));
    expect([stale, quarantine, refused].every(Boolean)).toBe(true);
    expect(stale.evaluation.threshold.value.double_value).toBe(live.health.staleAfterHours);
    // The load guard's threshold, the value the load job gets (its default is contract.json's).
    expect(quarantine.evaluation.threshold.value.double_value).toBe(Number(contract.notebooks.load.max_quarantined_share.default));
    expect(quarantine.query_text).toMatch(/ORDER BY ingest_date DESC NULLS LAST\nLIMIT 1$/);
    expect(refused.query_text).toMatch(/WHERE refused_at >= current_timestamp\(\) - INTERVAL 24 HOURS$/);
    const destination = onlyResource(prod, "databricks_notification_destination");
    expect(destination.props.config.email.addresses).toEqual(live.notifications.failureEmails);
    for (const alert of alerts) {
      expect(alert.evaluation.notification.subscriptions).toEqual([
        { destination_id: `\${databricks_notification_destination.${destination.id}.id}` },
      ]);
      expect(alert.schedule).toEqual({ quartz_cron_schedule: "0 0 0/6 * * ?", timezone_id: "UTC", pause_status: "UNPAUSED" });
      expect(alert.run_as).toEqual({ service_principal_name: live.databricks.runAsServicePrincipal });
      expect(alert.query_text).not.toContain("${");
      expect(alert.query_text).toContain("`lake`.`members`.");
    }
  });

  test("carries a small serverless warehouse with auto-stop and the standard tags", () => {
    const { props } = onlyResource(prod, "databricks_sql_endpoint");
    expect(props).toMatchObject({
      cluster_size: HEALTH_WAREHOUSE.clusterSize,
      max_num_clusters: 1,
      auto_stop_mins: HEALTH_WAREHOUSE.autoStopMins,
      enable_serverless_compute: true,
      warehouse_type: "PRO",
    });
    expect(props.tags.custom_tags).toContainEqual({ key: "stack", value: "members-live" });
  });

  test("grants the platform group manage and the viewer and reader groups read; the alerts' principal uses the warehouse", () => {
    const permissions = Object.values(resourcesOf(prod, "databricks_permissions"));
    const on = (key: string) => permissions.filter((p) => typeof p[key] === "string" && p[key].includes("health_"));
    const [dashboard] = on("dashboard_id");
    const [warehouse] = on("sql_endpoint_id");
    const readers = [live.databricks.viewerGroup, ...live.tableReaders].map((g) => ({ group_name: g, permission_level: "CAN_READ" }));
    const manage = { group_name: live.databricks.platformGroup, permission_level: "CAN_MANAGE" };
    expect(dashboard.access_control).toEqual([manage, ...readers]);
    // The alerts inherit the code folder's ACL (they run as the job principal): no permissions of their own.
    expect(permissions.filter((p) => Object.values(p).some((v) => typeof v === "string" && v.includes("alert")))).toEqual([]);
    for (const alert of Object.values(resourcesOf(prod, "databricks_alert_v2")))
      expect(alert.parent_path).toBe(onlyResource(prod, "databricks_dashboard").props.parent_path);
    expect(warehouse.access_control).toEqual([
      manage,
      { service_principal_name: live.databricks.runAsServicePrincipal, permission_level: "CAN_USE" },
    ]);
  });
});

describe("the dashboard file the build writes", () => {
  let dashboard: {
    datasets: { name: string; queryLines: string[] }[];
    pages: { layout: { widget: { queries: { query: { datasetName: string } }[] } }[] }[];
  };
  beforeAll(() => {
    // A full synth writes the stack's assets: the dashboard file is read where Terraform will read it.
    const app = Testing.app();
    const stack = new TerraformStack(app, "members-live");
    new DatabricksProvider(stack, "databricks", {});
    new PipelineHealth(stack, "health", healthSettings(live, "/Deployments/globex-lake-live"));
    const outdir = Testing.fullSynth(stack);
    const json = JSON.parse(readFileSync(path.join(outdir, "stacks", "members-live", "cdk.tf.json"), "utf8"));
    const filePath = Object.values(json.resource.databricks_dashboard as Record<string, { file_path: string }>)[0].file_path;
    dashboard = JSON.parse(readFileSync(path.join(outdir, "stacks", "members-live", filePath), "utf8"));
  });

  test("has exactly one dataset per query file, named by the file, holding its SQL with the environment's tables", () => {
    expect(dashboard.datasets.map((d) => d.name).sort()).toEqual(queryFiles());
    const values = { ...loadTableNames("lake", "members", MEMBERS_TABLE), pii_retention_days: live.load.piiRetentionDays };
    for (const query of readHealthQueries()) {
      const dataset = dashboard.datasets.find((d) => d.name === query.name)!;
      expect(dataset.queryLines.join("")).toBe(renderHealthQuery(query, values));
    }
  });

  test("has one widget per dataset", () => {
    const used = dashboard.pages.flatMap((p) => p.layout.flatMap((l) => l.widget.queries.map((q) => q.query.datasetName)));
    expect(used.sort()).toEqual(queryFiles());
  });
});

describe("health defaults and options", () => {
  test("development environments deploy no health resources by default", () => {
    for (const name of ["members-sandbox", "members-lab"]) {
      for (const type of HEALTH_TYPES) expect(Object.keys(resourcesOf(stacks[name], type))).toEqual([]);
    }
  });

  test("a development environment that turns health on deploys its alerts paused", () => {
    const { stacks: dev } = synthAll(withEnvironment("sandbox", (e) => ({ ...e, health: { enabled: true } })));
    const alerts = Object.values(resourcesOf(dev["members-sandbox"], "databricks_alert_v2"));
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) expect(alert.schedule.pause_status).toBe("PAUSED");
  });

  test("a production environment can turn health off", () => {
    const { stacks: off } = synthAll(withEnvironment("preview", (e) => ({ ...e, health: { enabled: false } })));
    for (const type of HEALTH_TYPES) expect(Object.keys(resourcesOf(off["members-preview"], type))).toEqual([]);
  });

  test("a configured warehouse id is used as it is: no warehouse resource, no permissions on it", () => {
    const id = "0123456789abcdef";
    const { stacks: own } = synthAll(withEnvironment("preview", (e) => ({ ...e, health: { warehouseId: id } })));
    const json = own["members-preview"];
    expect(resourcesOf(json, "databricks_sql_endpoint")).toEqual({});
    expect(onlyResource(json, "databricks_dashboard").props.warehouse_id).toBe(id);
    for (const alert of Object.values(resourcesOf(json, "databricks_alert_v2"))) expect(alert.warehouse_id).toBe(id);
    expect(Object.values(resourcesOf(json, "databricks_permissions")).filter((p) => p.sql_endpoint_id)).toEqual([]);
  });

  test.each([
    [
      { warehouseId: "not-a-warehouse" },
      'environments.preview.health.warehouseId: got "not-a-warehouse", expected a SQL warehouse id (16 hexadecimal digits)',
    ],
    [{ staleAfterHours: 0 }, "environments.preview.health.staleAfterHours: got 0, expected a number >= 1"],
    [{ alertSchedule: { cron: "0 0 2 * *" } }, 'environments.preview.health.alertSchedule.cron: got "0 0 2 * *", expected'],
  ])("config %j is refused", (health, message) => {
    const problems = (() => {
      try {
        validateConfig(withEnvironment("preview", (e) => ({ ...e, health }) as EnvironmentInput));
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map(formatProblem);
      }
    })();
    expect(problems.join("\n")).toContain(message);
  });
});

describe("health queries", () => {
  test("no query touches a PII column (contract.json piiColumns)", () => {
    const pii = piiColumns();
    expect(pii).toEqual(expect.arrayContaining(["first_name", "email"]));
    const values = { ...loadTableNames("c", "s", MEMBERS_TABLE), pii_retention_days: 30 };
    for (const query of readHealthQueries()) expect([query.name, piiColumnsTouched(renderHealthQuery(query, values), pii)]).toEqual([query.name, []]);
  });

  test("a copy of a query selecting a PII column is refused at synth", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "health-pii-"));
    cpSync(DEFAULT_HEALTH_QUERIES_DIR, dir, { recursive: true });
    const file = path.join(dir, "quarantine_by_reason.sql");
    writeFileSync(file, readFileSync(file, "utf8").replace(/\n\s*reason,/, "\n  reason,\n  email,"));
    expect(piiColumnsTouched(readFileSync(file, "utf8"), piiColumns())).toEqual(["email"]);
    const stack = new TerraformStack(new App(), "pii");
    expect(() => new PipelineHealth(stack, "health", { ...healthSettings(live, "/Deployments/x"), queriesDir: dir })).toThrow(
      'PipelineHealth query quarantine_by_reason.sql: PII columns: got ["email"], expected none',
    );
  });

  test("PII in comments or string literals does not count; a backticked or upper-case one does", () => {
    expect(piiColumnsTouched("SELECT count(1) AS n -- not the email\nFROM t WHERE reason = 'email'", ["email"])).toEqual([]);
    expect(piiColumnsTouched("SELECT count(`Email`) AS n FROM t", ["email"])).toEqual(["email"]);
    expect(piiColumnsTouched("SELECT count(1) AS n FROM t WHERE LAST_NAME IS NULL", ["last_name"])).toEqual(["last_name"]);
  });

  test("an unknown placeholder is refused, naming the ones there are", () => {
    const query = parseHealthQuery("odd", "-- title: t\n-- description: d\nSELECT count(1) AS n FROM ${members_tabel}");
    expect(() => renderHealthQuery(query, { ...loadTableNames("c", "s", "m"), pii_retention_days: 1 })).toThrow(
      'HealthQuery odd.sql: placeholder: got "${members_tabel}", expected one of ${members_table}, ${quarantine_table}, ${load_log_table}, ${pii_retention_days}',
    );
  });

  test.each([
    ["-- description: d\nSELECT 1 AS n", "-- title:: got undefined, expected a header line with text"],
    ["-- title: t\n-- description: d\nSELECT 1 AS a; SELECT 2 AS b", "expected one query per file"],
    ["-- title: t\n-- description: d\nSELECT a + 1 FROM t", 'result column: got "a + 1", expected a column or an expression with an alias'],
    ["-- title: t\n-- description: d\n-- alert: n >> 3\nSELECT 1 AS n", '-- alert:: got "n >> 3", expected'],
    ["-- title: t\n-- description: d\n-- alert: m > 3\nSELECT 1 AS n", '-- alert: column: got "m", expected a result column of the query (n)'],
  ])("%j is refused", (text, message) => {
    expect(() => parseHealthQuery("q", text)).toThrow(message);
  });

  test("the alert grammar: a comparison with a number or a setting, or recent rows", () => {
    const q = (alert: string) => parseHealthQuery("q", `-- title: t\n-- description: d\n-- alert: ${alert}\nSELECT at, n FROM t ORDER BY at`).alert;
    expect(q("n >= 2 (why)")).toEqual({ kind: "compare", column: "n", operator: "GREATER_THAN_OR_EQUAL", threshold: 2 });
    expect(q("n > stale_after_hours")).toEqual({ kind: "compare", column: "n", operator: "GREATER_THAN", threshold: "stale_after_hours" });
    expect(q("any row with at in the last 6 hours")).toEqual({ kind: "recent_rows", column: "at", hours: 6 });
  });

  test("widgets follow the query's shape: one row a counter, grouped by a date a bar chart, listings a table", () => {
    const kinds = Object.fromEntries(readHealthQueries().map((q) => [q.name, widgetKind(q)]));
    expect(kinds).toMatchObject({ freshness: "counter", daily_loads: "bar", refused_batches: "table" });
    const grouped = parseHealthQuery("g", "-- title: t\n-- description: d\nSELECT day, reason, count(1) AS n FROM t GROUP BY day, reason");
    const bar = (healthDashboard([{ ...grouped, sql: "" }], "p").pages as any[])[0].layout[0].widget.spec.encodings;
    expect(bar).toMatchObject({ x: { fieldName: "day" }, y: { fieldName: "n" }, color: { fieldName: "reason" } });
  });

  test("table names agree with the notebooks' (members_pipeline/config.py LoadConfig)", () => {
    const config = readFileSync(path.join(DEFAULT_NOTEBOOKS_DIR, "members_pipeline", "config.py"), "utf8");
    expect(config).toContain('return f"`{self.catalog}`.`{self.schema}`.`{self.table}`"');
    expect(config).toContain(`return f"\`{self.catalog}\`.\`{self.schema}\`.\`{self.table}${QUARANTINE_TABLE_SUFFIX}\`"`);
    expect(config).toContain(`return f"\`{self.catalog}\`.\`{self.schema}\`.\`{self.table}${LOAD_LOG_TABLE_SUFFIX}\`"`);
    expect(loadTableNames("c", "s", "m")).toEqual({
      members_table: "`c`.`s`.`m`",
      quarantine_table: "`c`.`s`.`m_quarantine`",
      load_log_table: "`c`.`s`.`m_load_log`",
    });
  });
});
