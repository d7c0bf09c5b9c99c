/**
 * The moto wiring, as a Terraform override file (moto_override.tf.json) next to the extracted stack: the override
 * rules merge it into the stack's own blocks (https://developer.hashicorp.com/terraform/language/files/override).
 *
 * - `provider "aws"`: every API the stack's resource and data source types call goes to moto, dummy keys, path-style
 *   S3. The stack's own arguments (region, default_tags) stay.
 * - `required_providers.aws.version`: the version the rehearsal can install (the stack's pin when available). The
 *   override replaces only that constraint.
 * - `backend "s3"`: an override backend block replaces the original one as a whole, so it is the stack's own block
 *   (bucket, key, region, encrypt, use_lockfile) with only the endpoint and credential settings changed.
 * Pure.
 */
import type { JsonObject } from "./references";

/** Dummy credentials; moto accepts any. */
export const MOTO_ACCESS_KEY = "aws-rehearsal";
export const MOTO_SECRET_KEY = "aws-rehearsal";

/**
 * Which provider endpoint (the `endpoints` block key) a type talks to, by type prefix; the first match wins. `null`:
 * a type that makes no API call. A type matching none fails the rehearsal (add it here), so nothing silently goes to
 * a real AWS endpoint.
 */
export const ENDPOINT_BY_TYPE_PREFIX: ReadonlyArray<readonly [string, string | null]> = [
  ["aws_iam_policy_document", null],
  ["aws_partition", null],
  ["aws_region", null],
  ["aws_arn", null],
  ["aws_default_tags", null],
  ["aws_caller_identity", "sts"],
  ["aws_s3control_", "s3control"],
  ["aws_s3_", "s3"],
  ["aws_iam_", "iam"],
  ["aws_kms_", "kms"],
  ["aws_sqs_", "sqs"],
  ["aws_sns_", "sns"],
  ["aws_lambda_", "lambda"],
  ["aws_dynamodb_", "dynamodb"],
  ["aws_cloudwatch_log_", "logs"],
  ["aws_cloudwatch_event_", "events"],
  ["aws_secretsmanager_", "secretsmanager"],
  ["aws_ssm_", "ssm"],
];

/** Endpoints the provider itself calls (account id lookup, credential check), whatever the types. */
const ALWAYS = ["iam", "sts"];

/** The endpoints the given resource / data source types need; throws naming the types it does not know. */
export function endpointsFor(types: Iterable<string>): string[] {
  const services = new Set(ALWAYS);
  const unknown: string[] = [];
  for (const type of types) {
    const match = ENDPOINT_BY_TYPE_PREFIX.find(([prefix]) => type === prefix || (prefix.endsWith("_") && type.startsWith(prefix)));
    if (!match) unknown.push(type);
    else if (match[1]) services.add(match[1]);
  }
  if (unknown.length > 0) {
    throw new Error(
      `no moto endpoint known for ${unknown.sort().join(", ")}: add the type prefix and its provider endpoint name to ENDPOINT_BY_TYPE_PREFIX (tools/aws-rehearsal/override.ts)`,
    );
  }
  return [...services].sort();
}

/** Backend arguments that choose credentials or endpoints: left out of the copied backend block. */
const BACKEND_CREDENTIAL_KEYS = new Set([
  "profile",
  "shared_config_files",
  "shared_credentials_files",
  "assume_role",
  "assume_role_with_web_identity",
  "role_arn",
  "access_key",
  "secret_key",
  "token",
  "endpoint",
  "endpoints",
  "sts_endpoint",
  "iam_endpoint",
  "dynamodb_endpoint",
  "force_path_style",
]);

export interface OverrideOptions {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The services of endpointsFor. */
  readonly services: readonly string[];
  /** The provider's `required_providers` entry in the stack (source, version). */
  readonly requiredProvider: { source?: string; version?: string };
  /** The version constraint to use instead. */
  readonly version: string;
  /** The stack's `aws` provider blocks (one override per alias). */
  readonly providerBlocks: ReadonlyArray<{ alias?: unknown }>;
  /** The stack's `backend "s3"` block. */
  readonly backend: JsonObject;
}

export function motoOverride(o: OverrideOptions): JsonObject {
  const endpoints = Object.fromEntries(o.services.map((s) => [s, o.endpoint]));
  const providerBlocks = (o.providerBlocks.length > 0 ? o.providerBlocks : [{}]).map((block) => ({
    ...(block.alias === undefined ? {} : { alias: block.alias as string }),
    access_key: MOTO_ACCESS_KEY,
    secret_key: MOTO_SECRET_KEY,
    endpoints: [endpoints],
    s3_use_path_style: true,
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    // moto answers sts:GetCallerIdentity, so the provider still looks the account id up.
    skip_requesting_account_id: false,
  }));
  const backend = Object.fromEntries(Object.entries(o.backend).filter(([k]) => !BACKEND_CREDENTIAL_KEYS.has(k)));
  return {
    "//": "Written by tools/aws-rehearsal: points the stack's aws provider and S3 backend at a local moto server.",
    terraform: {
      required_providers: { aws: { ...o.requiredProvider, version: o.version } },
      backend: {
        s3: {
          ...backend,
          access_key: MOTO_ACCESS_KEY,
          secret_key: MOTO_SECRET_KEY,
          endpoints: { s3: o.endpoint, sts: o.endpoint, iam: o.endpoint, dynamodb: o.endpoint },
          use_path_style: true,
          skip_credentials_validation: true,
          skip_requesting_account_id: true,
          skip_metadata_api_check: true,
        },
      },
    },
    provider: { aws: providerBlocks },
  };
}

/** Semantic versions, newest first. */
export const newestFirst = (versions: readonly string[]) =>
  [...versions].sort((a, b) => {
    const [x, y] = [a, b].map((v) => v.split(/[.-]/).map((p) => Number(p) || 0));
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
    return 0;
  });

/**
 * The aws provider versions to try, in order. With the CLI config the rehearsal wrote for a plugin mirror, only what
 * the mirror holds can install: the stack's pin if the mirror has it, else the mirror's versions, newest first. With
 * any other CLI configuration (yours, or the registry): the pin first, then the mirror's versions.
 */
export function versionCandidates(pin: string | undefined, mirrorVersions: readonly string[], mirrorOnly: boolean): string[] {
  const mirror = newestFirst(mirrorVersions);
  if (mirrorOnly) return pin && mirror.includes(pin) ? [pin] : mirror;
  return [...new Set([...(pin ? [pin] : []), ...mirror])];
}
