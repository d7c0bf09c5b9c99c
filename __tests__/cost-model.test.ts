import { HEALTH_WAREHOUSE } from "../stacks/databricks/pipeline-health";
import { allPurposeMonthlyCost, jobRunCost, type PriceTable, quartzRunsPerMonth, warehouseMonthlyCost } from "../tools/cost/model";
import prices from "../tools/cost/prices.json";
import { costRows, costTable, warehouseRows, warehouseTable } from "../tools/cost/report";
import { synthAll } from "./synth-helpers";

/** A fixed table so the arithmetic is checked independently of today's prices. */
const table: PriceTable = {
  dbuRatePerHour: { aws: { jobs: 0.15, allPurpose: 0.55 }, azure: { jobs: 0.3, allPurpose: 0.55 } },
  nodeTypes: { "m6gd.xlarge": { cloud: "aws", dbuPerHour: 1.0, vmPerHour: 0.2008 } },
  sqlWarehouse: { dbuRatePerHour: { aws: 0.7, azure: 0.7 }, dbuPerHourBySize: { "2X-Small": 4 } },
  spotDiscount: { aws: 0.6, azure: 0.7 },
  assumptions: {
    clusterStartMinutes: 5,
    runMinutes: { extract_members: 25 },
    allPurposeHoursPerMonth: 730,
    daysPerMonth: 30,
    warehouseQueryMinutes: 1,
    healthDashboardViewsPerMonth: 40,
  },
};
const cluster = { cloud: "aws", nodeType: "m6gd.xlarge", workers: 2, spot: true, firstOnDemand: 1 } as const;

describe("cost model arithmetic", () => {
  test("one run: DBUs x rate plus VMs with spot workers, over run + start-up time", () => {
    // 3 nodes x 1 DBU/h x 0.5 h = 1.5 DBU x $0.15 = $0.225; VMs (1 on demand + 2 x 0.4 spot) x $0.2008 x 0.5 h = $0.18072
    expect(jobRunCost(table, cluster, 25)).toEqual({ nodes: 3, hours: 0.5, dbu: 1.5, dbuCost: 0.225, vmCost: 0.1807, total: 0.4057 });
  });

  test("without spot every node is on demand", () => {
    expect(jobRunCost(table, { ...cluster, spot: false }, 25).vmCost).toBeCloseTo(3 * 0.2008 * 0.5, 4);
  });

  test("the always-on alternative runs the same nodes all month at the all-purpose rate, on demand", () => {
    // 3 x (1 DBU/h x $0.55 + $0.2008) x 730 h
    expect(allPurposeMonthlyCost(table, cluster)).toBeCloseTo(1644.252, 3);
  });

  test("quartz schedules become runs per month", () => {
    expect(quartzRunsPerMonth("0 0 2 * * ?")).toBe(30);
    expect(quartzRunsPerMonth("0 0/30 * * * ?")).toBe(48 * 30);
    // A 30-day month starting on a Sunday has 21 weekdays.
    expect(quartzRunsPerMonth("0 0 2 ? * MON-FRI", 30, 0)).toBe(21);
    expect(quartzRunsPerMonth("0 15 6 1,15 * ?")).toBe(2);
    // Read with the configuration's quartz rules (stacks/config/quartz.ts): a wrapping range, names in any case.
    expect(quartzRunsPerMonth("0 0 22-2 * * ?")).toBe(5 * 30);
    expect(quartzRunsPerMonth("0 0 2 ? * sat-sun", 30, 0)).toBe(9);
  });

  test("an unknown node type is a clear error naming the price file", () => {
    expect(() => jobRunCost(table, { ...cluster, nodeType: "x1e.32xlarge" }, 10)).toThrow(
      'cost model: node type got "x1e.32xlarge", expected one of m6gd.xlarge (add it to tools/cost/prices.json)',
    );
  });

  test("a malformed quartz expression is rejected", () => {
    expect(() => quartzRunsPerMonth("0 0 25 * * ?")).toThrow(
      'quartz expression got "0 0 25 * * ?", expected hours 0-23 (field 3 of a quartz expression)',
    );
    expect(() => quartzRunsPerMonth("0 0 2 L * ?")).toThrow('quartz expression "0 0 2 L * ?": "L" (L, W, #) is not supported by the cost model');
  });

  test("reads the synthesized jobs: a file-arrival load runs as often as the extract", () => {
    const prod = synthAll().stacks["members-live"];
    const rows = costRows("members-live", prod as never, {
      ...table,
      assumptions: { ...table.assumptions, runMinutes: { extract_members: 25, load_members: 25 } },
    });
    expect(rows.map((r) => [r.job, r.runsPerMonth, r.cluster])).toEqual(
      expect.arrayContaining([
        ["extract_members", 30, "9 x m6gd.xlarge (spot workers)"],
        ["load_members", 30, "9 x m6gd.xlarge (spot workers)"],
      ]),
    );
    const extract = rows.find((r) => r.job === "extract_members")!;
    expect(extract.perRun).toBeCloseTo(jobRunCost(table, { ...cluster, workers: 8 }, 25).total, 4);
    expect(extract.perMonth).toBeCloseTo(extract.perRun * 30, 2);
    expect(rows.map((r) => r.start).sort()).toEqual(["file arrival", "schedule"]);
  });

  test("paused schedules and hand-started jobs run 0 times a month: a run's cost shown, not counted", () => {
    const dev = synthAll().stacks["members-sandbox"];
    const rows = costRows("members-sandbox", dev as never, prices as PriceTable);
    expect(rows.map((r) => [r.job, r.start, r.runsPerMonth, r.perMonth])).toEqual(
      expect.arrayContaining([
        ["extract_members", "paused", 0, 0],
        ["load_members", "paused", 0, 0],
        ["generate_member_data", "by hand", 0, 0],
      ]),
    );
    expect(rows.every((r) => r.perRun > 0)).toBe(true);
    expect(costTable(rows)).toContain("| members-sandbox | generate_member_data | by hand | 1 x m6gd.large | 0 |");
  });

  test("the health warehouse: each wake bills the query minutes plus the auto-stop idle time at the serverless SQL rate", () => {
    // 4 wakes a day for 30 days + 40 views = 160 wakes x (1 + 5) min = 16 h x 4 DBU x $0.70.
    expect(warehouseMonthlyCost(table, { cloud: "aws", clusterSize: "2X-Small", autoStopMins: 5, maxNumClusters: 1 }, 160)).toEqual({
      hours: 16,
      dbu: 64,
      total: 44.8,
    });
    expect(() => warehouseMonthlyCost(table, { cloud: "aws", clusterSize: "4X-Large", autoStopMins: 5, maxNumClusters: 1 }, 1)).toThrow(
      'warehouse size got "4X-Large", expected one of 2X-Small',
    );
  });

  test("reads the synthesized warehouse and alert schedules: running alerts share one wake per fire; development has none", () => {
    const { stacks } = synthAll();
    const [row] = warehouseRows("members-live", stacks["members-live"] as never, table);
    // Alerts every 6 hours: 4 x 30 evaluations, plus the assumed dashboard views.
    expect(row.wakesPerMonth).toBe(120 + table.assumptions.healthDashboardViewsPerMonth);
    const shape = {
      cloud: "aws",
      clusterSize: HEALTH_WAREHOUSE.clusterSize,
      autoStopMins: HEALTH_WAREHOUSE.autoStopMins,
      maxNumClusters: 1,
    } as const;
    expect(row.perMonth).toBeCloseTo(warehouseMonthlyCost(table, shape, row.wakesPerMonth).total, 2);
    expect(warehouseRows("members-sandbox", stacks["members-sandbox"] as never, table)).toEqual([]);
    expect(warehouseTable([row])).toContain("| members-live | globex-lake-live-health (2X-Small serverless, auto-stop 5 min) | 160 |");
    expect((prices as PriceTable).sqlWarehouse.dbuPerHourBySize[HEALTH_WAREHOUSE.clusterSize]).toBeGreaterThan(0);
  });
});
