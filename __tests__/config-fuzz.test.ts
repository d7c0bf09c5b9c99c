/**
 * Property-based tests of the configuration (fast-check): any generated app configuration either synthesizes every
 * stack with no policy error, or fails validation with a ConfigError whose every problem has a path, the offending
 * value and the expectation. Any other exception (a construct throwing, a token error, a crash) fails the property.
 *
 * Generation: mostly valid environments across the whole option space (both clouds, regions, names, prefixes,
 * schedules and triggers, cluster sizes, retention, catalog create/existing, run-as or not, private network, state
 * backends, Key Vault scopes), one or two per config, with about a quarter of them mutated (wrong types, bad cron,
 * out-of-range numbers, unknown keys, bad names, missing fields).
 *
 * Reproduce: FUZZ_SEED=<seed printed on failure> [FUZZ_PATH=<path printed>] npx jest config-fuzz
 * Scale: FUZZ_RUNS (default 200 configs).
 */

import { Aspects, type TerraformStack, Testing } from "cdktf";
import fc from "fast-check";
import { buildApp } from "../stacks/app";
import platform from "../stacks/config/platform.json";
import { AWS_REGIONS, AZURE_LOCATIONS } from "../stacks/config/regions";
import { AZURE_AD_AUTH_TYPES } from "../stacks/config/schema";
import { ConfigError } from "../stacks/config/validate";
import { blockingFindings, formatFinding, PolicyPack } from "../stacks/policy";
import prices from "../tools/cost/prices.json";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const PATH = process.env.FUZZ_PATH;

// ---------------------------------------------------------------------------------------------------------------
// valid environments

const QUARTZ = ["0 0 2 * * ?", "0 30 1 * * ?", "0 0/15 * * * ?", "0 0 3 ? * MON-FRI", "0 0 0 1 * ? *", "15 10 4 L * ?"];
const TIME_ZONES = ["UTC", "Etc/UTC", "Europe/London", "Europe/Amsterdam", "America/New_York", "Asia/Tokyo"];
// Validation knows the node types the cost model prices (tools/cost/prices.json); others are a mutation.
const nodeTypesOf = (cloud: string) =>
  Object.entries(prices.nodeTypes)
    .filter(([, price]) => price.cloud === cloud)
    .map(([nodeType]) => nodeType);
const AWS_NODES = nodeTypesOf("aws");
const AZURE_NODES = nodeTypesOf("azure");

// Single hyphens only; "--" and length limits are exercised by the mutations and the regression test below.
const envName = fc.stringMatching(/^[a-z](-?[a-z0-9]){2,4}$/);
const prefix = fc.stringMatching(/^[a-z](-?[a-z0-9]){2,4}$/);
const ucName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/);
const schedule = fc.record(
  { cron: fc.constantFrom(...QUARTZ), timezone: fc.constantFrom(...TIME_ZONES), paused: fc.boolean() },
  { requiredKeys: ["cron"] },
);
const loadTrigger = fc.oneof(
  fc.record(
    {
      type: fc.constant("file_arrival" as const),
      minTimeBetweenTriggersSeconds: fc.integer({ min: 60, max: 86_400 }),
      waitAfterLastChangeSeconds: fc.integer({ min: 60, max: 3_600 }),
      paused: fc.boolean(),
    },
    { requiredKeys: ["type"] },
  ),
  schedule.map((s) => ({ ...s, type: "schedule" as const })),
);
const cidr = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 8, max: 32 })).map(([a, b, c, bits]) => `${a}.${b}.${c}.0/${bits}`);
const subnetId = fc
  .tuple(fc.uuid(), fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/))
  .map(([sub, name]) => `/subscriptions/${sub}/resourceGroups/rg-${name}/providers/Microsoft.Network/virtualNetworks/vnet-${name}/subnets/compute`);
const tags = fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:-]{0,15}$/), fc.string({ maxLength: 20 }), { maxKeys: 4 });

const cluster = (nodes: readonly string[]) =>
  fc
    .record({
      nodeType: fc.constantFrom(...nodes),
      extraNodes: fc.subarray([...nodes]),
      withAllowList: fc.boolean(),
      minWorkers: fc.integer({ min: 0, max: 8 }),
      extraWorkers: fc.integer({ min: 0, max: 16 }),
      runtimeVersion: fc.option(fc.constantFrom(...Object.keys(platform.supportedRuntimes)), { nil: undefined }),
      spot: fc.option(fc.boolean(), { nil: undefined }),
      taskTimeoutMinutes: fc.option(fc.integer({ min: 5, max: 24 * 60 }), { nil: undefined }),
    })
    .map(({ nodeType, extraNodes, withAllowList, minWorkers, extraWorkers, ...rest }) => ({
      nodeType,
      ...(withAllowList ? { allowedNodeTypes: [...new Set([nodeType, ...extraNodes])] } : {}),
      minWorkers,
      // 0/0 is single node; otherwise max >= min.
      maxWorkers: minWorkers === 0 && extraWorkers % 3 === 0 ? 0 : Math.max(minWorkers, 1) + extraWorkers,
      ...withoutUndefined(rest),
    }));

const storage = (cloud: "aws" | "azure") =>
  fc
    .record({
      landingPrefix: fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,15}$/), { nil: undefined }),
      retentionDays: fc.integer({ min: 1, max: 3650 }),
      coolFraction: fc.option(fc.double({ min: 0, max: 0.99, noNaN: true }), { nil: undefined }),
      privateNetworkOnly: cloud === "azure" ? fc.boolean() : fc.constant(false),
      allowedIpRanges: fc.array(cidr, { maxLength: 2 }),
    })
    .map(({ coolFraction, retentionDays, ...rest }) => ({
      retentionDays,
      ...(coolFraction === undefined || retentionDays < 2 ? {} : { coolAfterDays: Math.max(1, Math.floor(retentionDays * coolFraction)) }),
      ...withoutUndefined(rest),
    }));

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const common = {
  name: envName,
  prefix,
  mode: fc.constantFrom("development", "production"),
  catalog: fc.record({ name: ucName, create: fc.boolean(), schema: ucName, createSchema: fc.boolean() }, { requiredKeys: ["name"] }),
  notifications: fc.record({
    failureEmails: fc.subarray(["alerts@example.com", "oncall@example.org", "data.team+members@example.net"], { minLength: 1 }),
  }),
  schedules: fc.record({ extract: schedule, load: loadTrigger }),
  tags,
  runAs: fc.uuid(),
  withRunAs: fc.boolean(),
  groups: fc.option(fc.record({ platformGroup: fc.constantFrom("platform", "data-eng"), viewerGroup: fc.constantFrom("users", "analysts") }), {
    nil: undefined,
  }),
  deployRoot: fc.option(fc.constantFrom("/Workspace/Deployments/members", "/Deployments/pipelines/members"), { nil: undefined }),
  withBackend: fc.boolean(),
};

const awsEnvironment = fc
  .record({
    ...common,
    region: fc.constantFrom(...AWS_REGIONS),
    cluster: cluster(AWS_NODES),
    storage: storage("aws"),
    authType: fc.constantFrom("oauth-m2m", "github-oidc", "pat"),
  })
  .map((e) => ({
    ...environmentBase(e, "aws", "https://dbc-fuzz.cloud.databricks.com"),
    stateBackend: e.withBackend ? { type: "s3", bucket: "acme-terraform-state", region: e.region } : { type: "local" },
  }));

const azureEnvironment = fc
  .record({
    ...common,
    region: fc.constantFrom(...AZURE_LOCATIONS),
    cluster: cluster(AZURE_NODES),
    storage: storage("azure"),
    authType: fc.constantFrom(...AZURE_AD_AUTH_TYPES),
    azure: fc.record(
      {
        resourceGroupName: fc.stringMatching(/^rg-[a-z0-9-]{1,20}[a-z0-9]$/),
        createResourceGroup: fc.boolean(),
        allowedSubnetIds: fc.array(subnetId, { maxLength: 2 }),
        keyVaultSecretScope: fc.boolean(),
      },
      { requiredKeys: ["resourceGroupName"] },
    ),
  })
  .map((e) => ({
    ...environmentBase(e, "azure", "https://adb-1234567890123456.7.azuredatabricks.net"),
    azure: e.azure,
    stateBackend: e.withBackend
      ? { type: "azurerm", resourceGroupName: "rg-tfstate", storageAccountName: "acmetfstate", containerName: "tfstate" }
      : { type: "local" },
  }));

function environmentBase(e: any, cloud: "aws" | "azure", host: string): Record<string, unknown> {
  return {
    name: e.name,
    cloud,
    region: e.region,
    prefix: e.prefix,
    mode: e.mode,
    databricks: withoutUndefined({
      host,
      authType: e.authType,
      // Production requires a run-as service principal; development may run as the deployer.
      runAsServicePrincipal: e.mode === "production" || e.withRunAs ? e.runAs : undefined,
      deployRoot: e.deployRoot,
      ...(e.groups ?? {}),
    }),
    catalog: e.catalog,
    notifications: e.notifications,
    schedules: e.schedules,
    cluster: e.cluster,
    storage: e.storage,
    tags: e.tags,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// invalid mutations

const MUTATION_PATHS = [
  "name",
  "cloud",
  "region",
  "prefix",
  "mode",
  "databricks",
  "databricks.host",
  "databricks.runAsServicePrincipal",
  "databricks.deployRoot",
  "catalog.name",
  "catalog.create",
  "catalog.schema",
  "notifications.failureEmails",
  "schedules.extract.cron",
  "schedules.extract.timezone",
  "schedules.extract.paused",
  "schedules.load",
  "schedules.load.type",
  "schedules.load.minTimeBetweenTriggersSeconds",
  "cluster.nodeType",
  "cluster.allowedNodeTypes",
  "cluster.minWorkers",
  "cluster.maxWorkers",
  "cluster.runtimeVersion",
  "cluster.taskTimeoutMinutes",
  "storage.landingPrefix",
  "storage.retentionDays",
  "storage.coolAfterDays",
  "storage.privateNetworkOnly",
  "storage.allowedIpRanges",
  "azure",
  "azure.resourceGroupName",
  "tags",
  "stateBackend",
  "stateBackend.type",
] as const;
const BAD_VALUES: readonly unknown[] = [
  undefined,
  null,
  "",
  " ",
  "not a cron",
  "0 0 2 * *",
  "0 0 27 * * ?",
  "0 0 2 * * *",
  "UPPER_case",
  "x".repeat(300),
  "s3://",
  -1,
  0,
  1.5,
  1e9,
  Number.NaN,
  true,
  [],
  [""],
  ["not-an-email"],
  {},
  { unexpected: 1 },
  "aws",
  "azure",
  "../etc",
  "https://",
  "http://x.example",
];

type Mutation = { path: string; value: unknown } | { unknownKeyAt: string };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ path: fc.constantFrom(...MUTATION_PATHS), value: fc.constantFrom(...BAD_VALUES) }) },
  { weight: 1, arbitrary: fc.record({ unknownKeyAt: fc.constantFrom("", "databricks", "catalog", "cluster", "storage", "schedules.extract") }) },
);

function applyMutation(env: Record<string, any>, m: Mutation): Record<string, any> {
  const copy = structuredClone(env);
  const walk = (path: string) => {
    const keys = path === "" ? [] : path.split(".");
    let node: any = copy;
    for (const key of keys.slice(0, -1)) {
      if (node[key] === null || typeof node[key] !== "object") node[key] = {};
      node = node[key];
    }
    return { node, last: keys[keys.length - 1] };
  };
  if ("unknownKeyAt" in m) {
    const { node, last } = walk(m.unknownKeyAt === "" ? "" : `${m.unknownKeyAt}.x`);
    void last;
    (m.unknownKeyAt === "" ? copy : node).unexpectedOption = true;
  } else {
    const { node, last } = walk(m.path);
    if (m.value === undefined) delete node[last];
    else node[last] = structuredClone(m.value);
  }
  return copy;
}

const environment = fc
  .tuple(fc.oneof(awsEnvironment, azureEnvironment), fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: mutation }))
  .map(([env, m]) => (m === undefined ? env : applyMutation(env, m)));

const appConfig = fc.record({ environments: fc.array(environment, { minLength: 1, maxLength: 2 }) });

// ---------------------------------------------------------------------------------------------------------------
// the property

type Outcome = "synthesized" | "rejected";
const tally: Record<Outcome, number> = { synthesized: 0, rejected: 0 };
let stacksSynthesized = 0;

function synthesizeOrReject(config: unknown): Outcome {
  let app: ReturnType<typeof buildApp>;
  try {
    app = buildApp(config as any, Testing.app());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (process.env.FUZZ_DEBUG) console.log(error.problems.map((p) => `${p.path} ${p.expected}`).join(" | "));
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) {
      expect(problem.path).toMatch(/\S/);
      expect(problem.got).toMatch(/\S/);
      expect(problem.expected).toMatch(/\S/);
      expect(error.message).toContain(`${problem.path}: got ${problem.got}, expected ${problem.expected}`);
    }
    return "rejected";
  }
  for (const child of app.node.children) {
    const stack = child as TerraformStack;
    Testing.synth(stack);
    const pack = Aspects.of(stack).all.find((a): a is PolicyPack => a instanceof PolicyPack);
    expect(pack).toBeDefined();
    const errors = blockingFindings(pack!.evaluate(stack));
    if (errors.length > 0) throw new Error(`policy errors in ${stack.node.id}:\n${errors.map(formatFinding).join("\n")}`);
    stacksSynthesized += 1;
  }
  return "synthesized";
}

test(`generated configurations synthesize cleanly or fail validation (${RUNS} runs)`, () => {
  const started = Date.now();
  fc.assert(
    fc.property(appConfig, (config) => {
      tally[synthesizeOrReject(config)] += 1;
    }),
    { numRuns: RUNS, seed: SEED, path: PATH },
  );
  // The generator must exercise both outcomes, or the property proves little.
  expect(tally.synthesized).toBeGreaterThan(RUNS / 5);
  expect(tally.rejected).toBeGreaterThan(RUNS / 10);
  console.log(
    `config fuzz: ${RUNS} configs (${tally.synthesized} synthesized, ${stacksSynthesized} stacks; ${tally.rejected} rejected by validation) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}, 120_000);

test("regressions found by fuzzing stay fixed", () => {
  const aws = fc.sample(awsEnvironment, { numRuns: 1, seed: 1 })[0] as Record<string, any>;
  // An AWS environment promising private-network storage: nothing on AWS implements it, so validation refuses it.
  expect(synthesizeOrReject({ environments: [{ ...aws, storage: { ...aws.storage, privateNetworkOnly: true } }] })).toBe("rejected");
  // A prefix with "--" gave a Key Vault name the SecretsKeyVault construct throws on; validation now refuses it.
  const azure = fc.sample(azureEnvironment, { numRuns: 1, seed: 1 })[0] as Record<string, any>;
  const vaultEnv = {
    ...azure,
    name: "dev",
    prefix: "a--b",
    storage: { ...azure.storage, privateNetworkOnly: false },
    azure: { resourceGroupName: "rg-x", keyVaultSecretScope: true },
  };
  expect(synthesizeOrReject({ environments: [vaultEnv] })).toBe("rejected");
  expect(synthesizeOrReject({ environments: [{ ...vaultEnv, prefix: "a-b" }] })).toBe("synthesized");
});
