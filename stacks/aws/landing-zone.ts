import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { LandingZone } from "../unity-catalog/landing-location";
import type { EnvironmentConfig } from "../config/schema";
import { LandingBucket } from "./landing-bucket";
import { UnityCatalogS3Access } from "./unity-catalog-access";

export interface AwsLandingZoneProps {
  /** The validated AWS environment. */
  readonly environment: EnvironmentConfig;
}

/** Everything on AWS the pipeline writes to: the landing bucket and Unity Catalog's access to its prefix. */
export class AwsLandingZone extends Construct implements LandingZone {
  readonly bucket: LandingBucket;
  readonly access: UnityCatalogS3Access;
  /** `s3://<bucket>/<prefix>/`, ends with `/`. */
  readonly landingUrl: string;
  /** What must exist before jobs that read or write the landing URL are created. */
  readonly dependables: ITerraformDependable[];
  readonly managedStorage?: { readonly url: string; readonly location: ITerraformDependable };

  constructor(scope: Construct, id: string, props: AwsLandingZoneProps) {
    super(scope, id);
    const env = props.environment;
    if (env.cloud !== "aws") {
      throw new Error(`AwsLandingZone ${id}: environment ${env.name} cloud got "${env.cloud}", expected "aws"`);
    }
    this.bucket = new LandingBucket(this, "storage", {
      bucketName: env.names.bucket,
      landingPrefix: env.storage.landingPrefix,
      retentionDays: env.storage.retentionDays,
      coolAfterDays: env.coolAfterDays,
    });
    this.access = new UnityCatalogS3Access(this, "unity-catalog", {
      bucket: this.bucket.bucket,
      key: this.bucket.key,
      landingPrefix: env.storage.landingPrefix,
      roleName: `${env.names.base}-uc-landing`,
      name: `${env.names.base.replace(/-/g, "_")}_landing`,
      grantee: env.jobPrincipal,
      managedPrefix: env.catalog.create ? env.storage.managedPrefix : undefined,
    });
    this.landingUrl = this.access.landingUrl;
    this.dependables = [this.access.location.externalLocation, this.access.location.grants];
    const managed = this.access.managedLocation;
    this.managedStorage = managed && { url: managed.url, location: managed.externalLocation };
  }
}
