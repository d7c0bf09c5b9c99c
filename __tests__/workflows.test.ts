/**
 * Workflow policy (issue 25, items 1 and 7): parses .github/workflows/*.yml and .github/dependabot.yml and checks
 * that no pull-request job can hold production credentials, that secrets and OIDC tokens reach only the jobs and steps
 * that need them, that deploys run from main only and apply the plan the guard passed, and that the plan comment
 * cannot be spoofed or broken. Each check returns the problems it finds, so a failure names the workflow, the job and
 * the step.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fenceBlock, PLAN_TEXT_LIMIT, planMarker, renderPlanComment } from "../.github/scripts/plan-comment";
import { validateConfig } from "../stacks/config/validate";
import { ciStacks } from "../tools/list-stacks";
import { testConfig } from "./fixtures/test-config";

// js-yaml comes with jest (ts-jest -> babel-plugin-istanbul -> @istanbuljs/load-nyc-config); its safe schema reads
// workflow files as GitHub does for everything checked here (`on` stays a string key).
const { safeLoad } = require("js-yaml") as { safeLoad(text: string): unknown };

type Obj = Record<string, any>;

const GITHUB = join(__dirname, "..", ".github");
const WORKFLOWS = join(GITHUB, "workflows");
const MAIN = "refs/heads/main";

interface Workflow {
  file: string;
  text: string;
  doc: Obj;
}

function loadWorkflows(): Record<string, Workflow> {
  const result: Record<string, Workflow> = {};
  for (const file of readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f))) {
    const text = readFileSync(join(WORKFLOWS, file), "utf8");
    result[file] = { file, text, doc: safeLoad(text) as Obj };
  }
  return result;
}

const workflows = loadWorkflows();
const all = Object.values(workflows);
const jobsOf = (wf: Workflow): Array<[string, Obj]> => Object.entries(wf.doc.jobs ?? {});
const stepsOf = (job: Obj): Obj[] => job.steps ?? [];
const stepName = (step: Obj, i: number) => step.name ?? step.uses ?? `step ${i + 1}`;
const text = (v: unknown) => (v === undefined ? "" : JSON.stringify(v));
const usesSecrets = (v: unknown) => /\bsecrets\./.test(text(v));
/** The local reusable workflow a job calls (`uses: ./.github/workflows/x.yml`), if any. */
const calledWorkflow = (job: Obj): Workflow | undefined =>
  typeof job.uses === "string" && job.uses.startsWith("./.github/workflows/") ? workflows[job.uses.replace("./.github/workflows/", "")] : undefined;
const isPlanEnvironment = (env: unknown) => typeof env === "string" && /-plan$/.test(env);
const idTokenWrite = (perms: unknown) => typeof perms === "object" && perms !== null && (perms as Obj)["id-token"] === "write";

// --- the checks --------------------------------------------------------------------------------------------------

function topLevelPermissions(wfs: Workflow[]): string[] {
  return wfs
    .filter((wf) => JSON.stringify(wf.doc.permissions) !== JSON.stringify({ contents: "read" }))
    .map((wf) => `${wf.file}: top-level permissions must be exactly {contents: read}, not ${text(wf.doc.permissions)}`);
}

/** id-token: write only on a job with an `environment:`, or on a caller whose called jobs with it all have one. */
function idTokenOnlyWithEnvironment(wfs: Workflow[]): string[] {
  const problems: string[] = [];
  for (const wf of wfs) {
    if (idTokenWrite(wf.doc.permissions)) problems.push(`${wf.file}: id-token: write at the top level`);
    for (const [id, job] of jobsOf(wf)) {
      if (!idTokenWrite(job.permissions)) continue;
      const called = calledWorkflow(job);
      if (called) {
        const grantees = jobsOf(called).filter(([, j]) => idTokenWrite(j.permissions));
        if (grantees.length === 0) problems.push(`${wf.file} ${id}: grants id-token to ${called.file}, where no job needs it`);
      } else if (!job.environment) {
        problems.push(`${wf.file} ${id}: id-token: write without an environment`);
      }
    }
  }
  return problems;
}

const BUILD_STEP = /\bnpm (ci|install)\b|\bmake wheel\b|\bpip install\b|(^|\s)main\.ts\b/m;

/** No secret in workflow or job `env:`; steps that use secrets come after every install/build step, and do not
 * export them to $GITHUB_ENV. */
function secretsAtStepLevel(wfs: Workflow[]): string[] {
  const problems: string[] = [];
  for (const wf of wfs) {
    if (usesSecrets(wf.doc.env)) problems.push(`${wf.file}: secrets in the workflow-level env`);
    for (const [id, job] of jobsOf(wf)) {
      if (usesSecrets(job.env)) problems.push(`${wf.file} ${id}: secrets in the job-level env (every step, npm ci included, gets them)`);
      const steps = stepsOf(job);
      const lastBuild = steps.reduce((last, s, i) => (BUILD_STEP.test(s.run ?? "") || /\/setup-/.test(s.uses ?? "") ? i : last), -1);
      steps.forEach((step, i) => {
        if (!usesSecrets(step)) return;
        if (i < lastBuild)
          problems.push(`${wf.file} ${id}: "${stepName(step, i)}" uses secrets before the build step "${stepName(steps[lastBuild], lastBuild)}"`);
        if (/GITHUB_ENV/.test(step.run ?? "")) problems.push(`${wf.file} ${id}: "${stepName(step, i)}" writes to $GITHUB_ENV with secrets in reach`);
      });
    }
  }
  return problems;
}

/** Every action that is not in this repository is pinned by a full commit SHA, with its tag in a comment. */
function actionsPinned(wfs: Workflow[]): string[] {
  const problems: string[] = [];
  for (const wf of wfs) {
    wf.text.split("\n").forEach((line, n) => {
      const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
      if (!m || m[1].startsWith("./")) return;
      if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(m[1])) problems.push(`${wf.file}:${n + 1}: ${m[1]} is not pinned by a 40-hex commit SHA`);
      else if (!/^\s+#\s*v\d+(\.\d+)*\s*$/.test(m[2])) problems.push(`${wf.file}:${n + 1}: ${m[1]} has no "# vX.Y.Z" tag comment`);
    });
  }
  return problems;
}

const mainOnlyIf = (cond: unknown) => typeof cond === "string" && cond.includes(`github.ref == '${MAIN}'`);
const refusesOtherRefs = (steps: Obj[]) =>
  steps.some((s) => typeof s.if === "string" && s.if.includes(`github.ref != '${MAIN}'`) && /exit 1/.test(s.run ?? "") && s.run.includes(MAIN));

/** A job in a deploy environment (not `<env>-plan`) runs on main only (`if:`) and has a failing step that says so;
 * so has the plan job of a deploy; deploy.yml gates every deploy job and has a job refusing other refs. */
function deploysOnMainOnly(wfs: Workflow[]): string[] {
  const problems: string[] = [];
  for (const wf of wfs) {
    for (const [id, job] of jobsOf(wf)) {
      if (job.environment && !isPlanEnvironment(job.environment)) {
        if (!mainOnlyIf(job.if)) problems.push(`${wf.file} ${id}: deploy job without if: github.ref == '${MAIN}'`);
        if (!refusesOtherRefs(stepsOf(job))) problems.push(`${wf.file} ${id}: deploy job without a failing step refusing other refs`);
      }
      if (isPlanEnvironment(job.environment) && !refusesOtherRefs(stepsOf(job).filter((s) => String(s.if).includes("inputs.command == 'deploy'")))) {
        problems.push(`${wf.file} ${id}: the plan of a deploy does not refuse refs other than ${MAIN}`);
      }
      if (calledWorkflow(job) && job.with?.command === "deploy" && !mainOnlyIf(job.if)) {
        problems.push(`${wf.file} ${id}: calls a deploy without if: github.ref == '${MAIN}'`);
      }
    }
  }
  const deploy = workflows["deploy.yml"];
  if (!deploy || !jobsOf(deploy).some(([, job]) => !job.if && refusesOtherRefs(stepsOf(job)))) {
    problems.push("deploy.yml: no job that fails, saying so, when run from a ref other than main");
  }
  return problems;
}

/** Where a job of the called workflow may run when called with `command`: jobs gated on the other command are out. */
function environmentsReached(called: Workflow, command: string): string[] {
  return jobsOf(called)
    .filter(([, j]) => !(String(j.if ?? "").includes("inputs.command == 'deploy'") && command !== "deploy"))
    .filter(([, j]) => !(String(j.if ?? "").includes("inputs.command == 'plan'") && command !== "plan"))
    .map(([, j]) => j.environment)
    .filter((e): e is string => typeof e === "string");
}

/** The pull-request workflow: no job in a non-plan environment; stack plans only for development stacks. */
function pullRequestHasNoProductionJob(wf: Workflow | undefined): string[] {
  if (!wf) return ["pull-request.yml: missing"];
  const problems: string[] = [];
  for (const [id, job] of jobsOf(wf)) {
    if (job.environment !== undefined && !isPlanEnvironment(job.environment)) problems.push(`pull-request.yml ${id}: environment ${job.environment}`);
    if (!job.environment && !calledWorkflow(job) && usesSecrets(job)) problems.push(`pull-request.yml ${id}: uses secrets outside an environment`);
    if (job.secrets !== undefined) problems.push(`pull-request.yml ${id}: passes secrets (${text(job.secrets)}) to a called workflow`);
    const called = calledWorkflow(job);
    if (!called) continue;
    const command = job.with?.command;
    if (command !== "plan") problems.push(`pull-request.yml ${id}: calls ${called.file} with command ${command}`);
    for (const env of environmentsReached(called, command)) {
      if (env !== "${{ inputs.environment }}-plan") problems.push(`pull-request.yml ${id}: reaches environment ${env} in ${called.file}`);
    }
    const matrix = String(job.strategy?.matrix?.include ?? "");
    const source = /needs\.(\w[\w-]*)\.outputs\.(\w+)/.exec(matrix);
    const lister = source ? wf.doc.jobs[source[1]] : undefined;
    const lists = stepsOf(lister ?? {})
      .map((s) => s.run ?? "")
      .join("\n");
    if (!/tools\/list-stacks\.ts development\b/.test(lists))
      problems.push(`pull-request.yml ${id}: its stacks are not listed by list-stacks.ts development`);
  }
  return problems;
}

/**
 * The drift workflow: scheduled (and by hand) on main only, every deployed stack (list-stacks.ts with no mode)
 * planned with command drift, which reaches the read-only `<env>-plan` environments only and fails on any change.
 */
function driftWorkflow(wf: Workflow | undefined, stack: Workflow | undefined): string[] {
  if (!wf || !stack) return ["drift.yml or stack.yml: missing"];
  const problems: string[] = [];
  const triggers = Object.keys(wf.doc.on ?? {}).sort();
  if (triggers.join(",") !== "schedule,workflow_dispatch") problems.push(`drift.yml: triggers ${triggers}, expected schedule and workflow_dispatch`);
  const calls = jobsOf(wf).filter(([, job]) => calledWorkflow(job));
  if (calls.length === 0) problems.push("drift.yml: no job plans the stacks");
  for (const [id, job] of calls) {
    if (job.with?.command !== "drift") problems.push(`drift.yml ${id}: command ${job.with?.command}, expected drift`);
    if (!mainOnlyIf(job.if)) problems.push(`drift.yml ${id}: without if: github.ref == '${MAIN}'`);
    if (job.secrets !== undefined) problems.push(`drift.yml ${id}: passes secrets to a called workflow`);
    for (const env of environmentsReached(stack, "drift")) {
      if (env !== "${{ inputs.environment }}-plan") problems.push(`drift.yml ${id}: reaches environment ${env}`);
    }
  }
  const lists = jobsOf(wf)
    .flatMap(([, job]) => stepsOf(job).map((step) => String(step.run ?? "")))
    .join("\n");
  if (!/tools\/list-stacks\.ts\)"/.test(lists)) problems.push("drift.yml: the stacks are not every stack list-stacks.ts lists (no mode)");
  const verdict = stepsOf(stack.doc.jobs.plan).find((step) => step.name === "Drift verdict");
  if (!verdict || !/inputs\.command == 'drift'/.test(String(verdict.if)) || !/plan\.json[\s\S]*exit 1/.test(String(verdict.run))) {
    problems.push("stack.yml plan: no Drift verdict step failing the job when the plan changes anything");
  }
  return problems;
}

const TERRAFORM_PLAN = /\bterraform\b[^\n]*\splan\s/g;

/** Every `terraform plan` takes no state lock. */
function plansTakeNoLock(wfs: Workflow[]): string[] {
  const problems: string[] = [];
  for (const wf of wfs) {
    for (const [id, job] of jobsOf(wf)) {
      stepsOf(job).forEach((step, i) => {
        for (const m of String(step.run ?? "").matchAll(TERRAFORM_PLAN)) {
          const line = String(step.run).slice(m.index).split("\n")[0];
          if (!line.includes("-lock=false") || line.includes("-lock-timeout")) {
            problems.push(`${wf.file} ${id}: "${stepName(step, i)}" plans with the state lock: ${line.trim()}`);
          }
        }
      });
    }
  }
  return problems;
}

function timeouts(wfs: Workflow[]): string[] {
  return wfs.flatMap((wf) =>
    jobsOf(wf)
      .filter(([, job]) => !job.uses && typeof job["timeout-minutes"] !== "number")
      .map(([id]) => `${wf.file} ${id}: no timeout-minutes`),
  );
}

/** Jobs running terraform have a concurrency group per command and stack; plan groups and deploy groups differ. */
function concurrencyGroups(wfs: Workflow[]): string[] {
  const problems: string[] = [];
  const groups: Array<{ where: string; kind: "plan" | "apply"; group: string }> = [];
  for (const wf of wfs) {
    for (const [id, job] of jobsOf(wf)) {
      const runs = stepsOf(job)
        .map((s) => String(s.run ?? ""))
        .join("\n");
      const kind = /\bterraform\b[^\n]*\sapply\s/.test(runs) ? "apply" : TERRAFORM_PLAN.test(runs) ? "plan" : undefined;
      TERRAFORM_PLAN.lastIndex = 0;
      if (!kind) continue;
      const group = job.concurrency?.group;
      if (typeof group !== "string" || !group.includes("${{ inputs.stack }}")) {
        problems.push(`${wf.file} ${id}: a ${kind} job without a concurrency group per stack`);
        continue;
      }
      if (kind === "plan" && !group.includes("${{ inputs.command }}")) problems.push(`${wf.file} ${id}: the plan group is not per command`);
      if (kind === "apply" && job.concurrency["cancel-in-progress"] !== false) problems.push(`${wf.file} ${id}: an apply may be cancelled`);
      groups.push({ where: `${wf.file} ${id}`, kind, group });
    }
  }
  const prefix = (g: string) => g.split("${{")[0];
  for (const p of groups.filter((g) => g.kind === "plan")) {
    for (const a of groups.filter((g) => g.kind === "apply")) {
      if (prefix(p.group).startsWith(prefix(a.group)) || prefix(a.group).startsWith(prefix(p.group))) {
        problems.push(`${p.where} (${p.group}) may share a concurrency group with ${a.where} (${a.group})`);
      }
    }
  }
  if (!groups.some((g) => g.kind === "plan") || !groups.some((g) => g.kind === "apply")) problems.push("no plan job or no apply job found");
  return problems;
}

/** The apply job applies the saved plan of the plan job, after it, in the deploy environment; the plan job uploads
 * it only after the guard, which stops a deploy. */
function applyIsTheGuardedPlan(wf: Workflow | undefined): string[] {
  if (!wf) return ["stack.yml: missing"];
  const problems: string[] = [];
  const entries = jobsOf(wf);
  const applies = entries.filter(([, j]) =>
    /\bterraform\b[^\n]*\sapply\s/.test(
      stepsOf(j)
        .map((s) => String(s.run ?? ""))
        .join("\n"),
    ),
  );
  if (applies.length === 0) problems.push("stack.yml: no apply job");
  for (const [id, job] of applies) {
    const runs = stepsOf(job).map((s) => String(s.run ?? ""));
    const planJob = wf.doc.jobs[String(job.needs)];
    if (!planJob || !isPlanEnvironment(planJob.environment)) problems.push(`stack.yml ${id}: does not need the plan job`);
    if (job.environment !== "${{ inputs.environment }}") problems.push(`stack.yml ${id}: not in the deploy environment (${job.environment})`);
    if (!runs.some((r) => /\bapply\b[^\n]*\splan\.tfplan\b/.test(r))) problems.push(`stack.yml ${id}: does not apply the saved plan file`);
    if (runs.some((r) => TERRAFORM_PLAN.test(r))) problems.push(`stack.yml ${id}: plans again instead of applying the saved plan`);
    TERRAFORM_PLAN.lastIndex = 0;
    if (!runs.some((r) => r.includes("sha256sum --check")) || !text(job.steps).includes("needs.plan.outputs.digest")) {
      problems.push(`stack.yml ${id}: does not check the plan artifact against the plan job's digest`);
    }
    if (planJob) {
      const steps = stepsOf(planJob);
      const guard = steps.findIndex((s) => /tools\/plan-guard\/main\.ts/.test(s.run ?? ""));
      const upload = steps.findIndex((s) => /upload-artifact/.test(s.uses ?? "") && String(s.if).includes("inputs.command == 'deploy'"));
      if (guard < 0 || upload < guard) problems.push("stack.yml: the plan is not uploaded after the plan guard");
      // Pull-request plans and drift checks keep going to write their summary; a deploy stops at a failed guard.
      const keepsGoing = steps[guard]?.["continue-on-error"];
      if (guard >= 0 && !["${{ inputs.command == 'plan' }}", "${{ inputs.command != 'deploy' }}"].includes(keepsGoing)) {
        problems.push("stack.yml: a failed plan guard does not stop a deploy");
      }
    }
  }
  return problems;
}

function dependabot(): string[] {
  const file = join(GITHUB, "dependabot.yml");
  if (!existsSync(file)) return [".github/dependabot.yml: missing"];
  const doc = safeLoad(readFileSync(file, "utf8")) as Obj;
  const problems: string[] = [];
  if (doc.version !== 2) problems.push(".github/dependabot.yml: version is not 2");
  const actions = (doc.updates ?? []).find((u: Obj) => u["package-ecosystem"] === "github-actions");
  if (!actions) problems.push(".github/dependabot.yml: github-actions not covered");
  else if (actions.directory !== "/" && !(actions.directories ?? []).includes("/")) problems.push(".github/dependabot.yml: github-actions not for /");
  if (!(doc.updates ?? []).some((u: Obj) => u["package-ecosystem"] === "npm")) problems.push(".github/dependabot.yml: npm not covered");
  return problems;
}

// --- the tests ---------------------------------------------------------------------------------------------------

describe("workflow policy", () => {
  test("the four workflows are read", () => {
    expect(Object.keys(workflows).sort()).toEqual(["deploy.yml", "drift.yml", "pull-request.yml", "stack.yml"]);
  });
  test("drift: every deployed stack planned daily on main with the read-only identity; a change fails the check", () =>
    expect(driftWorkflow(workflows["drift.yml"], workflows["stack.yml"])).toEqual([]));
  test("top-level permissions are contents: read in every workflow", () => expect(topLevelPermissions(all)).toEqual([]));
  test("id-token: write only on jobs that run in an environment", () => expect(idTokenOnlyWithEnvironment(all)).toEqual([]));
  test("no secrets in workflow or job env; secrets only in steps after the build, never exported", () => expect(secretsAtStepLevel(all)).toEqual([]));
  test("every third-party action pinned by a commit SHA with its tag in a comment", () => expect(actionsPinned(all)).toEqual([]));
  test("deploys refuse any ref but refs/heads/main", () => expect(deploysOnMainOnly(all)).toEqual([]));
  test("the pull-request workflow has no job in a production or non-plan environment", () =>
    expect(pullRequestHasNoProductionJob(workflows["pull-request.yml"])).toEqual([]));
  test("plans take no state lock (-lock=false)", () => expect(plansTakeNoLock(all)).toEqual([]));
  test("every job has timeout-minutes", () => expect(timeouts(all)).toEqual([]));
  test("concurrency groups per command and stack; plans never share one with deploys", () => expect(concurrencyGroups(all)).toEqual([]));
  test("the apply job applies exactly the guarded plan, approved after it exists", () =>
    expect(applyIsTheGuardedPlan(workflows["stack.yml"])).toEqual([]));
  test("Dependabot keeps the actions (and npm) current", () => expect(dependabot()).toEqual([]));

  test("list-stacks development lists no production stack, and every environment is in one list", () => {
    const development = ciStacks(testConfig, "development");
    const production = ciStacks(testConfig, "production");
    expect(development.length).toBeGreaterThan(0);
    expect(development.every((s) => s.mode === "development")).toBe(true);
    expect(production.every((s) => s.mode === "production")).toBe(true);
    const productionNames = validateConfig(testConfig)
      .filter((e) => e.mode === "production")
      .map((e) => e.name);
    expect(development.map((s) => s.environment).filter((e) => productionNames.includes(e))).toEqual([]);
    expect([...development, ...production].length).toBe(ciStacks(testConfig).length);
  });
});

describe("the plan comment", () => {
  test("the fence is longer than any backtick run in the plan: the text cannot close it", () => {
    const plan = 'name = "x"\n```\n<script>alert(1)</script>\n````\n~~~\n```````````\nend';
    const block = fenceBlock(plan);
    const fence = block.split("\n")[0].replace(/text$/, "");
    expect(fence).toBe("`".repeat(12));
    const lines = block.split("\n");
    // CommonMark: a closing fence is a line of at least as many backticks; only the last line is one.
    const closers = lines.slice(1).filter((l) => new RegExp(`^\\s{0,3}\`{${fence.length},}\\s*$`).test(l));
    expect(closers).toEqual([fence]);
    expect(lines[lines.length - 1]).toBe(fence);
    expect(fenceBlock("no backticks")).toBe("```text\nno backticks\n```");
  });

  test("the body starts with the stack's marker, keeps the summary on top and truncates a long plan", () => {
    const body = renderPlanComment("members-dev", "### Plan guard: members-dev: PASSED\n", `\u001b[1m${"x".repeat(PLAN_TEXT_LIMIT + 10)}\u001b[0m`);
    expect(body.startsWith(`${planMarker("members-dev")}\n### Plan guard: members-dev: PASSED\n`)).toBe(true);
    expect(body).not.toContain("\u001b[");
    expect(body).toContain("... (truncated; full plan in the job log)");
    expect(body.length).toBeLessThan(65_536);
    expect(renderPlanComment("s", "", "p")).toContain("Plan guard did not run: see the job log.");
  });

  test("the plan job renders the comment with that script", () => {
    const steps = stepsOf(workflows["stack.yml"].doc.jobs.plan).map((s) => String(s.run ?? ""));
    expect(steps.some((r) => r.includes(".github/scripts/plan-comment.ts"))).toBe(true);
  });

  /** Runs the comment job's github-script with a fake GitHub API and returns what it wrote. */
  async function postComment(comments: Obj[], file: string | undefined) {
    const job = workflows["stack.yml"].doc.jobs.comment;
    const script: string = stepsOf(job).find((s) => /github-script/.test(s.uses ?? ""))?.with?.script;
    const calls: Obj[] = [];
    const github = {
      paginate: async () => comments,
      rest: {
        issues: {
          listComments: () => undefined,
          updateComment: async (args: Obj) => calls.push({ update: args.comment_id, body: args.body }),
          createComment: async (args: Obj) => calls.push({ create: args.issue_number, body: args.body }),
        },
      },
    };
    const context = { repo: { owner: "o", repo: "r" }, issue: { number: 7 } };
    const fakeFs = { existsSync: () => file !== undefined, readFileSync: () => file };
    const fakeRequire = (name: string) => {
      if (name !== "fs") throw new Error(`unexpected require ${name}`);
      return fakeFs;
    };
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
    await new AsyncFunction("require", "github", "context", "process", script)(fakeRequire, github, context, { env: { STACK: "members-dev" } });
    return calls;
  }

  test("the comment is found by author AND marker: another user's comment with the marker is left alone", async () => {
    const marker = planMarker("members-dev");
    const body = `${marker}\nnew plan`;
    const spoof = { id: 1, user: { login: "mallory", type: "User" }, body: `${marker}\nfake plan` };
    const otherStack = { id: 2, user: { login: "github-actions[bot]", type: "Bot" }, body: `${planMarker("members-azure-dev")}\nx` };
    const ours = { id: 3, user: { login: "github-actions[bot]", type: "Bot" }, body: `${marker}\nold plan` };
    expect(await postComment([spoof, otherStack, ours], body)).toEqual([{ update: 3, body }]);
    expect(await postComment([spoof, otherStack], body)).toEqual([{ create: 7, body }]);
    expect(await postComment([ours], undefined)).toEqual([
      { update: 3, body: `${marker}\nThe plan of members-dev did not finish: see the job log.\n` },
    ]);
  });
});
