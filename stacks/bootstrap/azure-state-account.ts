import { KeyVault } from "@cdktf/provider-azurerm/lib/key-vault";
import { KeyVaultKey } from "@cdktf/provider-azurerm/lib/key-vault-key";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import { protect } from "../protection/protect";

export interface AzureStateAccountProps {
  /** Resource group of the state account (and of the CI identities): the backends' `resourceGroupName`. */
  readonly resourceGroupName: string;
  /** Storage account name: the backends' `storageAccountName`. */
  readonly accountName: string;
  /** One container per environment: the backends' `containerName`s. */
  readonly containerNames: readonly string[];
  /** Azure location of the group, account and vault. */
  readonly region: string;
  /** Tenant of the Key Vault. */
  readonly tenantId: string;
  /** Object id of whoever applies the bootstrap: Key Vault Crypto Officer on the vault, to create the key. */
  readonly administratorObjectId: string;
  /**
   * CIDR ranges let through the Key Vault firewall besides trusted Azure services (the administrator's network).
   * @default none
   */
  readonly allowedIpRanges?: readonly string[];
  /**
   * Days a deleted state blob, version or container stays recoverable.
   * @default 30
   */
  readonly softDeleteDays?: number;
}

/**
 * The Azure state store: a resource group, a storage account (Azure AD only, no shared keys, TLS 1.2, blob versioning
 * and soft delete) encrypted with a customer-managed key in a purge-protected, RBAC-authorized Key Vault (HSM-backed
 * RSA key with automatic rotation), read by the account through a user-assigned identity, and one container per
 * environment. Group, vault, key, account and containers are stateful (stacks/protection).
 */
export class AzureStateAccount extends Construct {
  readonly resourceGroup: ResourceGroup;
  readonly account: StorageAccount;
  readonly key: KeyVaultKey;
  readonly containers: Record<string, StorageContainer> = {};

  constructor(scope: Construct, id: string, props: AzureStateAccountProps) {
    super(scope, id);
    if (!/^[a-z0-9]{3,24}$/.test(props.accountName)) {
      invalidProp(`AzureStateAccount ${id}`, "accountName", props.accountName, "3-24 lower-case letters and digits");
    }
    if (props.containerNames.length === 0 || new Set(props.containerNames).size !== props.containerNames.length) {
      invalidProp(`AzureStateAccount ${id}`, "containerNames", props.containerNames, "one container per environment, no duplicates");
    }
    const softDeleteDays = props.softDeleteDays ?? 30;
    const location = props.region;

    this.resourceGroup = protect(new ResourceGroup(this, "resource-group", { name: props.resourceGroupName, location }));
    const resourceGroupName = this.resourceGroup.name;
    const keyIdentity = new UserAssignedIdentity(this, "key-identity", { name: `${props.accountName}-cmk`, resourceGroupName, location });

    const vault = protect(
      new KeyVault(this, "vault", {
        name: `kv${props.accountName}`.slice(0, 24),
        resourceGroupName,
        location,
        tenantId: props.tenantId,
        skuName: "premium",
        rbacAuthorizationEnabled: true,
        purgeProtectionEnabled: true,
        softDeleteRetentionDays: 90,
        networkAcls: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [...(props.allowedIpRanges ?? [])] },
      }),
    );
    const officer = new RoleAssignment(this, "administrator-crypto-officer", {
      scope: vault.id,
      roleDefinitionName: "Key Vault Crypto Officer",
      principalId: props.administratorObjectId,
      description: "Whoever applies the bootstrap creates and rotates the state key",
    });
    const accountUsesKey = new RoleAssignment(this, "account-uses-key", {
      scope: vault.id,
      roleDefinitionName: "Key Vault Crypto Service Encryption User",
      principalId: keyIdentity.principalId,
      principalType: "ServicePrincipal",
      description: `Storage account ${props.accountName} wraps its encryption key with the state key`,
    });
    this.key = protect(
      new KeyVaultKey(this, "key", {
        name: "tfstate",
        keyVaultId: vault.id,
        keyType: "RSA-HSM",
        keySize: 3072,
        keyOpts: ["wrapKey", "unwrapKey"],
        rotationPolicy: { automatic: { timeBeforeExpiry: "P30D" }, expireAfter: "P1Y", notifyBeforeExpiry: "P29D" },
        dependsOn: [officer],
      }),
    );

    this.account = protect(
      new StorageAccount(this, "account", {
        name: props.accountName,
        resourceGroupName,
        location,
        accountKind: "StorageV2",
        accountTier: "Standard",
        accountReplicationType: "ZRS",
        minTlsVersion: "TLS1_2",
        httpsTrafficOnlyEnabled: true,
        allowNestedItemsToBePublic: false,
        sharedAccessKeyEnabled: false,
        localUserEnabled: false,
        defaultToOauthAuthentication: true,
        infrastructureEncryptionEnabled: true,
        crossTenantReplicationEnabled: false,
        identity: { type: "UserAssigned", identityIds: [keyIdentity.id] },
        // The versionless id: the account follows the key's automatic rotation.
        customerManagedKey: { keyVaultKeyId: this.key.versionlessId, userAssignedIdentityId: keyIdentity.id },
        blobProperties: {
          versioningEnabled: true,
          deleteRetentionPolicy: { days: softDeleteDays },
          containerDeleteRetentionPolicy: { days: softDeleteDays },
        },
        dependsOn: [accountUsesKey],
      }),
    );
    for (const name of props.containerNames) {
      this.containers[name] = protect(
        new StorageContainer(this, `container-${name}`, { name, storageAccountId: this.account.id, containerAccessType: "private" }),
      );
    }
  }
}
