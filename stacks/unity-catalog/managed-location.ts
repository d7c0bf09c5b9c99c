import { ExternalLocation } from "@cdktf/provider-databricks/lib/external-location";
import { type ITerraformDependable, Token } from "cdktf";
import { Construct } from "constructs";
import { protect } from "../protection/protect";

export interface ManagedStorageLocationProps {
  /** Name of the external location in Unity Catalog. */
  readonly name: string;
  /** Managed storage URL, next to (never overlapping) the landing folder; ends with `/`. */
  readonly url: string;
  /** Storage credential the location uses (the landing zone's). */
  readonly credentialName: string;
  /**
   * Resources that must exist before Unity Catalog validates the location (the cloud identity's permissions).
   * @default none
   */
  readonly dependsOn?: ITerraformDependable[];
}

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

  constructor(scope: Construct, id: string, props: ManagedStorageLocationProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.url) && !props.url.endsWith("/")) {
      throw new Error(`ManagedStorageLocation ${id}: url got "${props.url}", expected a URL ending with "/"`);
    }
    this.url = props.url;
    this.externalLocation = protect(
      new ExternalLocation(this, "location", {
        name: props.name,
        url: props.url,
        credentialName: props.credentialName,
        comment: "Managed storage of the members catalog (Delta tables written by the load job)",
        dependsOn: props.dependsOn,
      }),
    );
  }
}
