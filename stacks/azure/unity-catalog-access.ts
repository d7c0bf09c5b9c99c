import { DatabricksAccessConnector } from "@cdktf/provider-azurerm/lib/databricks-access-connector";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import type { StorageAccount } from "@cdktf/provider-azurerm/lib/storage-account";
import { StorageAccountNetworkRulesA } from "@cdktf/provider-azurerm/lib/storage-account-network-rules";
import type { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { StorageCredential } from "@cdktf/provider-databricks/lib/storage-credential";
import { Sleep } from "@cdktf/provider-time/lib/sleep";
import { Construct } from "constructs";
import { LandingLocation, landingFolder } from "../unity-catalog/landing-location";

export interface UnityCatalogAdlsAccessProps {
  readonly account: StorageAccount;
  readonly container: StorageContainer;
  /** Folder inside the container that the external location covers. */
  readonly landingPrefix: string;
  readonly resourceGroupName: string;
  /** Resource group id; scope of the Event Grid role that file events need. */
  readonly resourceGroupId: string;
  readonly location: string;
  /** Name of the access connector. */
  readonly connectorName: string;
  /** Name of the storage credential and external location in Unity Catalog. */
  readonly name: string;
  /** Principal (group name or service principal application id) granted READ FILES and WRITE FILES. */
  readonly grantee: string;
  /**
   * Give the connector the queue and Event Grid roles Unity Catalog needs to subscribe to file events (file-arrival
   * triggers).
   * @default false
   */
  readonly fileEvents?: boolean;
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
 * the data-plane roles that identity needs on the account, a storage credential naming the connector, and the
 * external location `abfss://<container>@<account>.dfs.core.windows.net/<prefix>/` with its grants.
 */
export class UnityCatalogAdlsAccess extends Construct {
  readonly connector: DatabricksAccessConnector;
  readonly storageCredential: StorageCredential;
  readonly location: LandingLocation;
  readonly roleAssignments: RoleAssignment[];
  /** `abfss://<container>@<account>.dfs.core.windows.net/<prefix>/`; ends with `/`. */
  readonly landingUrl: string;

  constructor(scope: Construct, id: string, props: UnityCatalogAdlsAccessProps) {
    super(scope, id);
    const prefix = landingFolder(`UnityCatalogAdlsAccess ${id}`, props.landingPrefix);

    this.connector = new DatabricksAccessConnector(this, "connector", {
      name: props.connectorName,
      resourceGroupName: props.resourceGroupName,
      location: props.location,
      identity: { type: "SystemAssigned" },
    });
    const principalId = this.connector.identity.principalId;
    const assign = (roleId: string, role: string, scope: string) =>
      new RoleAssignment(this, roleId, {
        scope,
        roleDefinitionName: role,
        principalId,
        principalType: "ServicePrincipal",
        description: `Unity Catalog access connector ${props.connectorName}`,
      });
    this.roleAssignments = [assign("blob-data-contributor", "Storage Blob Data Contributor", props.account.id)];
    if (props.fileEvents) {
      this.roleAssignments.push(
        assign("queue-data-contributor", "Storage Queue Data Contributor", props.account.id),
        assign("eventgrid-subscription-contributor", "EventGrid EventSubscription Contributor", props.resourceGroupId),
      );
    }

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

    this.storageCredential = new StorageCredential(this, "credential", {
      name: props.name,
      comment: `Unity Catalog access to the ${props.container.name} container of ${props.account.name} (managed by cdktf)`,
      azureManagedIdentity: { accessConnectorId: this.connector.id },
    });

    const rbacPropagation = new Sleep(this, "rbac-propagation", {
      createDuration: props.rbacPropagationDelay ?? "60s",
      dependsOn: [...this.roleAssignments, ...dependsOnNetwork],
    });

    this.landingUrl = `abfss://${props.container.name}@${props.account.name}.dfs.core.windows.net/${prefix}/`;
    this.location = new LandingLocation(this, "landing", {
      name: props.name,
      url: this.landingUrl,
      credentialName: this.storageCredential.name,
      grantee: props.grantee,
      dependsOn: [rbacPropagation],
    });
  }
}
