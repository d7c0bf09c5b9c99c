/**
 * Compute-cost model of the pipeline, from the synthesized job JSON and one price table (prices.json):
 * per run = (DBU/h x nodes x DBU rate + VM/h x nodes, spot-discounted for workers) x (run + start-up time);
 * per month = per run x runs a month (from the quartz schedule; a file-arrival load runs once per extract).
 * Compared with the same cluster kept up all month as all-purpose compute, which is the usual alternative.
 */
import { quartzFieldValues, quartzProblem } from "../../stacks/config/quartz";

export type Cloud = "aws" | "azure";

export interface NodePrice {
  readonly cloud: Cloud;
  readonly dbuPerHour: number;
  readonly vmPerHour: number;
}

export interface PriceTable {
  readonly dbuRatePerHour: Record<Cloud, { readonly jobs: number; readonly allPurpose: number }>;
  /** Serverless SQL: the price of one DBU (compute included) and the DBUs an hour of one cluster of each size. */
  readonly sqlWarehouse: { readonly dbuRatePerHour: Record<Cloud, number>; readonly dbuPerHourBySize: Record<string, number> };
  readonly nodeTypes: Record<string, NodePrice>;
  readonly spotDiscount: Record<Cloud, number>;
  readonly assumptions: {
    readonly clusterStartMinutes: number;
    readonly runMinutes: Record<string, number>;
    readonly allPurposeHoursPerMonth: number;
    readonly daysPerMonth: number;
    /** Minutes a warehouse runs queries per wake (an alert evaluation or a dashboard view). */
    readonly warehouseQueryMinutes: number;
    /** Dashboard views a month that wake the health warehouse. */
    readonly healthDashboardViewsPerMonth: number;
  };
}

/** What the model needs of one SQL warehouse. */
export interface WarehouseShape {
  readonly cloud: Cloud;
  readonly clusterSize: string;
  readonly autoStopMins: number;
  readonly maxNumClusters: number;
}

/** What the model needs of one job cluster. */
export interface ClusterShape {
  readonly cloud: Cloud;
  readonly nodeType: string;
  /** Workers while running (autoscale maximum: the cost ceiling). 0 for single node. */
  readonly workers: number;
  /** Workers beyond the first `firstOnDemand` nodes run on spot. */
  readonly spot: boolean;
  /** Nodes (driver first) always on demand. */
  readonly firstOnDemand: number;
}

export interface RunCost {
  readonly nodes: number;
  readonly hours: number;
  readonly dbu: number;
  readonly dbuCost: number;
  readonly vmCost: number;
  readonly total: number;
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

function priceOf(prices: PriceTable, cluster: ClusterShape): NodePrice {
  const node = prices.nodeTypes[cluster.nodeType];
  if (!node) {
    throw new Error(
      `cost model: node type got "${cluster.nodeType}", expected one of ${Object.keys(prices.nodeTypes).join(", ")} (add it to tools/cost/prices.json)`,
    );
  }
  if (node.cloud !== cluster.cloud) {
    throw new Error(`cost model: node type "${cluster.nodeType}" got cloud ${cluster.cloud}, expected ${node.cloud}`);
  }
  return node;
}

/** Cost of one run of `minutes` (plus start-up) on a job cluster. */
export function jobRunCost(prices: PriceTable, cluster: ClusterShape, minutes: number): RunCost {
  const node = priceOf(prices, cluster);
  const nodes = 1 + cluster.workers;
  const hours = (minutes + prices.assumptions.clusterStartMinutes) / 60;
  const onDemandNodes = cluster.spot ? Math.min(nodes, Math.max(1, cluster.firstOnDemand)) : nodes;
  const spotNodes = nodes - onDemandNodes;
  const dbu = nodes * node.dbuPerHour * hours;
  const dbuCost = dbu * prices.dbuRatePerHour[cluster.cloud].jobs;
  const vmCost = (onDemandNodes + spotNodes * (1 - prices.spotDiscount[cluster.cloud])) * node.vmPerHour * hours;
  return { nodes, hours: round(hours), dbu: round(dbu), dbuCost: round(dbuCost), vmCost: round(vmCost), total: round(dbuCost + vmCost) };
}

/** The same nodes kept running all month as an all-purpose cluster, on demand. */
export function allPurposeMonthlyCost(prices: PriceTable, cluster: ClusterShape): number {
  const node = priceOf(prices, cluster);
  const nodes = 1 + cluster.workers;
  const hourly = nodes * (node.dbuPerHour * prices.dbuRatePerHour[cluster.cloud].allPurpose + node.vmPerHour);
  return round(hourly * prices.assumptions.allPurposeHoursPerMonth);
}

/**
 * Fires of a quartz expression in a month of `days` days starting on `firstWeekday` (0 = Sunday). The expression is
 * read with the configuration's own quartz rules (stacks/config/quartz.ts); the month and year fields are ignored: the
 * model asks how often a typical month runs.
 */
export function quartzRunsPerMonth(expression: string, days = 30, firstWeekday = 0): number {
  const problem = quartzProblem(expression);
  if (problem !== undefined) throw new Error(`quartz expression got "${expression}", expected ${problem}`);
  const fields = expression.trim().split(/\s+/);
  const valuesOf = (index: number) => {
    const values = quartzFieldValues(fields[index], index);
    if (values === undefined) throw new Error(`quartz expression "${expression}": "${fields[index]}" (L, W, #) is not supported by the cost model`);
    return values;
  };
  const perDay = valuesOf(0).size * valuesOf(1).size * valuesOf(2).size;
  // "?" (in exactly one of the two day fields) matches every day, like "*".
  const [daysOfMonth, daysOfWeek] = [valuesOf(3), valuesOf(5)];
  let runDays = 0;
  for (let day = 1; day <= days; day += 1) {
    // Quartz numbers weekdays 1 (SUN) to 7 (SAT).
    const weekday = ((firstWeekday + day - 1) % 7) + 1;
    if (daysOfMonth.has(day) && daysOfWeek.has(weekday)) runDays += 1;
  }
  return runDays * perDay;
}

/**
 * A serverless SQL warehouse's month: each wake (an alert evaluation, a dashboard view) bills the query minutes plus the
 * idle minutes until auto-stop, on one cluster (the health warehouse never scales out: max one cluster). Serverless
 * DBUs include the compute: no VM price.
 */
export function warehouseMonthlyCost(
  prices: PriceTable,
  warehouse: WarehouseShape,
  wakesPerMonth: number,
): { hours: number; dbu: number; total: number } {
  const dbuPerHour = prices.sqlWarehouse.dbuPerHourBySize[warehouse.clusterSize];
  if (dbuPerHour === undefined) {
    throw new Error(
      `cost model: warehouse size got "${warehouse.clusterSize}", expected one of ${Object.keys(prices.sqlWarehouse.dbuPerHourBySize).join(", ")} (add it to tools/cost/prices.json)`,
    );
  }
  const hours = (wakesPerMonth * (prices.assumptions.warehouseQueryMinutes + warehouse.autoStopMins)) / 60;
  const dbu = hours * dbuPerHour;
  return { hours: round(hours), dbu: round(dbu), total: round(dbu * prices.sqlWarehouse.dbuRatePerHour[warehouse.cloud]) };
}
