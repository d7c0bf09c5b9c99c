import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
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
  /**
   * Name of the IAM role (in the deploying account) Unity Catalog assumes: with breakGlassRoleArn, the only principal
   * the bucket policy lets read, write, delete or list objects and the key policy lets encrypt or decrypt.
   * AwsLandingZone always sets it.
   * @default no data boundary: the bucket policy holds the TLS rule only, the key policy the account's administration
   */
  readonly dataRoleName?: string;
  /**
   * ARN of a named emergency role that is also let through both Deny statements (it still needs IAM permissions of
   * its own). Without it, nobody but the Unity Catalog role can read the data until the bucket policy is changed.
   * @default none
   */
  readonly breakGlassRoleArn?: string;
}

/** The statement every bucket policy here starts with: any request to the bucket or its objects without TLS is denied. */
export function denyInsecureTransport(bucketArn: string): DataAwsIamPolicyDocumentStatement {
  return {
    sid: "DenyInsecureTransport",
    effect: "Deny",
    principals: [{ type: "*", identifiers: ["*"] }],
    actions: ["s3:*"],
    resources: [bucketArn, `${bucketArn}/*`],
    condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
  };
}

/** Object-level S3 actions denied to every principal but the data roles; bucket configuration actions stay open. */
export const DATA_OBJECT_ACTIONS = ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject"] as const;
/** Listing actions on the bucket, denied likewise: object keys carry run dates and table layout. */
export const DATA_LIST_ACTIONS = ["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"] as const;
/** Cryptographic use of the key, denied to every principal but the data roles; key administration stays open. */
export const KEY_USE_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"] as const;

/**
 * The landing bucket, secure by construction: SSE-KMS with a rotating customer-managed key and bucket keys (fewer
 * KMS calls, lower cost), versioning, every public-access block, bucket-owner-enforced ownership (no ACLs), a policy
 * that denies any request without TLS and any object access by a principal other than the data role (and the
 * break-glass role), a key policy with the same boundary, and lifecycle rules for tiering, expiry and clean-up.
 *
 * The data role's ARN is built from the account id and its name, so neither policy references the role resource and
 * nothing here waits for it, except the key: KMS refuses a key policy naming a role that does not exist yet, so the
 * caller makes the key depend on the role (AwsLandingZone does).
 */
export class LandingBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly key: KmsKey;
  readonly keyAlias: KmsAlias;
  /** `arn:<partition>:iam::<account>:role/<dataRoleName>`, built from the account id (no reference to the role). */
  readonly dataRoleArn?: string;

  constructor(scope: Construct, id: string, props: LandingBucketProps) {
    super(scope, id);
    if (props.coolAfterDays !== undefined && props.coolAfterDays >= props.retentionDays) {
      invalidProp(`LandingBucket ${id}`, "coolAfterDays", props.coolAfterDays, `fewer than retentionDays (${props.retentionDays})`);
    }

    const caller = new DataAwsCallerIdentity(this, "caller");
    const partition = new DataAwsPartition(this, "partition");
    const iam = `arn:${partition.partition}:iam::${caller.accountId}`;
    const dataRoleArn = props.dataRoleName === undefined ? undefined : `${iam}:role/${props.dataRoleName}`;
    this.dataRoleArn = dataRoleArn;
    if (dataRoleArn === undefined && props.breakGlassRoleArn !== undefined) {
      invalidProp(
        `LandingBucket ${id}`,
        "breakGlassRoleArn",
        props.breakGlassRoleArn,
        "dataRoleName as well (the break-glass role is an exception to the data boundary)",
      );
    }
    const dataPrincipals =
      dataRoleArn === undefined ? [] : [dataRoleArn, ...(props.breakGlassRoleArn === undefined ? [] : [props.breakGlassRoleArn])];
    // aws:PrincipalArn of a role session is the role's ARN. Anonymous requests have no such key, and a negated
    // operator on a missing key matches, so they are denied too.
    const exceptDataPrincipals = [{ test: "ArnNotEquals", variable: "aws:PrincipalArn", values: dataPrincipals }];
    const boundary = <T>(statements: T[]): T[] => (dataRoleArn === undefined ? [] : statements);

    const keyPolicy = new DataAwsIamPolicyDocument(this, "key-policy", {
      statement: [
        {
          // The account keeps full control of the key: this statement is what lets IAM policies grant on it at all,
          // and without it a key policy can make the key unmanageable (AWS KMS default key policy).
          sid: "AccountAdministersKey",
          principals: [{ type: "AWS", identifiers: [`${iam}:root`] }],
          actions: ["kms:*"],
          resources: ["*"],
        },
        ...boundary([
          {
            sid: "DataRoleUsesKey",
            principals: [{ type: "AWS", identifiers: [dataRoleArn ?? ""] }],
            actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
            resources: ["*"],
          },
          {
            // Cryptographic use only: administration (policy, rotation, deletion, describe) is never denied, so the
            // account can always change this policy.
            sid: "DenyKeyUseExceptDataRoles",
            effect: "Deny",
            principals: [{ type: "*", identifiers: ["*"] }],
            actions: [...KEY_USE_ACTIONS],
            resources: ["*"],
            condition: exceptDataPrincipals,
          },
        ]),
      ],
    });
    this.key = protect(
      new KmsKey(this, "key", {
        description: `Encrypts the members landing zone in s3://${props.bucketName}`,
        enableKeyRotation: true,
        policy: keyPolicy.json,
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

    // The id dates from when the policy held only the TLS statement; kept, so the address stays.
    const bucketPolicy = new DataAwsIamPolicyDocument(this, "tls-only-policy", {
      statement: [
        denyInsecureTransport(this.bucket.arn),
        ...boundary([
          {
            // Object access and listing only. Bucket configuration (policy, notifications Databricks' managed file
            // events set, lifecycle, encryption) is not denied, and the bucket owner's root user can always get, put and
            // delete the bucket policy (S3 DeleteBucketPolicy/PutBucketPolicy: lock-out protection).
            sid: "DenyDataAccessExceptDataRoles",
            effect: "Deny",
            principals: [{ type: "*", identifiers: ["*"] }],
            actions: [...DATA_OBJECT_ACTIONS, ...DATA_LIST_ACTIONS],
            resources: [this.bucket.arn, `${this.bucket.arn}/*`],
            condition: exceptDataPrincipals,
          },
        ]),
      ],
    });
    new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: bucketPolicy.json,
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
