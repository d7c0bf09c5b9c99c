/**
 * Plan guard CLI (the logic is in guard.ts):
 *
 *   terraform show -json plan.tfplan > plan.json
 *   node --require ts-node/register/transpile-only tools/plan-guard/main.ts plan.json \
 *     [--stack NAME] [--allow ADDR]... [--summary FILE]
 *
 * The allow list is every --allow value plus PLAN_GUARD_ALLOW (entries separated by commas, spaces or newlines). Each
 * entry is stack-qualified, `<stack>:<address>` (members-prod:aws_s3_bucket.x): only the entries of --stack apply,
 * those of other stacks are listed and ignored, an unqualified entry (or an allow list without --stack) is exit 2.
 * Exit 0: passed (possibly with allowed destruction). 1: a stateful resource would be deleted or replaced and its
 * address is not allowed. 2: usage error, or the input is not a plan this guard can read.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { allowListForStack, evaluate, exitCodeOf, PlanError, parseAllowList, parsePlan, renderReport, renderSummary } from "./guard";

const USAGE = 'usage: main.ts <plan.json> [--stack NAME] [--allow NAME:ADDR]... [--summary FILE]   (also PLAN_GUARD_ALLOW="NAME:addr1 NAME:addr2")';

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
  const entries = [...new Set([...(args.values.allow ?? []).flatMap(parseAllowList), ...parseAllowList(env.PLAN_GUARD_ALLOW)])];
  if (entries.length > 0 && args.values.stack === undefined) {
    console.error(`plan-guard: an allow list needs --stack (its entries are <stack>:<address>)\n${USAGE}`);
    return 2;
  }
  const { addresses: allowList, otherStacks, unqualified } = allowListForStack(entries, stack);
  if (unqualified.length > 0) {
    console.error(
      `plan-guard: allow-list entries must name their stack, e.g. ${stack}:${unqualified[0]}; not stack-qualified: ${unqualified.join(" ")}`,
    );
    return 2;
  }

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
  for (const entry of otherStacks) process.stdout.write(`Allow-list entry for another stack, not applied to ${stack}: ${entry}\n`);
  return exitCodeOf(evaluation);
}

process.exitCode = run(process.argv.slice(2), process.env);
