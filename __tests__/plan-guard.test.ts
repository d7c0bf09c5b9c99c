import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  allowListForStack,
  evaluate,
  exitCodeOf,
  formatPath,
  kindOf,
  type Plan,
  PlanError,
  parseAllowList,
  parsePlan,
  type ResourceChange,
  renderReport,
  renderSummary,
} from "../tools/plan-guard/guard";

const ROOT = join(__dirname, "..");
const FIXTURES = join(__dirname, "fixtures", "plans");
const fixture = (name: string) => join(FIXTURES, name);
const load = (name: string): Plan => parsePlan(readFileSync(fixture(name), "utf8"), name);
const addresses = (changes: ResourceChange[]) => changes.map((c) => c.address);

const BUCKET = "aws_s3_bucket.landing_storage_bucket_2664DE92";
const KEY = "aws_kms_key.landing_storage_key_5448F462";
const CATALOG = "databricks_catalog.pipeline_catalog_9CBEB223";
const LOCATION = "databricks_external_location.landing_unity_catalog_landing_location_EB0B049D";

describe("parsePlan", () => {
  test("reads the documented fields of a resource change", () => {
    const plan = load("forced-replacement.json");
    expect(plan.formatVersion).toBe("1.2");
    expect(plan.terraformVersion).toBe("1.10.5");
    expect(plan.changes[0]).toEqual({
      address: BUCKET,
      previousAddress: undefined,
      mode: "managed",
      type: "aws_s3_bucket",
      deposed: undefined,
      actions: ["delete", "create"],
      actionReason: "replace_because_cannot_update",
      replacePaths: [["bucket"]],
    });
    expect(load("move.json").changes[0].previousAddress).toBe("databricks_schema.pipeline_catalog_members_schema_1A2B3C4D");
  });

  test.each([
    ["malformed-not-json.json", /malformed-not-json\.json: not JSON/],
    ["malformed-state-not-plan.json", /malformed-state-not-plan\.json: not a Terraform plan \(no resource_changes array\)/],
    ["malformed-format-2.json", /malformed-format-2\.json: unsupported plan format_version "2\.0"/],
    ["malformed-no-actions.json", /malformed-no-actions\.json: resource_changes\[0\] \(aws_s3_bucket\.\S+\) has no change\.actions/],
  ])("rejects %s", (name, message) => {
    expect(() => load(name)).toThrow(PlanError);
    expect(() => load(name)).toThrow(message);
  });

  test.each([
    ["a JSON array", "[]", /top level is not a JSON object/],
    ["no format_version", '{"resource_changes": []}', /no format_version/],
    ["a version that is not MAJOR.MINOR", '{"format_version": "1", "resource_changes": []}', /not of the form MAJOR\.MINOR/],
    [
      "a change without a type",
      '{"format_version": "1.2", "resource_changes": [{"address": "a.b", "mode": "managed", "change": {"actions": ["delete"]}}]}',
      /has no "type"/,
    ],
    [
      "empty actions",
      '{"format_version": "1.2", "resource_changes": [{"address": "a.b", "mode": "managed", "type": "a", "change": {"actions": []}}]}',
      /has no change\.actions/,
    ],
  ])("rejects %s", (_, text, message) => {
    expect(() => parsePlan(text, "x.json")).toThrow(message);
  });

  test("accepts any 1.x format_version (minor versions only add properties)", () => {
    expect(parsePlan('{"format_version": "1.0", "resource_changes": [], "new_property": 1}', "x.json").changes).toEqual([]);
  });
});

describe("kindOf, formatPath, parseAllowList", () => {
  test.each([
    [["no-op"], "no-op"],
    [["create"], "create"],
    [["read"], "read"],
    [["update"], "update"],
    [["delete", "create"], "replace"],
    [["create", "delete"], "replace"],
    [["delete"], "delete"],
    [["forget"], "forget"],
    [["create", "forget"], "other"],
  ])("%j is %s", (actions, kind) => {
    expect(kindOf(actions)).toBe(kind);
  });

  test("formats replace paths", () => {
    expect(formatPath(["rule", 0, "filter"])).toBe("rule[0].filter");
    expect(formatPath(["tags", "environment"])).toBe("tags.environment");
  });

  test("splits the allow list on commas, spaces and newlines", () => {
    expect(parseAllowList(` ${BUCKET},${KEY}\n\n ${CATALOG} ,`)).toEqual([BUCKET, KEY, CATALOG]);
    expect(parseAllowList(undefined)).toEqual([]);
  });

  test("allow-list entries are stack-qualified: only this stack's apply, another stack's and unqualified ones are set apart", () => {
    const quoted = 'aws_s3_bucket.x["a:b"]';
    expect(
      allowListForStack([`members-prod:${BUCKET}`, `members-staging:${KEY}`, CATALOG, `members-prod:${quoted}`, quoted], "members-prod"),
    ).toEqual({
      addresses: [BUCKET, quoted],
      otherStacks: [`members-staging:${KEY}`],
      unqualified: [CATALOG, quoted],
    });
  });
});

describe("evaluate", () => {
  test("create, update, no-op and read pass and are sorted by action", () => {
    const ev = evaluate(load("create-update-noop-read.json"), []);
    expect(addresses(ev.byKind.create)).toEqual(["databricks_job.pipeline_extract_job_7E175009"]);
    expect(addresses(ev.byKind.update)).toEqual(["databricks_job.pipeline_load_job_C8CF0C71"]);
    expect(addresses(ev.byKind["no-op"])).toEqual([BUCKET]);
    expect(addresses(ev.byKind.read)).toEqual(["data.aws_iam_policy_document.landing_storage_tls_only_policy_9EC1884D"]);
    expect(ev.verdict).toBe("PASSED");
    expect(exitCodeOf(ev)).toBe(0);
  });

  test("a delete of stateful resources fails; the non-stateful delete beside it does not count", () => {
    const ev = evaluate(load("delete-stateful.json"), []);
    expect(ev.byKind.delete).toHaveLength(3);
    expect(addresses(ev.violations)).toEqual([BUCKET, KEY]);
    expect(ev.verdict).toBe("FAILED");
    expect(exitCodeOf(ev)).toBe(1);
  });

  test.each([
    ["replace-delete-before-create.json", CATALOG],
    ["replace-create-before-delete.json", LOCATION],
    ["forced-replacement.json", BUCKET],
  ])("%s fails on %s", (name, address) => {
    const ev = evaluate(load(name), []);
    expect(addresses(ev.byKind.replace)).toEqual([address]);
    expect(addresses(ev.violations)).toEqual([address]);
    expect(exitCodeOf(ev)).toBe(1);
  });

  test("a delete of non-stateful resources passes without an allow list", () => {
    const ev = evaluate(load("delete-non-stateful.json"), []);
    expect(ev.byKind.delete).toHaveLength(2);
    expect(ev.violations).toEqual([]);
    expect(ev.verdict).toBe("PASSED");
  });

  test("a move of a stateful resource passes and is listed as a move", () => {
    const ev = evaluate(load("move.json"), []);
    expect(addresses(ev.moves)).toEqual(["databricks_schema.pipeline_catalog_schema_470A1BED"]);
    expect(ev.verdict).toBe("PASSED");
  });

  test("a forget of a stateful resource (it stays, only leaves the state) passes", () => {
    const ev = evaluate(load("forget.json"), []);
    expect(ev.byKind.forget).toHaveLength(1);
    expect(ev.verdict).toBe("PASSED");
  });

  test("every violating address allowed: passes with allowed destruction", () => {
    const ev = evaluate(load("delete-stateful.json"), [BUCKET, KEY]);
    expect(ev.violations).toEqual([]);
    expect(addresses(ev.allowed)).toEqual([BUCKET, KEY]);
    expect(ev.verdict).toBe("PASSED WITH ALLOWED DESTRUCTION");
    expect(exitCodeOf(ev)).toBe(0);
  });

  test("one violating address left out of the allow list: still fails", () => {
    const ev = evaluate(load("delete-stateful.json"), [BUCKET]);
    expect(addresses(ev.violations)).toEqual([KEY]);
    expect(exitCodeOf(ev)).toBe(1);
  });

  test("allow-list entries that match no destructive change are reported, and do not fail", () => {
    const stale = "aws_s3_bucket.old_bucket_00000000";
    const ev = evaluate(load("create-update-noop-read.json"), [stale, BUCKET]);
    expect(ev.unmatchedAllow).toEqual([stale, BUCKET]);
    expect(ev.verdict).toBe("PASSED");
  });

  test("a data source is never a violation, only managed resources are", () => {
    const change: ResourceChange = { address: "data.aws_s3_bucket.existing", mode: "data", type: "aws_s3_bucket", actions: ["delete"] };
    expect(evaluate({ formatVersion: "1.2", changes: [change] }, []).verdict).toBe("PASSED");
    expect(evaluate({ formatVersion: "1.2", changes: [{ ...change, mode: "managed" }] }, []).verdict).toBe("FAILED");
  });

  test("an unknown future action list that includes delete is still a violation", () => {
    const change: ResourceChange = { address: BUCKET, mode: "managed", type: "aws_s3_bucket", actions: ["delete", "forget"] };
    const ev = evaluate({ formatVersion: "1.3", changes: [change] }, []);
    expect(addresses(ev.byKind.other)).toEqual([BUCKET]);
    expect(ev.verdict).toBe("FAILED");
  });
});

describe("render", () => {
  test("the report lists replaces with their order, reason and forcing paths, deletes, moves and counts", () => {
    const plan = load("forced-replacement.json");
    const report = renderReport(plan, evaluate(plan, []), "members-prod", "plan.json");
    expect(report).toContain(`-/+ ${BUCKET}: replace: delete, then create; reason: replace_because_cannot_update; forced by: bucket`);
    expect(report).toContain("~ aws_s3_bucket_lifecycle_configuration.landing_storage_lifecycle_7FD3774B");
    expect(report).toContain(`DESTRUCTIVE: ${BUCKET} (replace: delete, then create); aws_s3_bucket:`);
    expect(report).toMatch(/Verdict: FAILED\n/);

    const cbd = load("replace-create-before-delete.json");
    expect(renderReport(cbd, evaluate(cbd, []), "s", "p")).toContain(`+/- ${LOCATION}: replace: create, then delete`);
    const move = load("move.json");
    expect(renderReport(move, evaluate(move, []), "s", "p")).toContain(
      "databricks_schema.pipeline_catalog_members_schema_1A2B3C4D -> databricks_schema.pipeline_catalog_schema_470A1BED",
    );
    const mixed = load("create-update-noop-read.json");
    expect(renderReport(mixed, evaluate(mixed, []), "s", "p")).toContain("Reads: 1, no-ops: 1");
  });

  test("the summary has the stack, the counts, the verdict and the addresses", () => {
    const summary = renderSummary(evaluate(load("delete-stateful.json"), [BUCKET]), "members-prod");
    expect(summary.startsWith("### Plan guard: members-prod: FAILED\n")).toBe(true);
    expect(summary).toContain("| 0 | 0 | 0 | 3 | 0 |");
    expect(summary).toContain(`**Destructive changes to stateful resources (not allowed):**\n- \`${KEY}\` (delete)`);
    expect(summary).toContain(`**Allowed by the allow list:**\n- \`${BUCKET}\` (delete)`);
  });
});

describe("CLI (tools/plan-guard/main.ts)", () => {
  jest.setTimeout(60_000);
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "plan-guard-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function cli(args: string[], allowEnv?: string) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.PLAN_GUARD_ALLOW;
    if (allowEnv !== undefined) env.PLAN_GUARD_ALLOW = allowEnv;
    const r = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", "tools/plan-guard/main.ts", ...args], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  test("exit 0 when nothing stateful is destroyed; the summary comes first", () => {
    const r = cli([fixture("delete-non-stateful.json"), "--stack", "members-prod"]);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith("### Plan guard: members-prod: PASSED\n")).toBe(true);
    expect(r.stdout).toContain("- databricks_job.pipeline_extract_job_7E175009: reason: delete_because_no_resource_config");
    expect(r.stdout).toMatch(/Verdict: PASSED\n$/);
  });

  test("exit 1 on a destructive change to a stateful resource", () => {
    const r = cli([fixture("replace-delete-before-create.json")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`DESTRUCTIVE: ${CATALOG} (replace: delete, then create)`);
    expect(r.stdout).not.toContain("ALLOWED by the allow list");
  });

  test("--allow for every violating address turns exit 1 into 0 and prints the ALLOWED lines", () => {
    const r = cli([fixture("delete-stateful.json"), "--stack", "s", "--allow", `s:${BUCKET}`, "--allow", `s:${KEY}`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`ALLOWED by the allow list: ${BUCKET} (delete)`);
    expect(r.stdout).toContain(`ALLOWED by the allow list: ${KEY} (delete)`);
    expect(r.stdout).toMatch(/Verdict: PASSED WITH ALLOWED DESTRUCTION\n$/);
  });

  test("PLAN_GUARD_ALLOW and --allow are merged", () => {
    expect(cli([fixture("delete-stateful.json"), "--stack", "s", "--allow", `s:${BUCKET}`]).status).toBe(1);
    const r = cli([fixture("delete-stateful.json"), "--stack", "s", "--allow", `s:${BUCKET}`], `s:${KEY}\n`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`ALLOWED by the allow list: ${KEY} (delete)`);
  });

  test("PLAN_GUARD_ALLOW alone, comma separated, allows a forced replacement; a stale entry is reported, not fatal", () => {
    const stale = "aws_kms_alias.landing_storage_key_alias_766F14C0";
    const r = cli([fixture("forced-replacement.json"), "--stack", "s"], `s:${BUCKET},s:${stale}`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`ALLOWED by the allow list: ${BUCKET} (replace: delete, then create)`);
    expect(r.stdout).toContain(`Allow-list entry matches no destructive change of a stateful resource: ${stale}`);
  });

  test("--summary writes the Markdown summary", () => {
    const file = join(dir, "summary.md");
    const r = cli([fixture("replace-create-before-delete.json"), "--stack", "members-staging", "--summary", file]);
    expect(r.status).toBe(1);
    const summary = readFileSync(file, "utf8");
    expect(summary).toBe(
      [
        "### Plan guard: members-staging: FAILED",
        "",
        "| Creates | Updates | Replaces | Deletes | Moves |",
        "|---:|---:|---:|---:|---:|",
        "| 0 | 0 | 1 | 0 | 0 |",
        "",
        "**Destructive changes to stateful resources (not allowed):**",
        `- \`${LOCATION}\` (replace: create, then delete)`,
        "",
        "To accept the loss, list them as `members-staging:<address>` in `PLAN_GUARD_ALLOW` (or `--allow`) and re-run.",
        "",
      ].join("\n"),
    );
    expect(r.stdout.startsWith(summary)).toBe(true);
  });

  test("--summary after allowing everything says PASSED WITH ALLOWED DESTRUCTION and lists the addresses", () => {
    const file = join(dir, "allowed.md");
    const r = cli([fixture("delete-stateful.json"), "--stack", "members-prod", "--summary", file], `members-prod:${BUCKET} members-prod:${KEY}`);
    expect(r.status).toBe(0);
    const summary = readFileSync(file, "utf8");
    expect(summary).toContain("### Plan guard: members-prod: PASSED WITH ALLOWED DESTRUCTION");
    expect(summary).toContain(`**Allowed by the allow list:**\n- \`${BUCKET}\` (delete)\n- \`${KEY}\` (delete)`);
  });

  test("an entry for another stack does not apply there: still exit 1, and the entry is listed as not applied", () => {
    const r = cli([fixture("delete-stateful.json"), "--stack", "members-prod"], `members-staging:${BUCKET} members-staging:${KEY}`);
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain("ALLOWED by the allow list");
    expect(r.stdout).toContain(`Allow-list entry for another stack, not applied to members-prod: members-staging:${BUCKET}`);
    expect(r.stdout).toContain(`PLAN_GUARD_ALLOW="members-prod:${BUCKET} members-prod:${KEY}"`);
  });

  test("an unqualified entry, or an allow list without --stack, is exit 2 naming the fix", () => {
    const unqualified = cli([fixture("delete-stateful.json"), "--stack", "members-prod", "--allow", BUCKET]);
    expect(unqualified.status).toBe(2);
    expect(unqualified.stderr).toContain(`allow-list entries must name their stack, e.g. members-prod:${BUCKET}`);
    const noStack = cli([fixture("delete-stateful.json")], `members-prod:${BUCKET}`);
    expect(noStack.status).toBe(2);
    expect(noStack.stderr).toContain("an allow list needs --stack");
  });

  test.each([
    ["malformed-not-json.json", "not JSON"],
    ["malformed-state-not-plan.json", "not a Terraform plan (no resource_changes array)"],
    ["malformed-format-2.json", 'unsupported plan format_version "2.0"'],
    ["malformed-no-actions.json", `resource_changes[0] (${BUCKET}) has no change.actions`],
  ])("exit 2 on %s, naming the file and the problem", (name, message) => {
    const r = cli([fixture(name)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${fixture(name)}: ${message}`);
    expect(r.stdout).toBe("");
  });

  test("exit 2 on a missing file or bad usage", () => {
    expect(cli([join(dir, "missing.json")]).stderr).toMatch(/cannot read .*missing\.json/);
    expect(cli([join(dir, "missing.json")]).status).toBe(2);
    const r = cli(["--stack", "x"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage:");
  });
});
