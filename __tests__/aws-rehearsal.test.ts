import {
  extractAws,
  IDENTITY_POLICY,
  objectAddresses,
  PLACEHOLDER_EXTERNAL_ID,
  RESOURCE_POLICY,
  type StackJson,
  TRUST_POLICY,
  variableValues,
} from "../tools/aws-rehearsal/extract";
import { endpointsFor, motoOverride, versionCandidates } from "../tools/aws-rehearsal/override";
import { addressesIn, interpolations, referencesIn } from "../tools/aws-rehearsal/references";
import { rehearsedStackName } from "../tools/aws-rehearsal/rehearsed-stack";
import { changedAttributes, diffPaths, formatReport, lockKey, plantedLock } from "../tools/aws-rehearsal/report";
import {
  errorCount,
  expectedRefusals,
  protectedResources,
  refusedAddresses,
  renameBucket,
  withoutPreventDestroy,
  withoutResources,
  withPerpetualDiff,
} from "../tools/aws-rehearsal/variants";
import { testConfig, testEnv } from "./fixtures/test-config";
import { synthAll } from "./synth-helpers";

/** Every address the config refers to that is neither one of its own objects nor a variable/local it declares. */
function danglingReferences(config: StackJson): string[] {
  const { resources, data } = objectAddresses(config);
  const own = new Set([
    ...resources,
    ...data,
    ...Object.keys(config.variable ?? {}).map((v) => `var.${v}`),
    ...Object.keys(config.locals ?? {}).map((l) => `local.${l}`),
  ]);
  const refs = new Set<string>();
  for (const block of [config.resource, config.data, config.locals, config.provider])
    for (const a of addressesIn((block ?? {}) as never)) refs.add(a);
  const known = new Set([...own, ...Object.keys(prodAll().resource ?? {}), ...Object.keys(prodAll().data ?? {})]);
  // Only tokens that look like addresses of this stack's kinds count (not e.g. "s3.amazonaws" inside a literal).
  return [...refs].filter((a) => !own.has(a) && (/^(var|local|data)\./.test(a) || known.has(a.split(".")[0])));
}

let prodStack: StackJson | undefined;
const prodAll = (): StackJson => {
  prodStack ??= synthAll().stacks["members-live"] as unknown as StackJson;
  return prodStack;
};

describe("the stack rehearsed by default (no --stack)", () => {
  it("is the configuration's last production AWS stack, else its last AWS stack, else none", () => {
    expect(rehearsedStackName(testConfig)).toBe("members-live");
    expect(rehearsedStackName({ environments: [testEnv("sandbox"), testEnv("lab")] })).toBe("members-sandbox");
    expect(rehearsedStackName({ environments: [testEnv("lab")] })).toBeUndefined();
  });
});

describe("references in Terraform JSON templates", () => {
  it("finds outermost interpolations, skipping $${ escapes and braces inside quoted strings", () => {
    const text = 'a ${x.y} $${not} ${jsonencode({"k" = "}"})} ${f({a = {b = 1}})}';
    expect(interpolations(text).map((i) => i.expr)).toEqual(["x.y", 'jsonencode({"k" = "}"})', "f({a = {b = 1}})"]);
  });

  it("reads addresses with their attribute path, names with hyphens included", () => {
    expect(referencesIn("data.databricks_x.trust-policy_9F.json")).toEqual([{ address: "data.databricks_x.trust-policy_9F", attribute: "json" }]);
    expect(referencesIn("databricks_storage_credential.c_1.aws_iam_role[0].external_id")).toEqual([
      { address: "databricks_storage_credential.c_1", attribute: "aws_iam_role[0].external_id" },
    ]);
    expect(referencesIn("join(var.a, local.b)").map((r) => r.address)).toEqual(["var.a", "local.b"]);
  });
});

describe("extracting the AWS half of a stack", () => {
  const stack: StackJson = {
    terraform: {
      backend: { s3: { bucket: "state", key: "k.tfstate", region: "eu-west-1", use_lockfile: true } },
      required_providers: { aws: { source: "aws", version: "6.25.0" }, databricks: { source: "databricks/databricks", version: "1.99.0" } },
      required_version: ">= 1.11.0",
    },
    provider: { aws: [{ region: "eu-west-1", default_tags: [{ tags: { env: "${var.env}" } }] }], databricks: [{ host: "h" }] },
    variable: { env: { type: "string" }, password: { type: "string", sensitive: true }, size: { type: "number" } },
    locals: { prefix: "${var.env}-x", unused: "${databricks_job.j.id}" },
    resource: {
      aws_iam_role: {
        role: {
          name: "${local.prefix}-role",
          assume_role_policy: "${data.databricks_aws_unity_catalog_assume_role_policy.trust.json}",
          description: "external ${databricks_storage_credential.cred.aws_iam_role[0].external_id} here",
          depends_on: ["time_sleep.wait", "aws_s3_bucket.b"],
        },
      },
      aws_s3_bucket: { b: { bucket: "b", lifecycle: { prevent_destroy: true }, tags: { a: "1" } } },
      aws_s3_bucket_policy: { p: { bucket: "${aws_s3_bucket.b.id}", policy: "${data.databricks_aws_bucket_policy.bp.json}" } },
      aws_iam_role_policy: { rp: { role: "${aws_iam_role.role.id}", policy: "${data.databricks_aws_unity_catalog_policy.up.json}" } },
      databricks_job: { j: { name: "job" } },
      databricks_storage_credential: { cred: { name: "cred" } },
      time_sleep: { wait: { create_duration: "30s" } },
    },
    data: {
      databricks_aws_unity_catalog_assume_role_policy: { trust: {} },
      databricks_aws_bucket_policy: { bp: {} },
      databricks_aws_unity_catalog_policy: { up: {} },
      aws_caller_identity: { me: {} },
    },
    output: { o: { value: "${databricks_job.j.id}" } },
    moved: [
      { from: "aws_s3_bucket.old", to: "aws_s3_bucket.b" },
      { from: "databricks_job.old", to: "databricks_job.j" },
    ],
  };
  const { config, substitutions, dropped } = extractAws(stack);

  it("keeps aws_* objects, the aws provider and pin, the backend, and what the kept objects use", () => {
    expect(Object.keys(config.resource ?? {}).sort()).toEqual(["aws_iam_role", "aws_iam_role_policy", "aws_s3_bucket", "aws_s3_bucket_policy"]);
    expect(Object.keys(config.data ?? {})).toEqual(["aws_caller_identity"]);
    expect(config.provider).toEqual({ aws: stack.provider?.aws });
    expect(config.terraform).toEqual({
      backend: stack.terraform?.backend,
      required_providers: { aws: { source: "aws", version: "6.25.0" } },
      required_version: ">= 1.11.0",
    });
    expect(config.locals).toEqual({ prefix: "${var.env}-x" });
    expect(Object.keys(config.variable ?? {})).toEqual(["env"]);
    expect(config.moved).toEqual([{ from: "aws_s3_bucket.old", to: "aws_s3_bucket.b" }]);
    expect(config.output).toBeUndefined();
    expect(config.resource?.aws_s3_bucket).toEqual(stack.resource?.aws_s3_bucket);
    expect(dropped.resources.sort()).toEqual(["databricks_job.j", "databricks_storage_credential.cred", "time_sleep.wait"]);
    expect(dropped.providers).toEqual(["databricks"]);
  });

  it("replaces references to left-out objects with literals that fit where they are used", () => {
    const role = config.resource?.aws_iam_role.role;
    expect(role?.assume_role_policy).toBe(TRUST_POLICY);
    expect(JSON.parse(TRUST_POLICY).Statement[0].Principal.AWS).toMatch(/^arn:aws:iam::\d{12}:root$/);
    expect(role?.description).toBe(`external ${PLACEHOLDER_EXTERNAL_ID} here`);
    expect(role?.depends_on).toEqual(["aws_s3_bucket.b"]);
    expect(config.resource?.aws_s3_bucket_policy.p.policy).toBe(RESOURCE_POLICY);
    expect(config.resource?.aws_iam_role_policy.rp.policy).toBe(IDENTITY_POLICY);
    expect(substitutions).toHaveLength(5);
    expect(danglingReferences(config)).toEqual([]);
  });

  it("gives each kept variable without a default a value of its type", () => {
    expect(variableValues(config)).toEqual({ env: "aws-rehearsal" });
    expect(variableValues({ variable: { n: { type: "number" }, l: { type: "${list(string)}" }, d: { type: "string", default: "x" } } })).toEqual({
      n: 1,
      l: [],
    });
  });

  it("on the synthesized production stack: only aws_*, nothing dangling, every kept resource unchanged but for the literals", () => {
    const prod = prodAll();
    const out = extractAws(prod);
    const types = [...Object.keys(out.config.resource ?? {}), ...Object.keys(out.config.data ?? {})];
    expect(types.length).toBeGreaterThan(0);
    expect(types.every((t) => t.startsWith("aws_"))).toBe(true);
    expect(danglingReferences(out.config)).toEqual([]);
    expect(out.config.provider?.aws).toEqual(prod.provider?.aws);
    expect(out.config.terraform?.backend).toEqual(prod.terraform?.backend);
    const substituted = new Set(out.substitutions.map((s) => s.split(":")[0]));
    for (const [type, byName] of Object.entries(out.config.resource ?? {})) {
      for (const [name, body] of Object.entries(byName)) {
        if (!substituted.has(`${type}.${name}`)) expect([type, name, body]).toEqual([type, name, prod.resource?.[type][name]]);
        else expect([type, name, body.lifecycle]).toEqual([type, name, prod.resource?.[type][name].lifecycle]);
      }
    }
    // The trust policy of the Unity Catalog role comes from a Databricks data source: it must become the literal.
    const role = Object.values(out.config.resource?.aws_iam_role ?? {})[0];
    expect(role?.assume_role_policy).toBe(TRUST_POLICY);
  });
});

describe("the moto override", () => {
  const override = motoOverride({
    endpoint: "http://127.0.0.1:5000",
    services: endpointsFor(["aws_s3_bucket", "aws_kms_key", "aws_iam_policy_document", "aws_caller_identity", "aws_partition"]),
    requiredProvider: { source: "aws", version: "6.25.0" },
    version: "5.100.0",
    providerBlocks: [{}, { alias: "us" }],
    backend: { bucket: "state", key: "k.tfstate", region: "eu-west-1", encrypt: true, use_lockfile: true, profile: "prod-admin" },
  }) as any;

  it("points every API the types use at moto, per provider alias", () => {
    expect(override.provider.aws.map((p: any) => p.alias)).toEqual([undefined, "us"]);
    expect(Object.keys(override.provider.aws[0].endpoints[0])).toEqual(["iam", "kms", "s3", "sts"]);
    expect(override.provider.aws[1]).toMatchObject({ s3_use_path_style: true, skip_credentials_validation: true, access_key: expect.any(String) });
  });

  it("overrides only the aws version constraint, and keeps the stack's backend but for endpoints and credentials", () => {
    expect(override.terraform.required_providers).toEqual({ aws: { source: "aws", version: "5.100.0" } });
    const s3 = override.terraform.backend.s3;
    expect(s3).toMatchObject({ bucket: "state", key: "k.tfstate", region: "eu-west-1", encrypt: true, use_lockfile: true, use_path_style: true });
    expect(s3.profile).toBeUndefined();
    expect(s3.endpoints.s3).toBe("http://127.0.0.1:5000");
  });

  it("refuses a type it has no endpoint for instead of letting it reach AWS", () => {
    expect(() => endpointsFor(["aws_s3_bucket", "aws_rds_cluster"])).toThrow(/aws_rds_cluster.*ENDPOINT_BY_TYPE_PREFIX/);
  });

  it("tries the stack's pin first unless only the mirror can answer", () => {
    expect(versionCandidates("6.25.0", ["5.99.1", "5.100.0"], true)).toEqual(["5.100.0", "5.99.1"]);
    expect(versionCandidates("5.99.1", ["5.99.1", "5.100.0"], true)).toEqual(["5.99.1"]);
    expect(versionCandidates("6.25.0", ["5.100.0"], false)).toEqual(["6.25.0", "5.100.0"]);
    expect(versionCandidates(undefined, [], false)).toEqual([]);
  });
});

describe("what the checks expect", () => {
  const chain: StackJson = {
    resource: {
      aws_kms_key: { k: { lifecycle: { prevent_destroy: true } } },
      aws_kms_alias: { a: { target_key_id: "${aws_kms_key.k.key_id}", lifecycle: { prevent_destroy: true } } },
      aws_s3_bucket: { b: { bucket: "b", lifecycle: { prevent_destroy: true } } },
      aws_s3_bucket_server_side_encryption_configuration: { e: { bucket: "${aws_s3_bucket.b.id}", rule: [{ key: "${aws_kms_key.k.arn}" }] } },
    },
  };

  it("knows which protected resources each refused plan can name (Terraform stops past a failed node)", () => {
    expect(protectedResources(chain).map((p) => p.address)).toEqual(["aws_kms_alias.a", "aws_kms_key.k", "aws_s3_bucket.b"]);
    expect(expectedRefusals(chain)).toEqual({
      destroy: ["aws_kms_alias.a", "aws_s3_bucket.b"],
      replace: ["aws_kms_key.k", "aws_s3_bucket.b"],
      unproven: [],
    });
  });

  it("covers every protected resource of the production stack between the destroy and the replace plan", () => {
    const { config } = extractAws(prodAll());
    const expected = expectedRefusals(config);
    expect(expected.unproven).toEqual([]);
    expect(new Set([...expected.destroy, ...expected.replace])).toEqual(new Set(protectedResources(config).map((p) => p.address)));
  });

  it("reads the prevent_destroy refusals out of Terraform's output", () => {
    const output = [
      "Error: Instance cannot be destroyed",
      "",
      "  on main.tf.json line 97, in resource.aws_s3_bucket:",
      "Resource aws_s3_bucket.b has",
      "lifecycle.prevent_destroy set, but the plan calls for this resource to be",
      "destroyed.",
    ].join("\n");
    expect(refusedAddresses(output)).toEqual(["aws_s3_bucket.b"]);
    expect(errorCount(`${output}\nError: something else\n`)).toBe(2);
  });

  it("builds the variants: renamed bucket, protected resources removed (references become literals), self-test mutations", () => {
    const renamed = renameBucket(chain);
    expect(renamed).toMatchObject({ address: "aws_s3_bucket.b", from: "b", to: "b-renamed" });
    expect(chain.resource?.aws_s3_bucket.b.bucket).toBe("b");
    const removed = withoutResources(chain, ["aws_kms_key.k", "aws_s3_bucket.b"]);
    expect(Object.keys(removed.config.resource ?? {}).sort()).toEqual(["aws_kms_alias", "aws_s3_bucket_server_side_encryption_configuration"]);
    expect(JSON.stringify(removed.config)).not.toMatch(/aws_kms_key\.k|aws_s3_bucket\.b/);
    expect(removed.notes).toHaveLength(3);
    expect(withoutPreventDestroy(chain, "aws_kms_key.k").resource?.aws_kms_key.k).toEqual({});
    expect(() => withoutPreventDestroy(chain, "aws_s3_bucket_server_side_encryption_configuration.e")).toThrow(/no lifecycle.prevent_destroy/);
    expect(withPerpetualDiff(chain).config.resource?.aws_s3_bucket.b.tags).toEqual({ "aws-rehearsal-self-test": "${timestamp()}" });
  });
});

describe("report helpers", () => {
  it("lists the changed attributes of a plan, unknown values included", () => {
    const plan = {
      resource_changes: [
        { address: "aws_s3_bucket.b", change: { actions: ["no-op"], before: {}, after: {} } },
        {
          address: "aws_iam_role.r",
          change: {
            actions: ["update"],
            before: { tags: { a: "1" }, name: "r", arn: "x" },
            after: { tags: { a: "2" }, name: "r", arn: null },
            after_unknown: { arn: true },
          },
        },
      ],
    };
    expect(changedAttributes(JSON.stringify(plan))).toEqual(["aws_iam_role.r (update)", '  arn: "x" -> (known after apply)', '  tags.a: "1" -> "2"']);
    expect(diffPaths([1, 2], [1, 2, 3], undefined)).toEqual(["[1,2] -> [1,2,3]"].map((s) => `: ${s}`));
  });

  it("plants a lock object shaped like Terraform's own LockInfo", () => {
    const lock = plantedLock("state", "members/prod.tfstate", "1.11.4", new Date("2026-01-01T00:00:00Z"), "id-1");
    expect(Object.keys(lock).sort()).toEqual(["Created", "ID", "Info", "Operation", "Path", "Version", "Who"]);
    expect(lock.Path).toBe("state/members/prod.tfstate");
    expect(lockKey("members/prod.tfstate")).toBe("members/prod.tfstate.tflock");
  });

  it("prints one line per check and a verdict", () => {
    const lines = formatReport(
      [
        { name: "apply", status: "passed", seconds: 60, detail: "ok" },
        { name: "no perpetual diff", status: "failed", seconds: 9, detail: "changes:\n  a" },
      ],
      70,
    );
    expect(lines.at(-1)).toBe("  FAILED: 1 passed, 1 failed; total 70.0s");
    expect(lines[1]).toMatch(/^ {2}FAILED +no perpetual diff +9\.0s +changes:\n +a$/);
  });
});
