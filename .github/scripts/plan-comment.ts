/**
 * The pull-request comment (and job summary) of one stack's plan: the plan guard's summary on top of the plan text.
 *
 *   node --require ts-node/register/transpile-only .github/scripts/plan-comment.ts <stack> <plan-guard.md> <plan.txt>
 *
 * prints the body. The body starts with the stack's marker; the workflow updates the comment that starts with it AND
 * was written by github-actions[bot], so nobody else's comment is found and overwritten. The plan text is fenced
 * with a backtick fence longer than any backtick run in it, so no text in the plan (a resource attribute, an error
 * message) can close the fence and be rendered as Markdown or HTML.
 */
import { existsSync, readFileSync } from "node:fs";

/** The login of the comments the workflow writes with GITHUB_TOKEN. */
export const COMMENT_AUTHOR = "github-actions[bot]";

/** GitHub refuses comment bodies over 65,536 characters; the plan text is cut well before that. */
export const PLAN_TEXT_LIMIT = 60_000;

export function planMarker(stack: string): string {
  return `<!-- terraform-plan:${stack} -->`;
}

/** A fenced code block that `text` cannot end: the fence is longer than the longest backtick run in the text. */
export function fenceBlock(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}

export function renderPlanComment(stack: string, summary: string, planText: string, limit = PLAN_TEXT_LIMIT): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes, if a tool printed any
  let plan = planText.replace(/\u001b\[[0-9;]*m/g, "");
  if (plan.length > limit) plan = `${plan.slice(0, limit)}\n... (truncated; full plan in the job log)`;
  const guard = summary.trim() === "" ? "Plan guard did not run: see the job log." : summary.trim();
  return `${planMarker(stack)}\n${guard}\n\n<details><summary>terraform plan ${stack}</summary>\n\n${fenceBlock(plan)}\n</details>\n`;
}

if (require.main === module) {
  const [stack, summaryFile, planFile] = process.argv.slice(2);
  if (!stack || !summaryFile || !planFile) {
    console.error("usage: plan-comment.ts <stack> <plan-guard.md> <plan.txt>");
    process.exit(2);
  }
  const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");
  process.stdout.write(renderPlanComment(stack, read(summaryFile), read(planFile) || "(no plan output: see the job log)"));
}
