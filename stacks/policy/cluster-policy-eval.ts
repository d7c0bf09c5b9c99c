/**
 * Evaluates a job cluster spec (as synthesized: snake_case Terraform JSON) against a cluster policy definition the way
 * the Clusters and Jobs APIs do (https://docs.databricks.com/admin/clusters/policy-definition):
 * - `fixed`: the value is forced. The Jobs API stores the fixed value in the job's cluster spec, so a spec that omits
 *   it or says otherwise shows a diff on every plan; it must carry the value exactly.
 * - `forbidden`: the attribute must be absent.
 * - `allowlist` / `range`: a value the spec sets must be allowed (the API refuses the job otherwise).
 * - `unlimited`: anything.
 * Virtual attributes of the policy language (`cluster_type`, `dbus_per_hour`) constrain the cluster but never appear in
 * a cluster spec, so they are not compared.
 */
import { asList } from "./json";

const VIRTUAL_ATTRIBUTES = new Set(["cluster_type", "dbus_per_hour"]);
/** Map-typed cluster attributes: their keys are part of the policy path (`spark_conf.spark.master`). */
const MAP_ATTRIBUTES = new Set(["spark_conf", "custom_tags", "spark_env_vars", "ssh_public_keys"]);

type Scalar = string | number | boolean;

/** The cluster spec as policy paths: `autoscale.max_workers`, `custom_tags.project`, `init_scripts.0.s3.destination`. */
export function policyPaths(cluster: Record<string, unknown>): Map<string, Scalar> {
  const out = new Map<string, Scalar>();
  const walk = (prefix: string, value: unknown, isMap: boolean): void => {
    if (value === undefined || value === null) return;
    if (typeof value !== "object") {
      out.set(prefix, value as Scalar);
      return;
    }
    if (isMap) {
      for (const [k, v] of Object.entries(value as object)) if (typeof v !== "object") out.set(`${prefix}.${k}`, v as Scalar);
      return;
    }
    if (Array.isArray(value)) {
      // Terraform JSON writes a nested block as one object or a list; policy paths index lists of blocks (init_scripts).
      if (value.length === 1 && !prefix.endsWith("init_scripts")) walk(prefix, value[0], false);
      else
        value.forEach((item, i) => {
          walk(`${prefix}.${i}`, item, false);
        });
      return;
    }
    for (const [k, v] of Object.entries(value as object)) {
      if (k === "//") continue;
      walk(prefix ? `${prefix}.${k}` : k, v, prefix === "" && MAP_ATTRIBUTES.has(k));
    }
  };
  walk("", cluster, false);
  return out;
}

function matches(policyPath: string, specPath: string): boolean {
  const p = policyPath.split(".");
  const s = specPath.split(".");
  // Map keys may contain dots (spark_conf.spark.sql.session.timeZone): compare the head, then the rest as one key.
  if (MAP_ATTRIBUTES.has(p[0])) return p[0] === s[0] && p.slice(1).join(".") === s.slice(1).join(".");
  return p.length === s.length && p.every((part, i) => part === "*" || part === s[i]);
}

/** Every way `cluster` breaks `definition`, as readable sentences (empty: the spec is what the policy stores). */
export function clusterPolicyViolations(cluster: Record<string, unknown>, definition: Record<string, any>): string[] {
  const spec = policyPaths(cluster);
  const problems: string[] = [];
  for (const [path, rule] of Object.entries(definition)) {
    if (VIRTUAL_ATTRIBUTES.has(path)) continue;
    const hits = [...spec.entries()].filter(([specPath]) => matches(path, specPath));
    switch (rule?.type) {
      case "fixed": {
        const got = hits[0]?.[1];
        if (got === undefined)
          problems.push(
            `${path} is fixed to ${JSON.stringify(rule.value)} by the policy but missing from the spec (the API writes it back: a diff on every plan)`,
          );
        else if (String(got) !== String(rule.value))
          problems.push(`${path}: got ${JSON.stringify(got)}, expected ${JSON.stringify(rule.value)} (fixed by the policy)`);
        break;
      }
      case "forbidden":
        for (const [specPath, got] of hits) problems.push(`${specPath}: got ${JSON.stringify(got)}, expected nothing (forbidden by the policy)`);
        break;
      case "allowlist":
        for (const [specPath, got] of hits)
          if (!asList(rule.values).map(String).includes(String(got)))
            problems.push(`${specPath}: got ${JSON.stringify(got)}, expected one of ${asList(rule.values).join(", ")} (policy allowlist)`);
        break;
      case "range":
        for (const [specPath, got] of hits) {
          const n = Number(got);
          if (Number.isNaN(n) || (rule.minValue !== undefined && n < rule.minValue) || (rule.maxValue !== undefined && n > rule.maxValue))
            problems.push(
              `${specPath}: got ${JSON.stringify(got)}, expected a number in [${rule.minValue ?? "-inf"}, ${rule.maxValue ?? "inf"}] (policy range)`,
            );
        }
        break;
      case "unlimited":
        break;
      default:
        problems.push(`${path}: policy rule type ${JSON.stringify(rule?.type)} is not one this check knows`);
    }
  }
  return problems;
}
