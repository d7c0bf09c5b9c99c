/**
 * tf-validate: credential-free Terraform checks of synthesized stacks. For each stack, on a copy under the work
 * directory: `terraform init -backend=false`, `terraform validate`, and `terraform test` with a generated file that
 * mocks every provider and plans once (tftest.ts). A stack whose providers cannot be installed with the chosen CLI
 * configuration (cli-config.ts) is skipped, naming them; any other failure fails the run.
 *
 * The fixture (fixture/main.ts, AWS only) proves the plumbing: it must pass, and a copy with an unknown argument on
 * its aws_s3_bucket must fail validation.
 *
 * Usage: run.ts [--stacks <dir>] [--fixture <stack dir>] [--work <dir>] [--plugin-mirror <dir>] [--strict] [--jobs N]
 *   --strict  missing terraform, or a skip, is a failure (make test: the fixture must really run).
 *   --jobs N  checks run concurrently (default: the number of CPUs).
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, join, resolve } from "node:path";
import { chooseCliConfig, terraformVersion } from "./cli-config";
import { generateTftest, type StackJson } from "./tftest";

const MIN_TERRAFORM = [1, 9, 0]; // mock_provider needs 1.7, `init -json` 1.9
const BROKEN_ATTRIBUTE = "tf_validate_broken_attribute";
const TFTEST_FILE = "tf-validate.tftest.hcl";

type Status = "passed" | "skipped" | "failed";
interface Result {
  readonly status: Status;
  /** The step that failed, for a failure. */
  readonly step?: "init" | "validate" | "test";
  readonly detail: string;
  /** Wall time of init + validate + test. */
  readonly seconds?: number;
}

const log = (line: string) => process.stdout.write(`tf-validate: ${line}\n`);
const indent = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");

function parseArgs(argv: string[]) {
  const options = { work: ".local/tf-validate", strict: false, jobs: cpus().length } as {
    jobs: number;
    stacks?: string;
    fixture?: string;
    work: string;
    pluginMirror?: string;
    strict: boolean;
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case "--stacks":
        options.stacks = value();
        break;
      case "--fixture":
        options.fixture = value();
        break;
      case "--work":
        options.work = value();
        break;
      case "--plugin-mirror":
        options.pluginMirror = value() || undefined;
        break;
      case "--jobs":
        options.jobs = Math.max(1, Number(value()) || 1);
        break;
      case "--strict":
        options.strict = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!options.stacks && !options.fixture) throw new Error("give --stacks and/or --fixture");
  return options;
}

let terraformEnv: NodeJS.ProcessEnv = process.env;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly all: string;
}

/** Runs terraform in `cwd`; resolves with its exit code and output (stacks run concurrently, so async). */
function terraform(cwd: string, args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn("terraform", args, { cwd, env: terraformEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? 1, stdout, all: `${stdout}${stderr}` }));
  });
}

/** `hashicorp/aws` for `aws`, `registry.terraform.io/hashicorp/aws` or `hashicorp/aws`. */
function providerAddress(source: string): string {
  const parts = source.replace(/^registry\.terraform\.io\//i, "").split("/");
  return (parts.length === 1 ? ["hashicorp", ...parts] : parts).join("/").toLowerCase();
}

interface Diagnostic {
  severity: string;
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number } };
  snippet?: { context?: string | null };
}

const formatDiagnostic = (d: Diagnostic) => {
  const where = [d.range ? `${d.range.filename}:${d.range.start.line}` : "", d.snippet?.context ?? ""].filter(Boolean).join(", ");
  const detail = (d.detail ?? "").replace(/\s+/g, " ").trim();
  return `${d.severity === "error" ? "Error" : "Warning"}: ${d.summary}${where ? ` (${where})` : ""}${detail ? `: ${detail}` : ""}`;
};

/** Diagnostics that mean "this provider cannot be obtained", not "this configuration is wrong". */
const INSTALL_FAILURE = /^(Failed to query available provider packages|Failed to install provider|Incompatible provider version)/;
const PROVIDER_IN_DETAIL = /(?:for provider|installing|^Provider) ((?:[\w.-]+\/){1,2}[\w.-]+)/m;

/**
 * `terraform init -backend=false -json`: undefined on success; else the providers it could not install (a skip), or
 * the diagnostics of any other problem (a failure).
 */
/** One `terraform init` at a time: a shared plugin cache (TF_PLUGIN_CACHE_DIR) is not safe for concurrent installs. */
let initQueue: Promise<unknown> = Promise.resolve();

async function init(dir: string, stack: StackJson): Promise<Result | undefined> {
  const queued = initQueue.then(() => terraform(dir, ["init", "-backend=false", "-input=false", "-no-color", "-json"]));
  initQueue = queued.catch(() => undefined);
  const run = await queued;
  if (run.code === 0) return undefined;
  const diagnostics: Diagnostic[] = [];
  for (const line of run.stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const message = JSON.parse(line) as { type?: string; diagnostic?: Diagnostic };
    if (message.type === "diagnostic" && message.diagnostic?.severity === "error") diagnostics.push(message.diagnostic);
  }
  const versions = new Map(
    Object.entries(stack.terraform?.required_providers ?? {}).map(([name, p]) => [providerAddress(p.source ?? name), p.version ?? "(any version)"]),
  );
  const missing = new Set<string>();
  const other: Diagnostic[] = [];
  for (const d of diagnostics) {
    const provider = INSTALL_FAILURE.test(d.summary) ? PROVIDER_IN_DETAIL.exec(d.detail ?? "")?.[1] : undefined;
    if (provider) missing.add(providerAddress(provider));
    else other.push(d);
  }
  if (missing.size > 0 && other.length === 0) {
    const list = [...missing].sort().map((p) => `${p} ${versions.get(p) ?? ""}`.trim());
    return {
      status: "skipped",
      detail: `providers not installable with this Terraform CLI configuration: ${list.join(", ")}`,
    };
  }
  const shown = other.length > 0 ? other.map(formatDiagnostic).join("\n") : run.all;
  return { status: "failed", step: "init", detail: `terraform init failed:\n${indent(shown)}` };
}

async function validate(dir: string): Promise<Result | { warnings: string[] }> {
  const run = await terraform(dir, ["validate", "-no-color", "-json"]);
  let report: { valid: boolean; diagnostics: Diagnostic[] };
  try {
    report = JSON.parse(run.stdout);
  } catch {
    return { status: "failed", step: "validate", detail: `terraform validate failed:\n${indent(run.all)}` };
  }
  const warnings = report.diagnostics.filter((d) => d.severity !== "error").map(formatDiagnostic);
  if (run.code === 0 && report.valid) return { warnings };
  const errors = report.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
  return { status: "failed", step: "validate", detail: `terraform validate failed:\n${indent(errors.join("\n"))}` };
}

async function mockedPlan(dir: string): Promise<Result> {
  const run = await terraform(dir, ["test", "-no-color", "-verbose"]);
  if (run.code !== 0) {
    return { status: "failed", step: "test", detail: `terraform test (mocked plan) failed:\n${indent(run.all)}` };
  }
  const count = (re: RegExp) => run.stdout.split("\n").filter((l) => re.test(l)).length;
  const create = count(/^\s+# \S+ will be created$/);
  const readNow = count(/^\s+# data\.\S+ will be read during apply$/);
  return {
    status: "passed",
    detail: `init, validate, mocked plan: ${create} resources to create, ${readNow} data sources deferred to apply`,
  };
}

/** Copies a synthesized stack (with its assets) into the work directory and runs all three steps on the copy. */
async function checkStack(source: string, name: string, work: string, mutate?: (json: any) => void): Promise<Result & { warnings: string[] }> {
  const dir = resolve(work, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(source, dir, { recursive: true });
  const file = join(dir, "cdk.tf.json");
  const json = JSON.parse(readFileSync(file, "utf8"));
  if (mutate) {
    mutate(json);
    writeFileSync(file, JSON.stringify(json, null, 2));
  }
  writeFileSync(join(dir, TFTEST_FILE), generateTftest(json, name));
  const started = Date.now();
  let warnings: string[] = [];
  const result =
    (await init(dir, json)) ??
    (await (async () => {
      const validated = await validate(dir);
      if ("status" in validated) return validated;
      warnings = validated.warnings;
      return mockedPlan(dir);
    })());
  return { ...result, warnings, seconds: (Date.now() - started) / 1000 };
}

const took = (result: Result) => (result.seconds === undefined ? "" : ` (${result.seconds.toFixed(1)}s)`);

function atLeast(version: string, minimum: number[]): boolean {
  const parts = version.split(/[.-]/).map(Number);
  for (let i = 0; i < minimum.length; i++) {
    if ((parts[i] ?? 0) !== minimum[i]) return (parts[i] ?? 0) > minimum[i];
  }
  return true;
}

/** Runs the jobs at most `limit` at a time; results in job order. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const version = terraformVersion(terraformEnv);
  if (version === undefined) {
    if (options.strict) {
      log("FAILED: terraform not found on PATH; the fixture check needs Terraform >= 1.9");
      return 1;
    }
    log("SKIPPED: terraform not found on PATH (install Terraform >= 1.9 to validate the stacks)");
    return 0;
  }
  if (!atLeast(version, MIN_TERRAFORM)) {
    log(`FAILED: Terraform ${version} is too old: mock_provider and \`init -json\` need >= ${MIN_TERRAFORM.join(".")}`);
    return 1;
  }
  const cli = chooseCliConfig(process.env, options.pluginMirror, options.work);
  terraformEnv = { ...cli.env, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
  log(`Terraform ${version}; CLI config: ${cli.description}`);

  // Every check is independent (own copy, own .terraform): run them concurrently, report in a fixed order.
  type Check = { name: string; kind: "fixture" | "broken" | "stack"; run: () => ReturnType<typeof checkStack> };
  const checks: Check[] = [];
  const fixtureName = options.fixture ? basename(resolve(options.fixture)) : "";
  if (options.fixture) {
    const fixture = options.fixture;
    checks.push({ name: fixtureName, kind: "fixture", run: () => checkStack(fixture, fixtureName, options.work) });
    // The check must be able to fail: an unknown argument on the bucket has to be rejected by `terraform validate`.
    const brokenName = `${fixtureName}-broken`;
    const breakBucket = (json: any) => {
      const buckets = json.resource?.aws_s3_bucket ?? {};
      const first = Object.keys(buckets)[0];
      if (!first) throw new Error("the fixture has no aws_s3_bucket to break");
      buckets[first][BROKEN_ATTRIBUTE] = "x";
    };
    checks.push({
      name: brokenName,
      kind: "broken",
      run: () => checkStack(fixture, brokenName, options.work, breakBucket),
    });
  }
  const stacksDir = options.stacks;
  const stacks =
    stacksDir && existsSync(stacksDir)
      ? readdirSync(stacksDir)
          .filter((name) => existsSync(join(stacksDir, name, "cdk.tf.json")))
          .sort()
      : [];
  for (const name of stacks) {
    checks.push({ name, kind: "stack", run: () => checkStack(join(stacksDir ?? "", name), name, options.work) });
  }
  const results = await pool(
    checks.map((check) => check.run),
    options.jobs,
  );

  const tally: Record<Status, number> = { passed: 0, skipped: 0, failed: 0 };
  const record = (name: string, result: Result) => {
    log(`${name} ${result.status.toUpperCase()}${took(result)}: ${result.detail}`);
    tally[result.status]++;
  };
  const fixtureResult = results[checks.findIndex((c) => c.kind === "fixture")];
  checks.forEach((check, i) => {
    const result = results[i];
    for (const warning of result.warnings) log(`${check.name}: ${warning}`);
    if (check.kind === "fixture" && result.status === "skipped" && options.strict) {
      record(check.name, { ...result, status: "failed", detail: `${result.detail} (the fixture must run here)` });
    } else if (check.kind !== "broken") {
      record(check.name, result);
    } else if (fixtureResult.status !== "passed") {
      // Nothing to prove when the fixture itself did not run or pass.
    } else if (result.status === "failed" && result.step === "validate" && result.detail.includes(BROKEN_ATTRIBUTE)) {
      log(`${check.name} FAILED AS EXPECTED${took(result)} (unknown argument on aws_s3_bucket): ${result.detail}`);
    } else {
      record(check.name, {
        status: "failed",
        detail: `expected \`terraform validate\` to reject ${BROKEN_ATTRIBUTE}, got ${result.status}: ${result.detail}`,
      });
    }
  });
  if (stacksDir && stacks.length === 0) {
    record(stacksDir, { status: "failed", detail: "no synthesized stacks (cdk.tf.json) found; run make synth" });
  }

  const outcome = tally.failed > 0 ? "FAILED" : "OK";
  log(`${outcome}: ${tally.passed} passed, ${tally.skipped} skipped (providers not installable), ${tally.failed} failed`);
  return tally.failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
