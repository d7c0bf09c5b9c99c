import { DataAzureadServicePrincipal } from "@cdktf/provider-azuread/lib/data-azuread-service-principal";
import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import { KeyVault } from "@cdktf/provider-azurerm/lib/key-vault";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import { protect } from "../protection/protect";

/**
 * Application (client) id of Microsoft's "AzureDatabricks" first-party application, the same in every tenant. A Key
 * Vault-backed secret scope reads secrets as this application.
 */
export const AZURE_DATABRICKS_APPLICATION_ID = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d";

export interface SecretsKeyVaultProps {
  /** Vault name: 3-24 letters, digits and hyphens, starting with a letter; globally unique. */
  readonly name: string;
  readonly resourceGroupName: string;
  /** Azure region (location name), e.g. westeurope. */
  readonly region: string;
  /**
   * IP ranges (CIDR) let through the vault's firewall, e.g. the operators' egress addresses for
   * `az keyvault secret set`. The firewall denies everything else but trusted Azure services (Azure Databricks reads
   * the scope as one), whatever the environment's privateNetworkOnly says.
   * @default [] (no public network access)
   */
  readonly allowedIpRanges?: string[];
  /**
   * Days a deleted vault or secret stays recoverable.
   * @default 90
   */
  readonly softDeleteRetentionDays?: number;
}

/**
 * The Azure Key Vault behind a Key Vault-backed secret scope: RBAC authorization, purge protection, soft delete, a
 * firewall that denies by default (trusted Azure services and allowedIpRanges pass), and the "Key Vault Secrets User"
 * role for Azure Databricks. Terraform never writes the secret values: operators set them
 * in the vault (`az keyvault secret set`), so they stay out of Terraform state and rotate without a deploy.
 */
export class SecretsKeyVault extends Construct {
  readonly vault: KeyVault;
  readonly readerAssignment: RoleAssignment;

  constructor(scope: Construct, id: string, props: SecretsKeyVaultProps) {
    super(scope, id);
    if (!/^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$/.test(props.name) || props.name.includes("--")) {
      invalidProp(`SecretsKeyVault ${id}`, "name", props.name, "3-24 letters, digits and single hyphens, starting with a letter");
    }
    const client = new DataAzurermClientConfig(this, "client");
    this.vault = protect(
      new KeyVault(this, "vault", {
        name: props.name,
        resourceGroupName: props.resourceGroupName,
        location: props.region,
        tenantId: client.tenantId,
        skuName: "standard",
        rbacAuthorizationEnabled: true,
        purgeProtectionEnabled: true,
        softDeleteRetentionDays: props.softDeleteRetentionDays ?? 90,
        // Public network access stays on so that the firewall below decides (with it off, Azure ignores IP rules and
        // admits only private endpoints and trusted services); the firewall denies by default in every environment.
        publicNetworkAccessEnabled: true,
        networkAcls: {
          defaultAction: "Deny",
          bypass: "AzureServices",
          ipRules: props.allowedIpRanges ?? [],
        },
      }),
    );

    const databricks = new DataAzureadServicePrincipal(this, "azure-databricks", {
      clientId: AZURE_DATABRICKS_APPLICATION_ID,
    });
    this.readerAssignment = new RoleAssignment(this, "databricks-secrets-user", {
      scope: this.vault.id,
      roleDefinitionName: "Key Vault Secrets User",
      principalId: databricks.objectId,
      principalType: "ServicePrincipal",
      description: "Azure Databricks reads the MySQL secrets of the Key Vault-backed secret scope",
    });
  }
}
