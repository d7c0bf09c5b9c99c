import { Job, type JobConfig, type JobJobClusterNewCluster, type JobTaskLibrary } from "@cdktf/provider-databricks/lib/job";
import { Permissions } from "@cdktf/provider-databricks/lib/permissions";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { requireProp } from "../common/validation";
import { accessControl, type Principal } from "./principal";

/** Retries of a failed task: enough for a spot loss or a flaky connection, few enough to fail within the day. */
export const TASK_MAX_RETRIES = 2;
export const TASK_MIN_RETRY_INTERVAL_MILLIS = 5 * 60 * 1000;
/** A run still going after this share of the task timeout warns (health rule) before it is killed. */
export const DURATION_WARNING_FRACTION = 0.75;

export type JobTrigger =
  | {
      readonly kind: "schedule";
      /** Quartz cron expression. */
      readonly cron: string;
      /** IANA time zone of the cron. */
      readonly timezone: string;
      readonly paused: boolean;
    }
  | {
      readonly kind: "file_arrival";
      /** Folder watched for new files; must end with "/". */
      readonly url: string;
      readonly minTimeBetweenTriggersSeconds: number;
      readonly waitAfterLastChangeSeconds: number;
      readonly paused: boolean;
    };

export interface PipelineJobProps {
  /** Job name in the workspace. */
  readonly jobName: string;
  readonly description: string;
  /** Task key of the single notebook task (shows in run history and in `{{tasks.<key>...}}` references). */
  readonly taskKey: string;
  /** Workspace path of the notebook, as a reference to the uploaded notebook. */
  readonly notebookPath: string;
  /** Job parameters (pushed down to the notebook's widgets of the same names). */
  readonly parameters: Readonly<Record<string, string>>;
  /** The job cluster, normally JobClusterPolicy.jobClusterSpec(). */
  readonly cluster: JobJobClusterNewCluster;
  /**
   * Libraries installed on the job cluster for the task.
   * @default none
   */
  readonly libraries?: readonly JobTaskLibrary[];
  /**
   * When the job runs.
   * @default none: it runs only when started by hand ("Run now")
   */
  readonly trigger?: JobTrigger;
  /** Maximum minutes of one task attempt. */
  readonly taskTimeoutMinutes: number;
  /** Told about failed runs and runs exceeding the duration warning. */
  readonly failureEmails: readonly string[];
  /**
   * Application id of the service principal the job runs as.
   * @default the deployer (job owner)
   */
  readonly runAsServicePrincipal?: string;
  /** Job tags (cost allocation, search). */
  readonly tags: Readonly<Record<string, string>>;
  /** May run, cancel and repair runs (CAN_MANAGE_RUN). */
  readonly operators: Principal;
  /** May see the job and its runs (CAN_VIEW). */
  readonly viewers: Principal;
  /**
   * Created after these (e.g. the external location a file-arrival trigger watches).
   * @default none
   */
  readonly dependsOn?: ITerraformDependable[];
}

const CLUSTER_KEY = "job-cluster";

/**
 * One notebook task on a policy-governed job cluster, with the hygiene both pipeline jobs share: one run at a time,
 * queueing, retries with an interval, task and run timeouts, a run-duration health rule, failure e-mails, run-as,
 * tags, and permissions.
 */
export class PipelineJob extends Construct {
  readonly job: Job;

  constructor(scope: Construct, id: string, props: PipelineJobProps) {
    super(scope, id);
    validate(props);
    const taskTimeoutSeconds = props.taskTimeoutMinutes * 60;
    // The whole run may use every attempt plus the waits between them.
    const runTimeoutSeconds = taskTimeoutSeconds * (TASK_MAX_RETRIES + 1) + (TASK_MIN_RETRY_INTERVAL_MILLIS / 1000) * TASK_MAX_RETRIES;
    const emails = [...props.failureEmails];

    const config: JobConfig = {
      name: props.jobName,
      description: props.description,
      maxConcurrentRuns: 1,
      queue: { enabled: true },
      timeoutSeconds: runTimeoutSeconds,
      health: {
        rules: [{ metric: "RUN_DURATION_SECONDS", op: "GREATER_THAN", value: Math.round(taskTimeoutSeconds * DURATION_WARNING_FRACTION) }],
      },
      emailNotifications: {
        onFailure: emails,
        onDurationWarningThresholdExceeded: emails,
        noAlertForSkippedRuns: true,
      },
      tags: { ...props.tags },
      parameter: Object.entries(props.parameters).map(([name, value]) => ({ name, default: value })),
      jobCluster: [{ jobClusterKey: CLUSTER_KEY, newCluster: props.cluster }],
      task: [
        {
          taskKey: props.taskKey,
          jobClusterKey: CLUSTER_KEY,
          notebookTask: { notebookPath: props.notebookPath, source: "WORKSPACE" },
          library: props.libraries ? [...props.libraries] : undefined,
          maxRetries: TASK_MAX_RETRIES,
          minRetryIntervalMillis: TASK_MIN_RETRY_INTERVAL_MILLIS,
          // A timed-out attempt would most likely time out again; fail and tell someone instead.
          retryOnTimeout: false,
          timeoutSeconds: taskTimeoutSeconds,
        },
      ],
      ...(props.runAsServicePrincipal ? { runAs: { servicePrincipalName: props.runAsServicePrincipal } } : {}),
      ...(props.trigger ? triggerConfig(props.trigger) : {}),
      dependsOn: props.dependsOn,
    };
    this.job = new Job(this, "job", config);

    new Permissions(this, "permissions", {
      jobId: this.job.id,
      accessControl: [accessControl(props.operators, "CAN_MANAGE_RUN"), accessControl(props.viewers, "CAN_VIEW")],
    });
  }
}

function triggerConfig(trigger: JobTrigger): Pick<JobConfig, "schedule" | "trigger"> {
  const pauseStatus = trigger.paused ? "PAUSED" : "UNPAUSED";
  return trigger.kind === "schedule"
    ? { schedule: { quartzCronExpression: trigger.cron, timezoneId: trigger.timezone, pauseStatus } }
    : {
        trigger: {
          pauseStatus,
          fileArrival: {
            url: trigger.url,
            minTimeBetweenTriggersSeconds: trigger.minTimeBetweenTriggersSeconds,
            waitAfterLastChangeSeconds: trigger.waitAfterLastChangeSeconds,
          },
        },
      };
}

function validate(p: PipelineJobProps): void {
  const name = `PipelineJob ${p.jobName}`;
  requireProp(name, "taskTimeoutMinutes", p.taskTimeoutMinutes, (n) => Number.isInteger(n) && n >= 1, "a whole number of minutes >= 1");
  requireProp(name, "failureEmails", p.failureEmails, (e) => e.length > 0, "at least one address");
  requireProp(name, "taskKey", p.taskKey, (k) => /^[A-Za-z0-9_-]{1,100}$/.test(k), "1-100 letters, digits, '_' or '-'");
}
