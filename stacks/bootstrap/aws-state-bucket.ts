import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { denyInsecureTransport } from "../aws/landing-bucket";
import { invalidProp } from "../common/validation";
import { protect } from "../protection/protect";

export interface StateBucketProps {
  /** Globally unique bucket name: the environment's `stateBackend.bucket`. */
  readonly bucketName: string;
  /** `alias/<name>` of the customer-managed key: the environment's backend `kms_key_id`. */
  readonly keyAlias: string;
  /** `arn:<partition>:iam::<account>` of the account that administers the key (its root, AWS's default statement). */
  readonly accountArnPrefix: string;
  /** ARNs of the roles that read and write the state (the deploy role): Encrypt, Decrypt, GenerateDataKey*. */
  readonly writerRoleArns: readonly string[];
  /** ARNs of the roles that only read it (the plan role): Decrypt. */
  readonly readerRoleArns: readonly string[];
  /**
   * What the key must wait for: KMS refuses a key policy naming a role that does not exist yet.
   * @default nothing
   */
  readonly keyDependsOn?: ITerraformDependable[];
  /**
   * Days a replaced state version is kept (the undo window of a bad apply).
   * @default 90
   */
  readonly noncurrentVersionRetentionDays?: number;
}

/**
 * One environment's Terraform state bucket: SSE-KMS with a customer-managed key that rotates and has an explicit key
 * policy (the account administers it; only the environment's CI roles use it), bucket keys, versioning with a
 * retention window for old state versions, every public-access block, no ACLs, TLS-only. The bucket, key and alias
 * are stateful (stacks/protection): prevent_destroy, no force_destroy, the longest key deletion window.
 */
export class StateBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly key: KmsKey;
  readonly keyAlias: KmsAlias;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(props.keyAlias) || props.keyAlias.startsWith("alias/aws/")) {
      invalidProp(`StateBucket ${id}`, "keyAlias", props.keyAlias, "a customer-managed key alias (alias/<name>, not alias/aws/...)");
    }
    if (props.writerRoleArns.length === 0) {
      invalidProp(`StateBucket ${id}`, "writerRoleArns", props.writerRoleArns, "at least one role that writes the state");
    }
    const retention = props.noncurrentVersionRetentionDays ?? 90;

    const keyPolicy = new DataAwsIamPolicyDocument(this, "key-policy", {
      statement: [
        {
          // AWS's default key policy statement: the account administers the key, so it stays manageable.
          sid: "AccountAdministersKey",
          principals: [{ type: "AWS", identifiers: [`${props.accountArnPrefix}:root`] }],
          actions: ["kms:*"],
          resources: ["*"],
        },
        {
          sid: "DeployRoleUsesKey",
          principals: [{ type: "AWS", identifiers: [...props.writerRoleArns] }],
          actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
          resources: ["*"],
        },
        ...(props.readerRoleArns.length === 0
          ? []
          : [
              {
                sid: "PlanRoleDecrypts",
                principals: [{ type: "AWS", identifiers: [...props.readerRoleArns] }],
                actions: ["kms:Decrypt", "kms:DescribeKey"],
                resources: ["*"],
              },
            ]),
      ],
    });
    this.key = protect(
      new KmsKey(this, "key", {
        description: `Encrypts the Terraform state in s3://${props.bucketName}`,
        enableKeyRotation: true,
        policy: keyPolicy.json,
        dependsOn: props.keyDependsOn,
      }),
    );
    this.keyAlias = protect(new KmsAlias(this, "key-alias", { name: props.keyAlias, targetKeyId: this.key.keyId }));

    this.bucket = protect(new S3Bucket(this, "bucket", { bucket: props.bucketName }));
    const bucket = this.bucket.id;
    new S3BucketVersioningA(this, "versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn }, bucketKeyEnabled: true }],
    });
    const blockPublic = new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } });
    const tlsOnly = new DataAwsIamPolicyDocument(this, "bucket-policy-document", { statement: [denyInsecureTransport(this.bucket.arn)] });
    new S3BucketPolicy(this, "policy", { bucket, policy: tlsOnly.json, dependsOn: [blockPublic] });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket,
      rule: [
        {
          // Old state versions: the undo window of a bad apply, then gone (they hold the same secrets as the state).
          id: "noncurrent-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: retention }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 1 }],
        },
      ],
    });
  }
}
