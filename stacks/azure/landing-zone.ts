import { DataAzurermResourceGroup } from "@cdktf/provider-azurerm/lib/data-azurerm-resource-group";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { protect } from "../protection/protect";
import type { LandingZone } from "../unity-catalog/landing-location";
import type { EnvironmentConfig } from "../config/schema";
import { AdlsLandingStorage } from "./landing-storage";
import { UnityCatalogAdlsAccess } from "./unity-catalog-access";

export interface AzureLandingZoneProps {
  /** The validated Azure environment. */
  readonly environment: EnvironmentConfig;
}

/** Everything on Azure the pipeline writes to: resource group, ADLS Gen2 landing storage and Unity Catalog's access. */
export class AzureLandingZone extends Construct implements LandingZone {
  readonly resourceGroupName: string;
  readonly resourceGroupId: string;
  readonly storage: AdlsLandingStorage;
  readonly access: UnityCatalogAdlsAccess;
  /** `abfss://<container>@<account>.dfs.core.windows.net/<prefix>/`, ends with `/`. */
  readonly landingUrl: string;
  /** What must exist before jobs that read or write the landing URL are created. */
  readonly dependables: ITerraformDependable[];
  readonly managedStorage?: { readonly url: string; readonly location: ITerraformDependable };

  constructor(scope: Construct, id: string, props: AzureLandingZoneProps) {
    super(scope, id);
    const env = props.environment;
    if (env.cloud !== "azure" || !env.azure) {
      throw new Error(`AzureLandingZone ${id}: environment ${env.name} cloud got "${env.cloud}", expected "azure" with an azure block`);
    }

    if (env.azure.createResourceGroup) {
      const group = protect(new ResourceGroup(this, "resource-group", { name: env.azure.resourceGroupName, location: env.region }));
      this.resourceGroupName = group.name;
      this.resourceGroupId = group.id;
    } else {
      const group = new DataAzurermResourceGroup(this, "resource-group", { name: env.azure.resourceGroupName });
      this.resourceGroupName = group.name;
      this.resourceGroupId = group.id;
    }

    this.storage = new AdlsLandingStorage(this, "storage", {
      accountName: env.names.storageAccount,
      resourceGroupName: this.resourceGroupName,
      location: env.region,
      containerName: env.names.container,
      landingPrefix: env.storage.landingPrefix,
      retentionDays: env.storage.retentionDays,
      coolAfterDays: env.coolAfterDays,
    });

    this.access = new UnityCatalogAdlsAccess(this, "unity-catalog", {
      account: this.storage.account,
      container: this.storage.container,
      landingPrefix: env.storage.landingPrefix,
      resourceGroupName: this.resourceGroupName,
      location: env.region,
      connectorName: `${env.names.base}-uc`,
      name: `${env.names.base.replace(/-/g, "_")}_landing`,
      grantee: env.jobPrincipal,
      managedPrefix: env.catalog.create ? env.storage.managedPrefix : undefined,
      privateNetworkOnly: env.storage.privateNetworkOnly,
      allowedIpRanges: env.storage.allowedIpRanges,
      allowedSubnetIds: env.azure.allowedSubnetIds,
    });
    this.landingUrl = this.access.landingUrl;
    this.dependables = [this.access.location.externalLocation, this.access.location.grants];
    const managed = this.access.managedLocation;
    this.managedStorage = managed && { url: managed.url, location: managed.externalLocation };
  }
}
