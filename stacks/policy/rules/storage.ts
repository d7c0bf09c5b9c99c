/** Storage rules (MEM-ENC, MEM-PUB, MEM-NET, MEM-TLS, MEM-LOC, MEM-KMS): landing storage is private, encrypted and reached over TLS only. */
import { asList, attachedTo, escapeRegExp, isTrue, policyStatements, resources } from "../json";
import type { PolicyRule, Violation } from "../rule";

const S3_BUCKET = "aws_s3_bucket";
const STORAGE_ACCOUNT = "azurerm_storage_account";

export const STORAGE_RULES: readonly PolicyRule[] = [
  {
    id: "MEM-ENC-001",
    description:
      "Storage is encrypted at rest: S3 buckets with SSE-KMS under a customer-managed key, storage accounts with infrastructure encryption",
    explanation:
      "Landing files hold member PII; a customer-managed key keeps decryption under the account's own key policy and rotation, and ADLS infrastructure encryption adds a second layer below the service's.",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, bucket] of resources(tf, S3_BUCKET)) {
        const configs = attachedTo(tf, "aws_s3_bucket_server_side_encryption_configuration", "bucket", S3_BUCKET, id, [bucket.bucket]);
        const kms = configs.some(([, c]) =>
          asList(c.rule).some((r) =>
            asList(r.apply_server_side_encryption_by_default).some(
              (d) => ["aws:kms", "aws:kms:dsse"].includes(d.sse_algorithm) && typeof d.kms_master_key_id === "string" && d.kms_master_key_id !== "",
            ),
          ),
        );
        if (!kms)
          out.push({
            address: `${S3_BUCKET}.${id}`,
            message: "no server-side encryption configuration with aws:kms and a customer-managed key (kms_master_key_id)",
          });
      }
      for (const [id, account] of resources(tf, STORAGE_ACCOUNT)) {
        if (!isTrue(account.infrastructure_encryption_enabled)) {
          out.push({
            address: `${STORAGE_ACCOUNT}.${id}`,
            message: `infrastructure_encryption_enabled is ${JSON.stringify(account.infrastructure_encryption_enabled)}, expected true`,
          });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-PUB-001",
    description: "Public access is blocked: all four S3 public-access blocks on, no public blobs or containers",
    explanation:
      "A single public ACL or policy would expose every landing file; the four S3 blocks and the account-level switch make that impossible by construction.",
    check(tf) {
      const out: Violation[] = [];
      const flags = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];
      for (const [id, bucket] of resources(tf, S3_BUCKET)) {
        const blocks = attachedTo(tf, "aws_s3_bucket_public_access_block", "bucket", S3_BUCKET, id, [bucket.bucket]);
        const off = blocks.length === 0 ? flags : flags.filter((flag) => !blocks.some(([, b]) => isTrue(b[flag])));
        if (off.length > 0) out.push({ address: `${S3_BUCKET}.${id}`, message: `public access block missing or off: ${off.join(", ")}` });
      }
      for (const [id, account] of resources(tf, STORAGE_ACCOUNT)) {
        if (account.allow_nested_items_to_be_public !== false) {
          out.push({
            address: `${STORAGE_ACCOUNT}.${id}`,
            message: `allow_nested_items_to_be_public is ${JSON.stringify(account.allow_nested_items_to_be_public)}, expected false`,
          });
        }
      }
      for (const [id, container] of resources(tf, "azurerm_storage_container")) {
        if (container.container_access_type !== undefined && container.container_access_type !== "private") {
          out.push({
            address: `azurerm_storage_container.${id}`,
            message: `container_access_type is ${JSON.stringify(container.container_access_type)}, expected "private"`,
          });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-NET-001",
    description: "Private-network environments deny storage network access by default",
    explanation: "An environment that promises private-network storage must deny by default; otherwise the promise is only a label.",
    check(tf, ctx) {
      if (!ctx.privateNetworkOnly) return [];
      const out: Violation[] = [];
      for (const [id, account] of resources(tf, STORAGE_ACCOUNT)) {
        const inline = asList(account.network_rules).some((r) => r.default_action === "Deny");
        const separate = attachedTo(tf, "azurerm_storage_account_network_rules", "storage_account_id", STORAGE_ACCOUNT, id).some(
          ([, r]) => r.default_action === "Deny",
        );
        if (!inline && !separate && account.public_network_access_enabled !== false) {
          out.push({
            address: `${STORAGE_ACCOUNT}.${id}`,
            message: 'no network rules with default_action "Deny" although the environment is privateNetworkOnly',
          });
        }
      }
      for (const [id] of resources(tf, S3_BUCKET)) {
        // The AWS side has no network restriction yet (the config rejects privateNetworkOnly on AWS); if a bucket
        // ever appears in a private environment, it must say so in its policy.
        const policies = attachedTo(tf, "aws_s3_bucket_policy", "bucket", S3_BUCKET, id);
        const restricted = policies.some(([, p]) =>
          policyStatements(tf, p.policy).some(
            (s) => s.effect === "Deny" && s.conditions.some((c) => /^aws:(SourceVpce|SourceVpc)$/.test(c.variable)),
          ),
        );
        if (!restricted)
          out.push({
            address: `${S3_BUCKET}.${id}`,
            message: "no bucket policy denying access from outside a VPC (endpoint) although the environment is privateNetworkOnly",
          });
      }
      return out;
    },
  },
  {
    id: "MEM-TLS-001",
    description: "Storage accepts TLS only: S3 bucket policy denies aws:SecureTransport=false, storage accounts HTTPS only with TLS 1.2+",
    explanation: "Credentials and PII cross the network to and from storage; plain HTTP or old TLS would expose them.",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, bucket] of resources(tf, S3_BUCKET)) {
        const policies = attachedTo(tf, "aws_s3_bucket_policy", "bucket", S3_BUCKET, id, [bucket.bucket]);
        const denies = policies.some(([, p]) =>
          policyStatements(tf, p.policy).some(
            (s) =>
              s.effect === "Deny" &&
              s.actions.some((a) => a === "s3:*" || a === "*") &&
              s.conditions.some((c) => c.test === "Bool" && c.variable === "aws:SecureTransport" && c.values.includes("false")),
          ),
        );
        if (!denies) out.push({ address: `${S3_BUCKET}.${id}`, message: 'no bucket policy with a Deny of s3:* when "aws:SecureTransport" is false' });
      }
      for (const [id, account] of resources(tf, STORAGE_ACCOUNT)) {
        const problems: string[] = [];
        // Explicit, not the provider default: the stack states what it relies on.
        if (!isTrue(account.https_traffic_only_enabled))
          problems.push(`https_traffic_only_enabled is ${JSON.stringify(account.https_traffic_only_enabled)}, expected true`);
        if (!["TLS1_2", "TLS1_3"].includes(account.min_tls_version))
          problems.push(`min_tls_version is ${JSON.stringify(account.min_tls_version)}, expected "TLS1_2"`);
        if (problems.length > 0) out.push({ address: `${STORAGE_ACCOUNT}.${id}`, message: problems.join("; ") });
      }
      return out;
    },
  },
  {
    id: "MEM-LOC-001",
    description: "External locations cover the landing or managed-storage prefix (or below), never a whole bucket or container",
    explanation: "A location over a whole bucket or container would grant READ FILES on everything in it, managed Delta files included.",
    check(tf, ctx) {
      const out: Violation[] = [];
      const folders = [ctx.landingPrefix, ctx.managedPrefix].map((f) => escapeRegExp(f.replace(/^\/+|\/+$/g, ""))).join("|");
      const allowed = new RegExp(`^[a-z0-9]+://[^/]+/(${folders})/([^/]+/)*$`);
      for (const [id, location] of resources(tf, "databricks_external_location")) {
        if (typeof location.url !== "string" || !allowed.test(location.url)) {
          out.push({
            address: `databricks_external_location.${id}`,
            message: `url ${JSON.stringify(location.url)} is not inside /${ctx.landingPrefix}/ or /${ctx.managedPrefix}/ of its bucket or container`,
          });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-KMS-101",
    description: "Customer-managed KMS keys rotate (enable_key_rotation)",
    explanation: "Rotation limits how much data one leaked key version can decrypt; AWS keeps old versions, so nothing breaks.",
    check(tf) {
      return resources(tf, "aws_kms_key")
        .filter(([, key]) => !isTrue(key.enable_key_rotation))
        .map(([id]) => ({ address: `aws_kms_key.${id}`, message: "enable_key_rotation is not true" }));
    },
  },
];
