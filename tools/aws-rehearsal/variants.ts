/**
 * The copies of the extracted configuration the checks plan against, and what each check expects. Pure.
 *
 * Terraform stops walking the graph past a node that failed, so one plan does not name every protected resource:
 * - `plan -destroy` destroys dependents first: a protected resource that another protected resource depends on
 *   (the KMS key under its alias) is never reached once the dependent is refused;
 * - a plan that replaces protected resources (`-replace`, or a renamed bucket) plans dependencies first: a protected
 *   resource that depends on another protected one (the alias on the key) is never reached.
 * expectedRefusals says which addresses each plan must name; between them they cover every protected resource that
 * is not in the middle of a chain of three or more (reported as unproven, not failed).
 */
import { isStatefulType } from "../../stacks/protection/stateful-types";
import { objectAddresses, replaceDroppedReferences, type StackJson } from "./extract";
import { addressesIn, type Json, type JsonObject } from "./references";

export interface Protected {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  /** lifecycle.prevent_destroy in the configuration. */
  readonly preventDestroy: boolean;
}

/** Resources that must not be destroyed: prevent_destroy set, or a stateful type (stacks/protection/stateful-types.ts). */
export function protectedResources(config: StackJson): Protected[] {
  const out: Protected[] = [];
  for (const [type, byName] of Object.entries(config.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      const preventDestroy = (body.lifecycle as JsonObject | undefined)?.prevent_destroy === true;
      if (preventDestroy || isStatefulType(type)) out.push({ address: `${type}.${name}`, type, name, preventDestroy });
    }
  }
  return out.sort((a, b) => a.address.localeCompare(b.address));
}

/** For every resource and data source: the resources and data sources it depends on, transitively. */
export function dependencies(config: StackJson): Map<string, Set<string>> {
  const { resources, data } = objectAddresses(config);
  const known = new Set([...resources, ...data]);
  const direct = new Map<string, Set<string>>();
  for (const address of known) {
    const [kind, type, name] = address.startsWith("data.") ? address.split(".") : ["resource", ...address.split(".")];
    const body = (kind === "data" ? config.data : config.resource)?.[type]?.[name] as Json;
    direct.set(address, new Set([...addressesIn(body)].filter((a) => known.has(a) && a !== address)));
  }
  const closure = new Map<string, Set<string>>();
  const visit = (address: string, seen: Set<string>): Set<string> => {
    const cached = closure.get(address);
    if (cached) return cached;
    const all = new Set<string>();
    for (const dep of direct.get(address) ?? []) {
      if (seen.has(dep)) continue;
      all.add(dep);
      for (const d of visit(dep, new Set([...seen, dep]))) all.add(d);
    }
    closure.set(address, all);
    return all;
  };
  for (const address of known) visit(address, new Set([address]));
  return closure;
}

export interface ExpectedRefusals {
  /** Named by `plan -destroy`: no other protected resource depends on them. */
  readonly destroy: string[];
  /** Named by a plan replacing every protected resource: they depend on no other protected resource. */
  readonly replace: string[];
  /** In neither set: a protected resource both depends on and is depended on by protected ones. */
  readonly unproven: string[];
}

export function expectedRefusals(config: StackJson, protectedList: readonly Protected[] = protectedResources(config)): ExpectedRefusals {
  const deps = dependencies(config);
  const addresses = protectedList.map((p) => p.address);
  const dependsOnProtected = (a: string) => addresses.some((other) => other !== a && deps.get(a)?.has(other));
  const protectedDependsOn = (a: string) => addresses.some((other) => other !== a && deps.get(other)?.has(a));
  const destroy = addresses.filter((a) => !protectedDependsOn(a));
  const replace = addresses.filter((a) => !dependsOnProtected(a));
  return { destroy, replace, unproven: addresses.filter((a) => !destroy.includes(a) && !replace.includes(a)) };
}

/** The addresses a failed plan refused with "Instance cannot be destroyed" (the prevent_destroy error). */
export function refusedAddresses(output: string): string[] {
  return [...output.matchAll(/Resource (\S+) has\s+lifecycle\.prevent_destroy\s+set/g)].map((m) => m[1]);
}

/** Number of error diagnostics in Terraform's human-readable output. */
export const errorCount = (output: string) => (output.match(/^(?:│ )?Error: /gm) ?? []).length;

export interface Renamed {
  readonly config: StackJson;
  readonly address: string;
  readonly from: string;
  readonly to: string;
}

/** A copy with the first `aws_s3_bucket`'s name changed (a rename forces a replacement). */
export function renameBucket(config: StackJson): Renamed {
  const copy = structuredClone(config);
  for (const [name, body] of Object.entries(copy.resource?.aws_s3_bucket ?? {})) {
    if (typeof body.bucket !== "string" || body.bucket.includes("${")) continue;
    const from = body.bucket;
    const to = `${from.slice(0, 55)}-renamed`;
    body.bucket = to;
    return { config: copy, address: `aws_s3_bucket.${name}`, from, to };
  }
  throw new Error("no aws_s3_bucket with a literal bucket name to rename");
}

/**
 * A copy without the given resources (their prevent_destroy goes with them, as when someone deletes a construct);
 * references to them become placeholders. Returns the copy and the substitution notes.
 */
export function withoutResources(config: StackJson, addresses: readonly string[]): { config: StackJson; notes: string[] } {
  const copy = structuredClone(config);
  for (const address of addresses) {
    const [type, name] = address.split(".");
    const byType = copy.resource?.[type];
    if (!byType || !(name in byType)) throw new Error(`no resource ${address} to remove`);
    delete byType[name];
    if (Object.keys(byType).length === 0) delete copy.resource?.[type];
  }
  return { config: copy, notes: replaceDroppedReferences(copy, new Set(addresses)) };
}

/** Self-test: a copy where `address` lost its lifecycle.prevent_destroy. */
export function withoutPreventDestroy(config: StackJson, address: string): StackJson {
  const copy = structuredClone(config);
  const [type, name] = address.split(".");
  const body = copy.resource?.[type]?.[name];
  const lifecycle = body?.lifecycle as JsonObject | undefined;
  if (!body || lifecycle?.prevent_destroy !== true) throw new Error(`${address} has no lifecycle.prevent_destroy to drop`);
  delete lifecycle.prevent_destroy;
  if (Object.keys(lifecycle).length === 0) delete body.lifecycle;
  return copy;
}

/** Self-test tag: `timestamp()` differs at every plan, so the configuration never converges (a perpetual diff). */
export const PERPETUAL_DIFF_TAG = "aws-rehearsal-self-test";

/** Self-test: a copy whose first aws_s3_bucket gets a tag whose value changes at every plan. */
export function withPerpetualDiff(config: StackJson): { config: StackJson; address: string } {
  const copy = structuredClone(config);
  const [name, body] = Object.entries(copy.resource?.aws_s3_bucket ?? {})[0] ?? [];
  if (!body) throw new Error("no aws_s3_bucket to tag");
  body.tags = { ...((body.tags as JsonObject | undefined) ?? {}), [PERPETUAL_DIFF_TAG]: "$" + "{timestamp()}" };
  return { config: copy, address: `aws_s3_bucket.${name}` };
}
