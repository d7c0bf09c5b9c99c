/** Job rules (MEM-CLU, MEM-JOB): every job runs on policy-governed job compute, times out, retries and tells someone when it fails. */
import contract from "../../../notebooks/members_pipeline/contract.json";
import { clusterPolicyViolations } from "../cluster-policy-eval";
import { asList, isTrue, jobClusters, policyDefinition, referencedId, resources } from "../json";
import type { PolicyRule, TerraformJson, Violation } from "../rule";

/**
 * Library locations the Jobs API installs from: workspace files by their `/Workspace/...` path, Unity Catalog volumes,
 * or cloud storage URIs. A workspace file's plain `path` (`/Users/...`) is refused, and DBFS is deprecated for
 * libraries (Databricks, "Install libraries"; provider docs of databricks_job `library`).
 */
const LIBRARY_LOCATION = /^(\/Workspace\/|\/Volumes\/|(s3|s3a|abfss|gs):\/\/)/;
/**
 * Attributes that hold a `/Workspace/...` or `/Volumes/...` path: `workspace_path` of databricks_workspace_file,
 * notebook, directory; `path` of databricks_file (a file in a Unity Catalog volume).
 */
const WORKSPACE_PATH_REFERENCE =
  /^\$\{(databricks_(workspace_file|notebook|directory)\.[A-Za-z0-9_-]+\.workspace_path|databricks_file\.[A-Za-z0-9_-]+\.path)\}/;
const LIBRARY_FILE_KINDS = ["whl", "jar", "requirements", "egg"] as const;
/**
 * Libraries the cluster resolves from a package repository at every start (Maven, PyPI, CRAN), with no checksum the
 * stack pins: whatever the repository or a proxy serves that day runs with the job's credentials.
 */
const REPOSITORY_LIBRARY_KINDS = ["maven", "pypi", "cran"] as const;

/** Why a library or notebook location would fail at run time, or undefined when the Jobs API accepts it. */
export function libraryLocationProblem(value: unknown): string | undefined {
  if (typeof value !== "string") return `got ${JSON.stringify(value)}, expected a path`;
  if (WORKSPACE_PATH_REFERENCE.test(value) || (!value.startsWith("${") && LIBRARY_LOCATION.test(value))) return undefined;
  const plainPath = /^\$\{databricks_(workspace_file|notebook|directory)\.[A-Za-z0-9_-]+\.path\}/.test(value);
  return plainPath
    ? `got ${JSON.stringify(value)}, a workspace object's \`path\` (/Users/..., no /Workspace prefix), which the Jobs API refuses for libraries: reference its \`workspace_path\``
    : `got ${JSON.stringify(value)}, expected /Workspace/..., /Volumes/... or an s3://, abfss:// or gs:// URI`;
}

type ContractNotebook = keyof typeof contract.notebooks;
/** Contract notebook of each notebook file the jobs run (`extract_members` -> `extract`). */
const NOTEBOOK_OF_FILE = new Map(Object.entries(contract.notebookFiles).map(([notebook, file]) => [file, notebook as ContractNotebook]));

/** The contract notebook a task runs, read from the referenced databricks_notebook's path (`.../extract_members`). */
function contractNotebookOf(tf: TerraformJson, task: Record<string, any>): ContractNotebook | undefined {
  const ref = asList(task.notebook_task)[0]?.notebook_path;
  const id = referencedId(ref, "databricks_notebook", ["path", "workspace_path"]);
  const path = id === undefined ? ref : tf.resource?.databricks_notebook?.[id]?.path;
  return typeof path === "string" ? NOTEBOOK_OF_FILE.get(path.slice(path.lastIndexOf("/") + 1)) : undefined;
}

/** Why a job's task could change a deployment setting (contract.json `deployment: true`), one message per problem. */
function deploymentSettingProblems(tf: TerraformJson, job: Record<string, any>): string[] {
  const problems: string[] = [];
  const parameters = new Set(asList(job.parameter).map((p) => p.name));
  for (const task of asList(job.task)) {
    const notebook = contractNotebookOf(tf, task);
    if (notebook === undefined) continue;
    const cluster = asList(job.job_cluster).find((c) => c.job_cluster_key === task.job_cluster_key)?.new_cluster;
    const conf: Record<string, unknown> = asList(cluster)[0]?.spark_conf ?? {};
    const policyId = referencedId(asList(cluster)[0]?.policy_id, "databricks_cluster_policy", ["id"]);
    const definition = policyId === undefined ? undefined : policyDefinition(tf.resource?.databricks_cluster_policy?.[policyId]);
    for (const [widget, spec] of Object.entries(contract.notebooks[notebook]) as [string, { deployment?: boolean; default: string }][]) {
      if (spec.deployment !== true) continue;
      const key = `${contract.deploymentConfPrefix}.${notebook}.${widget}`;
      if (parameters.has(widget))
        problems.push(`task "${task.task_key}": job parameter "${widget}" is a deployment setting, which a run could change`);
      if (conf[key] === undefined) {
        if (spec.default !== "") problems.push(`task "${task.task_key}": spark_conf has no ${key}`);
        continue;
      }
      const rule = definition?.[`spark_conf.${key}`];
      if (rule?.type !== "fixed" || rule.value !== conf[key]) {
        problems.push(
          `task "${task.task_key}": ${key} is not fixed to ${JSON.stringify(conf[key])} by the cluster policy (got ${JSON.stringify(rule)})`,
        );
      }
    }
  }
  return problems;
}

/** Why a notebook task's path would not resolve, or undefined: workspace notebooks are named by an absolute path. */
function notebookPathProblem(task: Record<string, any>): string | undefined {
  const nb = asList(task.notebook_task)[0];
  if (nb === undefined || nb.source === "GIT") return undefined;
  const path = nb.notebook_path;
  if (typeof path === "string" && (/^\$\{databricks_notebook\.[A-Za-z0-9_-]+\.(path|workspace_path)\}$/.test(path) || /^\/[^$]/.test(path)))
    return undefined;
  return `task "${task.task_key}" notebook_path: got ${JSON.stringify(path)}, expected an absolute workspace path or a databricks_notebook reference`;
}

export const JOB_RULES: readonly PolicyRule[] = [
  {
    id: "MEM-CLU-001",
    description: "Every job cluster uses a cluster policy of the stack (policy_id) and applies its defaults; no all-purpose clusters",
    explanation: "The cluster policy is where runtime, access mode, spot and cost caps are enforced; a job outside it escapes all of them.",
    check(tf) {
      const out: Violation[] = [];
      const policies = new Set(Object.keys(tf.resource?.databricks_cluster_policy ?? {}));
      for (const [id, job] of resources(tf, "databricks_job")) {
        const problems: string[] = [];
        for (const { where, cluster } of jobClusters(job)) {
          const policy = referencedId(cluster.policy_id, "databricks_cluster_policy", ["id"]);
          if (policy === undefined || !policies.has(policy))
            problems.push(`${where}: policy_id ${JSON.stringify(cluster.policy_id)} is not a databricks_cluster_policy of this stack`);
          if (!isTrue(cluster.apply_policy_default_values)) problems.push(`${where}: apply_policy_default_values is not true`);
        }
        for (const task of asList(job.task)) {
          if (task.existing_cluster_id !== undefined)
            problems.push(`task "${task.task_key}" runs on existing_cluster_id (all-purpose compute outside the policy)`);
        }
        if (problems.length > 0) out.push({ address: `databricks_job.${id}`, message: problems.join("; ") });
      }
      return out;
    },
  },
  {
    id: "MEM-CLU-002",
    description: "Every job cluster carries each value its cluster policy fixes and nothing the policy forbids or bounds out",
    explanation:
      "The Jobs API stores a policy's fixed values in the job's cluster spec, so a spec without them diffs on every plan; a value outside an allowlist or range is refused when the job is saved (Databricks, cluster policy definitions).",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, job] of resources(tf, "databricks_job")) {
        const problems = jobClusters(job).flatMap(({ where, cluster }) => {
          const policyId = referencedId(cluster.policy_id, "databricks_cluster_policy", ["id"]);
          const definition = policyId === undefined ? undefined : policyDefinition(tf.resource?.databricks_cluster_policy?.[policyId]);
          // No policy of this stack: MEM-CLU-001 reports it.
          return definition === undefined ? [] : clusterPolicyViolations(cluster, definition).map((p) => `${where}: ${p}`);
        });
        if (problems.length > 0) out.push({ address: `databricks_job.${id}`, message: problems.join("; ") });
      }
      return out;
    },
  },
  {
    id: "MEM-JOB-003",
    description:
      "Job libraries are files named by /Workspace/..., /Volumes/... or cloud URIs (no Maven, PyPI or CRAN coordinates), and notebook tasks absolute workspace paths",
    explanation:
      "The Jobs API installs workspace-file libraries only by their /Workspace/... path (the provider's workspace_path); a workspace object's plain path makes every run fail to install its library. A maven/pypi/cran library is resolved from a repository at every cluster start with no checksum: upload a file the stack checked by sha256 instead (stacks/databricks/artifacts.ts).",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, job] of resources(tf, "databricks_job")) {
        const problems: string[] = [];
        for (const task of asList(job.task)) {
          for (const library of asList(task.library)) {
            for (const kind of LIBRARY_FILE_KINDS) {
              if (library[kind] === undefined) continue;
              const problem = libraryLocationProblem(library[kind]);
              if (problem) problems.push(`task "${task.task_key}" library ${kind}: ${problem}`);
            }
            for (const kind of REPOSITORY_LIBRARY_KINDS) {
              if (library[kind] === undefined) continue;
              problems.push(
                `task "${task.task_key}" library ${kind}: got ${JSON.stringify(library[kind])}, resolved from a repository at cluster start without a checksum; attach a file checked by sha256 (/Volumes/...)`,
              );
            }
          }
          const notebook = notebookPathProblem(task);
          if (notebook) problems.push(notebook);
        }
        if (problems.length > 0) out.push({ address: `databricks_job.${id}`, message: problems.join("; ") });
      }
      return out;
    },
  },
  {
    id: "MEM-JOB-004",
    description:
      "Deployment settings (who sees PII, data source and landing, secret scope, TLS, retention) are fixed cluster Spark conf, never job parameters",
    explanation:
      '"Run now with different parameters" overrides any job parameter: an operator could unmask PII, redirect the landing zone or shorten retention. The job cluster carries these settings in its Spark conf, fixed by its policy, and the notebook refuses a widget that differs.',
    check(tf) {
      return resources(tf, "databricks_job").flatMap(([id, job]) => {
        const problems = deploymentSettingProblems(tf, job);
        return problems.length > 0 ? [{ address: `databricks_job.${id}`, message: problems.join("; ") }] : [];
      });
    },
  },
  {
    id: "MEM-JOB-001",
    description: "Jobs notify someone on failure (email_notifications.on_failure or webhook_notifications.on_failure)",
    explanation: "A failed nightly run that nobody hears about means stale tables discovered by their consumers.",
    check(tf) {
      return resources(tf, "databricks_job")
        .filter(([, job]) => {
          const emails = asList(job.email_notifications).flatMap((n) => asList(n.on_failure));
          const hooks = asList(job.webhook_notifications).flatMap((n) => asList(n.on_failure));
          return emails.length === 0 && hooks.length === 0;
        })
        .map(([id]) => ({ address: `databricks_job.${id}`, message: "no failure notification (on_failure is empty)" }));
    },
  },
  {
    id: "MEM-JOB-002",
    description: "Jobs and each of their tasks have a timeout (timeout_seconds > 0)",
    explanation: "A hung task holds a cluster (and money) until someone notices; a timeout turns it into a failure that notifies.",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, job] of resources(tf, "databricks_job")) {
        const problems: string[] = [];
        if (!(Number(job.timeout_seconds) > 0)) problems.push(`job timeout_seconds is ${JSON.stringify(job.timeout_seconds)}`);
        for (const task of asList(job.task)) {
          if (!(Number(task.timeout_seconds) > 0))
            problems.push(`task "${task.task_key}" timeout_seconds is ${JSON.stringify(task.timeout_seconds)}`);
        }
        if (problems.length > 0) out.push({ address: `databricks_job.${id}`, message: `${problems.join("; ")}, expected > 0` });
      }
      return out;
    },
  },
  {
    id: "MEM-JOB-101",
    description: "Tasks retry transient failures (max_retries >= 1)",
    explanation: "Spot losses and flaky connections are normal; one retry with an interval saves most runs.",
    check(tf) {
      const out: Violation[] = [];
      for (const [id, job] of resources(tf, "databricks_job")) {
        const noRetry = asList(job.task).filter((task) => !(Number(task.max_retries) >= 1) && Number(task.max_retries) !== -1);
        if (noRetry.length > 0)
          out.push({ address: `databricks_job.${id}`, message: `task(s) ${noRetry.map((t) => `"${t.task_key}"`).join(", ")} never retry` });
      }
      return out;
    },
  },
  {
    id: "MEM-JOB-102",
    description: "Development environments deploy schedules and triggers paused",
    explanation: "A development deploy should not start pulling production-like data on its own (the Asset Bundles convention).",
    check(tf, ctx) {
      if (!ctx.developmentMode) return [];
      return resources(tf, "databricks_job")
        .filter(([, job]) => [...asList(job.schedule), ...asList(job.trigger)].some((t) => t.pause_status === "UNPAUSED"))
        .map(([id]) => ({ address: `databricks_job.${id}`, message: "runs unpaused in a development environment" }));
    },
  },
];
