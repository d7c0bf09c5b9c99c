import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration, type S3BucketLifecycleConfigurationRule } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import { protect } from "../protection/protect";

export interface LandingBucketProps {
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /** Folder holding the landing zone; lifecycle expiry and tiering apply to it only. */
  readonly landingPrefix: string;
  /** Days a landing object lives before it expires. */
  readonly retentionDays: number;
  /**
   * Days before landing objects move to a cheaper storage class: STANDARD_IA from 30 days on (S3's minimum for
   * that class), INTELLIGENT_TIERING below.
   * @default no tiering
   */
  readonly coolAfterDays?: number;
  /**
   * Days a replaced or deleted object version is kept (a rerun overwrites a partition; this is the undo window).
   * @default 7
   */
  readonly noncurrentVersionRetentionDays?: number;
  /**
   * Days before an unfinished multipart upload (a crashed writer) is aborted and its parts deleted.
   * @default 1
   */
  readonly abortIncompleteUploadDays?: number;
}

/**
 * The landing bucket, secure by construction: SSE-KMS with a rotating customer-managed key and bucket keys (fewer
 * KMS calls, lower cost), versioning, every public-access block, bucket-owner-enforced ownership (no ACLs), a policy
 * that denies any request without TLS, and lifecycle rules for tiering, expiry and clean-up.
 */
export class LandingBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly key: KmsKey;
  readonly keyAlias: KmsAlias;

  constructor(scope: Construct, id: string, props: LandingBucketProps) {
    super(scope, id);
    if (props.coolAfterDays !== undefined && props.coolAfterDays >= props.retentionDays) {
      invalidProp(`LandingBucket ${id}`, "coolAfterDays", props.coolAfterDays, `fewer than retentionDays (${props.retentionDays})`);
    }

    this.key = protect(
      new KmsKey(this, "key", {
        description: `Encrypts the members landing zone in s3://${props.bucketName}`,
        enableKeyRotation: true,
      }),
    );
    this.keyAlias = protect(new KmsAlias(this, "key-alias", { name: `alias/${props.bucketName}`, targetKeyId: this.key.keyId }));

    this.bucket = protect(new S3Bucket(this, "bucket", { bucket: props.bucketName }));

    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn },
          bucketKeyEnabled: true,
        },
      ],
    });
    new S3BucketVersioningA(this, "versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });

    const tlsOnly = new DataAwsIamPolicyDocument(this, "tls-only-policy", {
      statement: [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["s3:*"],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ],
    });
    new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: tlsOnly.json,
      // S3 rejects policy writes while the public-access block is being applied.
      dependsOn: [publicAccessBlock],
    });

    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: lifecycleRules(props),
    });
  }
}

function lifecycleRules(props: LandingBucketProps): S3BucketLifecycleConfigurationRule[] {
  const landing = `${props.landingPrefix}/`;
  const coolAfterDays = props.coolAfterDays;
  return [
    {
      id: "landing-expiry",
      status: "Enabled",
      filter: [{ prefix: landing }],
      expiration: [{ days: props.retentionDays }],
      transition:
        coolAfterDays === undefined
          ? undefined
          : [{ days: coolAfterDays, storageClass: coolAfterDays >= 30 ? "STANDARD_IA" : "INTELLIGENT_TIERING" }],
    },
    {
      id: "noncurrent-versions",
      status: "Enabled",
      // Whole bucket, managed tables included: Delta's removed files become noncurrent versions, which only this
      // rule ever deletes. `prefix = ""` is the filter form aws 5.90+ and 6.x accept without a warning.
      filter: [{ prefix: "" }],
      noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionRetentionDays ?? 7 }],
      expiration: [{ expiredObjectDeleteMarker: true }],
    },
    {
      id: "abort-incomplete-multipart-uploads",
      status: "Enabled",
      filter: [{ prefix: "" }],
      abortIncompleteMultipartUpload: [{ daysAfterInitiation: props.abortIncompleteUploadDays ?? 1 }],
    },
  ];
}
