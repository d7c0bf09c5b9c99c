import type { ExternalLocation } from "@cdktf/provider-databricks/lib/external-location";
import { Construct } from "constructs";
import { protectedExternalLocation, type StorageLocationProps } from "./landing-location";

/**
 * The external location that registers a created catalog's managed storage (its `storage_root`). Metastores without
 * root storage, the default for newer accounts, reject a catalog without one, and the load job creates managed tables.
 *
 * No grants: nobody needs file access here. Tables are read through Unity Catalog, and the deployer creating the
 * catalog owns this location (an owner may use it as managed storage). READ FILES granted here by hand would bypass
 * the tables' grants and masks.
 */
export class ManagedStorageLocation extends Construct {
  readonly externalLocation: ExternalLocation;
  /** The URL as given (the catalog's storage root). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: StorageLocationProps) {
    super(scope, id);
    this.url = props.url;
    this.externalLocation = protectedExternalLocation(this, props, "Managed storage of the members catalog (Delta tables written by the load job)");
  }
}
