import { Testing } from "cdktf";
import { AdlsLandingStorage } from "../stacks/azure/landing-storage";
import type { EnvironmentInput } from "../stacks/config/schema";
import { testConfig } from "./fixtures/test-config";
import { landingLocationOf, onlyResource, resourcesOf, synthAll, type TerraformJson } from "./synth-helpers";

const ref = (type: string, id: string, attr: string) => `\${${type}.${id}.${attr}}`;
const labEnv = testConfig.environments.find((e) => e.cloud === "azure")!;

let azure: TerraformJson;
let account: { id: string; props: Record<string, any> };
let container: { id: string; props: Record<string, any> };
let connector: { id: string; props: Record<string, any> };

beforeAll(() => {
  azure = synthAll().stacks[`members-${labEnv.name}`];
  account = onlyResource(azure, "azurerm_storage_account");
  container = onlyResource(azure, "azurerm_storage_container");
  connector = onlyResource(azure, "azurerm_databricks_access_connector");
});

describe("ADLS Gen2 landing storage", () => {
  test("is a StorageV2 account with hierarchical namespace in the environment's resource group", () => {
    const group = onlyResource(azure, "azurerm_resource_group");
    expect(group.props).toMatchObject({ name: "rg-lake-lab", location: "westeurope" });
    expect(account.props).toMatchObject({
      name: "globexlklablake",
      resource_group_name: ref("azurerm_resource_group", group.id, "name"),
      location: "westeurope",
      account_kind: "StorageV2",
      is_hns_enabled: true,
    });
  });

  test("enforces TLS 1.2, HTTPS only, no public nested items, no shared keys, infrastructure encryption", () => {
    expect(account.props).toMatchObject({
      min_tls_version: "TLS1_2",
      https_traffic_only_enabled: true,
      allow_nested_items_to_be_public: false,
      shared_access_key_enabled: false,
      default_to_oauth_authentication: true,
      infrastructure_encryption_enabled: true,
    });
  });

  test("the azurerm provider uses Azure AD for storage, since shared keys are off", () => {
    expect(azure.provider!.azurerm[0].storage_use_azuread).toBe(true);
  });

  test("carries the standard tags (azurerm has no provider default tags; an aspect adds them)", () => {
    expect(account.props.tags).toMatchObject({ environment: "lab", "managed-by": "cdktf", project: "globex-lakehouse" });
    expect(connector.props.tags).toMatchObject({ environment: "lab" });
  });

  test("a private environment denies network access by default, letting the access connector through", () => {
    const rules = onlyResource(azure, "azurerm_storage_account_network_rules").props;
    expect(rules).toMatchObject({
      storage_account_id: ref("azurerm_storage_account", account.id, "id"),
      default_action: "Deny",
      bypass: ["AzureServices"],
      private_link_access: [{ endpoint_resource_id: ref("azurerm_databricks_access_connector", connector.id, "id") }],
    });
  });

  test("the landing container is private and managed through the account id", () => {
    expect(container.props).toEqual(
      expect.objectContaining({
        name: "landing",
        storage_account_id: ref("azurerm_storage_account", account.id, "id"),
        container_access_type: "private",
      }),
    );
  });

  test("a management policy expires landing blobs after the retention", () => {
    const policy = onlyResource(azure, "azurerm_storage_management_policy").props;
    expect(policy.storage_account_id).toBe(ref("azurerm_storage_account", account.id, "id"));
    expect(policy.rule).toEqual([
      expect.objectContaining({
        enabled: true,
        filters: { blob_types: ["blockBlob"], prefix_match: ["landing/landing/"] },
        actions: { base_blob: { delete_after_days_since_modification_greater_than: 14 } },
      }),
    ]);
  });

  test("tiering to cool happens before expiry when configured", () => {
    const json = JSON.parse(
      Testing.synthScope((scope) => {
        new AdlsLandingStorage(scope, "s", {
          accountName: "acct",
          resourceGroupName: "rg",
          region: "westeurope",
          containerName: "landing",
          landingPrefix: "landing",
          retentionDays: 90,
          coolAfterDays: 30,
        });
      }),
    );
    const policy = Object.values(json.resource.azurerm_storage_management_policy)[0] as any;
    expect(policy.rule[0].actions.base_blob).toEqual({
      tier_to_cool_after_days_since_modification_greater_than: 30,
      delete_after_days_since_modification_greater_than: 90,
    });
  });

  test("rejects an account name Azure would refuse", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new AdlsLandingStorage(scope, "s", {
          accountName: "Not-Valid",
          resourceGroupName: "rg",
          region: "westeurope",
          containerName: "landing",
          landingPrefix: "landing",
          retentionDays: 10,
        });
      }),
    ).toThrow('accountName: got "Not-Valid", expected 3-24 lower-case letters and digits');
  });
});

describe("access connector and Unity Catalog access", () => {
  test("the connector has a system-assigned identity", () => {
    expect(connector.props.identity).toEqual({ type: "SystemAssigned" });
  });

  test("the connector identity is Blob Data Contributor on the landing container only and holds the managed file events' roles, by reference", () => {
    const assignments = Object.values(resourcesOf(azure, "azurerm_role_assignment"));
    const principal = ref("azurerm_databricks_access_connector", connector.id, "identity[0].principal_id");
    const onAccount = ref("azurerm_storage_account", account.id, "id");
    const group = onlyResource(azure, "azurerm_resource_group");
    expect(assignments.map((a: any) => [a.role_definition_name, a.scope, a.principal_id]).sort()).toEqual(
      [
        // Data access: the container's Resource Manager id, not the account.
        ["Storage Blob Data Contributor", ref("azurerm_storage_container", container.id, "resource_manager_id"), principal],
        // Managed file events (Databricks, Azure managed identities: file events): queue on the account, Event Grid
        // subscription in the resource group.
        ["Storage Account Contributor", onAccount, principal],
        ["Storage Queue Data Contributor", onAccount, principal],
        ["EventGrid EventSubscription Contributor", ref("azurerm_resource_group", group.id, "id"), principal],
      ].sort(),
    );
  });

  test("every external location says file events on, with a managed queue in the landing resource group, and is isolated", () => {
    const group = onlyResource(azure, "azurerm_resource_group");
    const [[clientId]] = Object.entries(azure.data!.azurerm_client_config);
    const locations = Object.values(resourcesOf(azure, "databricks_external_location"));
    expect(locations).toHaveLength(2);
    for (const location of locations as any[]) {
      expect(location.enable_file_events).toBe(true);
      expect(location.file_event_queue).toEqual({
        managed_aqs: {
          resource_group: ref("azurerm_resource_group", group.id, "name"),
          subscription_id: `\${data.azurerm_client_config.${clientId}.subscription_id}`,
        },
      });
      expect(location.isolation_mode).toBe("ISOLATION_MODE_ISOLATED");
    }
    expect(onlyResource(azure, "databricks_storage_credential").props.isolation_mode).toBe("ISOLATION_MODE_ISOLATED");
  });

  test("the storage credential uses the connector as managed identity", () => {
    const credential = onlyResource(azure, "databricks_storage_credential").props;
    expect(credential.azure_managed_identity).toEqual({
      access_connector_id: ref("azurerm_databricks_access_connector", connector.id, "id"),
    });
  });

  test("the external location URL is built from the container and account references and ends with /", () => {
    const location = landingLocationOf(azure).props;
    const credential = onlyResource(azure, "databricks_storage_credential");
    expect(location.url).toBe(
      `abfss://${ref("azurerm_storage_container", container.id, "name")}@${ref("azurerm_storage_account", account.id, "name")}.dfs.core.windows.net/landing/`,
    );
    expect(location.url.endsWith("/")).toBe(true);
    expect(location.credential_name).toBe(ref("databricks_storage_credential", credential.id, "name"));
  });

  test("the external location waits for the role assignments and firewall rules to propagate", () => {
    const sleep = onlyResource(azure, "time_sleep");
    expect(sleep.props.depends_on).toEqual(
      expect.arrayContaining([
        ...Object.keys(resourcesOf(azure, "azurerm_role_assignment")).map((id) => `azurerm_role_assignment.${id}`),
        ...Object.keys(resourcesOf(azure, "azurerm_storage_account_network_rules")).map((id) => `azurerm_storage_account_network_rules.${id}`),
      ]),
    );
    expect(landingLocationOf(azure).props.depends_on).toEqual([`time_sleep.${sleep.id}`]);
  });

  test("grants are the same as on AWS: exactly READ FILES and WRITE FILES for the job principal", () => {
    const location = landingLocationOf(azure);
    const grants = Object.values(resourcesOf(azure, "databricks_grants")).filter((g: any) => g.external_location);
    expect(grants).toEqual([
      expect.objectContaining({
        external_location: ref("databricks_external_location", location.id, "id"),
        grant: [{ principal: "88888888-8888-4888-8888-888888888888", privileges: ["READ_FILES", "WRITE_FILES"] }],
      }),
    ]);
  });

  test("an existing resource group is looked up, not created", () => {
    const env: EnvironmentInput = { ...labEnv, azure: { ...labEnv.azure!, resourceGroupName: "rg-shared", createResourceGroup: false } };
    const stack = synthAll({ environments: [env] }).stacks[`members-${env.name}`];
    expect(resourcesOf(stack, "azurerm_resource_group")).toEqual({});
    const [[groupId, group]] = Object.entries(stack.data!.azurerm_resource_group);
    expect(group).toMatchObject({ name: "rg-shared" });
    expect(onlyResource(stack, "azurerm_storage_account").props.resource_group_name).toBe(`\${data.azurerm_resource_group.${groupId}.name}`);
  });

  test("a public environment gets no default-deny network rules", () => {
    const env: EnvironmentInput = { ...labEnv, storage: { retentionDays: 14, privateNetworkOnly: false } };
    const stack = synthAll({ environments: [env] }).stacks[`members-${env.name}`];
    expect(resourcesOf(stack, "azurerm_storage_account_network_rules")).toEqual({});
  });
});

describe("Key Vault-backed secret scope (azure.keyVaultSecretScope)", () => {
  let stack: TerraformJson;
  let vault: { id: string; props: Record<string, any> };

  beforeAll(() => {
    const env: EnvironmentInput = { ...labEnv, azure: { ...labEnv.azure!, keyVaultSecretScope: true } };
    stack = synthAll({ environments: [env] }).stacks[`members-${env.name}`];
    vault = onlyResource(stack, "azurerm_key_vault");
  });

  test("the vault has purge protection, soft delete, RBAC authorization and default-deny network ACLs", () => {
    const client = Object.keys(stack.data!.azurerm_client_config).find((id) => id.startsWith("secrets-vault_"));
    expect(vault.props).toMatchObject({
      name: "globexlk-lab-kv",
      purge_protection_enabled: true,
      soft_delete_retention_days: 90,
      rbac_authorization_enabled: true,
      tenant_id: `\${data.azurerm_client_config.${client}.tenant_id}`,
      network_acls: { default_action: "Deny", bypass: "AzureServices" },
    });
  });

  test("the vault is not public in a public environment either: default Deny, only trusted services and configured IP ranges pass", () => {
    const publicEnv: EnvironmentInput = {
      ...labEnv,
      storage: { retentionDays: 14, privateNetworkOnly: false },
      azure: { ...labEnv.azure!, keyVaultSecretScope: true },
    };
    const open = onlyResource(synthAll({ environments: [publicEnv] }).stacks[`members-${publicEnv.name}`], "azurerm_key_vault").props;
    expect(open.network_acls).toEqual({ default_action: "Deny", bypass: "AzureServices", ip_rules: [] });
    const withRanges: EnvironmentInput = { ...publicEnv, storage: { retentionDays: 14, allowedIpRanges: ["203.0.113.0/24"] } };
    const listed = onlyResource(synthAll({ environments: [withRanges] }).stacks[`members-${withRanges.name}`], "azurerm_key_vault").props;
    expect(listed.network_acls).toEqual({ default_action: "Deny", bypass: "AzureServices", ip_rules: ["203.0.113.0/24"] });
  });

  test("Azure Databricks gets Key Vault Secrets User on the vault, looked up by its application id", () => {
    const [[spId, sp]] = Object.entries(stack.data!.azuread_service_principal);
    expect(sp.client_id).toBe("2ff814a6-3304-4ab8-85cb-cd0e6f879c1d");
    const assignment = Object.values(resourcesOf(stack, "azurerm_role_assignment")).find(
      (a: any) => a.role_definition_name === "Key Vault Secrets User",
    );
    expect(assignment).toMatchObject({
      scope: ref("azurerm_key_vault", vault.id, "id"),
      principal_id: `\${data.azuread_service_principal.${spId}.object_id}`,
    });
  });

  test("the secret scope is Key Vault-backed and no Databricks-backed secret or MySQL variable exists", () => {
    const scope = Object.entries(resourcesOf(stack, "databricks_secret_scope")).find(([id]) => id.startsWith("pipeline_mysql-secrets_"))![1];
    expect(scope).toMatchObject({
      backend_type: "AZURE_KEYVAULT",
      keyvault_metadata: { resource_id: ref("azurerm_key_vault", vault.id, "id"), dns_name: ref("azurerm_key_vault", vault.id, "vault_uri") },
    });
    // Only the development generator's own scope is Databricks-backed (its credentials are not the extract's).
    const notGenerator = (id: string) => !id.includes("generator-secrets");
    expect(Object.keys(resourcesOf(stack, "databricks_secret")).filter(notGenerator)).toEqual([]);
    expect(Object.keys(stack.variable ?? {}).filter((v) => v.startsWith("mysql_") && !v.startsWith("mysql_generator_"))).toEqual([]);
    expect(Object.entries(resourcesOf(stack, "databricks_secret_acl")).flatMap(([id, acl]) => (notGenerator(id) ? [acl] : []))).toEqual([
      expect.objectContaining({ permission: "READ", principal: "88888888-8888-4888-8888-888888888888" }),
    ]);
  });

  test("without the option the scope is Databricks-backed with five secrets and no vault", () => {
    expect(resourcesOf(azure, "azurerm_key_vault")).toEqual({});
    expect(
      Object.entries(resourcesOf(azure, "databricks_secret_scope")).find(([id]) => id.startsWith("pipeline_mysql-secrets_"))![1].backend_type,
    ).toBeUndefined();
    expect(Object.keys(resourcesOf(azure, "databricks_secret")).filter((id) => id.startsWith("pipeline_mysql-secrets_"))).toHaveLength(5);
  });
});

describe("the Databricks jobs on Azure", () => {
  test("extract and load jobs exist and their clusters use Azure spot with on-demand fallback, first node on demand", () => {
    const jobs = Object.values(resourcesOf(azure, "databricks_job")) as any[];
    // Development also gets the generator job (started by hand).
    expect(jobs.map((j) => j.name).sort()).toEqual(["globexlk-lab-extract-members", "globexlk-lab-generate-members", "globexlk-lab-load-members"]);
    for (const job of jobs) {
      const cluster = job.job_cluster[0].new_cluster;
      expect(cluster.azure_attributes).toMatchObject({ availability: "SPOT_WITH_FALLBACK_AZURE", first_on_demand: 1 });
      expect(cluster.aws_attributes).toBeUndefined();
    }
  });
});

describe("managed storage of the created catalog (Azure)", () => {
  test("its own external location in the landing container, next to the landing folder, with the same credential", () => {
    const container = onlyResource(azure, "azurerm_storage_container");
    const account = onlyResource(azure, "azurerm_storage_account");
    const managed = Object.entries(resourcesOf(azure, "databricks_external_location")).find(([id]) => id.includes("_managed_"))!;
    expect(managed[1].url).toBe(
      `abfss://${ref("azurerm_storage_container", container.id, "name")}@${ref("azurerm_storage_account", account.id, "name")}.dfs.core.windows.net/managed/`,
    );
    expect(managed[1].credential_name).toBe(landingLocationOf(azure).props.credential_name);
    const catalog = onlyResource(azure, "databricks_catalog").props;
    expect(catalog.storage_root).toBe(managed[1].url);
    expect(catalog.depends_on).toEqual([`databricks_external_location.${managed[0]}`]);
    // Nobody gets file access to the managed tables' files: no grants on this location.
    expect(
      Object.values(resourcesOf(azure, "databricks_grants")).some(
        (g: any) => g.external_location === ref("databricks_external_location", managed[0], "id"),
      ),
    ).toBe(false);
  });

  test("no management-policy rule deletes or tiers blobs under the managed folder", () => {
    const rules = onlyResource(azure, "azurerm_storage_management_policy").props.rule;
    for (const rule of rules) {
      const prefixes: string[] = rule.filters.prefix_match;
      expect(prefixes.length).toBeGreaterThan(0);
      for (const prefix of prefixes) {
        const [, ...path] = prefix.split("/");
        expect(path.join("/")).not.toBe("");
        expect("managed/".startsWith(path.join("/")) || path.join("/").startsWith("managed/")).toBe(false);
      }
    }
  });
});
