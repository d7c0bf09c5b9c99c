/**
 * Plan guard: reads the JSON form of a Terraform plan (`terraform show -json <planfile>`) and refuses destructive
 * changes (delete, or replace in either order) to managed resources of a stateful type, unless the address is on the
 * allow list. Pure: parse, evaluate and render take and return values; the CLI (main.ts) does the I/O.
 *
 * Format followed: Terraform's JSON Output Format, "Plan Representation" and "Change Representation",
 * https://developer.hashicorp.com/terraform/internals/json-format
 */
import { isStatefulType, STATEFUL_RESOURCE_TYPES } from "../../stacks/protection/stateful-types";

/** The plan format major version this guard understands. The doc: "Reject any input which reports an unsupported
 * major version"; minor versions only add properties, which are ignored. */
export const SUPPORTED_FORMAT_MAJOR = 1;

/** One element of `resource_changes`, reduced to what the guard reads. */
export interface ResourceChange {
  address: string;
  /** Set only when the address changed since the last run, e.g. by a `moved` block. */
  previousAddress?: string;
  /** "managed" (resource blocks) or "data" (data blocks). */
  mode: string;
  type: string;
  /** Set when the change applies to a deposed object (left behind by a failed create-before-destroy). */
  deposed?: string;
  actions: string[];
  /** Display hint only: e.g. replace_because_cannot_update, replace_by_request, delete_because_no_resource_config. */
  actionReason?: string;
  /** The attribute paths that forced a replacement; absent when none did (tainted, -replace=...). */
  replacePaths?: Array<Array<string | number>>;
}

export interface Plan {
  formatVersion: string;
  terraformVersion?: string;
  changes: ResourceChange[];
}

/** The input is not a plan this guard can judge (the CLI exits 2). */
export class PlanError extends Error {}

export type ChangeKind = "create" | "update" | "replace" | "delete" | "forget" | "read" | "no-op" | "other";

/** Parses and validates `terraform show -json` output. `source` (the file name) prefixes every error message. */
export function parsePlan(text: string, source: string): Plan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new PlanError(`${source}: not JSON (${(e as Error).message})`);
  }
  if (!isObject(doc)) throw new PlanError(`${source}: not a Terraform plan (the top level is not a JSON object)`);
  const version = doc.format_version;
  if (typeof version !== "string") {
    throw new PlanError(`${source}: not a Terraform plan (no format_version); expected \`terraform show -json <planfile>\` output`);
  }
  const major = /^(\d+)\.\d+$/.exec(version);
  if (!major) throw new PlanError(`${source}: format_version "${version}" is not of the form MAJOR.MINOR`);
  if (Number(major[1]) !== SUPPORTED_FORMAT_MAJOR) {
    throw new PlanError(`${source}: unsupported plan format_version "${version}" (this guard reads major version ${SUPPORTED_FORMAT_MAJOR})`);
  }
  if (!Array.isArray(doc.resource_changes)) {
    throw new PlanError(
      `${source}: not a Terraform plan (no resource_changes array); a state file, or \`terraform show -json\` without a plan file?`,
    );
  }
  const changes = doc.resource_changes.map((rc: unknown, i: number) => parseChange(rc, `${source}: resource_changes[${i}]`));
  return {
    formatVersion: version,
    terraformVersion: typeof doc.terraform_version === "string" ? doc.terraform_version : undefined,
    changes,
  };
}

function parseChange(rc: unknown, where: string): ResourceChange {
  if (!isObject(rc)) throw new PlanError(`${where} is not an object`);
  for (const key of ["address", "mode", "type"]) {
    if (typeof rc[key] !== "string" || rc[key] === "") throw new PlanError(`${where} has no "${key}"`);
  }
  const address = rc.address as string;
  const change = rc.change;
  const actions = isObject(change) ? change.actions : undefined;
  if (!Array.isArray(actions) || actions.length === 0 || !actions.every((a) => typeof a === "string")) {
    throw new PlanError(`${where} (${address}) has no change.actions`);
  }
  const replacePaths = isObject(change) && Array.isArray(change.replace_paths) ? change.replace_paths : undefined;
  return {
    address,
    previousAddress: typeof rc.previous_address === "string" ? rc.previous_address : undefined,
    mode: rc.mode as string,
    type: rc.type as string,
    deposed: typeof rc.deposed === "string" ? rc.deposed : undefined,
    actions: actions as string[],
    actionReason: typeof rc.action_reason === "string" ? rc.action_reason : undefined,
    replacePaths: replacePaths as ResourceChange["replacePaths"],
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Splits allow-list text (PLAN_GUARD_ALLOW, or one --allow value) on commas, spaces and newlines. */
export function parseAllowList(text: string | undefined): string[] {
  return (text ?? "").split(/[\s,]+/).filter((a) => a !== "");
}

/** A stack name as the qualifier of an allow-list entry: no dot, so it cannot be the start of a Terraform address. */
const STACK_QUALIFIER = /^([A-Za-z0-9][A-Za-z0-9_-]*):(.+)$/;

/** Allow-list entries sorted for one stack: every entry must be `<stack>:<address>` (e.g.
 * `members-prod:aws_s3_bucket.x`), so one `allow_destroy` given to every stack of a deploy lets a resource go only in
 * the stack it names. */
export interface StackAllowList {
  /** The addresses of the entries qualified with this stack: the allow list `evaluate` gets. */
  addresses: string[];
  /** Entries qualified with another stack: not applied here. */
  otherStacks: string[];
  /** Entries without a stack qualifier: refused (the CLI exits 2). */
  unqualified: string[];
}

export function allowListForStack(entries: readonly string[], stack: string): StackAllowList {
  const result: StackAllowList = { addresses: [], otherStacks: [], unqualified: [] };
  for (const entry of entries) {
    const m = STACK_QUALIFIER.exec(entry);
    if (!m) result.unqualified.push(entry);
    else if (m[1] === stack) result.addresses.push(m[2]);
    else result.otherStacks.push(entry);
  }
  return result;
}

/** The documented action lists, and what each one is called here. */
export function kindOf(actions: readonly string[]): ChangeKind {
  switch (actions.join(",")) {
    case "no-op":
      return "no-op";
    case "create":
      return "create";
    case "read":
      return "read";
    case "update":
      return "update";
    case "delete,create":
    case "create,delete":
      return "replace";
    case "delete":
      return "delete";
    case "forget":
      return "forget";
    default:
      return "other";
  }
}

/** Human label of an action list, as printed after an address. */
export function describeActions(actions: readonly string[]): string {
  switch (actions.join(",")) {
    case "delete,create":
      return "replace: delete, then create";
    case "create,delete":
      return "replace: create, then delete";
    default:
      return actions.join(", ");
  }
}

/**
 * True when applying the change loses a stateful object: a managed resource of a stateful type whose actions include
 * "delete". That covers ["delete"], ["delete","create"] and ["create","delete"]; the doc represents replaces this way
 * so that callers can "just scan the list for delete", which also catches any deletion combination added later.
 */
export function isDestructiveToState(rc: ResourceChange): boolean {
  return rc.mode === "managed" && isStatefulType(rc.type) && rc.actions.includes("delete");
}

export type Verdict = "PASSED" | "FAILED" | "PASSED WITH ALLOWED DESTRUCTION";

export interface Evaluation {
  byKind: Record<ChangeKind, ResourceChange[]>;
  /** Changes with a previous_address (they are also listed under their action). */
  moves: ResourceChange[];
  /** Destructive changes to stateful resources that are not on the allow list: the guard fails on these. */
  violations: ResourceChange[];
  /** Destructive changes to stateful resources that the allow list lets through. */
  allowed: ResourceChange[];
  /** Allow-list entries that match no destructive change of a stateful resource (stale or mistyped). */
  unmatchedAllow: string[];
  verdict: Verdict;
}

export function evaluate(plan: Plan, allowList: readonly string[]): Evaluation {
  const allow = new Set(allowList);
  const byKind: Record<ChangeKind, ResourceChange[]> = {
    create: [],
    update: [],
    replace: [],
    delete: [],
    forget: [],
    read: [],
    "no-op": [],
    other: [],
  };
  const violations: ResourceChange[] = [];
  const allowed: ResourceChange[] = [];
  for (const rc of plan.changes) {
    byKind[kindOf(rc.actions)].push(rc);
    if (isDestructiveToState(rc)) (allow.has(rc.address) ? allowed : violations).push(rc);
  }
  const matched = new Set(allowed.map((rc) => rc.address));
  const verdict: Verdict = violations.length > 0 ? "FAILED" : allowed.length > 0 ? "PASSED WITH ALLOWED DESTRUCTION" : "PASSED";
  return {
    byKind,
    moves: plan.changes.filter((rc) => rc.previousAddress !== undefined),
    violations,
    allowed,
    unmatchedAllow: [...allow].filter((a) => !matched.has(a)),
    verdict,
  };
}

/** 0 when the guard passes (with or without allowed destruction), 1 when it fails. */
export function exitCodeOf(evaluation: Evaluation): 0 | 1 {
  return evaluation.verdict === "FAILED" ? 1 : 0;
}

/** `["rule", 0, "filter"]` -> `rule[0].filter` */
export function formatPath(path: ReadonlyArray<string | number>): string {
  return path.map((step, i) => (typeof step === "number" ? `[${step}]` : i === 0 ? step : `.${step}`)).join("");
}

function label(rc: ResourceChange): string {
  return rc.deposed ? `${rc.address} (deposed object ${rc.deposed})` : rc.address;
}

function details(rc: ResourceChange): string {
  const parts = [describeActions(rc.actions)];
  if (rc.actionReason) parts.push(`reason: ${rc.actionReason}`);
  if (rc.replacePaths?.length) parts.push(`forced by: ${rc.replacePaths.map(formatPath).join(", ")}`);
  return parts.join("; ");
}

/** One-screen Markdown for a pull-request comment (also printed at the top of the CLI output). */
export function renderSummary(evaluation: Evaluation, stack: string): string {
  const { byKind, moves, violations, allowed, unmatchedAllow, verdict } = evaluation;
  const lines = [
    `### Plan guard: ${stack}: ${verdict}`,
    "",
    "| Creates | Updates | Replaces | Deletes | Moves |",
    "|---:|---:|---:|---:|---:|",
    `| ${byKind.create.length} | ${byKind.update.length} | ${byKind.replace.length} | ${byKind.delete.length} | ${moves.length} |`,
  ];
  const list = (title: string, items: string[]) => {
    if (items.length > 0) lines.push("", title, ...items.map((i) => `- ${i}`));
  };
  list(
    "**Destructive changes to stateful resources (not allowed):**",
    violations.map((rc) => `\`${label(rc)}\` (${describeActions(rc.actions)})`),
  );
  list(
    "**Allowed by the allow list:**",
    allowed.map((rc) => `\`${label(rc)}\` (${describeActions(rc.actions)})`),
  );
  list(
    "**Allow-list entries that match no destructive change (stale?):**",
    unmatchedAllow.map((a) => `\`${a}\``),
  );
  if (violations.length > 0) {
    lines.push("", `To accept the loss, list them as \`${stack}:<address>\` in \`PLAN_GUARD_ALLOW\` (or \`--allow\`) and re-run.`);
  }
  return `${lines.join("\n")}\n`;
}

/** The full CLI report: summary, every change by action, then the guard's findings and the verdict. */
export function renderReport(plan: Plan, evaluation: Evaluation, stack: string, source: string): string {
  const { byKind, moves, violations, allowed, unmatchedAllow, verdict } = evaluation;
  const version = `format ${plan.formatVersion}${plan.terraformVersion ? `, Terraform ${plan.terraformVersion}` : ""}`;
  const lines = [renderSummary(evaluation, stack), "---", "", `Plan ${source} (${version}), stack ${stack}`];
  const section = (title: string, items: string[]) => {
    if (items.length > 0) lines.push("", `${title} (${items.length}):`, ...items.map((i) => `  ${i}`));
  };
  section(
    "Creates",
    byKind.create.map((rc) => `+ ${label(rc)}`),
  );
  section(
    "Updates",
    byKind.update.map((rc) => `~ ${label(rc)}`),
  );
  section(
    "Replaces",
    byKind.replace.map((rc) => `${rc.actions[0] === "delete" ? "-/+" : "+/-"} ${label(rc)}: ${details(rc)}`),
  );
  section(
    "Deletes",
    byKind.delete.map((rc) => `- ${label(rc)}${rc.actionReason ? `: reason: ${rc.actionReason}` : ""}`),
  );
  section(
    "Forgets: removed from state, not destroyed",
    byKind.forget.map((rc) => `. ${label(rc)}`),
  );
  section(
    "Moves",
    moves.map((rc) => `${rc.previousAddress} -> ${rc.address}`),
  );
  section(
    "Other actions",
    byKind.other.map((rc) => `? ${label(rc)}: ${details(rc)}`),
  );
  lines.push("", `Reads: ${byKind.read.length}, no-ops: ${byKind["no-op"].length}`, "", "Guard:");
  for (const rc of violations) {
    lines.push(`  DESTRUCTIVE: ${label(rc)} (${describeActions(rc.actions)}); ${rc.type}: ${STATEFUL_RESOURCE_TYPES[rc.type]}`);
  }
  for (const rc of allowed) lines.push(`  ALLOWED by the allow list: ${label(rc)} (${describeActions(rc.actions)})`);
  for (const a of unmatchedAllow) lines.push(`  Allow-list entry matches no destructive change of a stateful resource: ${a}`);
  if (violations.length + allowed.length + unmatchedAllow.length === 0) {
    lines.push("  no delete or replace of a stateful resource");
  }
  lines.push("", `Verdict: ${verdict}`);
  if (violations.length > 0) {
    lines.push(
      `${violations.length} destructive change(s) to stateful resources. If the loss is intended, allow each address:`,
      `  --allow ${stack}:ADDR, or PLAN_GUARD_ALLOW="${violations.map((rc) => `${stack}:${rc.address}`).join(" ")}"`,
    );
  }
  return `${lines.join("\n")}\n`;
}
