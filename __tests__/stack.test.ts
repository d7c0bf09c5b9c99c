import { execFileSync } from "node:child_process";
import { Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import { ConfigError } from "../stacks/config/validate";
import { ciStacks } from "../tools/list-stacks";
import { testConfig, testEnv } from "./fixtures/test-config";
import { synthAll, type TerraformJson } from "./synth-helpers";

let stacks: Record<string, TerraformJson>;
beforeAll(() => {
  ({ stacks } = synthAll());
});

describe("one stack per environment", () => {
  test("stack names are members-<environment>", () => {
    expect(Object.keys(stacks).sort()).toEqual(testConfig.environments.map((e) => `members-${e.name}`).sort());
  });

  test("AWS stacks configure the AWS provider in the environment's region with default tags", () => {
    const aws = stacks["members-live"].provider!.aws[0];
    expect(aws.region).toBe("eu-west-1");
    expect(aws.default_tags[0].tags).toEqual(
      expect.objectContaining({ environment: "live", "managed-by": "cdktf", stack: "members-live", project: "globex-lakehouse" }),
    );
    expect(stacks["members-live"].provider!.azurerm).toBeUndefined();
  });

  test("Azure stacks configure azurerm with Azure AD storage auth and no AWS provider", () => {
    const azure = stacks["members-lab"].provider!.azurerm[0];
    expect(azure.storage_use_azuread).toBe(true);
    // Storage through ARM only (shared keys off, default-deny firewall); vaults never purged on destroy.
    expect(azure.features).toEqual([
      {
        storage: [{ data_plane_available: false }],
        key_vault: [{ purge_soft_delete_on_destroy: false, recover_soft_deleted_key_vaults: true }],
        resource_group: [{ prevent_deletion_if_contains_resources: true }],
      },
    ]);
    expect(stacks["members-lab"].provider!.aws).toBeUndefined();
  });

  test("every stack points the Databricks provider at its own workspace and holds no credentials", () => {
    for (const [name, json] of Object.entries(stacks)) {
      const databricks = json.provider!.databricks[0];
      const env = testConfig.environments.find((e) => `members-${e.name}` === name)!;
      expect(databricks).toEqual({ host: env.databricks.host, auth_type: env.databricks.authType });
    }
  });
});

describe("state backends", () => {
  test("an environment with an S3 backend gets state encrypted with its own KMS key, native locking, keyed by environment", () => {
    expect(stacks["members-live"].terraform!.backend).toEqual({
      s3: {
        bucket: "globex-lake-live-tfstate-example",
        key: "members/live.tfstate",
        region: "eu-west-1",
        encrypt: true,
        // The environment's customer-managed key (members-bootstrap-aws creates it under this alias).
        kms_key_id: "alias/globex-lake-live-tfstate-example",
        use_lockfile: true,
      },
    });
  });

  test("every test environment keeps remote state (CI deploys them from throwaway runners)", () => {
    for (const json of Object.values(stacks)) expect(Object.keys(json.terraform!.backend)).toEqual([expect.stringMatching(/^(s3|azurerm)$/)]);
  });

  test("local state is an explicit opt-in, one file per stack, and such a stack is never listed for CI", () => {
    const env = testEnv("sandbox");
    const { stacks: custom } = synthAll({ environments: [{ ...env, stateBackend: { type: "local" } }] });
    expect(custom["members-sandbox"].terraform!.backend).toEqual({ local: { path: "terraform.members-sandbox.tfstate" } });
  });

  test("ciStacks lists every stack with its auth type", () => {
    const listed = ciStacks(testConfig);
    expect(listed.map((s) => s.stack)).toEqual(testConfig.environments.map((e) => `members-${e.name}`));
    expect(listed.find((s) => s.stack === "members-lab")!.authType).toBe("github-oidc-azure");
  });

  test("tools/list-stacks.ts prints the stacks of the configuration main.ts reads (stacks/config/environments.ts)", () => {
    const node = (args: string[]) =>
      JSON.parse(execFileSync("node", ["--require", "ts-node/register/transpile-only", ...args], { encoding: "utf8" }));
    const configured: { name: string; stateBackend?: { type: string } }[] = node([
      "-e",
      'console.log(JSON.stringify(require("./stacks/config/environments").config.environments))',
    ]);
    const listed = node(["tools/list-stacks.ts"]);
    expect(listed.map((s: { stack: string }) => s.stack)).toEqual(
      configured.filter((e) => e.stateBackend?.type !== "local").map((e) => `members-${e.name}`),
    );
  });

  test("a local-state stack is never listed for CI", () => {
    const local = testConfig.environments.map((e) => (e.name === "sandbox" ? { ...e, stateBackend: { type: "local" as const } } : e));
    expect(ciStacks({ environments: local }).map((s) => s.stack)).not.toContain("members-sandbox");
    expect(ciStacks({ environments: local }, "production").map((s) => s.stack)).toEqual(["members-preview", "members-live"]);
  });

  test("every stack pins the Terraform CLI to 1.11 or newer", () => {
    for (const json of Object.values(stacks)) expect(json.terraform!.required_version).toBe(">= 1.11.0");
  });

  test("an Azure environment can use an azurerm backend with Azure AD auth", () => {
    const env = testEnv("lab");
    const { stacks: custom } = synthAll({
      environments: [
        {
          ...env,
          stateBackend: { type: "azurerm", resourceGroupName: "rg-state", storageAccountName: "acmestate", containerName: "tfstate" },
        },
      ],
    });
    expect(custom[`members-${env.name}`].terraform!.backend).toEqual({
      azurerm: {
        resource_group_name: "rg-state",
        storage_account_name: "acmestate",
        container_name: "tfstate",
        key: `members/${env.name}.tfstate`,
        use_azuread_auth: true,
      },
    });
  });
});

test("a bad configuration fails before any stack is built", () => {
  const app = Testing.app();
  const broken = { environments: [{ ...testConfig.environments[0], cloud: "gcp" }] };
  expect(() => buildApp(broken as never, app)).toThrow(ConfigError);
  expect(app.node.children).toHaveLength(0);
});
