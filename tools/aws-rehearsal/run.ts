/**
 * AWS rehearsal: the real hashicorp/aws provider applies the AWS half of a synthesized stack against moto, then
 *   1. apply                 terraform apply of the extracted stack (extract.ts) with the moto wiring (override.ts);
 *   2. no perpetual diff     terraform plan -detailed-exitcode right after: exit 0, else the changed attributes;
 *   3. destroy refused       terraform plan -destroy fails with prevent_destroy's "Instance cannot be destroyed";
 *   4. rename refused        a copy with the bucket renamed (and -replace of the other protected resources) fails
 *                            the same way (variants.ts says which addresses each plan must name);
 *   5. plan guard refuses    a copy without the protected resources plans their deletion; tools/plan-guard exits 1
 *                            naming each;
 *   6. state lock honoured   with a lock object planted at <key>.tflock, terraform plan -lock-timeout=0s fails with
 *                            "Error acquiring the state lock".
 * One init, one apply; then 2-6 run concurrently, each on its own copy of the initialized working directory.
 *
 * Usage: run.ts [--stack <dir>] [--work <dir>] [--python <moto venv python>] [--plugin-mirror <dir>] [--strict]
 *               [--self-test] [--keep]
 *   --stack      the synthesized stack's directory; by default cdktf.out/stacks/<the configuration's production AWS
 *                stack> (rehearsed-stack.ts); without any AWS environment there is nothing to rehearse.
 *   --keep       keep the working directories and logs (<work>/run-<pid>) after a passing run (a failing one keeps them).
 *   --strict     a skip (terraform missing, aws provider not installable) is a failure (make test, CI).
 *   --self-test  instead: rehearse mutated copies that must fail (a perpetual diff; each prevent_destroy dropped).
 */
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { config } from "../../stacks/config/environments";
import { chooseCliConfig, terraformVersion } from "../tf-validate/cli-config";
import { extractAws, type StackJson, variableValues } from "./extract";
import { createBucket, killAllSync, type Moto, s3, startMoto } from "./moto";
import { endpointsFor, motoOverride, versionCandidates } from "./override";
import type { JsonObject } from "./references";
import { rehearsedStackName } from "./rehearsed-stack";
import { type Check, changedAttributes, formatReport, lockKey, plantedLock } from "./report";
import {
  errorCount,
  expectedRefusals,
  type Protected,
  protectedResources,
  refusedAddresses,
  renameBucket,
  withoutPreventDestroy,
  withoutResources,
  withPerpetualDiff,
} from "./variants";

const say = (line: string) => process.stdout.write(`aws-rehearsal: ${line}\n`);
const seconds = (since: number) => (Date.now() - since) / 1000;
const indent = (text: string, by = "  ") =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => by + l)
    .join("\n");
const tail = (text: string, lines = 40) => text.trimEnd().split("\n").slice(-lines).join("\n");

interface Options {
  stack?: string;
  work: string;
  python: string;
  pluginMirror?: string;
  strict: boolean;
  selfTest: boolean;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      work: { type: "string", default: ".local/aws-rehearsal" },
      python: { type: "string", default: ".local/aws-rehearsal/venv/bin/python" },
      "plugin-mirror": { type: "string" },
      strict: { type: "boolean", default: false },
      "self-test": { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
    },
  });
  return {
    stack: values.stack,
    work: values.work,
    python: values.python,
    pluginMirror: values["plugin-mirror"] || undefined,
    strict: values.strict,
    selfTest: values["self-test"],
    keep: values.keep,
  };
}

/** Environment of every terraform call: the CLI config choice, nothing from the caller that could reach real AWS or
 * change what the commands do (AWS_* credentials/endpoints/profiles, TF_CLI_ARGS*, TF_WORKSPACE, TF_DATA_DIR, ...). */
function terraformEnvironment(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (/^AWS_/.test(k) && k !== "AWS_CA_BUNDLE") continue;
    if (/^TF_(CLI_ARGS|WORKSPACE|DATA_DIR|REATTACH_PROVIDERS|LOG|VAR_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, AWS_EC2_METADATA_DISABLED: "true", TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
}

interface Run {
  readonly code: number;
  readonly output: string;
}

/** Runs a command in `cwd` and keeps its combined output, also written to `<cwd>/<log>.log`. */
function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.stderr.on("data", (c: Buffer) => chunks.push(c));
    child.on("error", fail);
    child.on("close", (code) => {
      const output = Buffer.concat(chunks).toString("utf8");
      writeFileSync(join(cwd, `${log}.log`), `$ ${cmd} ${args.join(" ")}\n${output}`);
      done({ code: code ?? 1, output });
    });
  });
}

interface Context {
  readonly options: Options;
  readonly stackName: string;
  readonly env: NodeJS.ProcessEnv;
  readonly terraformVersion: string;
  readonly versions: string[];
  readonly pin?: string;
  readonly bindings?: string;
}

interface Outcome {
  readonly checks: Check[];
  /** Set when the rehearsal could not run at all (provider not installable). */
  readonly skipped?: string;
}

/** The first error of Terraform's output on one line: summary and its first paragraph. */
function firstError(output: string): string {
  const match = /^Error: (.*)\n\n((?:.+\n?)+)/m.exec(output);
  return match ? `${match[1]}: ${match[2].replace(/\s+/g, " ").trim()}` : tail(output, 3).replace(/\s+/g, " ");
}

const INSTALL_FAILURE =
  /Failed to query available provider packages|Failed to install provider|Incompatible provider version|no available releases match/;

/** Copies an initialized working directory (providers are symlinks into the mirror or plugin cache) with a config. */
function copyWorkdir(from: string, to: string, config: StackJson): void {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  cpSync(join(from, ".terraform"), join(to, ".terraform"), { recursive: true });
  for (const file of readdirSync(from)) {
    if (file === ".terraform.lock.hcl" || file.endsWith("_override.tf.json") || file.endsWith(".auto.tfvars.json")) {
      copyFileSync(join(from, file), join(to, file));
    }
  }
  writeFileSync(join(to, "main.tf.json"), `${JSON.stringify(config, null, 2)}\n`);
}

/** One full rehearsal of `config` in `dir` against a fresh moto; the checks in report order, and the wall time. */
async function rehearse(ctx: Context, config: StackJson, dir: string): Promise<Outcome & { seconds: number }> {
  const started = Date.now();
  const outcome = await rehearseSteps(ctx, config, dir);
  return { ...outcome, checks: inStepOrder(outcome.checks), seconds: seconds(started) };
}

async function rehearseSteps(ctx: Context, config: StackJson, dir: string): Promise<Outcome> {
  const { env } = ctx;
  const checks: Check[] = [];
  const timed = async (name: string, body: () => Promise<{ ok: boolean; detail: string }>) => {
    const started = Date.now();
    let result: { ok: boolean; detail: string };
    try {
      result = await body();
    } catch (e) {
      result = { ok: false, detail: (e as Error).message };
    }
    const check: Check = { name, status: result.ok ? "passed" : "failed", seconds: seconds(started), detail: result.detail };
    checks.push(check);
    return check;
  };
  const tf: Tf = (cwd, log, command, ...args) =>
    exec("terraform", [command, "-no-color", ...(command === "show" ? [] : ["-input=false"]), ...args], cwd, env, log);

  rmSync(dir, { recursive: true, force: true });
  const main = join(dir, "main");
  mkdirSync(main, { recursive: true });
  writeFileSync(join(main, "main.tf.json"), `${JSON.stringify(config, null, 2)}\n`);
  const vars = variableValues(config);
  if (Object.keys(vars).length > 0) writeFileSync(join(main, "rehearsal.auto.tfvars.json"), JSON.stringify(vars, null, 2));

  const backend = config.terraform?.backend?.s3 as JsonObject | undefined;
  if (!backend)
    return {
      checks: [{ name: "backend", status: "failed", seconds: 0, detail: 'the stack has no backend "s3": nothing to rehearse state and locking on' }],
    };
  const [bucket, key, region] = [String(backend.bucket), String(backend.key), String(backend.region ?? "us-east-1")];
  const types = [...Object.keys(config.resource ?? {}), ...Object.keys(config.data ?? {})];

  let moto: Moto | undefined;
  try {
    const motoStart = await timed("start moto", async () => {
      moto = await startMoto(ctx.options.python, join(dir, "moto.log"));
      await createBucket(moto.endpoint, region, bucket);
      return { ok: true, detail: `${moto.endpoint} (pid ${moto.pid}); state bucket ${bucket} (${region})` };
    });
    if (motoStart.status === "failed" || !moto) return { checks };
    const endpoint = moto.endpoint;
    const overrideFor = (version: string) =>
      motoOverride({
        endpoint,
        services: endpointsFor(types),
        requiredProvider: config.terraform?.required_providers?.aws ?? { source: "hashicorp/aws" },
        version,
        providerBlocks: config.provider?.aws ?? [],
        backend,
      });

    // init: the stack's pin if installable, else the next candidate version.
    let installed: string | undefined;
    const tried: string[] = [];
    const init = await timed("init", async () => {
      for (const version of ctx.versions) {
        writeFileSync(join(main, "moto_override.tf.json"), `${JSON.stringify(overrideFor(version), null, 2)}\n`);
        const run = await tf(main, "init", "init");
        if (run.code === 0) {
          installed = version;
          return { ok: true, detail: `hashicorp/aws ${version}` };
        }
        if (!INSTALL_FAILURE.test(run.output)) return { ok: false, detail: `terraform init failed:\n${indent(tail(run.output))}` };
        tried.push(`${version}: ${firstError(run.output)}`);
      }
      return { ok: false, detail: "not installable" };
    });
    if (!installed) {
      if (init.status === "failed" && init.detail !== "not installable") return { checks };
      checks.pop();
      const list = tried.length > 0 ? tried.join("; ") : "no candidate version";
      return { checks, skipped: `hashicorp/aws could not be installed with this Terraform CLI configuration (${list})` };
    }
    if (installed !== ctx.pin) {
      say(
        `note: the stack pins hashicorp/aws ${ctx.pin ?? "(no version)"}${ctx.bindings ? ` (@cdktf/provider-aws ${ctx.bindings} bindings)` : ""}; ` +
          `the rehearsal runs ${installed}, the version this Terraform CLI configuration can install (moto_override.tf.json overrides the constraint)`,
      );
    }

    // One init, one apply; then every check at once, each on its own copy of the working directory. All but the
    // lock check plan with -lock=false (they only read the state); the lock check owns the lock.
    const apply = await timed("apply", async () => {
      const run = await tf(main, "apply", "apply", "-auto-approve");
      const summary = /Apply complete! Resources: .*/.exec(run.output)?.[0];
      return run.code === 0
        ? { ok: true, detail: summary ?? "applied" }
        : { ok: false, detail: `terraform apply failed:\n${indent(tail(run.output))}` };
    });
    if (apply.status === "failed") return { checks };
    const protectedList = protectedResources(config);
    const expected = expectedRefusals(config, protectedList);
    await Promise.all([
      timed("no perpetual diff", () => noPerpetualDiff(main, tf)),
      timed("destroy refused", () => destroyRefused(join(dir, "destroy"), main, config, expected.destroy, tf)),
      timed("rename refused", () => renameRefused(join(dir, "rename"), main, config, protectedList, expected.replace, tf)),
      timed("plan guard refuses", () => guardRefuses(join(dir, "guard"), main, config, protectedList, ctx, tf)),
      timed("state lock honoured", () => lockHonoured(join(dir, "lock"), main, config, { endpoint, bucket, key, region }, ctx, tf)),
    ]);
    if (expected.unproven.length > 0) {
      say(`note: not individually proven (protected, between other protected resources): ${expected.unproven.join(", ")}`);
    }
  } finally {
    await moto?.stop();
  }
  return { checks };
}

/** The report lists the steps in this order (they finish in any order). */
const STEP_ORDER = [
  "start moto",
  "init",
  "apply",
  "no perpetual diff",
  "destroy refused",
  "rename refused",
  "plan guard refuses",
  "state lock honoured",
];
const inStepOrder = (checks: readonly Check[]) => [...checks].sort((a, b) => STEP_ORDER.indexOf(a.name) - STEP_ORDER.indexOf(b.name));

type Tf = (cwd: string, log: string, command: string, ...args: string[]) => Promise<Run>;
type Verdict = { ok: boolean; detail: string };

async function noPerpetualDiff(main: string, tf: Tf): Promise<Verdict> {
  const run = await tf(main, "plan-no-diff", "plan", "-detailed-exitcode", "-lock=false", "-out=no-diff.tfplan");
  if (run.code === 0) return { ok: true, detail: "plan after apply: no changes" };
  if (run.code !== 2) return { ok: false, detail: `terraform plan failed:\n${indent(tail(run.output))}` };
  const show = await tf(main, "show-no-diff", "show", "-json", "no-diff.tfplan");
  const changes = show.code === 0 ? changedAttributes(show.output) : [tail(run.output)];
  return { ok: false, detail: `plan after apply wants changes (a perpetual diff):\n${indent(changes.join("\n"))}` };
}

/** A failed plan that refused exactly with prevent_destroy, naming at least `mustName`. */
function judgeRefusal(run: Run, mustName: readonly string[], what: string): Verdict {
  if (run.code === 0) return { ok: false, detail: `${what} succeeded: prevent_destroy refused nothing` };
  const refused = refusedAddresses(run.output);
  const missing = [...new Set(mustName)].filter((a) => !refused.includes(a));
  if (refused.length === 0 || errorCount(run.output) !== refused.length) {
    return { ok: false, detail: `${what} failed, but not (only) with "Instance cannot be destroyed":\n${indent(tail(run.output))}` };
  }
  if (missing.length > 0) {
    return { ok: false, detail: `${what} was refused, but not for ${missing.join(", ")} (prevent_destroy missing?); refused: ${refused.join(", ")}` };
  }
  return { ok: true, detail: `"Instance cannot be destroyed" for ${refused.join(", ")}` };
}

async function destroyRefused(dir: string, main: string, config: StackJson, mustName: string[], tf: Tf): Promise<Verdict> {
  copyWorkdir(main, dir, config);
  const run = await tf(dir, "plan-destroy", "plan", "-destroy", "-refresh=false", "-lock=false");
  return judgeRefusal(run, mustName, "plan -destroy");
}

async function renameRefused(dir: string, main: string, config: StackJson, protectedList: Protected[], mustName: string[], tf: Tf): Promise<Verdict> {
  const renamed = renameBucket(config);
  copyWorkdir(main, dir, renamed.config);
  const others = protectedList.map((p) => p.address).filter((a) => a !== renamed.address);
  const run = await tf(dir, "plan-rename", "plan", "-refresh=false", "-lock=false", ...others.map((a) => `-replace=${a}`));
  const verdict = judgeRefusal(
    run,
    [renamed.address, ...mustName],
    `plan with ${renamed.address} renamed to ${renamed.to} (and -replace of ${others.length} other)`,
  );
  return verdict.ok ? { ok: true, detail: `bucket ${renamed.from} -> ${renamed.to}: ${verdict.detail}` } : verdict;
}

async function guardRefuses(dir: string, main: string, config: StackJson, protectedList: Protected[], ctx: Context, tf: Tf): Promise<Verdict> {
  const removed = protectedList.map((p) => p.address);
  if (removed.length === 0) return { ok: false, detail: "the stack has no protected resource to remove" };
  const variant = withoutResources(config, removed);
  copyWorkdir(main, dir, variant.config);
  const plan = await tf(dir, "plan-guard", "plan", "-refresh=false", "-lock=false", "-out=guard.tfplan");
  if (plan.code !== 0) return { ok: false, detail: `plan without the protected resources failed:\n${indent(tail(plan.output))}` };
  const show = await tf(dir, "show-guard", "show", "-json", "guard.tfplan");
  if (show.code !== 0) return { ok: false, detail: `terraform show -json failed:\n${indent(tail(show.output))}` };
  writeFileSync(join(dir, "guard-plan.json"), show.output);
  const { PLAN_GUARD_ALLOW: _ignored, ...guardEnv } = process.env;
  const guard = await exec(
    process.execPath,
    ["--require", "ts-node/register/transpile-only", resolve("tools/plan-guard/main.ts"), "guard-plan.json", "--stack", ctx.stackName],
    dir,
    { ...guardEnv, TS_NODE_PROJECT: resolve("tsconfig.json") },
    "plan-guard",
  );
  const named = removed.filter((a) => new RegExp(`^\\s*DESTRUCTIVE: ${a.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} `, "m").test(guard.output));
  const missing = removed.filter((a) => !named.includes(a));
  if (guard.code === 1 && missing.length === 0) return { ok: true, detail: `exit 1, DESTRUCTIVE: ${named.join(", ")}` };
  return {
    ok: false,
    detail: `plan guard exit ${guard.code}${missing.length ? `, did not name ${missing.join(", ")}` : ""}:\n${indent(tail(guard.output))}`,
  };
}

async function lockHonoured(
  dir: string,
  main: string,
  config: StackJson,
  state: { endpoint: string; bucket: string; key: string; region: string },
  ctx: Context,
  tf: Tf,
): Promise<Verdict> {
  copyWorkdir(main, dir, config);
  const id = randomUUID();
  const lock = plantedLock(state.bucket, state.key, ctx.terraformVersion, new Date(), id);
  const object = lockKey(state.key);
  const put = await s3(state.endpoint, state.region, "PUT", state.bucket, object, JSON.stringify(lock), {
    "Content-Type": "application/json",
    "If-None-Match": "*",
  });
  if (put.status !== 200)
    return { ok: false, detail: `could not plant s3://${state.bucket}/${object}: HTTP ${put.status} ${put.body.slice(0, 200)}` };
  let run: Run;
  try {
    run = await tf(dir, "plan-locked", "plan", "-refresh=false", "-lock-timeout=0s");
  } finally {
    await s3(state.endpoint, state.region, "DELETE", state.bucket, object);
  }
  const gone = (await s3(state.endpoint, state.region, "HEAD", state.bucket, object)).status === 404;
  if (run.code !== 0 && run.output.includes("Error acquiring the state lock") && run.output.includes(id) && gone) {
    return {
      ok: true,
      detail: `plan refused with "Error acquiring the state lock" naming the planted lock ${id} (s3://${state.bucket}/${object}); lock removed`,
    };
  }
  return {
    ok: false,
    detail: `expected "Error acquiring the state lock" naming lock ${id}, got exit ${run.code}${gone ? "" : " (and the planted lock is still there)"}:\n${indent(tail(run.output))}`,
  };
}

/** A self-test case: a mutated copy of the extracted config; the rehearsal must fail, in `check` if given, naming `mentions`. */
interface SelfTestCase {
  readonly name: string;
  readonly config: StackJson;
  readonly check?: string;
  readonly mentions: string;
}

function selfTestCases(config: StackJson): SelfTestCase[] {
  const diff = withPerpetualDiff(config);
  const cases: SelfTestCase[] = [{ name: "perpetual-diff", config: diff.config, check: "no perpetual diff", mentions: diff.address }];
  for (const p of protectedResources(config).filter((r) => r.preventDestroy)) {
    cases.push({ name: `no-prevent-destroy-${p.type}`, config: withoutPreventDestroy(config, p.address), mentions: p.address });
  }
  return cases;
}

function awsMirrorVersions(mirror: string | undefined): string[] {
  const dir = mirror ? join(mirror, "registry.terraform.io", "hashicorp", "aws") : "";
  return dir && existsSync(dir) ? readdirSync(dir).filter((v) => statSync(join(dir, v)).isDirectory()) : [];
}

/**
 * Each run works in `<work>/run-<pid>` (or `self-test-<pid>`, and its CLI config in `cli-<pid>`), so two rehearsals
 * at once (two `make test` in one checkout) do not share directories. Directories of processes that are gone are removed; a failed run's directory
 * stays, with every command's log, until then.
 */
function pruneStaleRuns(work: string): void {
  for (const entry of readdirSync(work)) {
    const pid = Number(/^(?:run|self-test|cli)-(\d+)$/.exec(entry)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(work, entry), { recursive: true, force: true });
    }
  }
}

function motoVersion(python: string): string {
  const run = spawnSync(python, ["-c", "import importlib.metadata as m; print(m.version('moto'))"], { encoding: "utf8" });
  return run.status === 0 ? run.stdout.trim() : "unknown";
}

async function main(): Promise<number> {
  const started = Date.now();
  const options = parseOptions(process.argv.slice(2));
  const skip = (why: string) => {
    say(`${options.strict ? "FAILED" : "SKIPPED"}: ${why}${options.strict ? " (--strict: the rehearsal must run here)" : ""}`);
    return options.strict ? 1 : 0;
  };
  if (options.stack === undefined) {
    const name = rehearsedStackName(config);
    if (name === undefined) {
      say("nothing to rehearse: no environment of stacks/config/environments.ts is on AWS");
      return 0;
    }
    options.stack = join("cdktf.out", "stacks", name);
  }
  const stackFile = join(options.stack, "cdk.tf.json");
  if (!existsSync(stackFile)) {
    say(`FAILED: ${stackFile} not found; run make synth`);
    return 1;
  }
  if (!existsSync(options.python)) {
    say(`FAILED: no moto venv python at ${options.python}; make aws-rehearsal installs it`);
    return 1;
  }
  mkdirSync(options.work, { recursive: true });
  pruneStaleRuns(options.work);
  const cliDir = resolve(options.work, `cli-${process.pid}`);
  const cli = chooseCliConfig(process.env, options.pluginMirror, cliDir);
  const env = terraformEnvironment(cli.env);
  const generated = cli.env.TF_CLI_CONFIG_FILE === join(cliDir, "terraformrc") && cli.env !== process.env;
  if (!generated && !env.TF_PLUGIN_CACHE_DIR) {
    env.TF_PLUGIN_CACHE_DIR = resolve(options.work, "plugin-cache");
    mkdirSync(env.TF_PLUGIN_CACHE_DIR, { recursive: true });
  }
  const version = terraformVersion(env);
  if (!version) return skip("terraform not found on PATH (the rehearsal needs Terraform >= 1.10 for S3 lock files)");

  const stack = JSON.parse(readFileSync(stackFile, "utf8")) as StackJson;
  const stackName = basename(resolve(options.stack));
  const extracted = extractAws(stack);
  const pin = stack.terraform?.required_providers?.aws?.version;
  const bindingsFile = "node_modules/@cdktf/provider-aws/package.json";
  const bindings = existsSync(bindingsFile) ? (JSON.parse(readFileSync(bindingsFile, "utf8")) as { version: string }).version : undefined;
  // With the generated CLI config, aws comes from the mirror only if the mirror holds it (else from the registry).
  const mirrorVersions = awsMirrorVersions(options.pluginMirror);
  const versions = versionCandidates(pin, mirrorVersions, generated && mirrorVersions.length > 0);
  const ctx: Context = { options, stackName, env, terraformVersion: version, versions, pin, bindings };

  const { resources, data } = extracted.dropped;
  say(`${stackName}: Terraform ${version}, moto ${motoVersion(options.python)}; CLI config: ${cli.description}`);
  say(
    `kept ${Object.values(extracted.config.resource ?? {}).reduce((n, r) => n + Object.keys(r).length, 0)} aws resources and ` +
      `${Object.values(extracted.config.data ?? {}).reduce((n, r) => n + Object.keys(r).length, 0)} data sources; left out ${resources.length} resources, ` +
      `${data.length} data sources, ${extracted.dropped.outputs} outputs, ${extracted.dropped.variables} variables, providers ${extracted.dropped.providers.join(", ") || "none"}`,
  );
  for (const line of extracted.substitutions) say(`literal for a left-out object: ${line}`);

  if (!options.selfTest) {
    const runDir = resolve(options.work, `run-${process.pid}`);
    const outcome = await rehearse(ctx, extracted.config, runDir);
    if (outcome.skipped) return skip(outcome.skipped);
    say(`report (${stackName} on moto):`);
    for (const line of formatReport(outcome.checks, seconds(started))) process.stdout.write(`${line}\n`);
    const failed = outcome.checks.some((c) => c.status === "failed");
    if (failed || options.keep) say(`working directories and logs kept in ${runDir}`);
    else rmSync(runDir, { recursive: true, force: true });
    return failed ? 1 : 0;
  }

  // Self-test: every mutated copy must make the rehearsal fail, in the expected place.
  const cases = selfTestCases(extracted.config);
  say(`self-test: ${cases.length} mutated copies, each must fail the rehearsal: ${cases.map((c) => c.name).join(", ")}`);
  const limit = Math.max(1, Math.min(cases.length, cpus().length));
  const results: Array<Outcome & { seconds: number }> = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < cases.length) {
        const i = next++;
        results[i] = await rehearse(ctx, cases[i].config, resolve(options.work, `self-test-${process.pid}`, cases[i].name));
      }
    }),
  );
  let missed = 0;
  cases.forEach((c, i) => {
    const outcome = results[i];
    const failed = outcome.checks.filter((k) => k.status === "failed");
    const caught = failed.some((k) => (c.check === undefined || k.name === c.check) && k.detail.includes(c.mentions));
    if (!caught) missed++;
    say(
      `self-test ${c.name}: ${caught ? "CAUGHT (the rehearsal failed as it must)" : outcome.skipped ? `SKIPPED: ${outcome.skipped}` : "MISSED (the rehearsal did not fail where expected)"}`,
    );
    for (const line of formatReport(outcome.checks, outcome.seconds)) process.stdout.write(`${line}\n`);
  });
  say(
    `self-test ${missed === 0 ? "OK" : "FAILED"}: ${cases.length - missed}/${cases.length} mutations caught; total ${seconds(started).toFixed(1)}s`,
  );
  if (!options.keep) rmSync(resolve(options.work, `self-test-${process.pid}`), { recursive: true, force: true });
  return missed === 0 ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllSync();
    process.exit(130);
  });
}
process.once("exit", killAllSync);

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    killAllSync();
    say(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
