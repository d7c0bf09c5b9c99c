/** What the rehearsal prints, and the S3 lock object it plants. Pure. */

export type Status = "passed" | "failed" | "skipped";

export interface Check {
  readonly name: string;
  readonly status: Status;
  readonly seconds: number;
  readonly detail: string;
}

/** `terraform show -json` of a plan, the parts read here. */
interface PlanJson {
  resource_changes?: Array<{
    address: string;
    change: { actions: string[]; before?: unknown; after?: unknown; after_unknown?: unknown };
  }>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Attribute paths whose value differs between before and after (after_unknown: known only after apply). */
export function diffPaths(before: unknown, after: unknown, unknown: unknown, path = ""): string[] {
  if (unknown === true) return [`${path || "(whole object)"}: ${short(before)} -> (known after apply)`];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after), ...Object.keys(isObject(unknown) ? unknown : {})])].sort();
    return keys.flatMap((k) => diffPaths(before[k], after[k], isObject(unknown) ? unknown[k] : undefined, path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => diffPaths(b, after[i], Array.isArray(unknown) ? unknown[i] : undefined, `${path}[${i}]`));
  }
  if (Array.isArray(unknown) && unknown.some((u) => u === true || isObject(u) || Array.isArray(u))) {
    return [`${path}: ${short(before)} -> ${short(after)} (partly known after apply)`];
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [`${path}: ${short(before)} -> ${short(after)}`];
}

function short(value: unknown): string {
  const text = value === undefined ? "(absent)" : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** One line per changed attribute of every resource the plan would change. */
export function changedAttributes(planText: string): string[] {
  const plan = JSON.parse(planText) as PlanJson;
  const lines: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    const actions = rc.change.actions.join(",");
    if (actions === "no-op" || actions === "read") continue;
    lines.push(`${rc.address} (${actions})`);
    for (const p of diffPaths(rc.change.before, rc.change.after, rc.change.after_unknown)) lines.push(`  ${p}`);
  }
  return lines;
}

export interface LockInfo {
  ID: string;
  Operation: string;
  Info: string;
  Who: string;
  Version: string;
  Created: string;
  Path: string;
}

/**
 * The object Terraform's S3 backend writes at `<key>.tflock` with `use_lockfile = true` (Terraform 1.10+): its
 * statemgr.LockInfo as JSON, Path `<bucket>/<key>`. Observed from Terraform 1.11.4 holding a lock.
 */
export function plantedLock(bucket: string, key: string, terraformVersion: string, now: Date, id: string): LockInfo {
  return {
    ID: id,
    Operation: "OperationTypeApply",
    Info: "planted by tools/aws-rehearsal: a colleague's apply in progress",
    Who: "colleague@aws-rehearsal",
    Version: terraformVersion,
    Created: now.toISOString(),
    Path: `${bucket}/${key}`,
  };
}

/** The lock object key for a state key (the S3 backend appends `.tflock`; workspace prefixes do not apply to `default`). */
export const lockKey = (stateKey: string) => `${stateKey}.tflock`;

const pad = (text: string, width: number) => (text.length >= width ? text : text + " ".repeat(width - text.length));

export function formatReport(checks: readonly Check[], totalSeconds: number): string[] {
  const width = Math.max(...checks.map((c) => c.name.length), 10);
  const lines = checks.map((c) => {
    const [first, ...rest] = c.detail.split("\n");
    const head = `  ${pad(c.status.toUpperCase(), 7)} ${pad(c.name, width)} ${pad(`${c.seconds.toFixed(1)}s`, 7)} ${first}`;
    return [head, ...rest.map((l) => `${" ".repeat(width + 19)}${l}`)].join("\n");
  });
  const failed = checks.filter((c) => c.status === "failed").length;
  const passed = checks.filter((c) => c.status === "passed").length;
  lines.push(`  ${failed > 0 ? "FAILED" : "OK"}: ${passed} passed, ${failed} failed; total ${totalSeconds.toFixed(1)}s`);
  return lines;
}
