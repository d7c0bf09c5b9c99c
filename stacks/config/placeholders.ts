/**
 * Example and placeholder values: what the shipped configuration (environments.ts) carries so that it synthesizes
 * and is tested, and what must never reach a deploy. placeholderProblems lists every such field of one environment;
 * a stack with any refuses to plan (placeholder-guard.ts), while synth keeps working.
 *
 * A value counts as a placeholder when it is
 * - recognisably fake: a host with "example" in it or the all-zero Azure workspace adb-0000000000000000, a UUID of one
 *   repeated hex digit (version and variant digits aside: 1111...-4111-8111-...), an address at example.com/.org/.net
 *   (RFC 2606), a state bucket or storage account with "example" in it, a subnet of the all-zero subscription;
 * - one of the example values below, which environments.ts takes from here (their one list): a fork that writes its
 *   own value in environments.ts is no longer flagged;
 * - a group the environment does not set: the schema's group defaults are names this repository made up
 *   (members-platform, the notebook contract's PII reader group), the built-in "users" (every workspace user may view
 *   the jobs) or no reader at all. Which groups exist and may see the data is the deployer's decision, so each group
 *   field must be written down, even when the decision is the default (`readerGroups: []` is fine).
 */
import type { EnvironmentInput, ParsedEnvironment } from "./schema";
import type { ConfigProblem } from "./validate";

/** Example account group names of the shipped environments (environments.ts uses these). */
export const EXAMPLE_GROUPS = { analysts: "members-analysts" } as const;

/** Example GitHub repository the CI identities trust (environments.ts uses it); a fork names its own. */
export const EXAMPLE_GITHUB_REPOSITORY = "acme-example/members-lakehouse";

const EXAMPLE_HOST = /example|^https:\/\/adb-0+\./i;
const REPEATED_HEX_UUID = /^([0-9a-f])\1{7}-\1{4}-[0-9a-f]\1{3}-[0-9a-f]\1{3}-\1{12}$/i;
const EXAMPLE_EMAIL = /@(.+\.)?example\.(com|org|net)$/i;
const ZERO_SUBSCRIPTION = /^\/subscriptions\/0{8}-0{4}-0{4}-0{4}-0{12}\//i;

/** Group fields and what each decides, for the message. */
const GROUP_FIELDS = {
  platformGroup: "the account group that manages and runs the jobs",
  viewerGroup: "the group that may view the jobs and their runs",
  readerGroups: "the account groups that may read the member tables ([] for none)",
  piiReaderGroup: "the account group that sees PII unmasked",
} as const;

const isExampleGroup = (group: string) => (Object.values(EXAMPLE_GROUPS) as string[]).includes(group);

/**
 * Every field of one validated environment still holding an example or placeholder value. `raw` is what the
 * environment wrote, to tell a group it set from a schema default.
 */
export function placeholderProblems(env: ParsedEnvironment, raw: EnvironmentInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const flag = (path: string, value: unknown, expected: string, note = "") =>
    problems.push({ path: `environments.${env.name}.${path}`, got: `${JSON.stringify(value)}${note}`, expected });
  const { databricks } = env;

  if (EXAMPLE_HOST.test(databricks.host)) {
    flag(
      "databricks.host",
      databricks.host,
      "your workspace URL (https://<deployment>.cloud.databricks.com, https://adb-<id>.<n>.azuredatabricks.net)",
    );
  }
  const sp = databricks.runAsServicePrincipal;
  if (sp !== undefined && REPEATED_HEX_UUID.test(sp)) {
    flag("databricks.runAsServicePrincipal", sp, "the application id of the service principal the jobs run as");
  }
  for (const [field, decides] of Object.entries(GROUP_FIELDS) as [keyof typeof GROUP_FIELDS, string][]) {
    const value = databricks[field];
    if (raw.databricks?.[field] === undefined) flag(`databricks.${field}`, value, `${decides}, set explicitly`, " (the schema default)");
    else if (typeof value === "string" && isExampleGroup(value)) flag(`databricks.${field}`, value, `${decides}, not an example name`);
    else if (Array.isArray(value)) {
      value.forEach((group, i) => {
        if (isExampleGroup(group)) flag(`databricks.${field}[${i}]`, group, `${decides}, not an example name`);
      });
    }
  }
  env.notifications.failureEmails.forEach((email, i) => {
    if (EXAMPLE_EMAIL.test(email))
      flag(`notifications.failureEmails[${i}]`, email, "a real address (example.com, .org and .net are reserved for documentation)");
  });
  env.azure?.allowedSubnetIds.forEach((subnet, i) => {
    if (ZERO_SUBSCRIPTION.test(subnet))
      flag(`azure.allowedSubnetIds[${i}]`, subnet, "a subnet id in your subscription (the all-zero one is an example)");
  });
  const backend = env.stateBackend;
  if (backend.type === "s3" && /example/i.test(backend.bucket)) {
    flag("stateBackend.bucket", backend.bucket, "your state bucket (members-bootstrap-aws creates it with its KMS key before the first deploy)");
  }
  if (backend.type === "azurerm" && /example/i.test(backend.storageAccountName)) {
    flag(
      "stateBackend.storageAccountName",
      backend.storageAccountName,
      "your state storage account (members-bootstrap-azure creates it before the first deploy)",
    );
  }
  return problems;
}

/**
 * Example values of the app-level CI settings (`github`), for the bootstrap stacks' placeholder guard: the example
 * repository, or one whose owner or name says "example".
 */
export function ciPlaceholderProblems(github: { readonly repository: string }): ConfigProblem[] {
  if (github.repository !== EXAMPLE_GITHUB_REPOSITORY && !/example/i.test(github.repository)) return [];
  return [
    {
      path: "github.repository",
      got: JSON.stringify(github.repository),
      expected: "your repository (owner/name): the CI roles trust its workflows' OIDC tokens only",
    },
  ];
}
