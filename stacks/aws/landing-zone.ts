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
  /**
   * Emergency IAM role let through the bucket's and key's data boundary besides the Unity Catalog role.
   * @default none
   */
  readonly breakGlassRoleArn?: string;
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
      dataRoleName: props.roleName,
      breakGlassRoleArn: props.breakGlassRoleArn,
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
    // KMS refuses a key policy naming a role that does not exist yet. No cycle: the role waits only for the storage
    // credential (its trust policy), and what references the key (the role's policy, the bucket encryption) does
    // not hold up the role.
    const role = this.access.role;
    this.bucket.key.dependsOn = [...(this.bucket.key.dependsOn ?? []), `${role.terraformResourceType}.${role.friendlyUniqueId}`];
    ({ landingUrl: this.landingUrl, dependables: this.dependables, managedStorage: this.managedStorage } = landingZoneOf(this.access));
  }
}
