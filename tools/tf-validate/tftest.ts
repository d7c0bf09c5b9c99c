/**
 * Generates the `terraform test` file tf-validate runs against one synthesized stack: every provider mocked, dummy
 * values for the variables without a default, well-formed values for the data sources whose attributes resources
 * validate at plan time, and a single `command = plan` run.
 *
 * Why only data sources: during a plan, a mocked resource's computed attributes stay unknown (Terraform's default,
 * `override_during = apply`), exactly as with a real provider, so nothing downstream of a resource needs a mock. A data
 * source whose configuration is fully known is read during the plan, and the mock would otherwise return a random
 * string, which the real provider's validation (still run for mocked providers) rejects where it expects a policy
 * JSON, an account id or a UUID.
 *
 * A stack that still holds example or placeholder values carries terraform_data.placeholder_guard, whose precondition
 * fails every plan by design (stacks/config/placeholder-guard.ts). Its run block expects that failure
 * (`expect_failures`): the plan still evaluates every other resource, and any other error still fails the run.
 */
import { PLACEHOLDER_GUARD_ID } from "../../stacks/config/placeholder-guard";

/** The guard's address, when a stack has one. */
export const PLACEHOLDER_GUARD_ADDRESS = `terraform_data.${PLACEHOLDER_GUARD_ID}`;

/** The parts of a synthesized cdk.tf.json this generator reads. */
export interface StackJson {
  terraform?: { required_providers?: Record<string, { source?: string; version?: string }> };
  provider?: Record<string, Array<{ alias?: string }>>;
  variable?: Record<string, { type?: string; default?: unknown; sensitive?: boolean }>;
  data?: Record<string, Record<string, { provider?: string }>>;
  resource?: Record<string, Record<string, unknown>>;
}

/** A policy document any IAM/S3/KMS policy argument accepts (the providers check JSON syntax, not semantics). */
export const MOCK_POLICY_JSON = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Sid: "TfValidateMock", Effect: "Deny", Action: "none:Mock", Resource: "*" }],
});
export const MOCK_ACCOUNT_ID = "123456789012";
const MOCK_UUID = "00000000-0000-4000-8000-000000000000";

/**
 * Mock defaults for data source types, by type. Only computed attributes that exist in the pinned providers' schemas;
 * add a type here when a stack starts using a data source whose output some resource validates.
 */
export const DATA_DEFAULTS: Record<string, Record<string, string>> = {
  aws_iam_policy_document: { json: MOCK_POLICY_JSON, minified_json: MOCK_POLICY_JSON },
  aws_caller_identity: {
    account_id: MOCK_ACCOUNT_ID,
    arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/tf-validate`,
    user_id: "AIDATFVALIDATEMOCK",
  },
  aws_partition: { partition: "aws", dns_suffix: "amazonaws.com", reverse_dns_prefix: "com.amazonaws" },
  databricks_aws_unity_catalog_assume_role_policy: { json: MOCK_POLICY_JSON },
  databricks_aws_unity_catalog_policy: { json: MOCK_POLICY_JSON },
  databricks_aws_assume_role_policy: { json: MOCK_POLICY_JSON },
  databricks_aws_bucket_policy: { json: MOCK_POLICY_JSON },
  databricks_aws_crossaccount_policy: { json: MOCK_POLICY_JSON },
  azurerm_client_config: {
    tenant_id: MOCK_UUID,
    client_id: MOCK_UUID,
    object_id: MOCK_UUID,
    subscription_id: MOCK_UUID,
  },
  azuread_client_config: { tenant_id: MOCK_UUID, client_id: MOCK_UUID, object_id: MOCK_UUID },
  azurerm_subscription: { subscription_id: MOCK_UUID, tenant_id: MOCK_UUID },
};

/** Defaults for a data source type: the table above, else any `*_policy_document` type gets a policy `json`. */
export function dataDefaults(type: string): Record<string, string> | undefined {
  return DATA_DEFAULTS[type] ?? (type.endsWith("_policy_document") ? { json: MOCK_POLICY_JSON } : undefined);
}

/** An HCL quoted string: JSON escapes plus HCL's template escapes (`$${`, `%%{`). */
export function hclString(value: string): string {
  return JSON.stringify(value).replace(/([$%])\{/g, (_, sigil: string) => `${sigil}${sigil}{`);
}

/** A dummy HCL value for a variable type constraint (`string`, `number`, `list(string)`, ...). */
export function dummyValue(type: string | undefined, name: string): string {
  const t = (type ?? "string").replace(/^\$\{(.*)\}$/s, "$1").trim();
  if (t === "number") return "1";
  if (t === "bool") return "false";
  if (/^(list|set|tuple)\b/.test(t)) return "[]";
  if (/^(map|object)\b/.test(t)) return "{}";
  // string, any, or an unknown constraint: a string is the most widely accepted value.
  return hclString(`tf-validate-dummy-${name}`);
}

/** Local provider name a data source is served by: its `provider` meta-argument, else its type's prefix. */
function providerOf(type: string, source: { provider?: string }, names: string[]): string | undefined {
  if (source.provider) return source.provider.replace(/^\$\{(.*)\}$/, "$1").split(".")[0];
  return names.find((name) => type.startsWith(`${name}_`)) ?? type.split("_")[0];
}

/** The `.tftest.hcl` for one synthesized stack. */
export function generateTftest(stack: StackJson, stackName: string): string {
  const required = Object.keys(stack.terraform?.required_providers ?? {});
  const names = [...new Set([...required, ...Object.keys(stack.provider ?? {})])].sort();

  // Data source types in use, grouped by the provider that serves them; only those with known defaults.
  const mockData = new Map<string, Set<string>>();
  for (const [type, instances] of Object.entries(stack.data ?? {})) {
    if (!dataDefaults(type)) continue;
    for (const instance of Object.values(instances)) {
      const provider = providerOf(type, instance, names);
      if (provider === undefined) continue;
      if (!mockData.has(provider)) mockData.set(provider, new Set());
      mockData.get(provider)?.add(type);
    }
  }

  const lines = [
    `# Generated by tools/tf-validate for ${stackName}: every provider mocked, dummy variables, one plan run.`,
    "# Needs no credentials; the real provider schemas still validate every resource and data source.",
    "",
  ];
  for (const name of names) {
    const aliases = (stack.provider?.[name] ?? []).map((config) => config.alias).filter((a): a is string => !!a);
    for (const alias of [undefined, ...aliases]) {
      lines.push(`mock_provider "${name}" {`);
      if (alias) lines.push(`  alias = ${hclString(alias)}`);
      for (const type of [...(mockData.get(name) ?? [])].sort()) {
        lines.push(`  mock_data "${type}" {`, "    defaults = {");
        for (const [attribute, value] of Object.entries(dataDefaults(type) ?? {})) {
          lines.push(`      ${attribute} = ${hclString(value)}`);
        }
        lines.push("    }", "  }");
      }
      lines.push("}", "");
    }
  }

  const variables = Object.entries(stack.variable ?? {}).filter(([, v]) => !("default" in v));
  lines.push("variables {");
  for (const [name, variable] of variables.sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${name} = ${dummyValue(variable.type, name)}${variable.sensitive ? " # sensitive" : ""}`);
  }
  lines.push("}", "", 'run "plan" {', "  command = plan");
  if (stack.resource?.terraform_data?.[PLACEHOLDER_GUARD_ID] !== undefined) {
    lines.push("  # Example or placeholder values: the guard's precondition fails the plan by design; nothing else may.");
    lines.push(`  expect_failures = [${PLACEHOLDER_GUARD_ADDRESS}]`);
  }
  lines.push("}", "");
  return lines.join("\n");
}
