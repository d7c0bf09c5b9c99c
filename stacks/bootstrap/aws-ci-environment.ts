import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import type { S3StateLocation } from "../config/state";
import { StateBucket } from "./aws-state-bucket";
import { AWS_STS_AUDIENCE, ciIdentityNames, GITHUB_OIDC_HOST, githubEnvironments, githubSubject } from "./github";

export interface AwsCiEnvironmentProps {
  /** Configuration environment name (`dev`): the GitHub environments are `<name>-plan` and `<name>`. */
  readonly environmentName: string;
  /** GitHub repository (owner/name) whose workflows may assume the roles. */
  readonly githubRepository: string;
  /** ARN of the account's GitHub OIDC identity provider. */
  readonly oidcProviderArn: string;
  /** The environment's resource prefix `<prefix>-<env>` (resourceNames().base): the deploy role's whole scope. */
  readonly resourcePrefix: string;
  /** The environment's stack (`members-<env>`): the `stack` tag its KMS keys carry, which scopes KMS rights. */
  readonly stackName: string;
  /** Region of the environment's resources (its KMS keys). */
  readonly region: string;
  /** `arn:<partition>` of the account. */
  readonly partition: string;
  /** Account id. */
  readonly accountId: string;
  /** Where the environment's state lives (stateLocation): the bucket, key and key alias this construct creates. */
  readonly state: S3StateLocation;
}

/** Object actions on the state: the deploy role's only rights on the state bucket (besides listing it). */
const STATE_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] as const;
/** Use of the state key: the deploy role's only rights on it. */
const STATE_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:DescribeKey"] as const;
/** IAM actions that remove or replace a permissions boundary: denied everywhere by the boundary. */
export const BOUNDARY_ESCAPE_ACTIONS = [
  "iam:DeleteRolePermissionsBoundary",
  "iam:PutRolePermissionsBoundary",
  "iam:DeleteUserPermissionsBoundary",
  "iam:PutUserPermissionsBoundary",
] as const;
/** IAM actions that change identities or policies; outside the environment's names the boundary denies them. */
export const IAM_WRITE_ACTIONS = [
  "iam:Add*",
  "iam:Attach*",
  "iam:Create*",
  "iam:Delete*",
  "iam:Detach*",
  "iam:PassRole",
  "iam:Put*",
  "iam:Remove*",
  "iam:Set*",
  "iam:Tag*",
  "iam:Untag*",
  "iam:Update*",
] as const;

/**
 * One environment's CI identities and state on AWS:
 * - a plan role, assumable only by a job in GitHub environment `<env>-plan` of the repository (OIDC `aud` and `sub`
 *   both StringEquals, no wildcard): reads the environment's resources and its state, writes nothing;
 * - a deploy role, assumable only from `<env>`: manages the resources named `<prefix>-<env>-*` (S3, KMS keys tagged
 *   with the environment's stack, IAM roles and policies) and reads and writes its state object and lock file;
 * - the permissions boundary both roles carry: the same scope as a cap, and explicit denies of IAM changes outside
 *   the environment's names, of any permissions-boundary removal or change, of any change to the CI identities
 *   themselves (`<prefix>-<env>-ci-*`), and of any administration of the state bucket and key;
 * - the state bucket and its customer-managed key (StateBucket).
 */
export class AwsCiEnvironment extends Construct {
  readonly planRole: IamRole;
  readonly deployRole: IamRole;
  readonly boundary: IamPolicy;
  readonly state: StateBucket;

  constructor(scope: Construct, id: string, props: AwsCiEnvironmentProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]*[a-z0-9]$/.test(props.resourcePrefix)) {
      invalidProp(`AwsCiEnvironment ${id}`, "resourcePrefix", props.resourcePrefix, "a resource prefix without wildcards (<prefix>-<env>)");
    }
    const names = ciIdentityNames(props.resourcePrefix);
    const githubEnvs = githubEnvironments(props.environmentName);
    const iam = `arn:${props.partition}:iam::${props.accountId}`;
    const prefix = props.resourcePrefix;
    const stateBucketArn = `arn:${props.partition}:s3:::${props.state.bucket}`;
    const stateObjectArns = [`${stateBucketArn}/${props.state.key}`, `${stateBucketArn}/${props.state.key}.tflock`];
    const kmsKeys = `arn:${props.partition}:kms:${props.region}:${props.accountId}:key/*`;
    const envBuckets = `arn:${props.partition}:s3:::${prefix}-*`;
    const envIam = [`${iam}:role/${prefix}-*`, `${iam}:policy/${prefix}-*`];
    const ciIam = [`${iam}:role/${names.reserved}`, `${iam}:policy/${names.reserved}`];
    const stackTag = (variable: string) => [{ test: "StringEquals", variable, values: [props.stackName] }];

    const trust = (githubEnvironment: string, idSuffix: string) =>
      new DataAwsIamPolicyDocument(this, `${idSuffix}-trust`, {
        statement: [
          {
            sid: "GithubEnvironmentOnly",
            actions: ["sts:AssumeRoleWithWebIdentity"],
            principals: [{ type: "Federated", identifiers: [props.oidcProviderArn] }],
            condition: [
              { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:aud`, values: [AWS_STS_AUDIENCE] },
              { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:sub`, values: [githubSubject(props.githubRepository, githubEnvironment)] },
            ],
          },
        ],
      });

    /** What deploying the environment needs: its own names only. */
    const deployScope: DataAwsIamPolicyDocumentStatement[] = [
      { sid: "EnvironmentBuckets", actions: ["s3:*"], resources: [envBuckets, `${envBuckets}/*`] },
      {
        sid: "CreateEnvironmentKeys",
        actions: ["kms:CreateKey", "kms:TagResource"],
        resources: ["*"],
        condition: stackTag("aws:RequestTag/stack"),
      },
      { sid: "EnvironmentKeys", actions: ["kms:*"], resources: [kmsKeys], condition: stackTag("aws:ResourceTag/stack") },
      {
        sid: "EnvironmentKeyAliases",
        actions: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
        resources: [`arn:${props.partition}:kms:${props.region}:${props.accountId}:alias/${prefix}-*`],
      },
      { sid: "ListKeyAliases", actions: ["kms:ListAliases"], resources: ["*"] },
      { sid: "EnvironmentIam", actions: ["iam:*"], resources: envIam },
    ];
    /** Reading and writing the state object and its lock file. */
    const stateAccess = (write: boolean): DataAwsIamPolicyDocumentStatement[] => [
      { sid: "ListState", actions: ["s3:ListBucket"], resources: [stateBucketArn] },
      { sid: write ? "ReadWriteState" : "ReadState", actions: write ? [...STATE_OBJECT_ACTIONS] : ["s3:GetObject"], resources: stateObjectArns },
    ];
    // The state key by its alias, not its ARN: the key policy names the roles, the roles carry the boundary, so the
    // boundary cannot reference the key (a cycle).
    const stateKeyArns = `arn:${props.partition}:kms:${props.state.region}:${props.accountId}:key/*`;
    const stateAlias = [{ test: "ForAnyValue:StringEquals", variable: "kms:ResourceAliases", values: [props.state.kmsKeyAlias] }];
    /** What no CI role may do, whatever it is granted: the boundary's explicit denies. */
    const denies: DataAwsIamPolicyDocumentStatement[] = [
      { sid: "DenyIamOutsideEnvironment", effect: "Deny", actions: [...IAM_WRITE_ACTIONS], notResources: envIam },
      { sid: "DenyBoundaryEscape", effect: "Deny", actions: [...BOUNDARY_ESCAPE_ACTIONS], resources: ["*"] },
      { sid: "DenyCiIdentityChanges", effect: "Deny", actions: [...IAM_WRITE_ACTIONS], resources: ciIam },
      {
        sid: "DenyStateBucketAdministration",
        effect: "Deny",
        notActions: ["s3:ListBucket", ...STATE_OBJECT_ACTIONS],
        resources: [stateBucketArn, `${stateBucketArn}/*`],
      },
      { sid: "DenyStateKeyAdministration", effect: "Deny", notActions: [...STATE_KEY_ACTIONS], resources: [stateKeyArns], condition: stateAlias },
      {
        sid: "DenyStateKeyAliasChanges",
        effect: "Deny",
        actions: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
        resources: [`arn:${props.partition}:kms:${props.state.region}:${props.accountId}:${props.state.kmsKeyAlias}`],
      },
    ];

    this.boundary = new IamPolicy(this, "boundary", {
      name: names.boundary,
      description: `Permissions boundary of the CI roles of ${props.environmentName}: ${prefix}-* only, no boundary removal`,
      policy: new DataAwsIamPolicyDocument(this, "boundary-document", {
        statement: [
          ...deployScope,
          ...stateAccess(true),
          // A boundary caps grants through the key policy to the role's ARN too: the state key must be inside it.
          { sid: "UseStateKey", actions: [...STATE_KEY_ACTIONS], resources: [stateKeyArns], condition: stateAlias },
          ...denies,
        ],
      }).json,
    });

    this.planRole = new IamRole(this, "plan-role", {
      name: names.plan,
      description: `Plans ${props.stackName} from GitHub environment ${githubEnvs.plan} (read-only)`,
      assumeRolePolicy: trust(githubEnvs.plan, "plan").json,
      permissionsBoundary: this.boundary.arn,
      maxSessionDuration: 3600,
    });
    this.deployRole = new IamRole(this, "deploy-role", {
      name: names.deploy,
      description: `Deploys ${props.stackName} from GitHub environment ${githubEnvs.deploy}`,
      assumeRolePolicy: trust(githubEnvs.deploy, "deploy").json,
      permissionsBoundary: this.boundary.arn,
      maxSessionDuration: 3600,
    });

    this.state = new StateBucket(this, "state", {
      bucketName: props.state.bucket,
      keyAlias: props.state.kmsKeyAlias,
      accountArnPrefix: iam,
      writerRoleArns: [this.deployRole.arn],
      readerRoleArns: [this.planRole.arn],
      keyDependsOn: [this.planRole, this.deployRole],
    });
    const stateKey = (actions: readonly string[]): DataAwsIamPolicyDocumentStatement => ({
      sid: "UseStateKey",
      actions: [...actions],
      resources: [this.state.key.arn],
    });

    const readOnly: DataAwsIamPolicyDocumentStatement[] = [
      // Bucket-level reads only (configuration, policy, tags): no object ARN, so no object is readable.
      { sid: "ReadEnvironmentBuckets", actions: ["s3:Get*", "s3:ListBucket"], resources: [envBuckets] },
      {
        sid: "ReadEnvironmentKeys",
        actions: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
        resources: [kmsKeys],
        condition: stackTag("aws:ResourceTag/stack"),
      },
      { sid: "ListKeyAliases", actions: ["kms:ListAliases"], resources: ["*"] },
      { sid: "ReadEnvironmentIam", actions: ["iam:Get*", "iam:List*"], resources: envIam },
    ];
    new IamRolePolicy(this, "plan-policy", {
      name: "plan",
      role: this.planRole.name,
      policy: new DataAwsIamPolicyDocument(this, "plan-document", { statement: [...readOnly, ...stateAccess(false), stateKey(["kms:Decrypt"])] })
        .json,
    });
    new IamRolePolicy(this, "deploy-policy", {
      name: "deploy",
      role: this.deployRole.name,
      policy: new DataAwsIamPolicyDocument(this, "deploy-document", {
        statement: [...deployScope, ...stateAccess(true), stateKey(STATE_KEY_ACTIONS), ...denies],
      }).json,
    });
  }
}
