import { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { StorageManagementPolicy, type StorageManagementPolicyRuleActionsBaseBlob } from "@cdktf/provider-azurerm/lib/storage-management-policy";
import { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import { protect } from "../protection/protect";

export interface AdlsLandingStorageProps {
  /** Globally unique storage account name (3-24 lower-case letters and digits). */
  readonly accountName: string;
  readonly resourceGroupName: string;
  /** Azure region (location name), e.g. westeurope. */
  readonly region: string;
  /** Container holding the landing zone. */
  readonly containerName: string;
  /**
   * Folder inside the container that the external location covers; lifecycle rules apply to it only (the managed
   * tables' folder next to it must never be tiered or expired).
   */
  readonly landingPrefix: string;
  /** Days a landing blob lives before it is deleted. */
  readonly retentionDays: number;
  /**
   * Days before landing blobs move to the cool tier.
   * @default no tiering
   */
  readonly coolAfterDays?: number;
  /**
   * Replication of the account. Landing files can be re-extracted from MySQL, so locally redundant storage is enough.
   * @default "LRS"
   */
  readonly replicationType?: string;
  /**
   * Days a deleted blob or container stays recoverable (soft delete).
   * @default 7
   */
  readonly softDeleteDays?: number;
}

/**
 * ADLS Gen2 account and landing container, secure by construction: hierarchical namespace, TLS 1.2 minimum,
 * HTTPS only, no public blobs, shared keys off (Azure AD only), infrastructure (double) encryption, soft delete, and a
 * management policy that tiers and expires landing blobs. Network rules live with the Unity Catalog access, because
 * they name the access connector.
 */
export class AdlsLandingStorage extends Construct {
  readonly account: StorageAccount;
  readonly container: StorageContainer;

  constructor(scope: Construct, id: string, props: AdlsLandingStorageProps) {
    super(scope, id);
    if (!/^[a-z0-9]{3,24}$/.test(props.accountName)) {
      invalidProp(`AdlsLandingStorage ${id}`, "accountName", props.accountName, "3-24 lower-case letters and digits");
    }
    if (props.coolAfterDays !== undefined && props.coolAfterDays >= props.retentionDays) {
      invalidProp(`AdlsLandingStorage ${id}`, "coolAfterDays", props.coolAfterDays, `fewer than retentionDays (${props.retentionDays})`);
    }
    const softDeleteDays = props.softDeleteDays ?? 7;

    this.account = protect(
      new StorageAccount(this, "account", {
        name: props.accountName,
        resourceGroupName: props.resourceGroupName,
        location: props.region,
        accountKind: "StorageV2",
        accountTier: "Standard",
        accountReplicationType: props.replicationType ?? "LRS",
        accessTier: "Hot",
        isHnsEnabled: true,
        minTlsVersion: "TLS1_2",
        httpsTrafficOnlyEnabled: true,
        allowNestedItemsToBePublic: false,
        sharedAccessKeyEnabled: false,
        // No SFTP/NFS local users: every data-plane identity is an Azure AD one (checkov CKV_AZURE_244).
        localUserEnabled: false,
        defaultToOauthAuthentication: true,
        infrastructureEncryptionEnabled: true,
        crossTenantReplicationEnabled: false,
        blobProperties: {
          deleteRetentionPolicy: { days: softDeleteDays },
          containerDeleteRetentionPolicy: { days: softDeleteDays },
        },
      }),
    );

    // storage_account_id (not _name) manages the container through Azure Resource Manager, which works with shared
    // keys disabled and without data-plane network access from the deploying machine.
    this.container = protect(
      new StorageContainer(this, "container", {
        name: props.containerName,
        storageAccountId: this.account.id,
        containerAccessType: "private",
      }),
    );

    const baseBlob: StorageManagementPolicyRuleActionsBaseBlob = {
      deleteAfterDaysSinceModificationGreaterThan: props.retentionDays,
      ...(props.coolAfterDays === undefined ? {} : { tierToCoolAfterDaysSinceModificationGreaterThan: props.coolAfterDays }),
    };
    new StorageManagementPolicy(this, "lifecycle", {
      storageAccountId: this.account.id,
      rule: [
        {
          name: "landing-tiering-and-expiry",
          enabled: true,
          filters: { blobTypes: ["blockBlob"], prefixMatch: [`${props.containerName}/${props.landingPrefix}/`] },
          actions: { baseBlob },
        },
      ],
    });
  }
}
