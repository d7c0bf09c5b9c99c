/** Job rules (MEM-CLU, MEM-JOB): every job runs on policy-governed job compute, times out, retries and tells someone when it fails. */
import { asList, isTrue, jobClusters, referencedId, resources } from "../json";
import type { PolicyRule, Violation } from "../rule";

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
