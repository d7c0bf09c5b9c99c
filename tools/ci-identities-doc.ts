/**
 * `make ci-identities-doc`: writes docs/deploy/ci-identities.md, the settings no provider here can apply, generated
 * from the configuration (stacks/config/environments.ts) so they cannot drift from it: per environment the two GitHub
 * environments (`<env>-plan`, `<env>`) with their protection rules, secrets and variables, and the Databricks service
 * principal federation policies. The identities themselves are code (stacks/bootstrap). A jest test fails when the
 * committed file differs from what this generates.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AWS_BOOTSTRAP_STACK, AZURE_BOOTSTRAP_STACK } from "../stacks/bootstrap";
import { outputName } from "../stacks/bootstrap/aws-bootstrap-stack";
import { ciIdentityNames, GITHUB_OIDC_ISSUER, githubEnvironments, githubSubject } from "../stacks/bootstrap/github";
import { config as shipped } from "../stacks/config/environments";
import type { AppConfigInput, EnvironmentConfig } from "../stacks/config/schema";
import { stateLocation } from "../stacks/config/state";
import { validateConfig } from "../stacks/config/validate";

export const CI_IDENTITIES_DOC = join(__dirname, "..", "docs", "deploy", "ci-identities.md");

/** The Databricks provider's token audience for `github-oidc` against a workspace: its OAuth token endpoint. */
export const databricksAudience = (host: string): string => `${host.replace(/\/+$/, "")}/oidc/v1/token`;

/** Databricks secrets of an auth type, as .github/workflows/stack.yml reads them. */
function databricksCredentials(authType: string): string[] {
  switch (authType) {
    case "oauth-m2m":
      return ["secret `DATABRICKS_CLIENT_ID`", "secret `DATABRICKS_CLIENT_SECRET`"];
    case "github-oidc":
      return ["secret `DATABRICKS_CLIENT_ID` (the service principal's application id; no secret: the federation policy below)"];
    case "github-oidc-azure":
      return ["none of its own: Databricks accepts the Entra ID token of the `ARM_CLIENT_ID` identity"];
    case "azure-client-secret":
      return ["secret `ARM_CLIENT_SECRET`"];
    default:
      return [`none in CI: ${authType} is for hand deploys`];
  }
}

function cloudCredentials(env: EnvironmentConfig, kind: "plan" | "deploy"): string[] {
  const out = (what: string) =>
    `\`terraform -chdir=cdktf.out/stacks/${env.cloud === "aws" ? AWS_BOOTSTRAP_STACK : AZURE_BOOTSTRAP_STACK} output -raw ${outputName(env.name, what)}\``;
  const names = ciIdentityNames(env.names.base);
  if (env.cloud === "aws") {
    return [
      `secret \`AWS_ROLE_ARN\` = the ${kind} role \`arn:aws:iam::<account>:role/${names[kind]}\` (${out(`${kind}_role_arn`)})`,
      `variable \`AWS_REGION\` = \`${env.region}\``,
    ];
  }
  return [
    `variable \`ARM_CLIENT_ID\` = client id of the managed identity \`${names[kind]}\` (${out(`${kind}_client_id`)})`,
    `variable \`ARM_TENANT_ID\` (\`terraform -chdir=cdktf.out/stacks/${AZURE_BOOTSTRAP_STACK} output -raw tenant_id\`)`,
    `variable \`ARM_SUBSCRIPTION_ID\` (\`... output -raw subscription_id\`)`,
  ];
}

function federationPolicy(repository: string, env: EnvironmentConfig, githubEnvironment: string): string {
  const policy = {
    oidc_policy: {
      issuer: GITHUB_OIDC_ISSUER,
      audiences: [databricksAudience(env.databricks.host)],
      subject: githubSubject(repository, githubEnvironment),
    },
  };
  return [
    "```sh",
    `databricks account service-principal-federation-policy create <numeric id of the service principal of ${githubEnvironment}> \\`,
    `  --json '${JSON.stringify(policy)}'`,
    "```",
  ].join("\n");
}

function environmentSection(repository: string, env: EnvironmentConfig): string {
  const gh = githubEnvironments(env.name);
  const production = env.mode === "production";
  const state = stateLocation(env);
  const stateText =
    state.type === "s3"
      ? `s3://${state.bucket}/${state.key} (lock \`${state.key}.tflock\`), SSE-KMS with \`${state.kmsKeyAlias}\``
      : state.type === "azurerm"
        ? `container \`${state.containerName}\` of storage account \`${state.storageAccountName}\` (resource group \`${state.resourceGroupName}\`), key \`${state.key}\`, customer-managed key`
        : "local";
  const list = (items: string[]) => items.map((item) => `  - ${item}`).join("\n");
  const lines = [
    `## ${env.name} (${env.cloud}, ${env.mode}, stack \`${env.stackName}\`)`,
    "",
    `State: ${stateText}.`,
    "",
    `### GitHub environment \`${gh.plan}\` (plan: read-only)`,
    "",
    `- OIDC subject: \`${githubSubject(repository, gh.plan)}\``,
    `- Deployment branches and tags: ${production ? "selected branches: `main` only (production plans run from main only)" : "all branches (pull requests plan here; the identity is read-only)"}`,
    "- Required reviewers: none",
    "- Secrets and variables:",
    list([
      ...cloudCredentials(env, "plan"),
      ...databricksCredentials(env.databricks.authType).map((c) => `Databricks: ${c}`),
      "secrets `MYSQL_HOST`, `MYSQL_PORT`, `MYSQL_DATABASE`, `MYSQL_USER`, `MYSQL_PASSWORD`",
      // Development stacks deploy the generator's own scope (a MySQL user with DDL rights on the test database).
      ...(env.mode === "development"
        ? ["secrets `MYSQL_GENERATOR_HOST`, `MYSQL_GENERATOR_PORT`, `MYSQL_GENERATOR_DATABASE`, `MYSQL_GENERATOR_USER`, `MYSQL_GENERATOR_PASSWORD`"]
        : []),
      "secret `PLAN_ARTIFACT_KEY` (the same value as in the apply environment)",
    ]),
    "",
    `### GitHub environment \`${gh.deploy}\` (apply)`,
    "",
    `- OIDC subject: \`${githubSubject(repository, gh.deploy)}\``,
    "- Deployment branches and tags: selected branches: `main` only",
    `- Required reviewers: ${production ? 'at least one reviewer, and "Prevent self-review" on' : "none (development; add reviewers to gate it)"}`,
    "- Secrets and variables:",
    list([
      ...cloudCredentials(env, "deploy"),
      ...databricksCredentials(env.databricks.authType).map((c) => `Databricks: ${c}`),
      "secret `PLAN_ARTIFACT_KEY`",
    ]),
    "",
    "### Databricks service principal federation policies",
    "",
  ];
  if (env.databricks.authType === "github-oidc-azure" || env.cloud === "azure") {
    lines.push(
      `Not used: Databricks on Azure accepts the Entra ID token of the managed identities above. Add \`${ciIdentityNames(env.names.base).plan}\` and \`${ciIdentityNames(env.names.base).deploy}\` to the workspace as service principals (their client ids).`,
    );
  } else {
    lines.push(
      env.databricks.authType === "github-oidc"
        ? "In use (`github-oidc`): one policy per service principal, created by an account admin:"
        : `Not in use yet (\`${env.databricks.authType}\`): with these policies the environment can switch to \`github-oidc\` and drop \`DATABRICKS_CLIENT_SECRET\`:`,
      "",
      `Service principal of \`${gh.plan}\`:`,
      "",
      federationPolicy(repository, env, gh.plan),
      "",
      `Service principal of \`${gh.deploy}\`:`,
      "",
      federationPolicy(repository, env, gh.deploy),
    );
  }
  return lines.join("\n");
}

/** The whole document for a configuration; environments with local state (hand deploys) are left out. */
export function ciIdentitiesDoc(appConfig: AppConfigInput = shipped): string {
  const repository = appConfig.github?.repository;
  if (repository === undefined) throw new Error("ci-identities-doc: the configuration has no github.repository");
  const environments = validateConfig(appConfig).filter((env) => env.stateBackend.type !== "local");
  return `${[
    "<!-- Generated by `make ci-identities-doc` (tools/ci-identities-doc.ts) from stacks/config/environments.ts: do not edit. -->",
    "# CI identities: the settings outside Terraform",
    "",
    `Repository: \`${repository}\`. The identities themselves are code: \`${AWS_BOOTSTRAP_STACK}\` and \`${AZURE_BOOTSTRAP_STACK}\` (stacks/bootstrap), applied once by an administrator (below). GitHub environment protection rules and Databricks federation policies have no provider here; set them exactly as listed.`,
    "",
    "Every identity trusts one OIDC subject, `repo:<owner>/<name>:environment:<github environment>`, with issuer",
    `\`${GITHUB_OIDC_ISSUER}\`: a job outside that GitHub environment (another branch's job, a pull request from a fork, another repository) cannot assume it.`,
    "",
    "## Applying the bootstrap stacks (administrator, once, and after each change to them)",
    "",
    "1. `make synth`, then with administrator credentials of the account or subscription:",
    `   \`terraform -chdir=cdktf.out/stacks/${AWS_BOOTSTRAP_STACK} init && terraform -chdir=cdktf.out/stacks/${AWS_BOOTSTRAP_STACK} apply\` (likewise \`${AZURE_BOOTSTRAP_STACK}\`).`,
    "   The plan stops while `github.repository` or a state store still holds an example value.",
    "2. Their state is local, by decision: `bootstrap-state/terraform.<stack>.tfstate` at the repository root (outside cdktf.out, which `make clean` deletes; git-ignored). The remote state stores are what these stacks create, so they cannot hold their own state first. Keep the file in the administrators' vault after each apply; it holds ids and policies, no secret. If it is lost, `terraform import` the resources back (all stateful ones are prevent_destroy). One AWS bootstrap per account: an account that already has the GitHub OIDC provider imports it (`aws_iam_openid_connect_provider.github-oidc`).",
    "3. Copy the outputs into the GitHub environments below; the workflows never run the bootstrap stacks (tools/list-stacks.ts lists environments only).",
    "",
    ...environments.map((env) => `${environmentSection(repository, env)}\n`),
  ]
    .join("\n")
    .trimEnd()}\n`;
}

if (require.main === module) {
  writeFileSync(CI_IDENTITIES_DOC, ciIdentitiesDoc());
  console.log(`ci identities: ${CI_IDENTITIES_DOC}`);
}
