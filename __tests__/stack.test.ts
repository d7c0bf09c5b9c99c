import { Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import { config as shipped } from "../stacks/config/environments";
import { ConfigError } from "../stacks/config/validate";
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
    expect(azure.features).toEqual([{}]);
    expect(stacks["members-azure-dev"].provider!.aws).toBeUndefined();
  });

  test("every stack points the Databricks provider at its own workspace and holds no credentials", () => {
    for (const [name, json] of Object.entries(stacks)) {
      const databricks = json.provider!.databricks[0];
      const env = shipped.environments.find((e) => `members-${e.name}` === name)!;
      expect(databricks).toEqual({ host: env.databricks.host });
    }
  });
});

describe("state backends", () => {
  test("an environment with an S3 backend gets encrypted S3 state with native locking, keyed by environment", () => {
    expect(stacks["members-prod"].terraform!.backend).toEqual({
      s3: {
        bucket: "acme-terraform-state-example",
        key: "members/prod.tfstate",
        region: "eu-west-1",
        encrypt: true,
        use_lockfile: true,
      },
    });
  });

  test("an environment without a backend keeps local state, one file per stack", () => {
    expect(stacks["members-dev"].terraform!.backend).toEqual({ local: { path: "terraform.members-dev.tfstate" } });
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
