/**
 * Example and placeholder values (stacks/config/placeholders.ts) never reach a deploy: validation lists them, and a
 * stack holding any gets a terraform_data guard whose precondition fails every plan, plus a warning at synth.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type TerraformStack, Testing } from "cdktf";
import { buildApp, runByCdktfCli, synthWarnings } from "../stacks/app";
import { PLACEHOLDER_GUARD_ID, placeholderMessage } from "../stacks/config/placeholder-guard";
import { ciPlaceholderProblems, EXAMPLE_GITHUB_REPOSITORY } from "../stacks/config/placeholders";
import type { EnvironmentInput } from "../stacks/config/schema";
import { formatProblem, validateConfig } from "../stacks/config/validate";
import { testConfig, testEnv } from "./fixtures/test-config";
import { synthAll, type TerraformJson } from "./synth-helpers";

/** The test configuration's production environment (live) with every example value replaced by a real-looking one, as a fork would. */
const realProd: EnvironmentInput = {
  ...testEnv("live"),
  databricks: {
    ...testEnv("live").databricks,
    host: "https://dbc-3f9a2c1e-77b0.cloud.databricks.com",
    runAsServicePrincipal: "5f0c2a52-8d4e-4b7a-9c2e-7a1d3e0b6f90",
    platformGroup: "data-platform",
    // Explicitly the schema defaults: a decision written down is no placeholder.
    viewerGroup: "users",
    piiReaderGroup: "members-pii-readers",
    readerGroups: ["bi-analysts"],
  },
  notifications: { failureEmails: ["data-alerts@globex.io"] },
  stateBackend: { type: "s3", bucket: "globex-tfstate-eu", region: "eu-west-1" },
};

const validated = (env: EnvironmentInput) => validateConfig({ environments: [env] })[0];
const placeholderPaths = (env: EnvironmentInput) => validated(env).placeholders.map((p) => p.path);

describe("placeholder fields", () => {
  test("an environment holding the example values (the test configuration's live): every example field, with its value", () => {
    const prod = validateConfig(testConfig).find((e) => e.name === "live")!;
    expect(prod.placeholders.map((p) => p.path)).toEqual([
      "environments.live.databricks.host",
      "environments.live.databricks.runAsServicePrincipal",
      "environments.live.databricks.platformGroup",
      "environments.live.databricks.viewerGroup",
      "environments.live.databricks.readerGroups[0]",
      "environments.live.databricks.piiReaderGroup",
      "environments.live.notifications.failureEmails[0]",
      "environments.live.stateBackend.bucket",
    ]);
    expect(prod.placeholders.map(formatProblem)).toEqual(
      expect.arrayContaining([
        'environments.live.databricks.platformGroup: got "members-platform" (the schema default), expected the account group that manages and runs the jobs, set explicitly',
        'environments.live.databricks.readerGroups[0]: got "members-analysts", expected the account groups that may read the member tables ([] for none), not an example name',
      ]),
    );
  });

  test("an Azure environment holding the example values (lab): its all-zero workspace, subnets and example state account", () => {
    const paths = validateConfig(testConfig)
      .find((e) => e.name === "lab")!
      .placeholders.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "environments.lab.databricks.host",
        "environments.lab.azure.allowedSubnetIds[0]",
        "environments.lab.azure.allowedSubnetIds[1]",
        "environments.lab.stateBackend.storageAccountName",
      ]),
    );
  });

  test("no environment holding example values is deployable as it is", () => {
    for (const env of validateConfig(testConfig)) expect(env.placeholders.length).toBeGreaterThan(0);
  });

  test("real-looking values (a fork's): none", () => {
    expect(placeholderPaths(realProd)).toEqual([]);
  });

  test.each([
    ["databricks.host", { databricks: { ...realProd.databricks, host: "https://my-example-workspace.cloud.databricks.com" } }],
    // Validation already refuses the all-zero id in production and with remote state; by hand (local state) in
    // development it is a placeholder.
    [
      "databricks.runAsServicePrincipal",
      {
        mode: "development",
        stateBackend: { type: "local" },
        databricks: { ...realProd.databricks, runAsServicePrincipal: "00000000-0000-0000-0000-000000000000" },
      },
    ],
    ["databricks.runAsServicePrincipal", { databricks: { ...realProd.databricks, runAsServicePrincipal: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa" } }],
    ["databricks.platformGroup", { databricks: { ...realProd.databricks, platformGroup: "members-analysts" } }],
    ["databricks.piiReaderGroup", { databricks: { ...realProd.databricks, piiReaderGroup: undefined } }],
    ["notifications.failureEmails[1]", { notifications: { failureEmails: ["data-alerts@globex.io", "oncall@mail.example.net"] } }],
    ["stateBackend.bucket", { stateBackend: { type: "s3", bucket: "my-example-state", region: "eu-west-1" } }],
  ])("one placeholder: %s", (path, change) => {
    expect(placeholderPaths({ ...realProd, ...change } as EnvironmentInput)).toEqual([`environments.live.${path}`]);
  });

  test("Azure: the all-zero subscription in a subnet id, an example state account", () => {
    const azure = testEnv("lab");
    const real = { ...azure, databricks: realProd.databricks, notifications: realProd.notifications } as EnvironmentInput;
    const subnet = (subscription: string) =>
      `/subscriptions/${subscription}/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/host`;
    const env = {
      ...real,
      databricks: { ...real.databricks, host: "https://adb-3141592653589793.13.azuredatabricks.net" },
      azure: { ...azure.azure!, allowedSubnetIds: [subnet("8d3f0a52-1b2c-4d5e-9f60-7a8b9c0d1e2f"), subnet("00000000-0000-0000-0000-000000000000")] },
    } as EnvironmentInput;
    expect(placeholderPaths(env)).toEqual(["environments.lab.azure.allowedSubnetIds[1]", "environments.lab.stateBackend.storageAccountName"]);
  });
});

test("the CI repository: the example one (EXAMPLE_GITHUB_REPOSITORY) and any saying example are placeholders, a fork's is not", () => {
  const paths = (repository: string) => ciPlaceholderProblems({ repository }).map((p) => p.path);
  expect(paths(EXAMPLE_GITHUB_REPOSITORY)).toEqual(["github.repository"]);
  expect(paths("globex-example/lakehouse")).toEqual(["github.repository"]);
  expect(paths("contoso/members-lakehouse")).toEqual([]);
});

describe("the deploy guard", () => {
  /** The synthesized JSON with the locals the guard's condition reads. */
  type StackJson = TerraformJson & { locals?: Record<string, unknown> };
  const guardOf = (json: StackJson) => json.resource?.terraform_data?.[PLACEHOLDER_GUARD_ID];
  const { stacks } = synthAll({
    environments: [testEnv("live"), { ...realProd, name: "ready", prefix: "globex-ready", catalog: { name: "ready" } }],
  });

  test("a stack with placeholders gets a terraform_data whose precondition lists them; one without gets none", () => {
    const prod = validateConfig(testConfig).find((e) => e.name === "live")!;
    expect(guardOf(stacks["members-live"])).toMatchObject({
      lifecycle: { precondition: [{ condition: "${(length(local.placeholder_fields) < 1)}", error_message: placeholderMessage(prod) }] },
    });
    expect((stacks["members-live"] as StackJson).locals?.placeholder_fields).toEqual(prod.placeholders.map((p) => p.path));
    expect(placeholderMessage(prod)).toMatch(
      /^Stack members-live still holds example or placeholder values and must not be deployed\. Replace them in stacks\/config\/environments\.ts:\n {2}- environments\.live\.databricks\.host: got "https:\/\/dbc-example-live\.cloud\.databricks\.com", expected /,
    );

    expect(guardOf(stacks["members-ready"])).toBeUndefined();
    // Its only terraform_data is the run-as admin check (RunAsNotAdmin), no guard.
    expect(Object.keys(stacks["members-ready"].resource?.terraform_data ?? {}).filter((id) => !id.includes("run-as-not-admin"))).toEqual([]);
    expect((stacks["members-ready"] as StackJson).locals?.placeholder_fields).toBeUndefined();
  });

  test("configured values stay literal in the message (Terraform would read ${ as a template)", () => {
    const env = { ...realProd, stateBackend: { type: "s3", bucket: "example-${b}%{c}", region: "eu-west-1" } } as EnvironmentInput;
    const stack = buildApp({ environments: [env] }, Testing.app()).node.children[0] as TerraformStack;
    const json: StackJson = JSON.parse(Testing.synth(stack));
    expect(guardOf(json)!.lifecycle.precondition[0].error_message).toContain('got "example-$${b}%%{c}"');
    expect(json.locals?.placeholder_fields).toEqual(["environments.live.stateBackend.bucket"]);
  });

  test("synth warns on the stack, once, in the manifest main.ts prints from when the cdktf CLI does not run it", () => {
    const outdir = mkdtempSync(join(tmpdir(), "placeholders-"));
    const written: string[] = [];
    const stderr = jest.spyOn(process.stderr, "write").mockImplementation((chunk) => written.push(String(chunk)) > 0);
    try {
      const app = buildApp({ environments: [testEnv("live")] }, new App({ outdir }));
      const stack = app.node.children[0] as TerraformStack;
      const message = placeholderMessage(validated(testEnv("live")));
      expect(stack.node.metadata).toContainEqual(expect.objectContaining({ type: "@cdktf/warn", data: message }));
      app.synth();
      // Synthesis itself prints nothing (the cdktf CLI prints the manifest's annotations; a second copy would repeat it).
      expect(written).toEqual([]);
      expect(synthWarnings(outdir)).toEqual([`WARN [members-live]: ${message}`]);
    } finally {
      stderr.mockRestore();
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test("main.ts prints the warnings unless the cdktf CLI runs it (which sets CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS)", () => {
    const saved = process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
    try {
      delete process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
      expect(runByCdktfCli()).toBe(false);
      process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS = "true";
      expect(runByCdktfCli()).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
      else process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS = saved;
    }
  });
});
