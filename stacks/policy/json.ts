/** Helpers for rules that read a stack's synthesized Terraform JSON. */
import type { TerraformJson } from "../common/terraform-json";

/** Blocks synthesize either as an object or as a one-element list, depending on the provider schema. */
export function asList(value: unknown): any[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function resources(tf: TerraformJson, type: string): [string, Record<string, any>][] {
  return Object.entries(tf.resource?.[type] ?? {});
}

/** The logical id `X` when `value` is exactly `${<type>.X.<attr>}` for one of `attrs`. */
export function referencedId(value: unknown, type: string, attrs: readonly string[]): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$/.exec(value);
  return match && match[1] === type && attrs.includes(match[3]) ? match[2] : undefined;
}

/** Resources of `type` whose `attribute` references the resource `targetType.targetId` (by id, name or literal). */
export function attachedTo(
  tf: TerraformJson,
  type: string,
  attribute: string,
  targetType: string,
  targetId: string,
  literalNames: readonly unknown[] = [],
): [string, Record<string, any>][] {
  return resources(tf, type).filter(([, props]) => {
    const value = props[attribute];
    return referencedId(value, targetType, ["id", "bucket", "name"]) === targetId || (typeof value === "string" && literalNames.includes(value));
  });
}

/** The statements of an IAM policy given as a `data.aws_iam_policy_document` reference or as a JSON literal. */
export function policyStatements(
  tf: TerraformJson,
  policy: unknown,
): { effect: string; actions: string[]; conditions: { test: string; variable: string; values: string[] }[] }[] {
  if (typeof policy !== "string") return [];
  const docId = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$/.exec(policy)?.[1];
  if (docId !== undefined) {
    const doc = tf.data?.aws_iam_policy_document?.[docId];
    return asList(doc?.statement).map((s) => ({
      effect: s.effect ?? "Allow",
      actions: asList(s.actions),
      conditions: asList(s.condition).map((c) => ({ test: c.test, variable: c.variable, values: asList(c.values).map(String) })),
    }));
  }
  try {
    const parsed = JSON.parse(policy);
    return asList(parsed.Statement).map((s) => ({
      effect: s.Effect ?? "Allow",
      actions: asList(s.Action),
      conditions: Object.entries(s.Condition ?? {}).flatMap(([test, byVariable]) =>
        Object.entries(byVariable as Record<string, unknown>).map(([variable, values]) => ({
          test,
          variable,
          values: asList(values).map(String),
        })),
      ),
    }));
  } catch {
    return [];
  }
}

export function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

export function missingTags(tags: unknown, required: readonly string[]): string[] {
  const present = tags !== null && typeof tags === "object" ? Object.keys(tags as object) : [];
  return required.filter((key) => !present.includes(key));
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Every cluster spec of a job: shared job clusters and per-task new clusters, with where they sit. */
export function jobClusters(job: Record<string, any>): { where: string; cluster: Record<string, any> }[] {
  return [
    ...asList(job.job_cluster).flatMap((jc) => asList(jc.new_cluster).map((cluster) => ({ where: `job_cluster "${jc.job_cluster_key}"`, cluster }))),
    ...asList(job.task).flatMap((task) => asList(task.new_cluster).map((cluster) => ({ where: `task "${task.task_key}" new_cluster`, cluster }))),
  ];
}

/** A databricks_cluster_policy's definition as an object; undefined when unparseable (the provider reports that at plan). */
export function policyDefinition(policy: Record<string, any> | undefined): Record<string, any> | undefined {
  try {
    return JSON.parse(policy?.definition);
  } catch {
    return undefined;
  }
}
