import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { Testing } from "cdktf";
import { LandingBucket } from "../stacks/aws/landing-bucket";
import { UnityCatalogS3Access } from "../stacks/aws/unity-catalog-access";
import { validateConfig } from "../stacks/config/validate";
import { MANAGED_FILE_EVENTS_AWS_ACTIONS } from "../stacks/policy/rules/documented-limits";
import { testConfig } from "./fixtures/test-config";
import { landingLocationOf, onlyResource, resourcesOf, synthAll, type TerraformJson } from "./synth-helpers";

/** `${type.id.attr}` reference to a resource or data source found in the synthesized JSON. */
const ref = (type: string, id: string, attr: string) => `\${${type}.${id}.${attr}}`;
const dataRef = (type: string, id: string, attr: string) => `\${data.${type}.${id}.${attr}}`;

function onlyData(json: TerraformJson, type: string, idPart: string): { id: string; props: Record<string, any> } {
  const matches = Object.entries(json.data?.[type] ?? {}).filter(([id]) => id.includes(idPart));
  if (matches.length !== 1) throw new Error(`expected one data.${type} matching ${idPart}, found ${matches.length}`);
  return { id: matches[0][0], props: matches[0][1] };
}

let prod: TerraformJson;
let dev: TerraformJson;
let azure: TerraformJson;
let bucket: { id: string; props: Record<string, any> };
let key: { id: string; props: Record<string, any> };

beforeAll(() => {
  const { stacks } = synthAll();
  prod = stacks["members-live"];
  dev = stacks["members-sandbox"];
  azure = stacks["members-lab"];
  bucket = onlyResource(prod, "aws_s3_bucket");
  key = onlyResource(prod, "aws_kms_key");
});

describe("landing bucket", () => {
  test("is named from the configuration", () => {
    expect(bucket.props.bucket).toBe("globex-lake-live-landing");
  });

  test("is encrypted with SSE-KMS by its own rotating key, with bucket keys on", () => {
    expect(key.props.enable_key_rotation).toBe(true);
    const sse = onlyResource(prod, "aws_s3_bucket_server_side_encryption_configuration").props;
    expect(sse.bucket).toBe(ref("aws_s3_bucket", bucket.id, "id"));
    expect(sse.rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: ref("aws_kms_key", key.id, "arn") },
        bucket_key_enabled: true,
      },
    ]);
  });

  test("is versioned", () => {
    const versioning = onlyResource(prod, "aws_s3_bucket_versioning").props;
    expect(versioning.bucket).toBe(ref("aws_s3_bucket", bucket.id, "id"));
    expect(versioning.versioning_configuration).toEqual({ status: "Enabled" });
  });

  test("blocks all four kinds of public access", () => {
    const block = onlyResource(prod, "aws_s3_bucket_public_access_block").props;
    expect(block).toMatchObject({
      bucket: ref("aws_s3_bucket", bucket.id, "id"),
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  test("enforces bucket-owner ownership (ACLs disabled)", () => {
    const ownership = onlyResource(prod, "aws_s3_bucket_ownership_controls").props;
    expect(ownership.bucket).toBe(ref("aws_s3_bucket", bucket.id, "id"));
    expect(ownership.rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
  });

  test("has a policy that denies every request without TLS, on the bucket and its objects", () => {
    const policy = onlyResource(prod, "aws_s3_bucket_policy").props;
    const document = onlyData(prod, "aws_iam_policy_document", "tls-only");
    expect(policy.bucket).toBe(ref("aws_s3_bucket", bucket.id, "id"));
    expect(policy.policy).toBe(dataRef("aws_iam_policy_document", document.id, "json"));
    expect(document.props.statement.find((s: any) => s.sid === "DenyInsecureTransport")).toEqual(
      expect.objectContaining({
        effect: "Deny",
        principals: [{ type: "*", identifiers: ["*"] }],
        actions: ["s3:*"],
        resources: [ref("aws_s3_bucket", bucket.id, "arn"), `${ref("aws_s3_bucket", bucket.id, "arn")}/*`],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      }),
    );
  });

  test("rejects tiering after expiry", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new LandingBucket(scope, "landing", { bucketName: "b", landingPrefix: "landing", retentionDays: 10, coolAfterDays: 10 });
      }),
    ).toThrow("coolAfterDays: got 10, expected fewer than retentionDays (10)");
  });

  test("lifecycle tiers landing objects, expires them after the retention, prunes old versions and uploads", () => {
    const lifecycle = onlyResource(prod, "aws_s3_bucket_lifecycle_configuration").props;
    expect(lifecycle.bucket).toBe(ref("aws_s3_bucket", bucket.id, "id"));
    const rules = Object.fromEntries(lifecycle.rule.map((r: any) => [r.id, r]));
    expect(rules["landing-expiry"]).toMatchObject({
      status: "Enabled",
      filter: [{ prefix: "landing/" }],
      expiration: [{ days: 90 }],
      transition: [{ days: 30, storage_class: "STANDARD_IA" }],
    });
    expect(rules["noncurrent-versions"]).toMatchObject({
      status: "Enabled",
      noncurrent_version_expiration: [{ noncurrent_days: 7 }],
    });
    expect(rules["abort-incomplete-multipart-uploads"]).toMatchObject({
      status: "Enabled",
      abort_incomplete_multipart_upload: [{ days_after_initiation: 1 }],
    });
  });

  test("short-lived data is not tiered (dev keeps 14 days)", () => {
    const rules = onlyResource(dev, "aws_s3_bucket_lifecycle_configuration").props.rule;
    const expiry = rules.find((r: any) => r.id === "landing-expiry");
    expect(expiry.expiration).toEqual([{ days: 14 }]);
    expect(expiry.transition).toBeUndefined();
  });

  test("tiering below 30 days uses INTELLIGENT_TIERING, which has no minimum age", () => {
    const stack = Testing.synthScope((scope) => {
      new LandingBucket(scope, "landing", { bucketName: "b", landingPrefix: "landing", retentionDays: 20, coolAfterDays: 10 });
    });
    const rules = JSON.parse(stack).resource.aws_s3_bucket_lifecycle_configuration;
    const expiry = (Object.values(rules)[0] as any).rule.find((r: any) => r.id === "landing-expiry");
    expect(expiry.transition).toEqual([{ days: 10, storage_class: "INTELLIGENT_TIERING" }]);
  });
});

/** The Unity Catalog role's ARN as the landing bucket construct builds it: from its own account and partition lookups. */
function dataRoleArnIn(json: TerraformJson): string {
  const caller = onlyData(json, "aws_caller_identity", "storage_caller").id;
  const partition = onlyData(json, "aws_partition", "storage_partition").id;
  const role = onlyResource(json, "aws_iam_role").props.name;
  return `arn:${dataRef("aws_partition", partition, "partition")}:iam::${dataRef("aws_caller_identity", caller, "account_id")}:role/${role}`;
}

describe("data boundary: only the Unity Catalog role (and a named break-glass role) reaches the data", () => {
  const withBreakGlass = (arn: string) => {
    const env = testConfig.environments.find((e) => e.name === "live")!;
    return synthAll({ environments: [{ ...env, storage: { ...env.storage, breakGlassRoleArn: arn } }] }).stacks["members-live"];
  };
  const bucketDeny = (json: TerraformJson) =>
    onlyData(json, "aws_iam_policy_document", "tls-only").props.statement.find((s: any) => s.sid === "DenyDataAccessExceptDataRoles");
  const keyStatements = (json: TerraformJson) => onlyData(json, "aws_iam_policy_document", "key-policy").props.statement;

  test("the bucket policy denies object access and listing to every principal whose ARN is not the Unity Catalog role", () => {
    const bucketArn = ref("aws_s3_bucket", bucket.id, "arn");
    expect(bucketDeny(prod)).toEqual({
      sid: "DenyDataAccessExceptDataRoles",
      effect: "Deny",
      principals: [{ type: "*", identifiers: ["*"] }],
      actions: [
        "s3:GetObject*",
        "s3:PutObject*",
        "s3:DeleteObject*",
        "s3:RestoreObject",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:ListBucketMultipartUploads",
      ],
      resources: [bucketArn, `${bucketArn}/*`],
      condition: [{ test: "ArnNotEquals", variable: "aws:PrincipalArn", values: [dataRoleArnIn(prod)] }],
    });
    // The role the boundary names is the role the storage credential uses (same account, same name).
    const credential = onlyResource(prod, "databricks_storage_credential").props;
    expect(credential.aws_iam_role.role_arn.endsWith(`:role/${onlyResource(prod, "aws_iam_role").props.name}`)).toBe(true);
  });

  test("bucket configuration stays open: policy changes and the notifications of managed file events are not denied", () => {
    const denied: string[] = bucketDeny(prod).actions;
    const matches = (action: string) => denied.some((d) => new RegExp(`^${d.replace(/\*/g, ".*")}$`).test(action));
    for (const action of [
      "s3:PutBucketPolicy",
      "s3:DeleteBucketPolicy",
      "s3:GetBucketPolicy",
      "s3:PutBucketNotification",
      "s3:GetBucketNotification",
    ]) {
      expect(matches(action)).toBe(false);
    }
    for (const action of ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl", "s3:DeleteObjectVersion", "s3:ListBucket"]) {
      expect(matches(action)).toBe(true);
    }
  });

  test("the key has an explicit policy: the account administers it, the Unity Catalog role uses it, nobody else encrypts or decrypts", () => {
    const document = onlyData(prod, "aws_iam_policy_document", "key-policy");
    expect(key.props.policy).toBe(dataRef("aws_iam_policy_document", document.id, "json"));
    const roleArn = dataRoleArnIn(prod);
    const root = roleArn.replace(/:role\/.*$/, ":root");
    expect(document.props.statement).toEqual([
      { sid: "AccountAdministersKey", principals: [{ type: "AWS", identifiers: [root] }], actions: ["kms:*"], resources: ["*"] },
      {
        sid: "DataRoleUsesKey",
        principals: [{ type: "AWS", identifiers: [roleArn] }],
        actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      },
      {
        sid: "DenyKeyUseExceptDataRoles",
        effect: "Deny",
        principals: [{ type: "*", identifiers: ["*"] }],
        actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        resources: ["*"],
        condition: [{ test: "ArnNotEquals", variable: "aws:PrincipalArn", values: [roleArn] }],
      },
    ]);
  });

  test("the key waits for the role its policy names (KMS rejects unknown principals), and the role does not wait for the key", () => {
    const role = onlyResource(prod, "aws_iam_role");
    expect(key.props.depends_on).toEqual([`aws_iam_role.${role.id}`]);
    expect(JSON.stringify(role.props)).not.toContain("aws_kms_key");
    const trust = onlyData(prod, "databricks_aws_unity_catalog_assume_role_policy", "trust-policy");
    expect(JSON.stringify(trust.props)).not.toContain("aws_kms_key");
    expect(JSON.stringify(onlyResource(prod, "databricks_storage_credential").props)).not.toContain("aws_kms_key");
  });

  test("a configured break-glass role is let through both Deny statements, and gets no grant of its own", () => {
    const arn = "arn:aws:iam::123456789012:role/members-break-glass";
    const json = withBreakGlass(arn);
    const roleArn = dataRoleArnIn(json);
    expect(bucketDeny(json).condition).toEqual([{ test: "ArnNotEquals", variable: "aws:PrincipalArn", values: [roleArn, arn] }]);
    const statements = keyStatements(json);
    expect(statements.find((s: any) => s.sid === "DenyKeyUseExceptDataRoles").condition[0].values).toEqual([roleArn, arn]);
    expect(JSON.stringify(statements.filter((s: any) => s.effect !== "Deny"))).not.toContain(arn);
  });

  test("the break-glass role must be an IAM role ARN, and only on AWS", () => {
    const env = testConfig.environments.find((e) => e.name === "live")!;
    const azure = testConfig.environments.find((e) => e.cloud === "azure")!;
    const problem = (e: object) => {
      try {
        validateConfig({ environments: [e] });
        return undefined;
      } catch (error) {
        return String(error);
      }
    };
    for (const bad of [
      "arn:aws:iam::123456789012:user/alice",
      "arn:aws:iam::12345:role/x",
      "members-break-glass",
      "arn:aws:iam::123456789012:root",
    ]) {
      expect(problem({ ...env, storage: { ...env.storage, breakGlassRoleArn: bad } })).toMatch(
        /storage\.breakGlassRoleArn.*expected an IAM role ARN/,
      );
    }
    expect(problem({ ...env, storage: { ...env.storage, breakGlassRoleArn: "arn:aws:iam::123456789012:role/ops/break-glass" } })).toBeUndefined();
    expect(problem({ ...azure, storage: { ...azure.storage, breakGlassRoleArn: "arn:aws:iam::123456789012:role/x" } })).toMatch(
      /storage\.breakGlassRoleArn.*expected no IAM role on Azure/,
    );
  });
});

describe("Unity Catalog IAM role", () => {
  let role: { id: string; props: Record<string, any> };
  let credential: { id: string; props: Record<string, any> };
  let trust: { id: string; props: Record<string, any> };
  let caller: string;

  beforeAll(() => {
    role = onlyResource(prod, "aws_iam_role");
    credential = onlyResource(prod, "databricks_storage_credential");
    trust = onlyData(prod, "databricks_aws_unity_catalog_assume_role_policy", "trust-policy");
    caller = onlyData(prod, "aws_caller_identity", "unity-catalog").id;
  });

  test("trust policy comes from the Databricks data source, not hand-written JSON", () => {
    expect(role.props.assume_role_policy).toBe(dataRef("databricks_aws_unity_catalog_assume_role_policy", trust.id, "json"));
  });

  test("trust carries the UC master role and the storage credential's external ID, by reference", () => {
    expect(trust.props.unity_catalog_iam_arn).toBe(ref("databricks_storage_credential", credential.id, "aws_iam_role[0].unity_catalog_iam_arn"));
    expect(trust.props.external_id).toBe(ref("databricks_storage_credential", credential.id, "aws_iam_role[0].external_id"));
  });

  test("trust carries the self-assume statement: the data source is given this role's name and account", () => {
    expect(trust.props.role_name).toBe(role.props.name);
    expect(trust.props.aws_account_id).toBe(dataRef("aws_caller_identity", caller, "account_id"));
    expect(trust.props.aws_partition).toBe(dataRef("aws_partition", onlyData(prod, "aws_partition", "unity-catalog").id, "partition"));
  });

  test("the credential names the role by its deterministic ARN, breaking the create-order cycle", () => {
    expect(credential.props.aws_iam_role.role_arn).toBe(
      `arn:\${data.aws_partition.${onlyData(prod, "aws_partition", "unity-catalog").id}.partition}:iam::${dataRef("aws_caller_identity", caller, "account_id")}:role/${role.props.name}`,
    );
  });

  test("role policy names only this bucket, its landing and managed prefixes and its key", () => {
    const rolePolicy = onlyResource(prod, "aws_iam_role_policy").props;
    const document = onlyData(prod, "aws_iam_policy_document", "access-policy");
    expect(rolePolicy.role).toBe(ref("aws_iam_role", role.id, "id"));
    expect(rolePolicy.policy).toBe(dataRef("aws_iam_policy_document", document.id, "json"));
    const bucketArn = ref("aws_s3_bucket", bucket.id, "arn");
    const resources = document.props.statement.flatMap((s: any) => s.resources);
    expect(new Set(resources)).toEqual(
      new Set([
        bucketArn,
        `${bucketArn}/landing/*`,
        `${bucketArn}/managed/*`,
        ref("aws_kms_key", key.id, "arn"),
        credential.props.aws_iam_role.role_arn,
        // Managed file events: the SNS topics and SQS queues Databricks names csms-*, in this account only.
        ...["sns", "sqs"].map((service) => credential.props.aws_iam_role.role_arn.replace(/:iam::(.*):role\/.*$/, `:${service}:*:$1:csms-*`)),
      ]),
    );
    const list = document.props.statement.find((s: any) => s.actions.includes("s3:ListBucket"));
    expect(list.condition).toEqual([{ test: "StringLike", variable: "s3:prefix", values: ["landing", "landing/*", "managed", "managed/*"] }]);
    const objectStatement = document.props.statement.find((s: any) => s.actions.includes("s3:PutObject"));
    expect(objectStatement.resources).toEqual([`${bucketArn}/landing/*`, `${bucketArn}/managed/*`]);
    expect(resources.some((r: string) => r === "*" || r.endsWith(":*"))).toBe(false);
  });

  test("managed file events: the role holds exactly the statements of the provider's databricks_aws_unity_catalog_policy", () => {
    const document = onlyData(prod, "aws_iam_policy_document", "access-policy");
    const bySid = Object.fromEntries(document.props.statement.map((s: any) => [s.sid, s]));
    expect(bySid.ManagedFileEventsSetupStatement.actions).toEqual([...MANAGED_FILE_EVENTS_AWS_ACTIONS.setup]);
    expect(bySid.ManagedFileEventsSetupStatement.actions).toEqual(
      expect.arrayContaining(["s3:PutBucketNotification", "sns:CreateTopic", "sqs:CreateQueue"]),
    );
    expect(bySid.ManagedFileEventsSetupStatement.resources[0]).toBe(ref("aws_s3_bucket", bucket.id, "arn"));
    expect(bySid.ManagedFileEventsListStatement.actions).toEqual(["sqs:ListQueues", "sqs:ListQueueTags", "sns:ListTopics"]);
    expect(bySid.ManagedFileEventsTeardownStatement.actions).toEqual(["sns:Unsubscribe", "sns:DeleteTopic", "sqs:DeleteQueue"]);
    for (const location of Object.values(resourcesOf(prod, "databricks_external_location")) as any[]) {
      expect(location).toEqual(
        expect.objectContaining({ enable_file_events: true, file_event_queue: { managed_sqs: {} }, isolation_mode: "ISOLATION_MODE_ISOLATED" }),
      );
    }
    expect(credential.props.isolation_mode).toBe("ISOLATION_MODE_ISOLATED");
  });

  test("the external location waits for IAM propagation after the role and its policy", () => {
    const sleep = onlyResource(prod, "time_sleep");
    expect(sleep.props.depends_on).toEqual(
      expect.arrayContaining([`aws_iam_role.${role.id}`, `aws_iam_role_policy.${Object.keys(resourcesOf(prod, "aws_iam_role_policy"))[0]}`]),
    );
    expect(landingLocationOf(prod).props.depends_on).toEqual([`time_sleep.${sleep.id}`]);
  });
});

describe("storage credential, external location and grants", () => {
  test("the external location URL is built from the bucket reference and ends with /", () => {
    const location = landingLocationOf(prod).props;
    expect(location.url).toBe(`s3://${ref("aws_s3_bucket", bucket.id, "bucket")}/landing/`);
    expect(location.url.endsWith("/")).toBe(true);
  });

  test("the external location uses the storage credential above", () => {
    const credential = onlyResource(prod, "databricks_storage_credential");
    expect(landingLocationOf(prod).props.credential_name).toBe(ref("databricks_storage_credential", credential.id, "name"));
  });

  test("grants hold exactly READ FILES and WRITE FILES for the job principal, on this location only", () => {
    const location = landingLocationOf(prod);
    const grants = Object.values(resourcesOf(prod, "databricks_grants")).filter((g: any) => g.external_location);
    expect(grants).toHaveLength(1);
    expect(grants[0].external_location).toBe(ref("databricks_external_location", location.id, "id"));
    // Each environment runs as its service principal (application id).
    expect(grants[0].grant).toEqual([{ principal: "77777777-7777-4777-8777-777777777777", privileges: ["READ_FILES", "WRITE_FILES"] }]);
    const devGrants = Object.values(resourcesOf(dev, "databricks_grants")).filter((g: any) => g.external_location);
    expect(devGrants.map((g: any) => g.grant)).toEqual([
      [{ principal: "55555555-5555-4555-8555-555555555555", privileges: ["READ_FILES", "WRITE_FILES"] }],
    ]);
  });

  test("no AWS resource is created in an Azure stack", () => {
    expect(Object.keys(azure.resource ?? {}).filter((t) => t.startsWith("aws_"))).toEqual([]);
  });

  test("a landing prefix that is only slashes is rejected", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const b = new S3Bucket(scope, "b", { bucket: "b" });
        const k = new KmsKey(scope, "k", {});
        new UnityCatalogS3Access(scope, "uc", { bucket: b, key: k, landingPrefix: "//", roleName: "r", name: "n", grantee: "g" });
      }),
    ).toThrow('landingPrefix: got "//", expected a folder name');
  });
});

describe("managed storage of the created catalog (AWS)", () => {
  test("its own external location next to the landing folder, with the same credential; the catalog's storage root", () => {
    const managed = Object.entries(resourcesOf(prod, "databricks_external_location")).find(([id]) => id.includes("_managed_"))!;
    expect(managed[1].url).toBe(`s3://${ref("aws_s3_bucket", bucket.id, "bucket")}/managed/`);
    expect(managed[1].credential_name).toBe(ref("databricks_storage_credential", onlyResource(prod, "databricks_storage_credential").id, "name"));
    const catalog = onlyResource(prod, "databricks_catalog").props;
    expect(catalog.storage_root).toBe(managed[1].url);
    expect(catalog.depends_on).toEqual([`databricks_external_location.${managed[0]}`]);
    expect(
      Object.values(resourcesOf(prod, "databricks_grants")).some(
        (g: any) => g.external_location === ref("databricks_external_location", managed[0], "id"),
      ),
    ).toBe(false);
  });

  test("an existing catalog gets no managed location (it has its own storage)", () => {
    const env = testConfig.environments.find((e) => e.name === "sandbox")!;
    const json = synthAll({ environments: [{ ...env, catalog: { name: "shared", create: false } }] }).stacks["members-sandbox"];
    expect(Object.keys(resourcesOf(json, "databricks_external_location"))).toEqual([landingLocationOf(json).id]);
  });

  test("no lifecycle rule expires or tiers current objects under the managed prefix; whole-bucket rules touch old versions only", () => {
    for (const json of [prod, dev]) {
      for (const rule of onlyResource(json, "aws_s3_bucket_lifecycle_configuration").props.rule) {
        const prefix: string = rule.filter[0].prefix;
        const touchesCurrent = (rule.expiration ?? []).some((e: any) => e.days !== undefined) || rule.transition !== undefined;
        if (touchesCurrent) {
          expect(prefix).not.toBe("");
          expect("managed/".startsWith(prefix) || prefix.startsWith("managed/")).toBe(false);
        }
      }
    }
  });
});
