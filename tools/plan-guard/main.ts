/**
 * Plan guard CLI (the logic is in guard.ts):
 *
 *   terraform show -json plan.tfplan > plan.json
 *   node --require ts-node/register/transpile-only tools/plan-guard/main.ts plan.json \
 *     [--stack NAME] [--allow ADDR]... [--summary FILE]
 *
 * The allow list is every --allow value plus PLAN_GUARD_ALLOW (addresses separated by commas, spaces or newlines).
 * Exit 0: passed (possibly with allowed destruction). 1: a stateful resource would be deleted or replaced and its
 * address is not allowed. 2: usage error, or the input is not a plan this guard can read.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { evaluate, exitCodeOf, PlanError, parseAllowList, parsePlan, renderReport, renderSummary } from "./guard";

const USAGE = 'usage: main.ts <plan.json> [--stack NAME] [--allow ADDR]... [--summary FILE]   (also PLAN_GUARD_ALLOW="addr1 addr2")';

const OPTIONS = {
  stack: { type: "string" },
  allow: { type: "string", multiple: true },
  summary: { type: "string" },
} as const;

function run(argv: string[], env: NodeJS.ProcessEnv): number {
  let args: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>;
  try {
    args = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    console.error(`plan-guard: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.positionals.length !== 1) {
    console.error(`plan-guard: expected exactly one plan file\n${USAGE}`);
    return 2;
  }
  const file = args.positionals[0];
  const stack = args.values.stack ?? file;
  const allowList = [...new Set([...(args.values.allow ?? []).flatMap(parseAllowList), ...parseAllowList(env.PLAN_GUARD_ALLOW)])];

  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    console.error(`plan-guard: cannot read ${file}: ${(e as Error).message}`);
    return 2;
  }
  let plan: ReturnType<typeof parsePlan>;
  try {
    plan = parsePlan(text, file);
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    console.error(`plan-guard: ${e.message}`);
    return 2;
  }

  const evaluation = evaluate(plan, allowList);
  if (args.values.summary) writeFileSync(args.values.summary, renderSummary(evaluation, stack));
  process.stdout.write(renderReport(plan, evaluation, stack, file));
  return exitCodeOf(evaluation);
}

process.exitCode = run(process.argv.slice(2), process.env);
