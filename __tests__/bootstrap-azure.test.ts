/**
 * members-bootstrap-azure (synth only: azurerm is not installable here): federated plan and deploy identities bound to
 * exactly one GitHub environment each, roles scoped to the environment's resource group and state container, the
 * state account encrypted with a customer-managed key, and the guard against a resource group two stacks create.
 */
import { Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import { AZURE_BOOTSTRAP_STACK } from "../stacks/bootstrap";
import type { TerraformJson } from "../stacks/common/terraform-json";
import type { AppConfigInput } from "../stacks/config/schema";
import { testConfig } from "./fixtures/test-config";
import { resourcesOf } from "./synth-helpers";

function synthBootstrap(config: AppConfigInput): TerraformJson {
  const stack = buildApp(config, Testing.app()).node.tryFindChild(AZURE_BOOTSTRAP_STACK);
  if (stack === undefined) throw new Error(`no ${AZURE_BOOTSTRAP_STACK}`);
  return JSON.parse(Testing.synth(stack as never));
}

let bootstrap: TerraformJson;
beforeAll(() => {
  bootstrap = synthBootstrap(testConfig);
});

const azureEnv = testConfig.environments.find((env) => env.cloud === "azure")!;
const repository = testConfig.github!.repository;
const values = (type: string) => Object.values(resourcesOf(bootstrap, type));
const idOf = (type: string, predicate: (r: Record<string, any>) => boolean) => {
  const found = Object.entries(resourcesOf(bootstrap, type)).filter(([, r]) => predicate(r));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0][0];
};

test("each identity has one federated credential: GitHub issuer, token-exchange audience, one exact subject", () => {
  const credentials = values("azurerm_federated_identity_credential");
  const byIdentity = Object.fromEntries(credentials.map((c) => [c.parent_id, c]));
  expect(Object.keys(byIdentity)).toHaveLength(credentials.length);
  for (const [kind, githubEnvironment] of [
    ["plan", `${azureEnv.name}-plan`],
    ["deploy", azureEnv.name],
  ]) {
    const identity = idOf("azurerm_user_assigned_identity", (r) => r.name === `${azureEnv.prefix}-${azureEnv.name}-ci-${kind}`);
    expect(byIdentity[`\${azurerm_user_assigned_identity.${identity}.id}`]).toEqual(
      expect.objectContaining({
        issuer: "https://token.actions.githubusercontent.com",
        audience: ["api://AzureADTokenExchange"],
        subject: `repo:${repository}:environment:${githubEnvironment}`,
      }),
    );
  }
  for (const credential of credentials) expect(credential.subject).not.toMatch(/[*?]/);
});

test("roles are scoped to the environment's resource group and state container only; plan reads, deploy manages", () => {
  const group = idOf("azurerm_resource_group", (r) => r.name === azureEnv.azure!.resourceGroupName);
  const container = idOf("azurerm_storage_container", (r) => r.name === (azureEnv.stateBackend as { containerName: string }).containerName);
  const groupScope = `\${azurerm_resource_group.${group}.id}`;
  const containerScope = `\${azurerm_storage_container.${container}.resource_manager_id}`;
  const grants = (kind: string) =>
    values("azurerm_role_assignment")
      .filter((r) => r.principal_id.includes(`_${kind}-identity_`))
      .map((r) => [r.role_definition_name, r.scope])
      .sort();
  expect(grants("plan")).toEqual([
    ["Reader", groupScope],
    ["Storage Blob Data Reader", containerScope],
  ]);
  expect(grants("deploy")).toEqual([
    ["Contributor", groupScope],
    ["Role Based Access Control Administrator", groupScope],
    ["Storage Blob Data Contributor", containerScope],
  ]);
});

test("the identities live in the state account's group, out of the deploy identity's reach", () => {
  const stateGroup = idOf("azurerm_resource_group", (r) => r.name === (azureEnv.stateBackend as { resourceGroupName: string }).resourceGroupName);
  for (const identity of values("azurerm_user_assigned_identity")) {
    expect(identity.resource_group_name).toBe(`\${azurerm_resource_group.${stateGroup}.name}`);
  }
});

test("the state account is encrypted with a rotating customer-managed key in a purge-protected vault, and protected", () => {
  const [account] = values("azurerm_storage_account");
  const key = idOf("azurerm_key_vault_key", () => true);
  expect(account.name).toBe((azureEnv.stateBackend as { storageAccountName: string }).storageAccountName);
  expect(account.customer_managed_key.key_vault_key_id).toBe(`\${azurerm_key_vault_key.${key}.versionless_id}`);
  expect(account).toEqual(
    expect.objectContaining({ shared_access_key_enabled: false, min_tls_version: "TLS1_2", lifecycle: { prevent_destroy: true } }),
  );
  expect(account.blob_properties.versioning_enabled).toBe(true);
  const [vault] = values("azurerm_key_vault");
  expect(vault).toEqual(expect.objectContaining({ purge_protection_enabled: true, rbac_authorization_enabled: true }));
  expect(resourcesOf(bootstrap, "azurerm_key_vault_key")[key].rotation_policy.automatic).toBeDefined();
  for (const type of ["azurerm_key_vault", "azurerm_key_vault_key", "azurerm_storage_container", "azurerm_resource_group"]) {
    for (const resource of values(type)) expect(resource.lifecycle).toEqual({ prevent_destroy: true });
  }
});

test("an environment whose own stack creates its resource group stops the bootstrap's plan", () => {
  expect(JSON.stringify(resourcesOf(bootstrap, "terraform_data"))).toContain(`environments.${azureEnv.name}.azure.createResourceGroup`);
  const existingGroup = {
    ...testConfig,
    environments: testConfig.environments.map((env) => (env === azureEnv ? { ...env, azure: { ...env.azure!, createResourceGroup: false } } : env)),
  };
  expect(JSON.stringify(resourcesOf(synthBootstrap(existingGroup), "terraform_data"))).not.toContain("createResourceGroup");
});
