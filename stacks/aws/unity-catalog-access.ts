import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import type { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { DataDatabricksAwsUnityCatalogAssumeRolePolicy } from "@cdktf/provider-databricks/lib/data-databricks-aws-unity-catalog-assume-role-policy";
import { StorageCredential } from "@cdktf/provider-databricks/lib/storage-credential";
import { Sleep } from "@cdktf/provider-time/lib/sleep";
import { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import { MANAGED_FILE_EVENTS_AWS_ACTIONS, MIN_IAM_PROPAGATION_SECONDS } from "../policy/rules/documented-limits";
import { protect } from "../protection/protect";
import { LandingLocation, landingFolder, SECURABLE_ISOLATION_MODE } from "../unity-catalog/landing-location";
import { ManagedStorageLocation } from "../unity-catalog/managed-location";

/** Databricks creates and owns the SNS topic and SQS queue; the role may (MANAGED_FILE_EVENTS_AWS_ACTIONS). */
const MANAGED_SQS = { managedSqs: {} };

export interface UnityCatalogS3AccessProps {
  /** Bucket holding the landing zone. */
  readonly bucket: S3Bucket;
  /** Key that encrypts the bucket; Unity Catalog needs it to read and write objects. */
  readonly key: KmsKey;
  /** Folder the external location covers; the role can touch nothing else in the bucket. */
  readonly landingPrefix: string;
  /** IAM role name; also part of the role's self-assume statement, so it is fixed up front. */
  readonly roleName: string;
  /** Name of the storage credential and external location in Unity Catalog. */
  readonly name: string;
  /** Principal (group name or service principal application id) that gets READ FILES and WRITE FILES. */
  readonly grantee: string;
  /**
   * Folder of the bucket for a created catalog's managed tables, registered as an external location of its own
   * (`<name>_managed`) and covered by the role's policy. Must differ from landingPrefix.
   * @default no managed storage location
   */
  readonly managedPrefix?: string;
  /**
   * How long to wait after the role, its trust or its policy changes before Unity Catalog validates the external
   * location: IAM is eventually consistent and Databricks documents that a new role can take a minute or more to be
   * assumable.
   * @default "60s"
   */
  readonly iamPropagationDelay?: string;
}

/**
 * Unity Catalog's access to the landing prefix: an IAM role Databricks assumes, a storage credential that names it,
 * and an external location at `s3://<bucket>/<prefix>/` with READ FILES and WRITE FILES for the job principal.
 *
 * Create-order cycle: the credential needs the role ARN and the role's trust policy needs the credential's external
 * ID. The role ARN is deterministic (account + name), so the credential is created first with the ARN built as a
 * string; the role's trust policy then references the credential's external ID. Nothing assumes the role until the
 * external location validates it, which waits for IAM propagation.
 */
export class UnityCatalogS3Access extends Construct {
  readonly role: IamRole;
  readonly storageCredential: StorageCredential;
  readonly location: LandingLocation;
  /** `s3://<bucket>/<prefix>/`, the URL the jobs read and write; ends with `/`. */
  readonly landingUrl: string;
  /** The managed storage location, when managedPrefix is set. */
  readonly managedLocation?: ManagedStorageLocation;

  constructor(scope: Construct, id: string, props: UnityCatalogS3AccessProps) {
    super(scope, id);
    const prefix = landingFolder(`UnityCatalogS3Access ${id}`, props.landingPrefix);
    const managed = props.managedPrefix === undefined ? undefined : landingFolder(`UnityCatalogS3Access ${id}`, props.managedPrefix);
    if (managed === prefix) {
      invalidProp(`UnityCatalogS3Access ${id}`, "managedPrefix", props.managedPrefix, "a folder other than landingPrefix");
    }
    const folders = managed === undefined ? [prefix] : [prefix, managed];

    const caller = new DataAwsCallerIdentity(this, "caller");
    const partition = new DataAwsPartition(this, "partition");
    const roleArn = `arn:${partition.partition}:iam::${caller.accountId}:role/${props.roleName}`;

    this.storageCredential = protect(
      new StorageCredential(this, "credential", {
        name: props.name,
        comment: `Unity Catalog access to ${folders.map((f) => `s3://${props.bucket.bucket}/${f}/`).join(" and ")} (managed by cdktf)`,
        awsIamRole: { roleArn },
        isolationMode: SECURABLE_ISOLATION_MODE,
      }),
    );

    // Trust: the Unity Catalog master role with this credential's external ID, plus the role assuming itself
    // (required by Databricks since 2025); both statements come from the provider's data source.
    const trust = new DataDatabricksAwsUnityCatalogAssumeRolePolicy(this, "trust-policy", {
      awsAccountId: caller.accountId,
      awsPartition: partition.partition,
      roleName: props.roleName,
      externalId: this.storageCredential.awsIamRole.externalId,
      unityCatalogIamArn: this.storageCredential.awsIamRole.unityCatalogIamArn,
    });
    this.role = new IamRole(this, "role", {
      name: props.roleName,
      description: "Assumed by Unity Catalog to read and write the members landing zone",
      assumeRolePolicy: trust.json,
    });

    const { setup, list, teardown } = MANAGED_FILE_EVENTS_AWS_ACTIONS;
    const fileEventResources = ["sqs", "sns"].map((service) => `arn:${partition.partition}:${service}:*:${caller.accountId}:csms-*`);
    const access = new DataAwsIamPolicyDocument(this, "access-policy", {
      statement: [
        {
          sid: "ListLandingPrefix",
          actions: ["s3:ListBucket"],
          resources: [props.bucket.arn],
          condition: [{ test: "StringLike", variable: "s3:prefix", values: folders.flatMap((f) => [f, `${f}/*`]) }],
        },
        {
          sid: "LocateBucket",
          actions: ["s3:GetBucketLocation"],
          resources: [props.bucket.arn],
        },
        {
          sid: "ReadWriteLandingObjects",
          actions: [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
          ],
          resources: folders.map((f) => `${props.bucket.arn}/${f}/*`),
        },
        {
          sid: "UseLandingKey",
          actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
          resources: [props.key.arn],
        },
        {
          sid: "AssumeSelf",
          actions: ["sts:AssumeRole"],
          resources: [roleArn],
        },
        // Managed file events (on for every location, see StorageLocationProps.fileEventQueue): Databricks sets up a
        // bucket notification to an SNS topic and SQS queue named csms-*, and tears them down.
        { sid: "ManagedFileEventsSetupStatement", actions: [...setup], resources: [props.bucket.arn, ...fileEventResources] },
        { sid: "ManagedFileEventsListStatement", actions: [...list], resources: fileEventResources },
        { sid: "ManagedFileEventsTeardownStatement", actions: [...teardown], resources: fileEventResources },
      ],
    });
    const rolePolicy = new IamRolePolicy(this, "role-policy", {
      name: "landing-zone-access",
      role: this.role.id,
      policy: access.json,
    });

    // The triggers re-create the sleep (and wait again) whenever the role, its trust or its permissions change.
    const iamPropagation = new Sleep(this, "iam-propagation", {
      createDuration: props.iamPropagationDelay ?? `${MIN_IAM_PROPAGATION_SECONDS}s`,
      dependsOn: [this.role, rolePolicy],
      triggers: { role: this.role.arn, trust: this.role.assumeRolePolicy, policy: rolePolicy.policy },
    });

    this.landingUrl = `s3://${props.bucket.bucket}/${prefix}/`;
    this.location = new LandingLocation(this, "landing", {
      name: props.name,
      url: this.landingUrl,
      credentialName: this.storageCredential.name,
      grantee: props.grantee,
      dependsOn: [iamPropagation],
      fileEventQueue: MANAGED_SQS,
    });
    if (managed !== undefined) {
      this.managedLocation = new ManagedStorageLocation(this, "managed", {
        name: `${props.name}_managed`,
        url: `s3://${props.bucket.bucket}/${managed}/`,
        credentialName: this.storageCredential.name,
        dependsOn: [iamPropagation],
        fileEventQueue: MANAGED_SQS,
      });
    }
  }
}
