import { ExternalLocation, type ExternalLocationFileEventQueue } from "@cdktf/provider-databricks/lib/external-location";
import { Grants } from "@cdktf/provider-databricks/lib/grants";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { invalidProp, requireLiteral } from "../common/validation";
import { protect } from "../protection/protect";

/**
 * Isolation mode of the stack's storage credential and external locations: reachable only from workspaces bound to
 * them. Created in ISOLATED mode, Unity Catalog binds the workspace that creates them, the environment's own (provider
 * docs, isolation_mode); no databricks_workspace_binding is declared for it, because that resource would take over
 * the automatic binding and be destroyed before the securable (terraform-provider-databricks #5300). The Databricks
 * security reference architecture does the same.
 */
export const SECURABLE_ISOLATION_MODE = "ISOLATION_MODE_ISOLATED";

/** The only privileges the jobs need on the landing zone: list/read batches and write them. */
export const LANDING_PRIVILEGES = ["READ_FILES", "WRITE_FILES"] as const;

/**
 * The landing folder without surrounding slashes, as both clouds put it in their URLs and access rules.
 * Throws, naming the construct, when nothing is left (the location would cover the whole bucket or container).
 */
export function landingFolder(construct: string, landingPrefix: string): string {
  const folder = landingPrefix.replace(/^\/+|\/+$/g, "");
  if (folder.length === 0) {
    invalidProp(construct, "landingPrefix", landingPrefix, "a folder name");
  }
  return folder;
}

/** What a cloud's Unity Catalog access construct exposes (UnityCatalogS3Access, UnityCatalogAdlsAccess). */
interface UnityCatalogAccess {
  readonly landingUrl: string;
  readonly location: LandingLocation;
  readonly managedLocation?: { readonly url: string; readonly externalLocation: ITerraformDependable };
}

/** The landing zone a cloud's Unity Catalog access gives the pipeline: URL, what to wait for, managed storage. */
export function landingZoneOf(access: UnityCatalogAccess): LandingZone {
  const managed = access.managedLocation;
  return {
    landingUrl: access.landingUrl,
    dependables: [access.location.externalLocation, access.location.grants],
    managedStorage: managed && { url: managed.url, location: managed.externalLocation },
  };
}

/** A created catalog's storage root and the external location that registers it (created first). */
export interface ManagedStorage {
  readonly url: string;
  readonly location: ITerraformDependable;
}

/** What a cloud's landing zone gives the cloud-agnostic pipeline. */
export interface LandingZone {
  /** Landing URL inside the external location; ends with `/`. */
  readonly landingUrl: string;
  /** What must exist before jobs that read or write the landing URL are created. */
  readonly dependables: ITerraformDependable[];
  /** Storage root for a created catalog, registered by its own external location; undefined when not asked for. */
  readonly managedStorage?: ManagedStorage;
}

/** What every external location of the stack is made of (landing and managed storage). */
export interface StorageLocationProps {
  /** Name of the external location in Unity Catalog. */
  readonly name: string;
  /** Folder URL (`s3://bucket/prefix/` or `abfss://container@account.dfs.core.windows.net/prefix/`); ends with `/`. */
  readonly url: string;
  /** Storage credential the location uses. */
  readonly credentialName: string;
  /**
   * Queue of the location's managed file events, which its cloud identity is allowed to create (managed_sqs on AWS,
   * managed_aqs on Azure). File events are always on: Databricks enables them by default on new external locations,
   * and provider 1.99 drops an explicit `enable_file_events = false` on create (fixed in 1.117, PR #5762), so "off"
   * cannot be sent; they are also Databricks' recommended mode for file-arrival triggers.
   */
  readonly fileEventQueue: ExternalLocationFileEventQueue;
  /**
   * Resources that must exist before Unity Catalog validates the location (the cloud identity's permissions).
   * @default none
   */
  readonly dependsOn?: ITerraformDependable[];
}

/** The protected `databricks_external_location` both location constructs create; the URL must end with "/". */
export function protectedExternalLocation(scope: Construct, props: StorageLocationProps, comment: string): ExternalLocation {
  // A file-arrival trigger and a UC location must both end with "/"; tokens are checked at the call site.
  requireLiteral(`${scope.constructor.name} ${scope.node.id}`, "url", props.url, (u) => u.endsWith("/"), 'a URL ending with "/"');
  const { name, url, credentialName, dependsOn, fileEventQueue } = props;
  return protect(
    new ExternalLocation(scope, "location", {
      name,
      url,
      credentialName,
      comment,
      dependsOn,
      enableFileEvents: true,
      fileEventQueue,
      isolationMode: SECURABLE_ISOLATION_MODE,
    }),
  );
}

export interface LandingLocationProps extends StorageLocationProps {
  /** Principal (group name or service principal application id) granted READ FILES and WRITE FILES. */
  readonly grantee: string;
}

/**
 * The external location over the landing prefix and its grants, shared by both clouds. The grants resource is
 * authoritative: it replaces any privilege granted on this location outside Terraform, so the job principal holds
 * exactly READ FILES and WRITE FILES and nobody else holds anything.
 */
export class LandingLocation extends Construct {
  readonly externalLocation: ExternalLocation;
  readonly grants: Grants;

  constructor(scope: Construct, id: string, props: LandingLocationProps) {
    super(scope, id);
    this.externalLocation = protectedExternalLocation(
      this,
      props,
      "Landing zone of the members pipeline (Parquet batches written by the extract job)",
    );
    this.grants = new Grants(this, "grants", {
      externalLocation: this.externalLocation.id,
      grant: [{ principal: props.grantee, privileges: [...LANDING_PRIVILEGES] }],
    });
  }
}
