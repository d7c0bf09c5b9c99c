import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { AlertV2 } from "@cdktf/provider-databricks/lib/alert-v2";
import { Dashboard } from "@cdktf/provider-databricks/lib/dashboard";
import { NotificationDestination } from "@cdktf/provider-databricks/lib/notification-destination";
import { Permissions } from "@cdktf/provider-databricks/lib/permissions";
import { SqlEndpoint } from "@cdktf/provider-databricks/lib/sql-endpoint";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { fixedOutputs } from "../common/outputs";
import { requireProp } from "../common/validation";
import { quartzProblem } from "../config/quartz";
import { SQL_WAREHOUSE_ID } from "../config/schema";
import { healthDashboard, type RenderedHealthQuery } from "./health-dashboard";
import {
  type AlertSetting,
  type HealthAlertRule,
  type HealthQueryValues,
  piiColumns,
  piiColumnsTouched,
  readHealthQueries,
  renderHealthQuery,
} from "./health-queries";
import { accessControl, type Principal } from "./principal";

/**
 * The warehouse the stack creates: serverless (starts in seconds, billed only while running), the smallest size, one
 * cluster, stopped after this many idle minutes (the policy pack's MEM-SQL-001 refuses a warehouse without
 * auto-stop or not serverless). The cost model prices it from these (tools/cost/model.ts).
 */
export const HEALTH_WAREHOUSE = { clusterSize: "2X-Small", maxNumClusters: 1, autoStopMins: 5 } as const;

export interface PipelineHealthProps {
  /** Base of the objects' names (`<prefix>-<env>`). */
  readonly namePrefix: string;
  /**
   * Workspace folder the stack owns (a reference): the dashboard and the alerts go there. The alerts inherit its ACL,
   * which in production lets the platform group only read (MEM-DEP-019): they run as the job principal, so whoever
   * could edit an alert's query would read the tables as that principal.
   */
  readonly deployRoot: string;
  /** The tables and settings the queries' placeholders stand for (literal names: the dashboard file is written at synth). */
  readonly values: HealthQueryValues;
  /** The staleness alert's threshold (`stale_after_hours` in a query's `-- alert:`), in hours. */
  readonly staleAfterHours: number;
  /** The load guard's threshold (`max_quarantined_share`): the value the load job is given. */
  readonly maxQuarantinedShare: number;
  /** When every alert evaluates. */
  readonly alertSchedule: { readonly cron: string; readonly timezone: string; readonly paused: boolean };
  /** Told when an alert triggers and when it is OK again. */
  readonly failureEmails: readonly string[];
  /**
   * Application id of the service principal the alerts run as (it reads the tables: the job principal).
   * @default the deployer
   */
  readonly runAsServicePrincipal?: string;
  /** CAN_MANAGE on the dashboard and the warehouse. */
  readonly managers: Principal;
  /** CAN_READ on the dashboard (it embeds its publisher's credentials: no table access needed). */
  readonly viewers: readonly Principal[];
  /**
   * An existing SQL warehouse (16 hexadecimal digits); none is created, and no permission is set on it.
   * @default a serverless warehouse of the stack's own (HEALTH_WAREHOUSE)
   */
  readonly warehouseId?: string;
  /** Custom tags of the created warehouse. */
  readonly tags: Readonly<Record<string, string>>;
  /**
   * Folder of the health queries.
   * @default notebooks/members_pipeline/health
   */
  readonly queriesDir?: string;
  /**
   * Column names no query may touch.
   * @default piiColumns of notebooks/members_pipeline/contract.json
   */
  readonly piiColumns?: readonly string[];
}

/**
 * The pipeline's health, deployed: an AI/BI dashboard (`databricks_dashboard`, published with embedded credentials so
 * viewers without table access see the numbers) whose serialized file the build writes from the health queries, one
 * SQL alert (`databricks_alert_v2`, its query inline) per query with an `-- alert:` line, e-mailing the failure
 * addresses through a notification destination, and a small serverless SQL warehouse (`databricks_sql_endpoint`) or
 * a configured one. The queries are refused at synth when one touches a PII column.
 */
export class PipelineHealth extends Construct {
  readonly dashboard: Dashboard;
  /** Alerts by query name. */
  readonly alerts: Readonly<Record<string, AlertV2>>;
  /** The created warehouse, when no warehouseId was given. */
  readonly warehouse?: SqlEndpoint;
  /** The warehouse id the dashboard and alerts use. */
  readonly warehouseId: string;
  /** The queries, rendered, in file-name order. */
  readonly queries: readonly RenderedHealthQuery[];

  constructor(scope: Construct, id: string, props: PipelineHealthProps) {
    super(scope, id);
    validate(props);
    const pii = props.piiColumns ?? piiColumns();
    this.queries = readHealthQueries(props.queriesDir).map((q) => {
      const sql = renderHealthQuery(q, props.values);
      const touched = piiColumnsTouched(sql, pii);
      requireProp(
        `PipelineHealth query ${q.name}.sql`,
        "PII columns",
        touched,
        (t) => t.length === 0,
        "none: health results reach viewers who may not see PII",
      );
      return { ...q, sql };
    });
    const base = props.namePrefix;
    const managers = accessControl(props.managers, "CAN_MANAGE");
    const viewers = props.viewers.map((v) => accessControl(v, "CAN_READ"));

    if (props.warehouseId === undefined) {
      this.warehouse = new SqlEndpoint(this, "warehouse", {
        name: `${base}-health`,
        ...HEALTH_WAREHOUSE,
        minNumClusters: 1,
        enableServerlessCompute: true,
        warehouseType: "PRO",
        tags: { customTags: Object.entries(props.tags).map(([key, value]) => ({ key, value })) },
      });
      const users = props.runAsServicePrincipal
        ? [accessControl({ kind: "service_principal", applicationId: props.runAsServicePrincipal }, "CAN_USE")]
        : [];
      new Permissions(this, "warehouse-permissions", { sqlEndpointId: this.warehouse.id, accessControl: [managers, ...users] });
    }
    this.warehouseId = this.warehouse?.id ?? (props.warehouseId as string);

    // The serialized dashboard, written by the build and staged with the stack like the notebooks (a content-hash path).
    const file = writeOnce(`${base}-health.lvdash.json`, `${JSON.stringify(healthDashboard(this.queries, `${base} pipeline health`), null, 2)}\n`);
    this.dashboard = new Dashboard(this, "dashboard", {
      displayName: `${base} pipeline health`,
      parentPath: props.deployRoot,
      warehouseId: this.warehouseId,
      filePath: new TerraformAsset(this, "dashboard-file", { path: file, type: AssetType.FILE }).path,
      // Viewers see numbers without SELECT on the tables: the queries run as the publisher (no PII column, checked above).
      embedCredentials: true,
    });
    new Permissions(this, "dashboard-permissions", { dashboardId: this.dashboard.id, accessControl: [managers, ...viewers] });

    const destination = new NotificationDestination(this, "failure-emails", {
      displayName: `${base} pipeline health`,
      config: { email: { addresses: [...props.failureEmails] } },
    });
    const settings: Record<AlertSetting, number> = {
      max_quarantined_share: props.maxQuarantinedShare,
      stale_after_hours: props.staleAfterHours,
    };
    const alerts: Record<string, AlertV2> = {};
    for (const query of this.queries) {
      if (!query.alert) continue;
      const { text, column, operator, threshold } = alertQuery(query, query.alert, settings);
      alerts[query.name] = new AlertV2(this, `alert-${query.name.replace(/_/g, "-")}`, {
        displayName: `${base} health: ${query.title}`,
        customDescription: query.description,
        parentPath: props.deployRoot,
        warehouseId: this.warehouseId,
        queryText: text,
        evaluation: {
          source: { name: column, display: column },
          comparisonOperator: operator,
          threshold: { value: { doubleValue: threshold } },
          emptyResultState: "OK",
          notification: { notifyOnOk: true, subscriptions: [{ destinationId: destination.id }] },
        },
        schedule: {
          quartzCronSchedule: props.alertSchedule.cron,
          timezoneId: props.alertSchedule.timezone,
          pauseStatus: props.alertSchedule.paused ? "PAUSED" : "UNPAUSED",
        },
        ...(props.runAsServicePrincipal ? { runAs: { servicePrincipalName: props.runAsServicePrincipal } } : {}),
      });
    }
    this.alerts = alerts;

    fixedOutputs(this, {
      health_dashboard_id: { value: this.dashboard.id, description: "Pipeline health dashboard (AI/BI) id" },
      health_warehouse_id: { value: this.warehouseId, description: "SQL warehouse of the health dashboard and alerts" },
    });
  }
}

/**
 * What an alert runs and compares: a `compare` rule evaluates the newest row (rows ordered by the query's first column,
 * descending; a one-row query as it is); a `recent_rows` rule counts the rows whose column lies within its window.
 */
export function alertQuery(
  query: RenderedHealthQuery,
  rule: HealthAlertRule,
  settings: Readonly<Record<AlertSetting, number>>,
): { text: string; column: string; operator: string; threshold: number } {
  const inner = query.sql
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
  if (rule.kind === "recent_rows") {
    const column = `${rule.column}_within_${rule.hours}h`;
    return {
      text: `SELECT count(1) AS ${column}\nFROM (\n${inner}\n) AS health\nWHERE ${rule.column} >= current_timestamp() - INTERVAL ${rule.hours} HOURS`,
      column,
      operator: "GREATER_THAN",
      threshold: 0,
    };
  }
  const threshold = typeof rule.threshold === "number" ? rule.threshold : settings[rule.threshold];
  const text = query.singleRow
    ? query.sql
    : `SELECT ${rule.column}\nFROM (\n${inner}\n) AS health\nORDER BY ${query.columns[0]} DESC NULLS LAST\nLIMIT 1`;
  return { text, column: rule.column, operator: rule.operator, threshold };
}

function validate(p: PipelineHealthProps): void {
  const name = "PipelineHealth";
  requireProp(name, "failureEmails", p.failureEmails, (e) => e.length > 0, "at least one address");
  requireProp(name, "staleAfterHours", p.staleAfterHours, (h) => Number.isInteger(h) && h >= 1, "a whole number of hours >= 1");
  requireProp(name, "maxQuarantinedShare", p.maxQuarantinedShare, (s) => s >= 0 && s <= 1, "a share between 0 and 1");
  const cronProblem = quartzProblem(p.alertSchedule.cron);
  if (cronProblem !== undefined) requireProp(name, "alertSchedule.cron", p.alertSchedule.cron, () => false, cronProblem);
  if (p.warehouseId !== undefined) requireProp(name, "warehouseId", p.warehouseId, (w) => SQL_WAREHOUSE_ID.test(w), "16 hexadecimal digits");
}

/**
 * `content` as `name` in a folder of the system's temporary directory named by its hash: every synth of the same
 * content reuses one file (none piles up), and a parallel synth never sees it half written (write, then rename).
 */
function writeOnce(name: string, content: string): string {
  const dir = path.join(tmpdir(), `members-health-${createHash("sha256").update(content).digest("hex").slice(0, 16)}`);
  const file = path.join(dir, name);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, content);
    renameSync(partial, file);
  }
  return file;
}
