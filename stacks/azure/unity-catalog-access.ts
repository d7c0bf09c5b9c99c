import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import { DatabricksAccessConnector } from "@cdktf/provider-azurerm/lib/databricks-access-connector";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import type { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageAccountNetworkRulesA } from "@cdktf/provider-azurerm/lib/storage-account-network-rules";
import type { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { StorageCredential } from "@cdktf/provider-databricks/lib/storage-credential";
import { Sleep } from "@cdktf/provider-time/lib/sleep";
import { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import { MANAGED_FILE_EVENTS_AZURE_ROLES } from "../policy/rules/documented-limits";
import { protect } from "../protection/protect";
import { LandingLocation, landingFolder, SECURABLE_ISOLATION_MODE } from "../unity-catalog/landing-location";
import { ManagedStorageLocation } from "../unity-catalog/managed-location";

export interface UnityCatalogAdlsAccessProps {
  readonly account: StorageAccount;
  readonly container: StorageContainer;
  /** Folder inside the container that the external location covers. */
  readonly landingPrefix: string;
  readonly resourceGroupName: string;
  /** Resource id of that group: Databricks creates the file events' Event Grid subscription in it. */
  readonly resourceGroupId: string;
  /** Azure region (location name), e.g. westeurope. */
  readonly region: string;
  /** Name of the access connector. */
  readonly connectorName: string;
  /** Name of the storage credential and external location in Unity Catalog. */
  readonly name: string;
  /** Principal (group name or service principal application id) granted READ FILES and WRITE FILES. */
  readonly grantee: string;
  /**
   * Folder of the container for a created catalog's managed tables, registered as an external location of its own
   * (`<name>_managed`). Must differ from landingPrefix.
   * @default no managed storage location
   */
  readonly managedPrefix?: string;
  /**
   * Deny network access by default; only the access connector (resource instance rule), trusted Azure services,
   * allowedIpRanges and allowedSubnetIds get through.
   * @default false
   */
  readonly privateNetworkOnly?: boolean;
  /** @default [] */
  readonly allowedIpRanges?: string[];
  /** Subnets of the workspace's classic compute, allowed through the firewall. @default [] */
  readonly allowedSubnetIds?: string[];
  /**
   * Wait after the role assignments before Unity Catalog validates the location: Azure RBAC propagates slowly.
   * @default "60s"
   */
  readonly rbacPropagationDelay?: string;
}

/**
 * Unity Catalog's access to the landing container: a Databricks access connector with a system-assigned identity,
 * the data-plane role that identity needs on the landing container, a storage credential naming the connector, and the
 * external location `abfss://<container>@<account>.dfs.core.windows.net/<prefix>/` with its grants.
 *
 * Managed file events are on for every location (see StorageLocationProps.fileEventQueue): Databricks creates an
 * Event Grid subscription and a storage queue for them, with the connector's identity, which therefore holds the roles
 * Databricks documents for it (MANAGED_FILE_EVENTS_AZURE_ROLES).
 */
export class UnityCatalogAdlsAccess extends Construct {
  readonly connector: DatabricksAccessConnector;
  readonly storageCredential: StorageCredential;
  readonly location: LandingLocation;
  /** The managed storage location, when managedPrefix is set. */
  readonly managedLocation?: ManagedStorageLocation;
  readonly roleAssignments: RoleAssignment[];
  /** `abfss://<container>@<account>.dfs.core.windows.net/<prefix>/`; ends with `/`. */
  readonly landingUrl: string;

  constructor(scope: Construct, id: string, props: UnityCatalogAdlsAccessProps) {
    super(scope, id);
    const prefix = landingFolder(`UnityCatalogAdlsAccess ${id}`, props.landingPrefix);
    const managed = props.managedPrefix === undefined ? undefined : landingFolder(`UnityCatalogAdlsAccess ${id}`, props.managedPrefix);
    if (managed === prefix) {
      invalidProp(`UnityCatalogAdlsAccess ${id}`, "managedPrefix", props.managedPrefix, "a folder other than landingPrefix");
    }

    this.connector = new DatabricksAccessConnector(this, "connector", {
      name: props.connectorName,
      resourceGroupName: props.resourceGroupName,
      location: props.region,
      identity: { type: "SystemAssigned" },
    });
    const assign = (id: string, roleDefinitionName: string, scope: string) =>
      new RoleAssignment(this, id, {
        scope,
        roleDefinitionName,
        principalId: this.connector.identity.principalId,
        principalType: "ServicePrincipal",
        description: `Unity Catalog access connector ${props.connectorName}`,
      });
    this.roleAssignments = [
      // Data access on the landing container only (its Resource Manager id), not on the account: other containers of
      // the account stay out of reach of every external location on this credential.
      assign("blob-data-contributor", "Storage Blob Data Contributor", props.container.resourceManagerId),
      ...MANAGED_FILE_EVENTS_AZURE_ROLES.map(({ role, scope }) =>
        assign(role.toLowerCase().replace(/ /g, "-"), role, scope === "account" ? props.account.id : props.resourceGroupId),
      ),
    ];
    const fileEventQueue = {
      managedAqs: { resourceGroup: props.resourceGroupName, subscriptionId: new DataAzurermClientConfig(this, "client").subscriptionId },
    };

    const dependsOnNetwork = [];
    if (props.privateNetworkOnly) {
      dependsOnNetwork.push(
        new StorageAccountNetworkRulesA(this, "network-rules", {
          storageAccountId: props.account.id,
          defaultAction: "Deny",
          bypass: ["AzureServices"],
          ipRules: props.allowedIpRanges ?? [],
          virtualNetworkSubnetIds: props.allowedSubnetIds ?? [],
          // Resource instance rule: Unity Catalog reaches the account through this connector whatever the firewall.
          privateLinkAccess: [{ endpointResourceId: this.connector.id }],
        }),
      );
    }

    this.storageCredential = protect(
      new StorageCredential(this, "credential", {
        name: props.name,
        comment: `Unity Catalog access to the ${props.container.name} container of ${props.account.name} (managed by cdktf)`,
        azureManagedIdentity: { accessConnectorId: this.connector.id },
        isolationMode: SECURABLE_ISOLATION_MODE,
      }),
    );

    const rbacPropagation = new Sleep(this, "rbac-propagation", {
      createDuration: props.rbacPropagationDelay ?? "60s",
      dependsOn: [...this.roleAssignments, ...dependsOnNetwork],
    });

    const folderUrl = (folder: string) => `abfss://${props.container.name}@${props.account.name}.dfs.core.windows.net/${folder}/`;
    this.landingUrl = folderUrl(prefix);
    this.location = new LandingLocation(this, "landing", {
      name: props.name,
      url: this.landingUrl,
      credentialName: this.storageCredential.name,
      grantee: props.grantee,
      dependsOn: [rbacPropagation],
      fileEventQueue,
    });
    if (managed !== undefined) {
      this.managedLocation = new ManagedStorageLocation(this, "managed", {
        name: `${props.name}_managed`,
        url: folderUrl(managed),
        credentialName: this.storageCredential.name,
        dependsOn: [rbacPropagation],
        fileEventQueue,
      });
    }
  }
}
