/**
 * members-bootstrap-aws: the CI identities and state stores of the AWS environments (stacks/bootstrap). Each control
 * here has a test that fails without it: trust bound to exactly one GitHub environment, the boundary and its denies,
 * the state bucket's customer-managed key, the one-fact link between the backends and the stores, and CI never
 * listing a bootstrap stack.
 */
import { execFileSync } from "node:child_process";
import { Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import { AWS_BOOTSTRAP_STACK, BOOTSTRAP_STACKS } from "../stacks/bootstrap";
import { BOUNDARY_ESCAPE_ACTIONS } from "../stacks/bootstrap/aws-ci-environment";
import type { TerraformJson } from "../stacks/common/terraform-json";
import type { AppConfigInput, EnvironmentInput } from "../stacks/config/schema";
import { ConfigError } from "../stacks/config/validate";
import { ciStacks } from "../tools/list-stacks";
import { testConfig } from "./fixtures/test-config";
import { resourcesOf } from "./synth-helpers";

type Statement = {
  sid?: string;
  effect?: string;
  actions?: string[];
  not_actions?: string[];
  resources?: string[];
  not_resources?: string[];
  principals?: { type: string; identifiers: string[] }[];
  condition?: { test: string; variable: string; values: string[] }[];
};

function synthStacks(config: AppConfigInput): Record<string, TerraformJson> {
  const app = buildApp(config, Testing.app());
  return Object.fromEntries(app.node.children.map((stack) => [stack.node.id, JSON.parse(Testing.synth(stack as never)) as TerraformJson]));
}

let stacks: Record<string, TerraformJson>;
let bootstrap: TerraformJson;
beforeAll(() => {
  stacks = synthStacks(testConfig);
  bootstrap = stacks[AWS_BOOTSTRAP_STACK];
});

const awsEnvironments = () => testConfig.environments.filter((env) => env.cloud === "aws");
const base = (env: EnvironmentInput) => `${env.prefix}-${env.name}`;

/** The resource of `type` whose name attribute (or bucket) is `name`. */
function named(type: string, name: string): { id: string; props: Record<string, any> } {
  const found = Object.entries(resourcesOf(bootstrap, type)).filter(([, props]) => props.name === name || props.bucket === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return { id: found[0][0], props: found[0][1] };
}

/** Statements of the aws_iam_policy_document a `${data.aws_iam_policy_document.<id>.json}` reference points at. */
function statementsOf(reference: string): Statement[] {
  const id = /^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/.exec(reference)?.[1];
  if (id === undefined) throw new Error(`not a policy document reference: ${reference}`);
  const document = bootstrap.data?.aws_iam_policy_document?.[id] as { statement: Statement[] } | undefined;
  if (document === undefined) throw new Error(`no policy document ${id}`);
  return document.statement;
}

const sid = (statements: Statement[], name: string) => {
  const found = statements.find((s) => s.sid === name);
  if (found === undefined) throw new Error(`no statement ${name} in ${statements.map((s) => s.sid).join(", ")}`);
  return found;
};

describe("trust: each role is bound to exactly one GitHub environment of the repository", () => {
  test.each(
    awsEnvironments().flatMap((env) => [
      [env.name, "plan", `${env.name}-plan`],
      [env.name, "deploy", env.name],
    ]),
  )("%s %s role trusts only repo:<owner>/<name>:environment:%s", (_env, kind, githubEnvironment) => {
    const env = awsEnvironments().find((e) => e.name === _env)!;
    const role = named("aws_iam_role", `${base(env)}-ci-${kind}`);
    const [statement, ...others] = statementsOf(role.props.assume_role_policy);
    expect(others).toEqual([]);
    expect(statement.effect ?? "Allow").toBe("Allow");
    expect(statement.actions).toEqual(["sts:AssumeRoleWithWebIdentity"]);
    const oidc = Object.keys(resourcesOf(bootstrap, "aws_iam_openid_connect_provider"));
    expect(statement.principals).toEqual([{ type: "Federated", identifiers: [`\${aws_iam_openid_connect_provider.${oidc[0]}.arn}`] }]);
    // StringEquals only (no StringLike), one value each, no wildcard: exactly this repository and GitHub environment.
    expect(statement.condition).toEqual([
      { test: "StringEquals", variable: "token.actions.githubusercontent.com:aud", values: ["sts.amazonaws.com"] },
      {
        test: "StringEquals",
        variable: "token.actions.githubusercontent.com:sub",
        values: [`repo:${testConfig.github!.repository}:environment:${githubEnvironment}`],
      },
    ]);
    expect(JSON.stringify(statement.condition)).not.toMatch(/[*?]/);
  });

  test("one GitHub OIDC provider, for the STS audience", () => {
    expect(Object.values(resourcesOf(bootstrap, "aws_iam_openid_connect_provider"))).toEqual([
      expect.objectContaining({ url: "https://token.actions.githubusercontent.com", client_id_list: ["sts.amazonaws.com"] }),
    ]);
  });

  test("a repository with a wildcard is refused by the schema", () => {
    expect(() => synthStacks({ ...testConfig, github: { repository: "acme/*" } })).toThrow(ConfigError);
  });
});

describe("permissions boundary: attached to both roles, caps them to the environment, denies the escapes", () => {
  test.each(awsEnvironments().map((env) => [env.name]))("%s", (name) => {
    const env = awsEnvironments().find((e) => e.name === name)!;
    const boundary = named("aws_iam_policy", `${base(env)}-ci-boundary`);
    for (const kind of ["plan", "deploy"]) {
      expect(named("aws_iam_role", `${base(env)}-ci-${kind}`).props.permissions_boundary).toBe(`\${aws_iam_policy.${boundary.id}.arn}`);
    }
    const statements = statementsOf(boundary.props.policy);
    const envIam = [`arn:\${data.aws_partition.partition.partition}:iam::\${data.aws_caller_identity.caller.account_id}:role/${base(env)}-*`];
    expect(sid(statements, "DenyBoundaryEscape")).toEqual(
      expect.objectContaining({ effect: "Deny", actions: [...BOUNDARY_ESCAPE_ACTIONS], resources: ["*"] }),
    );
    const outside = sid(statements, "DenyIamOutsideEnvironment");
    expect(outside.effect).toBe("Deny");
    expect(outside.actions).toEqual(expect.arrayContaining(["iam:Create*", "iam:Put*", "iam:Attach*", "iam:Update*", "iam:PassRole"]));
    expect(outside.not_resources).toEqual([envIam[0], envIam[0].replace(":role/", ":policy/")]);
    const own = sid(statements, "DenyCiIdentityChanges");
    expect(own.effect).toBe("Deny");
    expect(own.resources).toEqual([envIam[0].replace(/-\*$/, "-ci-*"), envIam[0].replace(":role/", ":policy/").replace(/-\*$/, "-ci-*")]);
    // The state bucket: object access only, no administration (policy, encryption, versioning, deletion).
    expect(sid(statements, "DenyStateBucketAdministration")).toEqual(
      expect.objectContaining({ effect: "Deny", not_actions: ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"] }),
    );
    // Every Allow is the environment's names, or conditioned on the environment's stack tag, or a list action.
    for (const statement of statements.filter((s) => (s.effect ?? "Allow") === "Allow")) {
      for (const resource of statement.resources ?? []) {
        const scoped = resource.includes(base(env)) || resource.includes(`${base(env)}-tfstate`);
        const conditioned = (statement.condition ?? []).length > 0;
        const listOnly = statement.actions?.every((a) => a.startsWith("kms:List")) ?? false;
        expect({ sid: statement.sid, resource, ok: scoped || conditioned || listOnly }).toEqual({ sid: statement.sid, resource, ok: true });
      }
    }
  });

  test("the deploy role's own policy carries the same denies, and the plan role's grants no write", () => {
    const env = awsEnvironments()[0];
    const deploy = Object.values(resourcesOf(bootstrap, "aws_iam_role_policy")).find(
      (p) => p.name === "deploy" && p.role.includes(`${env.name}_deploy-role`),
    )!;
    const denies = statementsOf(deploy.policy)
      .filter((s) => s.effect === "Deny")
      .map((s) => s.sid);
    expect(denies).toEqual(expect.arrayContaining(["DenyBoundaryEscape", "DenyIamOutsideEnvironment", "DenyCiIdentityChanges"]));
    const plan = Object.values(resourcesOf(bootstrap, "aws_iam_role_policy")).find(
      (p) => p.name === "plan" && p.role.includes(`${env.name}_plan-role`),
    )!;
    const actions = statementsOf(plan.policy).flatMap((s) => s.actions ?? []);
    for (const action of actions) expect(action).toMatch(/^(s3:Get|s3:List|kms:Describe|kms:Get|kms:List|kms:Decrypt$|iam:Get|iam:List)/);
  });
});

describe("state: one bucket and customer-managed key per environment, exactly what its backend names", () => {
  test.each(awsEnvironments().map((env) => [env.name]))("%s", (name) => {
    const backend = stacks[`members-${name}`].terraform!.backend.s3;
    expect(backend).toEqual(expect.objectContaining({ encrypt: true, kms_key_id: expect.stringMatching(/^alias\//) }));
    const bucket = named("aws_s3_bucket", backend.bucket);
    expect(bucket.props.lifecycle).toEqual({ prevent_destroy: true });
    expect(bucket.props.force_destroy).toBe(false);
    const alias = named("aws_kms_alias", backend.kms_key_id);
    expect(alias.props.lifecycle).toEqual({ prevent_destroy: true });
    const keyId = /^\$\{aws_kms_key\.([^.]+)\.key_id\}$/.exec(alias.props.target_key_id)![1];
    const key = resourcesOf(bootstrap, "aws_kms_key")[keyId];
    expect(key).toEqual(expect.objectContaining({ enable_key_rotation: true, deletion_window_in_days: 30, lifecycle: { prevent_destroy: true } }));
    // An explicit key policy: the account administers the key, the deploy role uses it, the plan role decrypts.
    const keyPolicy = statementsOf(key.policy);
    expect(keyPolicy.map((s) => s.sid)).toEqual(["AccountAdministersKey", "DeployRoleUsesKey", "PlanRoleDecrypts"]);
    expect(sid(keyPolicy, "PlanRoleDecrypts").actions).toEqual(["kms:Decrypt", "kms:DescribeKey"]);
    const ref = (type: string) => Object.values(resourcesOf(bootstrap, type)).filter((r) => r.bucket === `\${aws_s3_bucket.${bucket.id}.id}`);
    expect(ref("aws_s3_bucket_server_side_encryption_configuration")[0].rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: `\${aws_kms_key.${keyId}.arn}` },
        bucket_key_enabled: true,
      },
    ]);
    expect(ref("aws_s3_bucket_versioning")[0].versioning_configuration).toEqual({ status: "Enabled" });
    expect(ref("aws_s3_bucket_public_access_block")[0]).toEqual(
      expect.objectContaining({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true }),
    );
    const tls = sid(statementsOf(ref("aws_s3_bucket_policy")[0].policy), "DenyInsecureTransport");
    expect(tls.condition).toEqual([{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }]);
  });

  test("with github set, two environments may not share a state bucket", () => {
    const [dev, staging] = awsEnvironments();
    const shared = { ...staging, stateBackend: dev.stateBackend };
    expect(() => synthStacks({ ...testConfig, environments: [dev, shared] })).toThrow(/a state store of its own/);
  });

  test("the bootstrap refuses to plan with the example repository or example state buckets, and keeps its state out of cdktf.out", () => {
    const guard = bootstrap.data?.terraform_data ?? bootstrap.resource?.terraform_data;
    expect(JSON.stringify(guard)).toContain("github.repository");
    expect(bootstrap.terraform!.backend).toEqual({ local: { path: `../../../bootstrap-state/terraform.${AWS_BOOTSTRAP_STACK}.tfstate` } });
  });
});

describe("CI never deploys a bootstrap stack", () => {
  test("without github, no bootstrap stack is synthesized", () => {
    const { github: _, ...withoutGithub } = testConfig;
    expect(Object.keys(synthStacks(withoutGithub)).filter((name) => name.includes("bootstrap"))).toEqual([]);
  });

  test("tools/list-stacks.ts lists the environments' stacks only", () => {
    const listed: { stack: string }[] = JSON.parse(
      execFileSync("node", ["--require", "ts-node/register/transpile-only", "tools/list-stacks.ts"], { encoding: "utf8" }),
    );
    for (const stack of BOOTSTRAP_STACKS) expect(listed.map((s) => s.stack)).not.toContain(stack);
    // On a configuration whose app holds the bootstrap stacks: only its environments' stacks are listed.
    expect(Object.keys(stacks)).toEqual(expect.arrayContaining([...BOOTSTRAP_STACKS]));
    const names = ciStacks(testConfig).map((s) => s.stack);
    for (const stack of BOOTSTRAP_STACKS) expect(names).not.toContain(stack);
    expect(names.sort()).toEqual(testConfig.environments.map((env) => `members-${env.name}`).sort());
  });
});
