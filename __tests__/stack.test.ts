import { execFileSync } from "node:child_process";
import { Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import { config as shipped } from "../stacks/config/environments";
import { ConfigError } from "../stacks/config/validate";
import { ciStacks } from "../tools/list-stacks";
import { synthAll, type TerraformJson } from "./synth-helpers";

let stacks: Record<string, TerraformJson>;
beforeAll(() => {
  ({ stacks } = synthAll());
});

describe("one stack per environment", () => {
  test("stack names are members-<environment>", () => {
    expect(Object.keys(stacks).sort()).toEqual(shipped.environments.map((e) => `members-${e.name}`).sort());
  });

  test("AWS stacks configure the AWS provider in the environment's region with default tags", () => {
    const aws = stacks["members-prod"].provider!.aws[0];
    expect(aws.region).toBe("eu-west-1");
    expect(aws.default_tags[0].tags).toEqual(
      expect.objectContaining({ environment: "prod", "managed-by": "cdktf", stack: "members-prod", project: "members-lakehouse" }),
    );
    expect(stacks["members-prod"].provider!.azurerm).toBeUndefined();
  });

  test("Azure stacks configure azurerm with Azure AD storage auth and no AWS provider", () => {
    const azure = stacks["members-azure-dev"].provider!.azurerm[0];
    expect(azure.storage_use_azuread).toBe(true);
    // Storage through ARM only (shared keys off, default-deny firewall); vaults never purged on destroy.
    expect(azure.features).toEqual([
      {
        storage: [{ data_plane_available: false }],
        key_vault: [{ purge_soft_delete_on_destroy: false, recover_soft_deleted_key_vaults: true }],
        resource_group: [{ prevent_deletion_if_contains_resources: true }],
      },
    ]);
    expect(stacks["members-azure-dev"].provider!.aws).toBeUndefined();
  });

  test("every stack points the Databricks provider at its own workspace and holds no credentials", () => {
    for (const [name, json] of Object.entries(stacks)) {
      const databricks = json.provider!.databricks[0];
      const env = shipped.environments.find((e) => `members-${e.name}` === name)!;
      expect(databricks).toEqual({ host: env.databricks.host, auth_type: env.databricks.authType });
    }
  });
});

describe("state backends", () => {
  test("an environment with an S3 backend gets state encrypted with its own KMS key, native locking, keyed by environment", () => {
    expect(stacks["members-prod"].terraform!.backend).toEqual({
      s3: {
        bucket: "acme-members-prod-tfstate-example",
        key: "members/prod.tfstate",
        region: "eu-west-1",
        encrypt: true,
        // The environment's customer-managed key (members-bootstrap-aws creates it under this alias).
        kms_key_id: "alias/acme-members-prod-tfstate-example",
        use_lockfile: true,
      },
    });
  });

  test("every shipped environment keeps remote state (CI deploys them from throwaway runners)", () => {
    for (const json of Object.values(stacks)) expect(Object.keys(json.terraform!.backend)).toEqual([expect.stringMatching(/^(s3|azurerm)$/)]);
  });

  test("local state is an explicit opt-in, one file per stack, and such a stack is never listed for CI", () => {
    const env = shipped.environments.find((e) => e.name === "dev")!;
    const { stacks: custom } = synthAll({ environments: [{ ...env, stateBackend: { type: "local" } }] });
    expect(custom["members-dev"].terraform!.backend).toEqual({ local: { path: "terraform.members-dev.tfstate" } });
  });

  test("tools/list-stacks.ts lists every shipped stack with its auth type", () => {
    const listed = JSON.parse(execFileSync("node", ["--require", "ts-node/register/transpile-only", "tools/list-stacks.ts"], { encoding: "utf8" }));
    expect(listed.map((s: { stack: string }) => s.stack)).toEqual(shipped.environments.map((e) => `members-${e.name}`));
    expect(listed.find((s: { stack: string }) => s.stack === "members-azure-dev").authType).toBe("github-oidc-azure");
  });

  test("a local-state stack is never listed for CI", () => {
    const local = shipped.environments.map((e) => (e.name === "dev" ? { ...e, stateBackend: { type: "local" as const } } : e));
    expect(ciStacks({ environments: local }).map((s) => s.stack)).not.toContain("members-dev");
    expect(ciStacks({ environments: local }, "production").map((s) => s.stack)).toEqual(["members-staging", "members-prod"]);
  });

  test("every stack pins the Terraform CLI to 1.11 or newer", () => {
    for (const json of Object.values(stacks)) expect(json.terraform!.required_version).toBe(">= 1.11.0");
  });

  test("an Azure environment can use an azurerm backend with Azure AD auth", () => {
    const env = shipped.environments.find((e) => e.cloud === "azure")!;
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
  const broken = { environments: [{ ...shipped.environments[0], cloud: "gcp" }] };
  expect(() => buildApp(broken as never, app)).toThrow(ConfigError);
  expect(app.node.children).toHaveLength(0);
});
