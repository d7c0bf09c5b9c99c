/**
 * `make cost`: reads every synthesized stack (cdktf.out/stacks/<stack>/cdk.tf.json), prices each job with the model
 * and prints a markdown table: per run, per month, and the same clusters as always-on all-purpose compute.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TerraformJson } from "../../stacks/common/terraform-json";
import { allPurposeMonthlyCost, type ClusterShape, jobRunCost, type PriceTable, quartzRunsPerMonth, warehouseMonthlyCost } from "./model";
import prices from "./prices.json";

interface JobJson {
  name: string;
  schedule?: { quartz_cron_expression: string; pause_status?: string };
  trigger?: { file_arrival?: unknown; pause_status?: string };
  job_cluster: Array<{ new_cluster: Record<string, any> }>;
  task: Array<{ task_key: string }>;
}

/** The cluster a job runs on, as the model sees it. */
export function clusterShape(job: JobJson): ClusterShape {
  const cluster = job.job_cluster[0].new_cluster;
  const cloud = cluster.azure_attributes ? "azure" : "aws";
  const attributes = cluster.azure_attributes ?? cluster.aws_attributes ?? {};
  const workers = cluster.autoscale?.max_workers ?? cluster.num_workers ?? 0;
  return {
    cloud,
    nodeType: cluster.node_type_id,
    workers,
    spot: typeof attributes.availability === "string" && attributes.availability.startsWith("SPOT"),
    firstOnDemand: attributes.first_on_demand ?? 1,
  };
}

/**
 * How a job starts, which decides its runs a month: its own schedule, each file the extract lands, or nobody until a
 * schedule is unpaused (development stacks ship paused) or a person starts it (the test-data generator).
 */
export type Start = "schedule" | "file arrival" | "paused" | "by hand";

export function startOf(job: JobJson): Start {
  if (job.schedule) return job.schedule.pause_status === "PAUSED" ? "paused" : "schedule";
  if (job.trigger?.file_arrival) return job.trigger.pause_status === "PAUSED" ? "paused" : "file arrival";
  return "by hand";
}

export interface CostRow {
  stack: string;
  job: string;
  start: Start;
  cluster: string;
  runsPerMonth: number;
  perRun: number;
  perMonth: number;
  allPurposePerMonth: number;
}

/**
 * Prices every job of one synthesized stack. A file-arrival load runs as often as the stack's running schedule (the
 * extract); paused and hand-started jobs run 0 times a month: their cost per run is shown, not counted.
 */
export function costRows(stack: string, json: TerraformJson, table: PriceTable): CostRow[] {
  const jobs = Object.values(json.resource?.databricks_job ?? {}) as JobJson[];
  const scheduledRuns = (job: JobJson) => {
    const cron = job.schedule?.quartz_cron_expression;
    if (!cron) throw new Error(`${stack}: job ${job.task[0].task_key} starts on a schedule but has no quartz_cron_expression`);
    return quartzRunsPerMonth(cron, table.assumptions.daysPerMonth);
  };
  const extractRuns = jobs.filter((job) => startOf(job) === "schedule").map(scheduledRuns)[0] ?? 0;
  const runsOf = { schedule: scheduledRuns, "file arrival": () => extractRuns, paused: () => 0, "by hand": () => 0 } as const;
  return jobs.map((job) => {
    const shape = clusterShape(job);
    const taskKey = job.task[0].task_key;
    const minutes = table.assumptions.runMinutes[taskKey] ?? 15;
    const start = startOf(job);
    const runs = runsOf[start](job);
    const perRun = jobRunCost(table, shape, minutes).total;
    return {
      stack,
      job: taskKey,
      start,
      cluster: `${1 + shape.workers} x ${shape.nodeType}${shape.spot && shape.workers > 0 ? " (spot workers)" : ""}`,
      runsPerMonth: runs,
      perRun,
      perMonth: Math.round(perRun * runs * 100) / 100,
      allPurposePerMonth: allPurposeMonthlyCost(table, shape),
    };
  });
}

export interface WarehouseRow {
  stack: string;
  warehouse: string;
  /** Alert evaluations a month (the running alerts' schedules; paused ones none) plus dashboard views. */
  wakesPerMonth: number;
  hours: number;
  perMonth: number;
}

/**
 * Prices every SQL warehouse of one synthesized stack (the health dashboard's and alerts'): one wake per fire of each
 * distinct running alert schedule (alerts sharing a schedule share the wake) plus the assumed dashboard views. A
 * configured existing warehouse (no databricks_sql_endpoint) is someone else's bill and not priced here.
 */
export function warehouseRows(stack: string, json: TerraformJson, table: PriceTable): WarehouseRow[] {
  const cloud = json.provider?.azurerm ? "azure" : "aws";
  const alerts = Object.values(json.resource?.databricks_alert_v2 ?? {}) as { schedule: { quartz_cron_schedule: string; pause_status?: string } }[];
  const schedules = new Set(alerts.filter((a) => a.schedule.pause_status !== "PAUSED").map((a) => a.schedule.quartz_cron_schedule));
  const evaluations = [...schedules].reduce((sum, cron) => sum + quartzRunsPerMonth(cron, table.assumptions.daysPerMonth), 0);
  return Object.values(json.resource?.databricks_sql_endpoint ?? {}).map((w: Record<string, any>) => {
    const wakes = evaluations + table.assumptions.healthDashboardViewsPerMonth;
    const cost = warehouseMonthlyCost(
      table,
      { cloud, clusterSize: w.cluster_size, autoStopMins: w.auto_stop_mins, maxNumClusters: w.max_num_clusters },
      wakes,
    );
    return {
      stack,
      warehouse: `${w.name} (${w.cluster_size} serverless, auto-stop ${w.auto_stop_mins} min)`,
      wakesPerMonth: wakes,
      hours: cost.hours,
      perMonth: Math.round(cost.total * 100) / 100,
    };
  });
}

/** The warehouses' table: wakes, billed hours and the month's cost per stack. */
export function warehouseTable(rows: WarehouseRow[]): string {
  const { warehouseQueryMinutes, healthDashboardViewsPerMonth } = prices.assumptions;
  return [
    `SQL warehouses (health dashboard and alerts): each wake bills ${warehouseQueryMinutes} min of queries plus the auto-stop idle time; wakes = running alert evaluations + ${healthDashboardViewsPerMonth} dashboard views a month (assumed). A configured existing warehouse is not priced.`,
    "",
    "| stack | warehouse | wakes/month | billed hours | per month |",
    "|---|---|---:|---:|---:|",
    ...rows.map((r) => `| ${r.stack} | ${r.warehouse} | ${r.wakesPerMonth} | ${r.hours.toFixed(1)} | $${r.perMonth.toFixed(2)} |`),
  ].join("\n");
}

export function costTable(rows: CostRow[]): string {
  const money = (v: number) => `$${v.toFixed(2)}`;
  const lines = [
    `Prices: tools/cost/prices.json (${prices.date}); run time ${JSON.stringify(prices.assumptions.runMinutes)} min + ${prices.assumptions.clusterStartMinutes} min start-up; autoscale at its maximum.`,
    "",
    "Runs a month by how each job starts: its schedule, each extract's files (file arrival), none while paused",
    "(development stacks ship paused) or started by hand (the test-data generator): those show a run's cost only.",
    "",
    "| stack | job | starts | cluster | runs/month | per run | per month |",
    "|---|---|---|---|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(`| ${r.stack} | ${r.job} | ${r.start} | ${r.cluster} | ${r.runsPerMonth} | ${money(r.perRun)} | ${money(r.perMonth)} |`);
  }
  lines.push(
    "",
    "Per stack, the jobs' runs a month on job clusters next to one always-on all-purpose cluster of the larger shape:",
    "",
    "| stack | job clusters per month | always-on all-purpose per month | saving |",
    "|---|---:|---:|---:|",
  );
  for (const stack of [...new Set(rows.map((r) => r.stack))]) {
    const mine = rows.filter((r) => r.stack === stack);
    const jobs = mine.reduce((sum, r) => sum + r.perMonth, 0);
    const allPurpose = Math.max(...mine.map((r) => r.allPurposePerMonth));
    lines.push(`| ${stack} | ${money(jobs)} | ${money(allPurpose)} | ${((1 - jobs / allPurpose) * 100).toFixed(1)}% |`);
  }
  lines.push(
    "",
    // docs/architecture/governance.md: masks on the tables would send every read of the load's dedicated compute through the
    // workspace's serverless compute (billed per run); the readers' view keeps the tables unmasked.
    "Fine-grained data filtering: $0.00 per run. The tables carry no column mask or row filter, so the load's reads never go through serverless filtering; readers query the masked view on their own compute (a SQL warehouse, or serverless filtering billed to their dedicated clusters).",
  );
  return lines.join("\n");
}

if (require.main === module) {
  const dir = join(__dirname, "..", "..", "cdktf.out", "stacks");
  const stacks = readdirSync(dir)
    .sort()
    .map((stack) => [stack, JSON.parse(readFileSync(join(dir, stack, "cdk.tf.json"), "utf8"))] as const);
  console.log(costTable(stacks.flatMap(([stack, json]) => costRows(stack, json, prices as PriceTable))));
  console.log(`\n${warehouseTable(stacks.flatMap(([stack, json]) => warehouseRows(stack, json, prices as PriceTable)))}`);
}
