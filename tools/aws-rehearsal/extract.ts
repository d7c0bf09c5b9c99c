/**
 * The AWS half of a synthesized stack: every `aws_*` resource and data source, the `aws` provider configurations,
 * the variables and locals they use, the backend and `required_version`, and `moved`/`import`/`removed` blocks about
 * kept resources. Everything else (other providers' resources and data sources, outputs) is left out; a value that
 * refers to a left-out object becomes a literal (placeholderFor), and a `depends_on` entry naming one is removed.
 * Every kept value is otherwise copied unchanged (lifecycle, tags, default_tags). Pure.
 */
import { addressesIn, type Json, type JsonObject, type Placeholder, type Reference, replaceReferences, type Site } from "./references";

/** Account id of the placeholders: AWS's documentation example id, moto's default account. */
export const PLACEHOLDER_ACCOUNT = "123456789012";
export const PLACEHOLDER_EXTERNAL_ID = "aws-rehearsal-external-id";

/** An assume-role (trust) policy: a principal in the placeholder account, with the external id condition Unity Catalog uses. */
export const TRUST_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "AwsRehearsalTrust",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:root` },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "sts:ExternalId": PLACEHOLDER_EXTERNAL_ID } },
    },
  ],
});

/** An identity policy (no principal) that allows nothing useful. */
export const IDENTITY_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Sid: "AwsRehearsalPlaceholder", Effect: "Deny", Action: "none:Placeholder", Resource: "*" }],
});

/** A resource policy (with a principal) that allows nothing useful. */
export const RESOURCE_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "AwsRehearsalPlaceholder",
      Effect: "Deny",
      Principal: { AWS: `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:root` },
      Action: "none:Placeholder",
      Resource: "*",
    },
  ],
});

/** Resource types whose `policy` is a resource policy (it names principals). */
const RESOURCE_POLICY_HOLDERS = new Set([
  "aws_s3_bucket_policy",
  "aws_kms_key",
  "aws_kms_key_policy",
  "aws_sqs_queue_policy",
  "aws_sns_topic_policy",
]);

/** The literal that replaces a reference to a left-out object, chosen by where it is used and what it reads. */
export const placeholderFor: Placeholder = (ref: Reference, site: Site) => {
  const holderType = site.holder.replace(/^data\./, "").split(".")[0];
  if (site.attribute === "assume_role_policy") return TRUST_POLICY;
  if (/(^|_)policy$/.test(site.attribute) || /(^|\.)(minified_)?json$/.test(ref.attribute)) {
    return RESOURCE_POLICY_HOLDERS.has(holderType) ? RESOURCE_POLICY : IDENTITY_POLICY;
  }
  if (/external_id/.test(ref.attribute) || site.attribute === "external_id") return PLACEHOLDER_EXTERNAL_ID;
  if (/(^|[._])arn$/.test(ref.attribute) || /(^|_)arn$/.test(site.attribute))
    return `arn:aws:iam::${PLACEHOLDER_ACCOUNT}:role/aws-rehearsal-placeholder`;
  return "aws-rehearsal-placeholder";
};

/** The parts of a synthesized stack the rehearsal reads. */
export interface StackJson {
  terraform?: JsonObject & {
    backend?: Record<string, JsonObject>;
    required_providers?: Record<string, { source?: string; version?: string }>;
  };
  provider?: Record<string, JsonObject[]>;
  resource?: Record<string, Record<string, JsonObject>>;
  data?: Record<string, Record<string, JsonObject>>;
  variable?: Record<string, JsonObject>;
  locals?: JsonObject;
  output?: Record<string, JsonObject>;
  moved?: JsonObject[];
  import?: JsonObject[];
  removed?: JsonObject[];
  [key: string]: unknown;
}

export interface Extracted {
  readonly config: StackJson;
  /** One line per replaced reference or removed `depends_on` entry. */
  readonly substitutions: string[];
  /** What was left out, for the log: counts by kind. */
  readonly dropped: { resources: string[]; data: string[]; outputs: number; variables: number; providers: string[] };
}

/** The provider a resource type belongs to (`aws_s3_bucket` -> `aws`). */
export const providerOf = (type: string) => type.split("_")[0];

/** Every resource and data source address of a stack (`type.name`, `data.type.name`). */
export function objectAddresses(stack: StackJson): { resources: string[]; data: string[] } {
  const list = (blocks: StackJson["resource"], prefix: string) =>
    Object.entries(blocks ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${prefix}${type}.${name}`));
  return { resources: list(stack.resource, ""), data: list(stack.data, "data.") };
}

function bodyOf(stack: StackJson, address: string): JsonObject {
  const [kind, type, name] = address.startsWith("data.") ? address.split(".") : ["resource", ...address.split(".")];
  return (kind === "data" ? stack.data : stack.resource)?.[type]?.[name] ?? {};
}

const clone = <T>(value: T): T => structuredClone(value);

/**
 * Rewrites the resources and data sources of `stack` (in place) so that none refers to an address in `dropped`.
 * Returns the substitution notes.
 */
export function replaceDroppedReferences(stack: StackJson, dropped: ReadonlySet<string>, placeholder: Placeholder = placeholderFor): string[] {
  const notes: string[] = [];
  for (const [kind, prefix] of [
    ["resource", ""],
    ["data", "data."],
  ] as const) {
    for (const [type, byName] of Object.entries(stack[kind] ?? {})) {
      for (const [name, body] of Object.entries(byName)) {
        byName[name] = replaceReferences(body, dropped, `${prefix}${type}.${name}`, placeholder, (l) => notes.push(l)) as JsonObject;
      }
    }
  }
  if (stack.locals) stack.locals = replaceReferences(stack.locals, dropped, "locals", placeholder, (l) => notes.push(l)) as JsonObject;
  return notes;
}

/** The AWS half of a synthesized stack (see the file comment). */
export function extractAws(stack: StackJson, keepProvider = "aws"): Extracted {
  const all = objectAddresses(stack);
  const isKept = (address: string) => providerOf(address.replace(/^data\./, "").split(".")[0]) === keepProvider;
  const kept = [...all.resources, ...all.data].filter(isKept);
  const droppedObjects = new Set([...all.resources, ...all.data].filter((a) => !isKept(a)));

  const config: StackJson = {};
  const copyKind = (kind: "resource" | "data") => {
    const out: Record<string, Record<string, JsonObject>> = {};
    for (const [type, byName] of Object.entries(stack[kind] ?? {})) {
      if (providerOf(type) === keepProvider) out[type] = clone(byName);
    }
    if (Object.keys(out).length > 0) config[kind] = out;
  };
  if (stack["//"] !== undefined) config["//"] = clone(stack["//"]);
  const { required_providers: requiredProviders, ...terraformRest } = stack.terraform ?? {};
  config.terraform = clone(terraformRest) as StackJson["terraform"];
  if (requiredProviders?.[keepProvider]) {
    (config.terraform as JsonObject).required_providers = { [keepProvider]: clone(requiredProviders[keepProvider]) } as JsonObject;
  }
  if (stack.provider?.[keepProvider]) config.provider = { [keepProvider]: clone(stack.provider[keepProvider]) };
  copyKind("resource");
  copyKind("data");
  const substitutions = replaceDroppedReferences(config, droppedObjects);

  // Variables and locals the kept objects use, transitively (locals may use other locals and variables).
  const used = new Set<string>();
  const pending = [...kept.map((a) => bodyOf(config, a)), ...(config.provider?.[keepProvider] ?? [])] as Json[];
  const keptLocals: JsonObject = {};
  while (pending.length > 0) {
    for (const address of addressesIn(pending.pop() as Json)) {
      if (used.has(address)) continue;
      used.add(address);
      const [kind, name] = address.split(".");
      if (kind === "local" && stack.locals && name in stack.locals) {
        keptLocals[name] = clone(stack.locals[name]);
        pending.push(keptLocals[name]);
      }
    }
  }
  if (Object.keys(keptLocals).length > 0) {
    const holder: StackJson = { locals: keptLocals };
    substitutions.push(...replaceDroppedReferences(holder, droppedObjects));
    config.locals = holder.locals;
  }
  const variables = Object.entries(stack.variable ?? {}).filter(([name]) => used.has(`var.${name}`));
  if (variables.length > 0) config.variable = Object.fromEntries(variables.map(([n, v]) => [n, clone(v)]));

  // moved / import / removed blocks about kept resources (`to` for moved and import, `from` for removed).
  for (const block of ["moved", "import", "removed"] as const) {
    const keptBlocks = (stack[block] ?? []).filter((b) => {
      const target = String(b[block === "removed" ? "from" : "to"] ?? "").replace(/^\$\{|\}$/g, "");
      return isKept(target);
    });
    if (keptBlocks.length > 0) config[block] = clone(keptBlocks);
  }

  return {
    config,
    substitutions,
    dropped: {
      resources: all.resources.filter((a) => !isKept(a)),
      data: all.data.filter((a) => !isKept(a)),
      outputs: Object.keys(stack.output ?? {}).length,
      variables: Object.keys(stack.variable ?? {}).length - variables.length,
      providers: Object.keys(stack.provider ?? {}).filter((p) => p !== keepProvider),
    },
  };
}

/** The value Terraform needs for each kept variable without a default (the rehearsal runs non-interactively). */
export function variableValues(config: StackJson): Record<string, Json> {
  const values: Record<string, Json> = {};
  for (const [name, spec] of Object.entries(config.variable ?? {})) {
    if ("default" in spec) continue;
    const type = String(spec.type ?? "string").replace(/^\$\{|\}$/g, "");
    values[name] = type.startsWith("number")
      ? 1
      : type.startsWith("bool")
        ? false
        : /^(list|set|tuple)/.test(type)
          ? []
          : /^(map|object)/.test(type)
            ? {}
            : "aws-rehearsal";
  }
  return values;
}
