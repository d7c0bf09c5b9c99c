import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { type LandingZone, landingZoneOf, type ManagedStorage } from "../unity-catalog/landing-location";
import { LandingBucket, type LandingBucketProps } from "./landing-bucket";
import { UnityCatalogS3Access } from "./unity-catalog-access";

export interface AwsLandingZoneProps extends Pick<LandingBucketProps, "bucketName" | "landingPrefix" | "retentionDays" | "coolAfterDays"> {
  /**
   * Folder for a created catalog's managed tables, registered by its own external location.
   * @default no managed storage (the catalog exists already)
   */
  readonly managedPrefix?: string;
  /** IAM role Unity Catalog assumes. */
  readonly roleName: string;
  /** Storage credential and landing external location name in Unity Catalog. */
  readonly unityCatalogName: string;
  /** Principal (group name or service principal application id) granted READ FILES and WRITE FILES. */
  readonly grantee: string;
}

/** Everything on AWS the pipeline writes to: the landing bucket and Unity Catalog's access to its prefix. */
export class AwsLandingZone extends Construct implements LandingZone {
  readonly bucket: LandingBucket;
  readonly access: UnityCatalogS3Access;
  /** `s3://<bucket>/<prefix>/`, ends with `/`. */
  readonly landingUrl: string;
  /** What must exist before jobs that read or write the landing URL are created. */
  readonly dependables: ITerraformDependable[];
  readonly managedStorage?: ManagedStorage;

  constructor(scope: Construct, id: string, props: AwsLandingZoneProps) {
    super(scope, id);
    this.bucket = new LandingBucket(this, "storage", {
      bucketName: props.bucketName,
      landingPrefix: props.landingPrefix,
      retentionDays: props.retentionDays,
      coolAfterDays: props.coolAfterDays,
    });
    this.access = new UnityCatalogS3Access(this, "unity-catalog", {
      bucket: this.bucket.bucket,
      key: this.bucket.key,
      landingPrefix: props.landingPrefix,
      roleName: props.roleName,
      name: props.unityCatalogName,
      grantee: props.grantee,
      managedPrefix: props.managedPrefix,
    });
    ({ landingUrl: this.landingUrl, dependables: this.dependables, managedStorage: this.managedStorage } = landingZoneOf(this.access));
  }
}
