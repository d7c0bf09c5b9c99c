import contract from "../notebooks/members_pipeline/contract.json";
import { config as shipped } from "../stacks/config/environments";
import platform from "../stacks/config/platform.json";
import type { AppConfigInput, EnvironmentInput } from "../stacks/config/schema";
import { ConfigError, type ConfigProblem, validateConfig } from "../stacks/config/validate";
import prices from "../tools/cost/prices.json";
import { testConfig } from "./fixtures/test-config";

/** A complete, valid AWS environment that each case breaks in one place. */
/** A service principal application id for fixtures (not an example value: examples repeat one digit). */
const RUN_AS = "5f0c2a52-8d4e-4b7a-9c2e-7a1d3e0b6f90";

function awsEnv(overrides: Record<string, unknown> = {}): EnvironmentInput {
  return {
    name: "dev",
    cloud: "aws",
    region: "eu-west-1",
    prefix: "acme-members",
    mode: "development",
    // CI-deployed (remote state): jobs run as a dedicated service principal.
    databricks: { host: "https://dbc-example.cloud.databricks.com", authType: "oauth-m2m", runAsServicePrincipal: RUN_AS },
    catalog: { name: "members_dev" },
    notifications: { failureEmails: ["alerts@example.com"] },
    schedules: { extract: { cron: "0 0 2 * * ?" }, load: { type: "file_arrival" } },
    cluster: { nodeType: "m6gd.large", minWorkers: 0, maxWorkers: 2 },
    storage: { retentionDays: 30 },
    stateBackend: { type: "s3", bucket: "acme-state", region: "eu-west-1" },
    ...overrides,
  } as EnvironmentInput;
}

function azureEnv(overrides: Record<string, unknown> = {}): EnvironmentInput {
  return awsEnv({
    name: "azdev",
    cloud: "azure",
    region: "westeurope",
    prefix: "acme",
    cluster: { nodeType: "Standard_D4ads_v5", minWorkers: 1, maxWorkers: 2 },
    azure: { resourceGroupName: "rg-members" },
    databricks: { host: "https://adb-0000000000000000.0.azuredatabricks.net", authType: "github-oidc-azure", runAsServicePrincipal: RUN_AS },
    stateBackend: { type: "azurerm", resourceGroupName: "rg-state", storageAccountName: "acmestate", containerName: "tfstate" },
    ...overrides,
  });
}

function problemsOf(config: unknown): ConfigProblem[] {
  try {
    validateConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected the configuration to be rejected");
}

/** Asserts exactly one problem, at `path`, whose message quotes the offending value. */
function expectSingleProblem(config: unknown, path: string, got: string, expected?: RegExp): ConfigProblem {
  const problems = problemsOf(config);
  expect(problems).toHaveLength(1);
  const [problem] = problems;
  expect(problem.path).toBe(path);
  expect(problem.got).toBe(got);
  if (expected) expect(problem.expected).toMatch(expected);
  return problem;
}

const one = (env: EnvironmentInput): AppConfigInput => ({ environments: [env] });

describe("the test configuration (fixtures/test-config.ts) and the shipped one", () => {
  const environments = validateConfig(testConfig);

  test("the test configuration declares a development and two production environments on AWS and one on Azure", () => {
    const byName = Object.fromEntries(environments.map((e) => [e.name, [e.cloud, e.mode]]));
    expect(byName).toEqual({
      sandbox: ["aws", "development"],
      preview: ["aws", "production"],
      live: ["aws", "production"],
      lab: ["azure", "development"],
    });
  });

  test("development defaults to paused schedules and production to running ones (Asset Bundles convention)", () => {
    const dev = environments.find((e) => e.name === "sandbox")!;
    const prod = environments.find((e) => e.name === "live")!;
    expect([dev.extractPaused, dev.loadPaused]).toEqual([true, true]);
    expect([prod.extractPaused, prod.loadPaused]).toEqual([false, false]);
  });

  test("every environment, the shipped ones included, pins a runtime whose Spark line the notebooks are tested on", () => {
    for (const env of [...environments, ...validateConfig(shipped)]) {
      expect(platform.supportedRuntimes).toHaveProperty([env.cluster.runtimeVersion]);
    }
  });

  test("an explicit paused flag overrides the mode default", () => {
    const [env] = validateConfig(one(awsEnv({ schedules: { extract: { cron: "0 0 2 * * ?", paused: false }, load: { type: "file_arrival" } } })));
    expect(env.extractPaused).toBe(false);
    expect(env.loadPaused).toBe(true);
  });
});

describe("load settings come from the notebook contract (contract.json)", () => {
  const L = contract.notebooks.load;

  test("defaults are the widgets' defaults", () => {
    const [env] = validateConfig(one(awsEnv()));
    expect(env.load).toEqual({
      maxDeletedShare: Number(L.max_deleted_share.default),
      maxQuarantinedShare: Number(L.max_quarantined_share.default),
      piiRetentionDays: Number(L.pii_retention_days.default),
      historyRetentionDays: Number(L.history_retention_days.default),
    });
    expect(env.databricks.piiReaderGroup).toBe(L.pii_reader_group.default);
  });

  test("bounds are the widget parser's bounds", () => {
    const at = (load: Record<string, number>) => problemsOf(one(awsEnv({ load }))).map((p) => p.path);
    expect(() => validateConfig(one(awsEnv({ load: { historyRetentionDays: L.history_retention_days.max } })))).not.toThrow();
    expect(at({ historyRetentionDays: L.history_retention_days.max + 1 })).toEqual(["environments.dev.load.historyRetentionDays"]);
    expect(at({ piiRetentionDays: L.pii_retention_days.min - 1 })).toEqual(["environments.dev.load.piiRetentionDays"]);
    expect(at({ maxDeletedShare: L.max_deleted_share.max + 0.5 })).toEqual(["environments.dev.load.maxDeletedShare"]);
  });
});

describe("invalid configuration is rejected with path and value", () => {
  test.each(["cluster", "storage", "databricks", "notifications", "schedules"])(
    "a missing %s is reported as missing, not as a TypeError from a cross-field check",
    (field) => {
      const env = awsEnv() as Record<string, unknown>;
      delete env[field];
      expectSingleProblem(one(env as EnvironmentInput), `environments.dev.${field}`, "nothing (the field is required)", /object/);
      expectSingleProblem(one({ ...env, [field]: null } as EnvironmentInput), `environments.dev.${field}`, "null", /object/);
    },
  );

  test("wrong type: retentionDays as a string", () => {
    expectSingleProblem(one(awsEnv({ storage: { retentionDays: "30" } })), "environments.dev.storage.retentionDays", '"30"', /number/);
  });

  test("unknown cloud", () => {
    expectSingleProblem(one(awsEnv({ cloud: "gcp" })), "environments.dev.cloud", '"gcp"', /"aws" or "azure"/);
  });

  test("quartz cron with five fields (unix cron)", () => {
    expectSingleProblem(
      one(awsEnv({ schedules: { extract: { cron: "0 0 2 * *" }, load: { type: "file_arrival" } } })),
      "environments.dev.schedules.extract.cron",
      '"0 0 2 * *"',
      /6- or 7-field quartz expression/,
    );
  });

  test("quartz cron with characters cron does not know", () => {
    expectSingleProblem(
      one(awsEnv({ schedules: { extract: { cron: "0 0 2 * * ? !" }, load: { type: "file_arrival" } } })),
      "environments.dev.schedules.extract.cron",
      '"0 0 2 * * ? !"',
    );
  });

  test("load schedule with an invalid cron", () => {
    expectSingleProblem(
      one(awsEnv({ schedules: { extract: { cron: "0 0 2 * * ?" }, load: { type: "schedule", cron: "daily" } } })),
      "environments.dev.schedules.load.cron",
      '"daily"',
    );
  });

  test("unknown load trigger type", () => {
    expectSingleProblem(
      one(awsEnv({ schedules: { extract: { cron: "0 0 2 * * ?" }, load: { type: "continuous" } } })),
      "environments.dev.schedules.load.type",
      '"continuous"',
      /file_arrival/,
    );
  });

  test("unknown time zone", () => {
    expectSingleProblem(
      one(awsEnv({ schedules: { extract: { cron: "0 0 2 * * ?", timezone: "Mars/Olympus" }, load: { type: "file_arrival" } } })),
      "environments.dev.schedules.extract.timezone",
      '"Mars/Olympus"',
      /IANA/,
    );
  });

  test("unknown AWS region", () => {
    expectSingleProblem(one(awsEnv({ region: "eu-west-9" })), "environments.dev.region", '"eu-west-9"', /AWS region/);
  });

  test("an Azure location on an AWS environment", () => {
    expectSingleProblem(one(awsEnv({ region: "westeurope" })), "environments.dev.region", '"westeurope"');
  });

  test("unknown Azure location", () => {
    expectSingleProblem(one(azureEnv({ region: "eu-west-1" })), "environments.azdev.region", '"eu-west-1"', /Azure location/);
  });

  test("prefix that breaks S3 bucket naming (reserved xn-- prefix)", () => {
    expectSingleProblem(one(awsEnv({ prefix: "xn--members" })), "environments.dev.prefix", '"xn--members"', /S3 bucket name/);
  });

  test("prefix with upper-case letters", () => {
    expectSingleProblem(one(awsEnv({ prefix: "Acme" })), "environments.dev.prefix", '"Acme"', /lower-case/);
  });

  test("prefix that makes the storage account name longer than 24 characters", () => {
    const problem = expectSingleProblem(
      one(azureEnv({ prefix: "acme-data-platform-x" })),
      "environments.azdev.prefix",
      '"acme-data-platform-x"',
      /storage account name/,
    );
    expect(problem.expected).toContain("acmedataplatformxazdevlake");
  });

  test("an AWS environment's prefix is held to S3 bucket naming only, not to the Azure storage account's 24 characters", () => {
    expect(() => validateConfig(one(awsEnv({ name: "staging", prefix: "contoso-members" })))).not.toThrow();
  });

  test("prefix that makes the Key Vault name longer than 24 characters, when the vault is used", () => {
    const prefix = "a-b-c-d-e-f-g-h-i";
    const problem = expectSingleProblem(
      one(azureEnv({ prefix, azure: { resourceGroupName: "rg", keyVaultSecretScope: true } })),
      "environments.azdev.prefix",
      `"${prefix}"`,
      /Key Vault name/,
    );
    expect(problem.expected).toContain("a-b-c-d-e-f-g-h-i-azdev-kv");
    expect(() => validateConfig(one(azureEnv({ prefix })))).not.toThrow();
  });

  test("duplicate environment names", () => {
    // Another catalog too: the same one in the same region would be a second problem (one catalog per metastore).
    const problems = problemsOf({ environments: [awsEnv(), awsEnv({ prefix: "other", catalog: { name: "other_dev" } })] });
    expect(problems).toEqual([expect.objectContaining({ path: "environments[1].name", got: '"dev"', expected: expect.stringMatching(/unique/) })]);
  });

  test("duplicate environment names differing only in case are still duplicates", () => {
    const problems = problemsOf({ environments: [awsEnv(), awsEnv({ name: "DEV" })] });
    expect(problems.map((p) => `${p.path} ${p.got}`)).toContain('environments[1].name "DEV"');
  });

  test("missing required field (databricks host)", () => {
    expectSingleProblem(
      one(awsEnv({ databricks: { authType: "oauth-m2m" } })),
      "environments.dev.databricks.host",
      "nothing (the field is required)",
      /https:\/\/ workspace URL/,
    );
  });

  test("missing environments list", () => {
    expectSingleProblem({}, "environments", "nothing (the field is required)", /array/);
  });

  test("invalid failure e-mail", () => {
    expectSingleProblem(
      one(awsEnv({ notifications: { failureEmails: ["alerts@example.com", "not-an-email"] } })),
      "environments.dev.notifications.failureEmails[1]",
      '"not-an-email"',
      /e-mail/,
    );
  });

  test("no failure e-mail at all", () => {
    expectSingleProblem(one(awsEnv({ notifications: { failureEmails: [] } })), "environments.dev.notifications.failureEmails", "[]", /at least one/);
  });

  test("min workers above max workers", () => {
    expectSingleProblem(
      one(awsEnv({ cluster: { nodeType: "m6gd.large", minWorkers: 4, maxWorkers: 2 } })),
      "environments.dev.cluster.minWorkers",
      "4",
      /<= maxWorkers \(2\)/,
    );
  });

  test("negative retention", () => {
    expectSingleProblem(one(awsEnv({ storage: { retentionDays: -1 } })), "environments.dev.storage.retentionDays", "-1", />= 1/);
  });

  test("tiering after the data has already expired", () => {
    expectSingleProblem(
      one(awsEnv({ storage: { retentionDays: 10, coolAfterDays: 30 } })),
      "environments.dev.storage.coolAfterDays",
      "30",
      /retentionDays \(10\)/,
    );
  });

  test("node type outside the allow-list", () => {
    expectSingleProblem(
      one(awsEnv({ cluster: { nodeType: "p4d.24xlarge", allowedNodeTypes: ["m6gd.large"], minWorkers: 0, maxWorkers: 1 } })),
      "environments.dev.cluster.nodeType",
      '"p4d.24xlarge"',
      /allowedNodeTypes/,
    );
  });

  test("runtime the notebooks are not tested on", () => {
    expectSingleProblem(
      one(awsEnv({ cluster: { nodeType: "m6gd.large", minWorkers: 0, maxWorkers: 1, runtimeVersion: "13.3.x-scala2.12" } })),
      "environments.dev.cluster.runtimeVersion",
      '"13.3.x-scala2.12"',
      /17\.3\.x-scala2\.13/,
    );
  });

  test("workspace host that is not https", () => {
    expectSingleProblem(
      one(awsEnv({ databricks: { host: "http://dbc-example.cloud.databricks.com", authType: "oauth-m2m" } })),
      "environments.dev.databricks.host",
      '"http://dbc-example.cloud.databricks.com"',
      /https/,
    );
  });

  test("run-as principal that is not an application id", () => {
    expectSingleProblem(
      one(awsEnv({ databricks: { host: "https://dbc-example.cloud.databricks.com", authType: "oauth-m2m", runAsServicePrincipal: "etl-bot" } })),
      "environments.dev.databricks.runAsServicePrincipal",
      '"etl-bot"',
      /UUID/,
    );
  });

  test("catalog name Unity Catalog would need quoting for", () => {
    expectSingleProblem(one(awsEnv({ catalog: { name: "Members-Dev" } })), "environments.dev.catalog.name", '"Members-Dev"', /identifier/);
  });

  test("misspelt key is reported, not ignored", () => {
    expectSingleProblem(one(awsEnv({ retention: 30 })), "environments.dev", '"retention"', /known keys/);
  });

  test("Azure environment without its azure block", () => {
    expectSingleProblem(one(azureEnv({ azure: undefined })), "environments.azdev.azure", "undefined", /resourceGroupName/);
  });

  test("state backend of the other cloud", () => {
    expectSingleProblem(
      one(azureEnv({ stateBackend: { type: "s3", bucket: "state-bucket", region: "eu-west-1" } })),
      "environments.azdev.stateBackend.type",
      '"s3"',
      /azurerm/,
    );
  });

  test("environment name that cannot be a stack name", () => {
    expectSingleProblem(one(awsEnv({ name: "Dev Env" })), "environments[0].name", '"Dev Env"', /lower-case/);
  });

  test("environment names of 2 to 16 characters: `qa` is one, a single letter is not", () => {
    expect(() => validateConfig(one(awsEnv({ name: "qa", catalog: { name: "members_qa" } })))).not.toThrow();
    expectSingleProblem(one(awsEnv({ name: "q" })), "environments[0].name", '"q"', /2-16 characters/);
  });

  test("several problems are reported together in one error", () => {
    const env = awsEnv({
      cloud: "aws",
      region: "mars-1",
      schedules: { extract: { cron: "0 0 2 * *" }, load: { type: "file_arrival" } },
      cluster: { nodeType: "m6gd.large", minWorkers: 3, maxWorkers: 1 },
      notifications: { failureEmails: ["nope"] },
    });
    let error: ConfigError | undefined;
    try {
      validateConfig({ environments: [env, azureEnv({ storage: { retentionDays: 0 } })] });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        "environments.dev.region",
        "environments.dev.schedules.extract.cron",
        "environments.dev.cluster.minWorkers",
        "environments.dev.notifications.failureEmails[0]",
        "environments.azdev.storage.retentionDays",
      ]),
    );
    expect(error!.message).toContain('environments.dev.schedules.extract.cron: got "0 0 2 * *", expected a 6- or 7-field quartz expression');
    expect(error!.message).toMatch(/^Invalid configuration \(5 problems\)/);
  });
});

/**
 * Issue 12: an environment written the old way (before the deployability fixes) gets one clear error per item.
 * Each case takes a valid environment and reverts one fix.
 */
describe("deployability: environments written the old way are rejected", () => {
  const SP = "5f0c2a52-8d4e-4b7a-9c2e-7a1d3e0b6f90";
  const host = "https://dbc-example.cloud.databricks.com";

  test("item 1: no state backend (local state by omission) is refused; local is an explicit opt-in", () => {
    const { stateBackend: _omitted, ...withoutBackend } = awsEnv() as EnvironmentInput & { stateBackend?: unknown };
    const problem = expectSingleProblem(one(withoutBackend as EnvironmentInput), "environments.dev.stateBackend", "nothing (the field is required)");
    expect(problem.expected).toMatch(/CI deploys need remote state/);
    const [env] = validateConfig(one(awsEnv({ stateBackend: { type: "local" } })));
    expect(env.stateBackend).toEqual({ type: "local" });
  });

  test("item 2: no Databricks auth_type", () => {
    const problem = expectSingleProblem(
      one(awsEnv({ databricks: { host } })),
      "environments.dev.databricks.authType",
      "nothing (the field is required)",
    );
    expect(problem.expected).toMatch(/oauth-m2m/);
  });

  test("item 2: an Azure AD auth type on an AWS workspace", () => {
    expectSingleProblem(
      one(awsEnv({ databricks: { host, authType: "azure-client-secret" } })),
      "environments.dev.databricks.authType",
      '"azure-client-secret"',
      /AWS/,
    );
  });

  test("item 3: managed storage folder equal to the landing folder", () => {
    expectSingleProblem(
      one(awsEnv({ storage: { retentionDays: 30, landingPrefix: "data", managedPrefix: "data" } })),
      "environments.dev.storage.managedPrefix",
      '"data"',
      /overlapping external locations/,
    );
  });

  test("item 5: private storage without the job clusters' subnets", () => {
    const problem = expectSingleProblem(
      one(azureEnv({ storage: { retentionDays: 30, privateNetworkOnly: true } })),
      "environments.azdev.azure.allowedSubnetIds",
      "[]",
    );
    expect(problem.expected).toMatch(/service endpoint/);
  });

  test.each([
    ["/Shared/members-pipeline/dev", /not under \/Shared/],
    ["/Workspace/Shared/pipelines/members", /not under \/Shared/],
    ["/Users/someone@example.com/members", /another user's home/],
  ])("item 6: deploy root %s", (deployRoot, expected) => {
    expectSingleProblem(
      one(awsEnv({ databricks: { host, authType: "oauth-m2m", runAsServicePrincipal: SP, deployRoot } })),
      "environments.dev.databricks.deployRoot",
      JSON.stringify(deployRoot),
      expected,
    );
  });

  test("item 6: the run-as service principal's own home folder is accepted", () => {
    const [env] = validateConfig(
      one(awsEnv({ databricks: { host, authType: "oauth-m2m", runAsServicePrincipal: SP, deployRoot: `/Users/${SP}/members` } })),
    );
    expect(env.deployRoot).toBe(`/Users/${SP}/members`);
  });

  test("item 7: Key Vault-backed scope with OAuth M2M", () => {
    const problem = expectSingleProblem(
      one(azureEnv({ databricks: { host, authType: "oauth-m2m" }, azure: { resourceGroupName: "rg-members", keyVaultSecretScope: true } })),
      "environments.azdev.databricks.authType",
      '"oauth-m2m"',
    );
    expect(problem.expected).toMatch(/Azure AD auth type/);
  });

  test.each([
    ["no run-as principal", undefined, "undefined"],
    ["the all-zero placeholder", "00000000-0000-0000-0000-000000000000", '"00000000-0000-0000-0000-000000000000"'],
  ])("item 12: production with %s", (_case, runAsServicePrincipal, got) => {
    const problem = expectSingleProblem(
      one(
        awsEnv({
          mode: "production",
          databricks: { host, authType: "oauth-m2m", ...(runAsServicePrincipal ? { runAsServicePrincipal } : {}) },
        }),
      ),
      "environments.dev.databricks.runAsServicePrincipal",
      got,
    );
    expect(problem.expected).toMatch(/dedicated, non-admin service principal the production jobs run as/);
  });

  test("item 3 (security): a development environment CI deploys (remote state) needs a run-as principal; a hand-deployed one (local state) does not", () => {
    const problem = expectSingleProblem(
      one(awsEnv({ databricks: { host, authType: "oauth-m2m" } })),
      "environments.dev.databricks.runAsServicePrincipal",
      "undefined",
    );
    expect(problem.expected).toMatch(/dedicated, non-admin service principal the CI-deployed jobs run as/);
    const [local] = validateConfig(one(awsEnv({ databricks: { host, authType: "oauth-m2m" }, stateBackend: { type: "local" } })));
    expect(local.databricks.runAsServicePrincipal).toBeUndefined();
  });

  test("protection defaults: on in production, off in development, configurable", () => {
    const [prod] = validateConfig(one(awsEnv({ mode: "production", databricks: { host, authType: "oauth-m2m", runAsServicePrincipal: SP } })));
    const [dev] = validateConfig(one(awsEnv()));
    const [devProtected] = validateConfig(one(awsEnv({ protectStatefulResources: true })));
    expect([prod.protectStatefulResources, dev.protectStatefulResources, devProtected.protectStatefulResources]).toEqual([true, false, true]);
  });
});

/** The synth-time checks of what would otherwise fail at 02:00 (or at the first deploy). */
describe("caught at synth instead of at run or deploy time", () => {
  const withCron = (cron: string) => one(awsEnv({ name: "prod", schedules: { extract: { cron }, load: { type: "file_arrival" } } }));
  const BOTH_DAYS =
    '"?" in exactly one of day-of-month (field 4) and day-of-week (field 6) of a quartz expression: Quartz, and so Databricks, does not support specifying both';

  test("quartz cron: the message names the field and its range", () => {
    expect(() => validateConfig(withCron("0 0 27 * * ?"))).toThrow(
      'environments.prod.schedules.extract.cron: got "0 0 27 * * ?", expected hours 0-23 (field 3 of a quartz expression)',
    );
  });

  test.each([
    ["60 0 2 * * ?", "seconds 0-59 (field 1 of a quartz expression)"],
    ["0 0/60 * * * ?", "minutes 0-59 (field 2 of a quartz expression)"],
    ["0 0 2 0 * ?", "day-of-month 1-31, L, L-n, nW, LW or ? (field 4 of a quartz expression)"],
    ["0 0 2 1,L * ?", "day-of-month 1-31, L, L-n, nW, LW or ? (field 4 of a quartz expression)"],
    ["0 0 2 * 13 ?", "month 1-12 or JAN-DEC (field 5 of a quartz expression)"],
    ["0 0 2 ? * 0", "day-of-week 1-7 or SUN-SAT, L, nL, n#1-5 or ? (field 6 of a quartz expression)"],
    ["0 0 2 ? * MON#6", "day-of-week 1-7 or SUN-SAT, L, nL, n#1-5 or ? (field 6 of a quartz expression)"],
    ["0 0 2 * * ? 2100", "year 1970-2099 (field 7 of a quartz expression)"],
    ["0 0 2 * * *", BOTH_DAYS],
    ["0 0 2 * * MON", BOTH_DAYS],
    ["0 0 2 ? * ?", BOTH_DAYS],
  ])("quartz cron %s", (cron, expected) => {
    const problem = expectSingleProblem(withCron(cron), "environments.prod.schedules.extract.cron", JSON.stringify(cron));
    expect(problem.expected).toBe(expected);
  });

  test.each([
    "0 0 2 * * ?",
    "0 0/15 * * * ?",
    "*/30 5-10 22-2 ? * MON-FRI",
    "0 0 0 L * ?",
    "0 0 0 L-3 * ?",
    "0 0 0 LW * ?",
    "0 0 0 15W nov-feb ?",
    "0 0 0 ? * 6L",
    "0 0 0 ? * FRI#3",
    "0 0 0 1 JAN ? 2030-2040",
    "0 0 0 ? * * *",
  ])("quartz cron %s is accepted", (cron) => {
    expect(() => validateConfig(withCron(cron))).not.toThrow();
  });

  test("quartz cron of a scheduled load is checked the same way", () => {
    const problem = expectSingleProblem(
      one(awsEnv({ schedules: { extract: { cron: "0 0 2 * * ?" }, load: { type: "schedule", cron: "0 0 4 * * *" } } })),
      "environments.dev.schedules.load.cron",
      '"0 0 4 * * *"',
    );
    expect(problem.expected).toBe(BOTH_DAYS);
  });

  // The expected list is the price list's own (tools/cost/prices.json), so adding a node type there keeps this passing.
  const known = (cloud: string) =>
    Object.entries(prices.nodeTypes)
      .filter(([, price]) => price.cloud === cloud)
      .map(([nodeType]) => nodeType);
  const unknownNodeType = (cloud: string) =>
    `a node type the cost model knows for ${cloud} (${known(cloud).slice(0, 4).join(", ")}${known(cloud).length > 4 ? ", ..." : ""}); if it is real, add it to tools/cost/prices.json`;

  test("node type the price list does not know (a typo)", () => {
    const problem = expectSingleProblem(
      one(awsEnv({ cluster: { nodeType: "m6gd.xlarg", minWorkers: 0, maxWorkers: 1 } })),
      "environments.dev.cluster.nodeType",
      '"m6gd.xlarg"',
    );
    expect(problem.expected).toBe(unknownNodeType("aws"));
    expect(unknownNodeType("aws")).toMatch(/^a node type the cost model knows for aws \(m6gd\.large, /);
  });

  test("node type of the other cloud, in the allow-list", () => {
    const cluster = { nodeType: "Standard_D4ads_v5", allowedNodeTypes: ["Standard_D4ads_v5", "m6gd.large"], minWorkers: 1, maxWorkers: 2 };
    const problem = expectSingleProblem(one(azureEnv({ cluster })), "environments.azdev.cluster.allowedNodeTypes[1]", '"m6gd.large"');
    expect(problem.expected).toBe(unknownNodeType("azure"));
  });

  describe("one catalog name per metastore (one metastore per cloud region and account)", () => {
    const dev = awsEnv({ catalog: { name: "members" } });
    const prod = (catalog: Record<string, unknown>, region = "eu-west-1") =>
      awsEnv({ name: "prod", region, catalog, stateBackend: { type: "s3", bucket: "acme-state", region } });

    test("two environments in one region naming the same catalog: an error on the later one, naming the other", () => {
      expect(problemsOf({ environments: [dev, prod({ name: "members" })] })).toEqual([
        {
          path: "environments.prod.catalog.name",
          got: '"members"',
          expected:
            'a catalog name environment "dev" does not use: both are on aws eu-west-1, so they share a metastore (one per region per account), and "dev" creates it',
        },
      ]);
    });

    test("the later one creating a catalog the earlier one only references", () => {
      const [problem] = problemsOf({ environments: [awsEnv({ catalog: { name: "members", create: false } }), prod({ name: "members" })] });
      expect(problem.expected).toMatch(/share a metastore .*, and this one creates it$/);
    });

    test("other regions, other names, or both referencing an existing catalog are fine", () => {
      expect(() => validateConfig({ environments: [dev, prod({ name: "members" }, "eu-central-1")] })).not.toThrow();
      expect(() => validateConfig({ environments: [dev, prod({ name: "members_prod" })] })).not.toThrow();
      const existing = { name: "shared", create: false };
      expect(() => validateConfig({ environments: [awsEnv({ catalog: existing }), prod(existing)] })).not.toThrow();
    });
  });
});
