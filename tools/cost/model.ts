/**
 * Compute-cost model of the pipeline, from the synthesized job JSON and one price table (prices.json):
 * per run = (DBU/h x nodes x DBU rate + VM/h x nodes, spot-discounted for workers) x (run + start-up time);
 * per month = per run x runs a month (from the quartz schedule; a file-arrival load runs once per extract).
 * Compared with the same cluster kept up all month as all-purpose compute, which is the usual alternative.
 */

export type Cloud = "aws" | "azure";

export interface NodePrice {
  readonly cloud: Cloud;
  readonly dbuPerHour: number;
  readonly vmPerHour: number;
}

export interface PriceTable {
  readonly dbuRatePerHour: Record<Cloud, { readonly jobs: number; readonly allPurpose: number }>;
  readonly nodeTypes: Record<string, NodePrice>;
  readonly spotDiscount: Record<Cloud, number>;
  readonly assumptions: {
    readonly clusterStartMinutes: number;
    readonly runMinutes: Record<string, number>;
    readonly allPurposeHoursPerMonth: number;
    readonly daysPerMonth: number;
  };
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

const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/** Values a quartz field matches within [min, max]: `*`, `?`, lists, ranges, steps and names. */
export function quartzField(field: string, min: number, max: number, names: string[] = [], nameBase = min): Set<number> {
  const values = new Set<number>();
  const toNumber = (token: string) => {
    const index = names.indexOf(token.toUpperCase());
    const value = index >= 0 ? index + nameBase : Number(token);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`quartz field "${field}": got "${token}", expected ${min}-${max}${names.length ? ` or ${names.join("/")}` : ""}`);
    }
    return value;
  };
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`quartz field "${field}": got step "${stepText}", expected a positive integer`);
    let from: number;
    let to: number;
    if (range === "*" || range === "?") [from, to] = [min, max];
    else if (range.includes("-")) [from, to] = range.split("-").map(toNumber) as [number, number];
    else [from, to] = [toNumber(range), stepText === undefined ? toNumber(range) : max];
    if (/[LW#]/.test(range)) throw new Error(`quartz field "${field}": L, W and # are not supported by the cost model`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** Fires of a quartz expression in a month of `days` days starting on `firstWeekday` (0 = Sunday). */
export function quartzRunsPerMonth(expression: string, days = 30, firstWeekday = 0): number {
  const fields = expression.trim().split(/\s+/);
  if (fields.length < 6 || fields.length > 7) {
    throw new Error(`quartz expression got "${expression}", expected 6 or 7 fields`);
  }
  // The month field is ignored: the model asks how often a typical month runs.
  const [seconds, minutes, hours, dayOfMonth, , dayOfWeek] = fields;
  const perDay = quartzField(seconds, 0, 59).size * quartzField(minutes, 0, 59).size * quartzField(hours, 0, 23).size;
  const domAny = dayOfMonth === "?" || dayOfMonth === "*";
  const dowAny = dayOfWeek === "?" || dayOfWeek === "*";
  const doms = quartzField(dayOfMonth, 1, 31);
  // Quartz numbers weekdays 1 (SUN) to 7 (SAT).
  const dows = quartzField(dayOfWeek, 1, 7, DAY_NAMES, 1);
  let runDays = 0;
  for (let day = 1; day <= days; day += 1) {
    const weekday = ((firstWeekday + day - 1) % 7) + 1;
    const domMatch = domAny || doms.has(day);
    const dowMatch = dowAny || dows.has(weekday);
    if (domMatch && dowMatch) runDays += 1;
  }
  return runDays * perDay;
}
