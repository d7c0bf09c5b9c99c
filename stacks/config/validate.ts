/**
 * Turns hand-written environment declarations into validated EnvironmentConfig objects, or one ConfigError that lists
 * every problem with its path and offending value. Runs before any construct is built.
 */
import type { z } from "zod";
import { placeholderProblems } from "./placeholders";
import { type AppConfigInput, appConfigSchema, ENVIRONMENT_NAME, type EnvironmentConfig, type EnvironmentInput, resourceNames } from "./schema";

export interface ConfigProblem {
  /** Dotted path, environments addressed by name: `environments.prod.schedules.extract.cron`. */
  readonly path: string;
  /** The offending value, as JSON (or `undefined` when missing). */
  readonly got: string;
  /** What would have been accepted. */
  readonly expected: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.path}: got ${problem.got}, expected ${problem.expected}`;
}

/** Validates the whole configuration; throws ConfigError listing every problem at once. */
export function validateConfig(raw: unknown): EnvironmentConfig[] {
  const parsed = appConfigSchema.safeParse(raw, { reportInput: true });
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => toProblem(issue, raw));
  problems.push(...duplicateNameProblems(raw), ...sharedCatalogProblems(raw), ...sharedStateProblems(raw));
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(problems);
  }
  const rawEnvironments = (raw as AppConfigInput).environments;
  return parsed.data.environments.map((env, index) => {
    const names = resourceNames(env.prefix, env.name);
    const development = env.mode === "development";
    return {
      ...env,
      stackName: `members-${env.name}`,
      names,
      deployRoot: env.databricks.deployRoot,
      protectStatefulResources: env.protectStatefulResources ?? !development,
      tableReaders: [...new Set([...env.databricks.readerGroups, env.databricks.piiReaderGroup])],
      // Asset Bundles convention: development deploys paused unless the environment says otherwise.
      extractPaused: env.schedules.extract.paused ?? development,
      loadPaused: env.schedules.load.paused ?? development,
      healthEnabled: env.health.enabled ?? !development,
      healthAlertsPaused: env.health.alertSchedule.paused ?? development,
      allowedNodeTypes: env.cluster.allowedNodeTypes ?? [env.cluster.nodeType],
      jobPrincipal: env.databricks.runAsServicePrincipal ?? env.databricks.platformGroup,
      coolAfterDays: env.storage.coolAfterDays ?? (env.storage.retentionDays > 30 ? 30 : undefined),
      placeholders: placeholderProblems(env, rawEnvironments[index]),
    };
  });
}

/** Stack names, state keys and global resource names derive from the name, so it must be unique. */
function duplicateNameProblems(raw: unknown): ConfigProblem[] {
  const environments = (raw as AppConfigInput | undefined)?.environments;
  if (!Array.isArray(environments)) return [];
  const firstIndex = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  environments.forEach((env, index) => {
    const name = (env as { name?: unknown } | undefined)?.name;
    if (typeof name !== "string") return;
    const first = firstIndex.get(name.toLowerCase());
    if (first === undefined) {
      firstIndex.set(name.toLowerCase(), index);
    } else {
      problems.push({
        path: `environments[${index}].name`,
        got: JSON.stringify(name),
        expected: `a unique environment name (environments[${first}] is already named ${JSON.stringify(name)})`,
      });
    }
  });
  return problems;
}

/**
 * Databricks allows one Unity Catalog metastore per region per account, so environments on the same cloud and region
 * share one (this assumes one account, as the shipped configuration does). A catalog name is unique in a metastore:
 * two such environments naming the same catalog, where at least one creates it, would fight over it (the second create
 * fails, or one stack's authoritative grants and destroy hit the other's data).
 */
function sharedCatalogProblems(raw: unknown): ConfigProblem[] {
  const environments = (raw as AppConfigInput | undefined)?.environments;
  if (!Array.isArray(environments)) return [];
  const catalogs = environments.map(catalogInMetastore);
  const problems: ConfigProblem[] = [];
  catalogs.forEach((later, index) => {
    if (later === undefined) return;
    const earlier = catalogs.slice(0, index).find((c) => c?.key === later.key && (c.creates || later.creates));
    if (earlier === undefined) return;
    const creator = earlier.creates ? JSON.stringify(earlier.environment) : "this one";
    problems.push({
      path: formatPath(["environments", index, "catalog", "name"], raw),
      got: JSON.stringify(later.catalog),
      expected: `a catalog name environment ${JSON.stringify(earlier.environment)} does not use: both are on ${later.metastore}, so they share a metastore (one per region per account), and ${creator} creates it`,
    });
  });
  return problems;
}

/**
 * With CI identities (`github`), each environment's deploy role may reach its own state store only, and the bootstrap
 * stack creates one store per environment: two environments naming the same S3 bucket, or the same container of one
 * storage account, would share state access (and the bootstrap would create the bucket twice).
 */
function sharedStateProblems(raw: unknown): ConfigProblem[] {
  const app = raw as AppConfigInput | undefined;
  if (app?.github === undefined || !Array.isArray(app.environments)) return [];
  const stores = app.environments.map((env) => {
    const backend = (env as Partial<EnvironmentInput> | undefined)?.stateBackend;
    if (backend?.type === "s3" && typeof backend.bucket === "string") return `s3 bucket ${JSON.stringify(backend.bucket)}`;
    if (backend?.type === "azurerm" && typeof backend.containerName === "string")
      return `container ${JSON.stringify(backend.containerName)} of storage account ${JSON.stringify(backend.storageAccountName)}`;
    return undefined;
  });
  const problems: ConfigProblem[] = [];
  stores.forEach((store, index) => {
    const first = store === undefined ? -1 : stores.indexOf(store);
    if (first === -1 || first === index) return;
    problems.push({
      path: formatPath(["environments", index, "stateBackend"], raw),
      got: store ?? "",
      expected: `a state store of its own (environment ${JSON.stringify((app.environments[first] as { name?: unknown }).name)} uses this one): with github set, each environment's CI roles reach their own state only`,
    });
  });
  return problems;
}

/** An environment's catalog and the metastore it lives in, from its raw input; undefined while those are not strings. */
function catalogInMetastore(env: unknown) {
  const { name, cloud, region, catalog } = (env ?? {}) as Partial<EnvironmentInput>;
  if (typeof catalog?.name !== "string" || typeof cloud !== "string" || typeof region !== "string") return undefined;
  const metastore = `${cloud} ${region}`;
  return { environment: name, metastore, catalog: catalog.name, key: `${metastore} ${catalog.name}`, creates: catalog.create !== false };
}

function toProblem(issue: z.core.$ZodIssue, raw: unknown): ConfigProblem {
  const missing = (issue.code === "invalid_type" || issue.code === "invalid_value") && issue.input === undefined;
  // A discriminated union reports the whole object; the offending value is its discriminator.
  const discriminator = issue.code === "invalid_union" ? issue.path[issue.path.length - 1] : undefined;
  const input =
    discriminator !== undefined && issue.input !== null && typeof issue.input === "object"
      ? (issue.input as Record<PropertyKey, unknown>)[discriminator]
      : issue.input;
  return {
    path: formatPath(issue.path, raw),
    got: issue.code === "unrecognized_keys" ? issue.keys.map((k) => JSON.stringify(k)).join(", ") : describe(input, missing),
    expected: expectation(issue),
  };
}

function describe(value: unknown, missing: boolean): string {
  if (missing) return "nothing (the field is required)";
  if (value === undefined) return "undefined";
  const json = JSON.stringify(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

function expectation(issue: z.core.$ZodIssue): string {
  // Our own messages are phrased as the expectation ("expected ..."); zod's built-in ones are rephrased below.
  if (issue.message.startsWith("expected ")) return issue.message.slice("expected ".length);
  switch (issue.code) {
    case "invalid_type":
      return `a value of type ${issue.expected}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "unrecognized_keys":
      return "only known keys (check the spelling)";
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const op = issue.code === "too_small" ? (issue.inclusive ? ">=" : ">") : issue.inclusive ? "<=" : "<";
      if (issue.origin === "array") return `${op} ${bound} item(s)`;
      if (issue.origin === "string") return `a length ${op} ${bound}`;
      return `a number ${op} ${bound}`;
    }
    default:
      return issue.message;
  }
}

/** Renders a zod path with environments named rather than numbered, where the name is a string. */
function formatPath(path: readonly PropertyKey[], raw: unknown): string {
  if (path.length === 0) return "(root)";
  let node: unknown = raw;
  let out = "";
  path.forEach((key, depth) => {
    const envName =
      depth === 1 && path[0] === "environments" && typeof key === "number" ? (node as { name?: unknown }[] | undefined)?.[key]?.name : undefined;
    if (typeof envName === "string" && ENVIRONMENT_NAME.test(envName)) out += `.${envName}`;
    else if (typeof key === "number") out += `[${key}]`;
    else out += `${out ? "." : ""}${String(key)}`;
    node = (node as Record<PropertyKey, unknown> | undefined)?.[key];
  });
  return out;
}
