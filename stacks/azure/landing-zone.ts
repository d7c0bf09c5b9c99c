import { DataAzurermResourceGroup } from "@cdktf/provider-azurerm/lib/data-azurerm-resource-group";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { protect } from "../protection/protect";
import { type LandingZone, landingZoneOf, type ManagedStorage } from "../unity-catalog/landing-location";
import { AdlsLandingStorage, type AdlsLandingStorageProps } from "./landing-storage";
import { UnityCatalogAdlsAccess, type UnityCatalogAdlsAccessProps } from "./unity-catalog-access";

export interface AzureLandingZoneProps
  extends Pick<AdlsLandingStorageProps, "accountName" | "region" | "containerName" | "landingPrefix" | "retentionDays" | "coolAfterDays">,
    Pick<UnityCatalogAdlsAccessProps, "connectorName" | "grantee" | "managedPrefix" | "privateNetworkOnly" | "allowedIpRanges" | "allowedSubnetIds"> {
  /** Resource group holding the storage and the access connector. */
  readonly resourceGroupName: string;
  /**
   * Create the resource group (true) or look up an existing one (false).
   * @default true
   */
  readonly createResourceGroup?: boolean;
  /** Storage credential and landing external location name in Unity Catalog. */
  readonly unityCatalogName: string;
}

/** Everything on Azure the pipeline writes to: resource group, ADLS Gen2 landing storage and Unity Catalog's access. */
export class AzureLandingZone extends Construct implements LandingZone {
  readonly resourceGroupName: string;
  readonly storage: AdlsLandingStorage;
  readonly access: UnityCatalogAdlsAccess;
  /** `abfss://<container>@<account>.dfs.core.windows.net/<prefix>/`, ends with `/`. */
  readonly landingUrl: string;
  /** What must exist before jobs that read or write the landing URL are created. */
  readonly dependables: ITerraformDependable[];
  readonly managedStorage?: ManagedStorage;

  constructor(scope: Construct, id: string, props: AzureLandingZoneProps) {
    super(scope, id);
    const group =
      props.createResourceGroup === false
        ? new DataAzurermResourceGroup(this, "resource-group", { name: props.resourceGroupName })
        : protect(new ResourceGroup(this, "resource-group", { name: props.resourceGroupName, location: props.region }));
    this.resourceGroupName = group.name;

    this.storage = new AdlsLandingStorage(this, "storage", {
      accountName: props.accountName,
      resourceGroupName: this.resourceGroupName,
      region: props.region,
      containerName: props.containerName,
      landingPrefix: props.landingPrefix,
      retentionDays: props.retentionDays,
      coolAfterDays: props.coolAfterDays,
    });

    this.access = new UnityCatalogAdlsAccess(this, "unity-catalog", {
      account: this.storage.account,
      container: this.storage.container,
      landingPrefix: props.landingPrefix,
      resourceGroupName: this.resourceGroupName,
      resourceGroupId: group.id,
      region: props.region,
      connectorName: props.connectorName,
      name: props.unityCatalogName,
      grantee: props.grantee,
      managedPrefix: props.managedPrefix,
      privateNetworkOnly: props.privateNetworkOnly,
      allowedIpRanges: props.allowedIpRanges,
      allowedSubnetIds: props.allowedSubnetIds,
    });
    ({ landingUrl: this.landingUrl, dependables: this.dependables, managedStorage: this.managedStorage } = landingZoneOf(this.access));
  }
}
