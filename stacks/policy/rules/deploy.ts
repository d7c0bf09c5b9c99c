/**
 * Deployability rules (MEM-DEP-xxx): what a first `cdktf deploy` on a real account would hit, learned from the
 * providers' and Databricks' documentation rather than from a failed deploy. Each rule cites the behaviour it encodes
 * (docs/safety/policy-as-code.md lists them with their sources). All are errors: a stack that breaks one fails at synth.
 */
import { AZURE_AD_AUTH_TYPES, DATABRICKS_AUTH_TYPES, SHARED_WORKSPACE_FOLDER } from "../../config/schema";
import { asList, escapeRegExp, isTrue, jobClusters, policyDefinition, policyStatements, referencedId, resources } from "../json";
import type { PolicyRule, TerraformJson, Violation } from "../rule";
import {
  MANAGED_FILE_EVENTS_AWS_ACTIONS,
  MANAGED_FILE_EVENTS_AZURE_ROLES,
  MIN_IAM_PROPAGATION_SECONDS,
  MIN_PROVIDER_SENDING_FILE_EVENTS_FALSE,
  MIN_RUNTIME_FOR_MASKED_MERGE,
  MIN_TERRAFORM_VERSION,
} from "./documented-limits";

const FILE_EVENT_ROLES: readonly string[] = MANAGED_FILE_EVENTS_AZURE_ROLES.map((r) => r.role);
const FILE_EVENT_ACTIONS: readonly string[] = Object.values(MANAGED_FILE_EVENTS_AWS_ACTIONS).flat();
/** Isolation modes of securables reachable only from bound workspaces (catalog; credential and location). */
const ISOLATED = {
  databricks_catalog: "ISOLATED",
  databricks_storage_credential: "ISOLATION_MODE_ISOLATED",
  databricks_external_location: "ISOLATION_MODE_ISOLATED",
};

/** Why one external location's file-events setting and the stack's grants disagree, or undefined. */
function fileEventsProblem(tf: TerraformJson, location: Record<string, any>): string | undefined {
  const enabled = location.enable_file_events;
  if (enabled === false || enabled === "false") {
    const constraint = (tf.terraform as any)?.required_providers?.databricks?.version;
    const pinned = constraintLowerBound(constraint);
    if (pinned !== undefined && compareVersions(pinned, MIN_PROVIDER_SENDING_FILE_EVENTS_FALSE) >= 0) return undefined;
    return `enable_file_events is false, which databricks provider ${JSON.stringify(constraint)} drops on create (fixed in ${MIN_PROVIDER_SENDING_FILE_EVENTS_FALSE.join(".")}, PR #5762): the server's default, on, applies without the permissions`;
  }
  if (!isTrue(enabled))
    return "enable_file_events is not set: Databricks turns file events on by default for new external locations, so say so (true, with file_event_queue and its permissions)";
  const queue = asList(location.file_event_queue)[0] ?? {};
  if (queue.managed_sqs !== undefined) {
    const allowed = new Set(
      resources(tf, "aws_iam_role_policy").flatMap(([, p]) =>
        policyStatements(tf, p.policy)
          .filter((st) => st.effect === "Allow")
          .flatMap((st) => st.actions),
      ),
    );
    const missing = FILE_EVENT_ACTIONS.filter((a) => !allowed.has(a));
    return missing.length === 0 ? undefined : `managed_sqs file events, but no IAM role policy of the stack allows ${missing.join(", ")}`;
  }
  if (queue.managed_aqs !== undefined) {
    const granted = new Set(resources(tf, "azurerm_role_assignment").map(([, r]) => r.role_definition_name));
    const missing = FILE_EVENT_ROLES.filter((role) => !granted.has(role));
    return missing.length === 0 ? undefined : `managed_aqs file events, but the stack assigns no ${missing.join(", ")}`;
  }
  if (Object.keys(queue).some((k) => k.startsWith("provided_"))) return undefined;
  return `enable_file_events is true without a file_event_queue (expected managed_sqs on AWS, managed_aqs on Azure)`;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The lower bound of a Terraform version constraint (`>= 1.11.0`, `~> 1.11`, `1.11.4`), or undefined. */
export function constraintLowerBound(constraint: unknown): number[] | undefined {
  if (typeof constraint !== "string") return undefined;
  const bounds = constraint
    .split(",")
    .map((part) => /^\s*(>=|~>|=)?\s*v?(\d+(?:\.\d+){0,2})\s*$/.exec(part))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => m[2].split(".").map(Number));
  return bounds.sort(compareVersions).pop();
}

/** `17.3.x-scala2.13` -> [17, 3]. */
function runtimeVersion(sparkVersion: unknown): number[] | undefined {
  const m = typeof sparkVersion === "string" ? /^(\d+)\.(\d+)\./.exec(sparkVersion) : null;
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The path of a storage URL inside its bucket or container, with a trailing slash: `s3://b/managed/` -> `managed/`. */
export function pathInStorage(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  const m = /^[a-z0-9]+:\/\/(?:\$\{[^}]+\}|[^/$])+?(?:\.dfs\.core\.windows\.net)?\/(.*)$/.exec(url);
  if (!m) return undefined;
  return m[1] === "" || m[1].endsWith("/") ? m[1] : `${m[1]}/`;
}

function overlaps(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

function databricksAuthType(tf: TerraformJson): unknown {
  return asList(tf.provider?.databricks)[0]?.auth_type;
}

/** Paths (inside bucket/container) of every created catalog's or schema's managed storage. */
function managedPaths(tf: TerraformJson): string[] {
  return ["databricks_catalog", "databricks_schema"]
    .flatMap((type) => resources(tf, type).map(([, r]) => pathInStorage(r.storage_root)))
    .filter((p): p is string => p !== undefined);
}

/** S3 lifecycle rule prefixes: filter.prefix, filter.and.prefix, or the deprecated rule-level prefix. */
function s3RulePrefix(rule: Record<string, any>): string | undefined {
  const filter = asList(rule.filter)[0];
  const prefix = filter?.prefix ?? asList(filter?.and)[0]?.prefix ?? rule.prefix;
  return typeof prefix === "string" ? prefix : undefined;
}

/** Data sources whose values are the identity running Terraform: a PR plan identity, a person, the CI deployer. */
const IDENTITY_DATA_SOURCES = ["databricks_current_user", "databricks_current_config"];

/** Every string inside `value`, with its attribute path. */
function strings(value: unknown, at = ""): [string, string][] {
  if (typeof value === "string") return [[at, value]];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => (k === "//" ? [] : strings(v, at ? `${at}.${k}` : k)));
}

/**
 * Whether a terraform_data precondition refuses the plan when the service principal with this application id is in
 * the workspace "admins" group: `!contains(tolist(data.databricks_group.<admins>.service_principals), data.databricks_service_principal.<sp>.id)`.
 */
function adminCheckFor(tf: TerraformJson, applicationId: string): boolean {
  const sps = Object.entries(tf.data?.databricks_service_principal ?? {}).filter(([, sp]) => sp.application_id === applicationId);
  const admins = Object.entries(tf.data?.databricks_group ?? {}).filter(([, g]) => g.display_name === "admins" && g.recursive !== false);
  const conditions = resources(tf, "terraform_data").flatMap(([, d]) => asList(d.lifecycle?.precondition).map((p) => String(p.condition)));
  return sps.some(([spId]) =>
    admins.some(([groupId]) =>
      conditions.some((c) => {
        const members = `data\\.databricks_group\\.${escapeRegExp(groupId)}\\.service_principals`;
        const principal = `data\\.databricks_service_principal\\.${escapeRegExp(spId)}\\.id`;
        return new RegExp(`!contains\\((${members}|tolist\\(${members}\\)), ${principal}\\)`).test(c);
      }),
    ),
  );
}

export const DEPLOY_RULES: readonly PolicyRule[] = [
  {
    id: "MEM-DEP-001",
    description: "State is remote (s3 or azurerm backend): CI deploys from throwaway runners, where local state is lost",
    explanation: 'CI deploys from throwaway runners: local state is lost after each run and the next deploy fails on "already exists".',
    check(tf, ctx) {
      const backends = Object.keys((tf.terraform as { backend?: object } | undefined)?.backend ?? {});
      if (ctx.localStateOptIn || backends.some((b) => b === "s3" || b === "azurerm")) return [];
      return [
        {
          address: "terraform.backend",
          message: `backend is ${JSON.stringify(backends)}, expected s3 or azurerm (or stateBackend {type: "local"} for hand deploys)`,
        },
      ];
    },
  },
  {
    id: "MEM-DEP-002",
    description: "The Databricks provider names its auth_type: with several methods' variables set the SDK refuses to choose",
    explanation:
      'The Databricks SDK counts every login method whose variables are set and refuses "more than one authorization method configured" unless auth_type picks one (databricks-sdk-go config).',
    check(tf) {
      const auth = databricksAuthType(tf);
      if (asList(tf.provider?.databricks).length === 0 || (DATABRICKS_AUTH_TYPES as readonly unknown[]).includes(auth)) return [];
      return [
        { address: "provider.databricks", message: `auth_type is ${JSON.stringify(auth)}, expected one of ${DATABRICKS_AUTH_TYPES.join(", ")}` },
      ];
    },
  },
  {
    id: "MEM-DEP-003",
    description: "Created catalogs have managed storage (storage_root) inside an external location of the stack",
    explanation:
      "Metastores without root storage reject a catalog without a storage root, and a managed location must be contained in an external location (Databricks, Managed storage).",
    check(tf) {
      const locations = resources(tf, "databricks_external_location")
        .map(([, l]) => l.url)
        .filter((u): u is string => typeof u === "string");
      return resources(tf, "databricks_catalog")
        .filter(([, c]) => typeof c.storage_root !== "string" || !locations.some((url) => c.storage_root.startsWith(url)))
        .map(([id, c]) => ({
          address: `databricks_catalog.${id}`,
          message: `storage_root is ${JSON.stringify(c.storage_root)}, expected a URL inside one of this stack's external locations (metastores without root storage reject a catalog without one)`,
        }));
    },
  },
  {
    id: "MEM-DEP-004",
    description: "External locations do not overlap: Unity Catalog rejects a location inside another",
    explanation: "Unity Catalog does not allow an external location within another (Databricks, Paths).",
    check(tf) {
      const locations = resources(tf, "databricks_external_location").filter(([, l]) => typeof l.url === "string");
      const out: Violation[] = [];
      locations.forEach(([id, l], i) => {
        for (const [otherId, other] of locations.slice(i + 1)) {
          if (overlaps(l.url, other.url)) {
            out.push({
              address: `databricks_external_location.${id}`,
              message: `url ${JSON.stringify(l.url)} overlaps databricks_external_location.${otherId} (${JSON.stringify(other.url)})`,
            });
          }
        }
      });
      return out;
    },
  },
  {
    id: "MEM-DEP-005",
    description: "No lifecycle rule expires or tiers current objects in managed storage (it would delete the Delta tables' files)",
    explanation:
      "The managed Delta tables live in the same bucket or account: an expiry or tiering rule matching them would delete or slow their files.",
    check(tf) {
      const managed = managedPaths(tf);
      if (managed.length === 0) return [];
      const out: Violation[] = [];
      for (const [id, config] of resources(tf, "aws_s3_bucket_lifecycle_configuration")) {
        for (const rule of asList(config.rule)) {
          const touchesCurrent =
            asList(rule.expiration).some((e) => e.days !== undefined || e.date !== undefined) || asList(rule.transition).length > 0;
          const prefix = s3RulePrefix(rule) ?? "";
          const hit = managed.find((m) => overlaps(prefix, m));
          if (touchesCurrent && hit !== undefined) {
            out.push({
              address: `aws_s3_bucket_lifecycle_configuration.${id}`,
              message: `rule ${JSON.stringify(rule.id)} expires or tiers objects under prefix ${JSON.stringify(prefix)}, which covers managed storage ${JSON.stringify(hit)}`,
            });
          }
        }
      }
      for (const [id, policy] of resources(tf, "azurerm_storage_management_policy")) {
        for (const rule of asList(policy.rule)) {
          const base = asList(asList(rule.actions)[0]?.base_blob)[0] ?? {};
          const touchesCurrent = Object.keys(base).some((k) => /^(delete|tier_to)/.test(k));
          const prefixes: string[] = asList(asList(rule.filters)[0]?.prefix_match).map(String);
          // prefix_match is "<container>/<path>"; none means the whole account.
          const paths = prefixes.length === 0 ? [""] : prefixes.map((p) => p.split("/").slice(1).join("/"));
          const hit = managed.find((m) => paths.some((p) => overlaps(p, m)));
          if (touchesCurrent && hit !== undefined) {
            out.push({
              address: `azurerm_storage_management_policy.${id}`,
              message: `rule ${JSON.stringify(rule.name)} deletes or tiers blobs matching ${JSON.stringify(prefixes)}, which covers managed storage ${JSON.stringify(hit)}`,
            });
          }
        }
      }
      return out;
    },
  },
  {
    id: "MEM-DEP-006",
    description:
      "azurerm manages storage through ARM only (features.storage.data_plane_available = false): data-plane reads get 403 with shared keys off and a default-deny firewall",
    explanation:
      "azurerm 4.9+: with data_plane_available = false storage is managed through ARM only; data-plane reads fail with 403 when shared keys are off behind a default-deny firewall.",
    check(tf) {
      if (resources(tf, "azurerm_storage_account").length === 0) return [];
      const off = asList(tf.provider?.azurerm).some((p) =>
        asList(p.features).some((f) => asList(f.storage).some((s) => s.data_plane_available === false)),
      );
      return off ? [] : [{ address: "provider.azurerm", message: "features.storage.data_plane_available is not false" }];
    },
  },
  {
    id: "MEM-DEP-007",
    description: "A default-deny storage firewall admits the workspace's job-cluster subnets (virtual_network_subnet_ids)",
    explanation: "Classic job clusters reach storage from the workspace subnets; the resource instance rule admits only the access connector.",
    check(tf) {
      return resources(tf, "azurerm_storage_account_network_rules")
        .filter(([, r]) => r.default_action === "Deny" && asList(r.virtual_network_subnet_ids).length === 0)
        .map(([id]) => ({
          address: `azurerm_storage_account_network_rules.${id}`,
          message: "default_action is Deny but virtual_network_subnet_ids is empty: classic job clusters would get 403 on the landing files",
        }));
    },
  },
  {
    id: "MEM-DEP-008",
    description: "Code is deployed into a databricks_directory the stack owns, with databricks_permissions, never under /Shared",
    explanation:
      '"All users have the Can Manage permission for objects in the Shared folder" (Databricks workspace ACLs): anyone could change code that runs with the MySQL secrets.',
    check(tf) {
      const permitted = new Set(
        resources(tf, "databricks_permissions")
          .map(([, p]) => referencedId(p.directory_path, "databricks_directory", ["path"]))
          .filter((id): id is string => id !== undefined),
      );
      const out: Violation[] = [];
      for (const [id, dir] of resources(tf, "databricks_directory")) {
        if (typeof dir.path === "string" && SHARED_WORKSPACE_FOLDER.test(dir.path))
          out.push({
            address: `databricks_directory.${id}`,
            message: `path ${JSON.stringify(dir.path)} is under /Shared, where every workspace user can manage objects`,
          });
      }
      for (const type of ["databricks_notebook", "databricks_workspace_file"]) {
        for (const [id, object] of resources(tf, type)) {
          const owner = typeof object.path === "string" ? /^\$\{databricks_directory\.([A-Za-z0-9_-]+)\.path\}\//.exec(object.path)?.[1] : undefined;
          if (owner === undefined || !permitted.has(owner)) {
            out.push({
              address: `${type}.${id}`,
              message: `path ${JSON.stringify(object.path)} is not inside a databricks_directory of this stack that has databricks_permissions`,
            });
          }
        }
      }
      return out;
    },
  },
  {
    id: "MEM-DEP-009",
    description: "An Azure Key Vault-backed secret scope is created with an Azure AD auth_type (the API refuses other tokens)",
    explanation:
      "Key Vault-backed secret scopes can only be created with Azure-specific authentication (Databricks provider, databricks_secret_scope).",
    check(tf) {
      const auth = databricksAuthType(tf);
      if ((AZURE_AD_AUTH_TYPES as readonly unknown[]).includes(auth)) return [];
      return resources(tf, "databricks_secret_scope")
        .filter(([, s]) => s.backend_type === "AZURE_KEYVAULT")
        .map(([id]) => ({
          address: `databricks_secret_scope.${id}`,
          message: `backend_type AZURE_KEYVAULT with provider auth_type ${JSON.stringify(auth)}, expected one of ${AZURE_AD_AUTH_TYPES.join(", ")}`,
        }));
    },
  },
  {
    id: "MEM-DEP-010",
    description: `terraform.required_version admits no CLI older than ${MIN_TERRAFORM_VERSION.join(".")} (S3-native state locking GA)`,
    explanation: "The S3 backend's native locking (use_lockfile) is generally available from Terraform 1.11.",
    check(tf) {
      const constraint = (tf.terraform as { required_version?: unknown } | undefined)?.required_version;
      const bound = constraintLowerBound(constraint);
      if (bound !== undefined && compareVersions(bound, MIN_TERRAFORM_VERSION) >= 0) return [];
      return [
        {
          address: "terraform.required_version",
          message: `got ${JSON.stringify(constraint)}, expected a constraint such as ">= ${MIN_TERRAFORM_VERSION.join(".")}.0"`,
        },
      ];
    },
  },
  {
    id: "MEM-DEP-011",
    description:
      "External locations say enable_file_events = true with a managed queue whose permissions the stack grants; file-event permissions only with file events",
    explanation:
      "Databricks enables file events by default on new external locations and provider 1.99 drops an explicit false on create: a location must say true, and its identity needs the documented SNS/SQS (AWS) or queue and Event Grid (Azure) permissions, or the location and its file-arrival trigger report errors.",
    check(tf) {
      const out: Violation[] = [];
      const locations = resources(tf, "databricks_external_location");
      for (const [id, location] of locations) {
        const problem = fileEventsProblem(tf, location);
        if (problem) out.push({ address: `databricks_external_location.${id}`, message: problem });
      }
      if (locations.some(([, l]) => isTrue(l.enable_file_events))) return out;
      for (const [id, r] of resources(tf, "azurerm_role_assignment").filter(([, r]) => FILE_EVENT_ROLES.includes(r.role_definition_name)))
        out.push({
          address: `azurerm_role_assignment.${id}`,
          message: `grants ${JSON.stringify(r.role_definition_name)} although no external location has enable_file_events`,
        });
      return out;
    },
  },
  {
    id: "MEM-DEP-012",
    description: `Job clusters and cluster policies pin Databricks Runtime ${MIN_RUNTIME_FOR_MASKED_MERGE.join(".")}+ (MERGE into a masked table from dedicated compute)`,
    explanation:
      "Reading masked tables from dedicated compute needs Runtime 15.4+, MERGE into them 16.3+ (Databricks, fine-grained access control on dedicated compute).",
    check(tf) {
      const out: Violation[] = [];
      const tooOld = (v: unknown) => {
        const version = runtimeVersion(v);
        return version === undefined || compareVersions(version, MIN_RUNTIME_FOR_MASKED_MERGE) < 0;
      };
      for (const [id, job] of resources(tf, "databricks_job")) {
        for (const { where, cluster } of jobClusters(job)) {
          if (cluster.spark_version !== undefined && tooOld(cluster.spark_version))
            out.push({
              address: `databricks_job.${id}`,
              message: `${where}: spark_version ${JSON.stringify(cluster.spark_version)} is older than ${MIN_RUNTIME_FOR_MASKED_MERGE.join(".")}`,
            });
        }
      }
      for (const [id, policy] of resources(tf, "databricks_cluster_policy")) {
        const pinned = policyDefinition(policy)?.spark_version?.value;
        if (tooOld(pinned))
          out.push({
            address: `databricks_cluster_policy.${id}`,
            message: `spark_version is ${JSON.stringify(pinned)}, expected a fixed runtime ${MIN_RUNTIME_FOR_MASKED_MERGE.join(".")} or newer`,
          });
      }
      return out;
    },
  },
  {
    id: "MEM-DEP-013",
    description:
      "Reader groups query the masked view (USE_CATALOG; USE_SCHEMA and SELECT on the masked schema) and nobody but the job, the PII reader group and the platform group can read the tables' schema",
    explanation:
      "The tables carry no column mask (masks make the job's reads go through serverless filtering and refuse its history, UPDATE and DELETE): a reader granted the tables' schema reads PII unmasked. Grants on created objects are authoritative, so readers must be declared.",
    check(tf, ctx) {
      // The schema a grant's securable references, by name (`<catalog ref>.<schema ref>` or a looked-up schema).
      const schemaOf = (securable: unknown): string | undefined => {
        const m = /\$\{(data\.)?databricks_schema\.([^.}]+)\.name\}/.exec(String(securable));
        if (!m) return undefined;
        const block = (m[1] ? tf.data?.databricks_schema : tf.resource?.databricks_schema)?.[m[2]];
        return typeof block?.name === "string" ? block.name.split(".").pop() : undefined;
      };
      const grants: { on: string; principal: string; privileges: string[] }[] = [
        ...resources(tf, "databricks_grants").flatMap(([, g]) =>
          asList(g.grant).map((x) => ({
            on: g.catalog !== undefined ? "catalog" : (schemaOf(g.schema) ?? "?"),
            principal: x.principal,
            privileges: asList(x.privileges),
          })),
        ),
        ...resources(tf, "databricks_grant").map(([, g]) => ({
          on: g.catalog !== undefined ? "catalog" : (schemaOf(g.schema) ?? "?"),
          principal: g.principal,
          privileges: asList(g.privileges),
        })),
      ];
      const granted = (on: string, principal: string) =>
        new Set(grants.filter((g) => g.on === on && g.principal === principal).flatMap((g) => g.privileges));
      const out: Violation[] = [];
      const lacks = (who: string, principal: string, on: string, wanted: string[]) => {
        const missing = wanted.filter((p) => !granted(on, principal).has(p));
        if (missing.length > 0)
          out.push({ address: "databricks_grants", message: `${who} ${JSON.stringify(principal)} lacks ${missing.join(", ")} on ${on}` });
      };
      for (const reader of ctx.tableReaders) {
        lacks("reader group", reader, "catalog", ["USE_CATALOG"]);
        lacks("reader group", reader, ctx.maskedSchemaName, ["USE_SCHEMA", "SELECT"]);
      }
      for (const reader of ctx.piiReaders) lacks("PII reader group", reader, ctx.schemaName, ["USE_SCHEMA", "SELECT"]);
      const allowed = new Set([ctx.jobPrincipal, ...ctx.piiReaders]);
      for (const g of grants) {
        if (g.on === ctx.schemaName && !allowed.has(g.principal) && g.privileges.some((p) => p === "SELECT" || p === "ALL_PRIVILEGES")) {
          out.push({
            address: "databricks_grants",
            message: `${JSON.stringify(g.principal)} can SELECT the tables of schema ${ctx.schemaName} (PII unmasked); readers get the view in ${ctx.maskedSchemaName}`,
          });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-DEP-014",
    description:
      "Jobs of production and CI-deployed (remote state) stacks run as a service principal that each plan checks is no workspace admin; no generator in production",
    explanation:
      "A job without run_as runs as whoever deployed it last, in CI a workspace admin; an admin run-as principal gives the notebooks the whole workspace; the generator writes test rows into MySQL.",
    check(tf, ctx) {
      const remoteState = Object.keys(tf.terraform?.backend ?? {}).some((type) => type !== "local");
      if (ctx.developmentMode && !remoteState) return [];
      const checked = new Set(
        Object.values(tf.data?.databricks_service_principal ?? {})
          .map((sp) => sp.application_id)
          .filter((id) => typeof id === "string" && adminCheckFor(tf, id)),
      );
      const runAs = (job: Record<string, any>) => asList(job.run_as)[0]?.service_principal_name;
      return [
        ...resources(tf, "databricks_job")
          .filter(([, job]) => typeof runAs(job) !== "string")
          .map(([id]) => ({
            address: `databricks_job.${id}`,
            message: "no run_as.service_principal_name: the job would run as whoever deployed it (in CI, a workspace admin)",
          })),
        ...resources(tf, "databricks_job")
          .filter(([, job]) => typeof runAs(job) === "string" && !checked.has(runAs(job)))
          .map(([id, job]) => ({
            address: `databricks_job.${id}`,
            message: `run_as ${runAs(job)} is not checked against the workspace "admins" group at plan (RunAsNotAdmin)`,
          })),
        ...(ctx.developmentMode
          ? []
          : resources(tf, "databricks_notebook")
              .filter(([, nb]) => typeof nb.path === "string" && nb.path.endsWith("/generate_member_data"))
              .map(([id]) => ({
                address: `databricks_notebook.${id}`,
                message: "the member-data generator is deployed to a production environment",
              }))),
      ];
    },
  },
  {
    id: "MEM-DEP-015",
    description: `Unity Catalog IAM roles are waited for (time_sleep >= ${MIN_IAM_PROPAGATION_SECONDS}s, re-run when the role's trust policy changes)`,
    explanation: "IAM is eventually consistent: a new or changed role is not assumable at once, and the external location validates it on create.",
    check(tf) {
      const sleeps = resources(tf, "time_sleep");
      return resources(tf, "aws_iam_role")
        .filter(
          ([, role]) =>
            typeof role.assume_role_policy === "string" && role.assume_role_policy.includes("databricks_aws_unity_catalog_assume_role_policy"),
        )
        .filter(([id]) => {
          const trustRef = `\${aws_iam_role.${id}.assume_role_policy}`;
          return !sleeps.some(([, s]) => {
            const seconds = /^(\d+)s$/.exec(String(s.create_duration));
            const minutes = /^(\d+)m$/.exec(String(s.create_duration));
            const duration = seconds ? Number(seconds[1]) : minutes ? Number(minutes[1]) * 60 : 0;
            return duration >= MIN_IAM_PROPAGATION_SECONDS && Object.values(s.triggers ?? {}).includes(trustRef);
          });
        })
        .map(([id]) => ({
          address: `aws_iam_role.${id}`,
          message: `no time_sleep of at least ${MIN_IAM_PROPAGATION_SECONDS}s whose triggers include the role's assume_role_policy`,
        }));
    },
  },
  {
    id: "MEM-DEP-016",
    description: "S3 lifecycle rules name a non-empty filter (prefix, and, tag or size), the form AWS provider 6.x accepts without a warning",
    explanation: "AWS provider 5.90+ warns on an empty filter {} or a missing filter and will make it an error.",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, config] of resources(tf, "aws_s3_bucket_lifecycle_configuration")) {
        for (const rule of asList(config.rule)) {
          const filter = asList(rule.filter)[0];
          if (!filter || Object.keys(filter).length === 0)
            out.push({
              address: `aws_s3_bucket_lifecycle_configuration.${id}`,
              message: `rule ${JSON.stringify(rule.id)} has ${filter ? "an empty filter {}" : "no filter"}, expected filter { prefix = "..." } (prefix "" for the whole bucket)`,
            });
        }
      }
      return out;
    },
  },
  {
    id: "MEM-DEP-017",
    description: "No resource or output depends on the identity running Terraform (databricks_current_user, databricks_current_config)",
    explanation:
      "Pull-request plans run as a plan identity and hand deploys as a person: a deploy root derived from the caller's home would show every notebook, the wheel and every job replaced or updated whenever someone else plans, and move production code into a person's home.",
    check(tf) {
      const identity = new RegExp(`\\$\\{data\\.(${IDENTITY_DATA_SOURCES.join("|")})\\.`);
      const out: Violation[] = [];
      const blocks: [string, Record<string, unknown>][] = [
        ...Object.entries(tf.resource ?? {}).flatMap(([type, byId]) =>
          Object.entries(byId).map(([id, r]) => [`${type}.${id}`, r] as [string, Record<string, unknown>]),
        ),
        ...Object.entries((tf as { output?: Record<string, Record<string, unknown>> }).output ?? {}).map(
          ([id, o]) => [`output.${id}`, o] as [string, Record<string, unknown>],
        ),
      ];
      for (const [address, body] of blocks) {
        const hits = strings(body).filter(([, value]) => identity.test(value));
        if (hits.length > 0)
          out.push({
            address,
            message: `${hits.map(([at, value]) => `${at} = ${JSON.stringify(value)}`).join("; ")} depends on who runs Terraform, expected values from the configuration only`,
          });
      }
      return out;
    },
  },
  {
    id: "MEM-DEP-018",
    description: "Created catalogs, storage credentials and external locations are isolated (bound to the environment's workspace)",
    explanation:
      "In OPEN mode every workspace on the metastore reaches them; dev, staging and prod usually share one metastore per region. ISOLATED binds them to the workspace that creates them, the environment's own (Databricks security reference architecture).",
    check(tf) {
      return Object.entries(ISOLATED).flatMap(([type, mode]) =>
        resources(tf, type)
          .filter(([, r]) => r.isolation_mode !== mode)
          .map(([id, r]) => ({
            address: `${type}.${id}`,
            message: `isolation_mode: got ${JSON.stringify(r.isolation_mode)}, expected ${JSON.stringify(mode)} (reachable from every workspace on the metastore otherwise)`,
          })),
      );
    },
  },
  {
    id: "MEM-DEP-019",
    description: "In production, nobody but the deployer may change the deployed code: the code folder grants at most CAN_READ",
    explanation:
      "The code runs as the production job principal with the MySQL secrets; whoever can edit it acts as that principal, and a plan does not notice (the provider tracks a notebook's path and md5, not the workspace content).",
    check(tf, ctx) {
      if (ctx.developmentMode) return [];
      return resources(tf, "databricks_permissions")
        .filter(([, p]) => p.directory_path !== undefined)
        .flatMap(([id, p]) =>
          asList(p.access_control)
            .filter((entry) => entry.permission_level !== "CAN_READ")
            .map((entry) => ({
              address: `databricks_permissions.${id}`,
              message: `${entry.group_name ?? entry.service_principal_name ?? entry.user_name} has ${entry.permission_level} on the production code folder, expected CAN_READ`,
            })),
        );
    },
  },
];
