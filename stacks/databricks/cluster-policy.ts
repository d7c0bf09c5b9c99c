import { ClusterPolicy } from "@cdktf/provider-databricks/lib/cluster-policy";
import type { JobJobClusterNewCluster } from "@cdktf/provider-databricks/lib/job";
import { Permissions } from "@cdktf/provider-databricks/lib/permissions";
import { Construct } from "constructs";
import { requireProp } from "../common/validation";
import { accessControl, type Principal } from "./principal";

export type Cloud = "aws" | "azure";

/** One rule of the cluster policy definition language (https://docs.databricks.com/admin/clusters/policy-definition). */
export type PolicyRule =
  | { readonly type: "fixed"; readonly value: string | number | boolean; readonly hidden?: boolean }
  | { readonly type: "allowlist"; readonly values: readonly string[]; readonly defaultValue?: string }
  | { readonly type: "range"; readonly minValue?: number; readonly maxValue?: number; readonly defaultValue?: number; readonly isOptional?: boolean }
  | { readonly type: "unlimited"; readonly defaultValue?: string; readonly isOptional?: boolean }
  | { readonly type: "forbidden" };

export type PolicyDefinition = Record<string, PolicyRule>;

/** Every init script source a cluster spec can name; all are forbidden so nothing unreviewed runs on job nodes. */
const INIT_SCRIPT_SOURCES = ["workspace", "volumes", "s3", "abfss", "gcs", "dbfs", "file"] as const;

/** The notebooks assume UTC for dates and timestamps; pinned for Spark SQL and both JVMs. */
export const UTC_SPARK_CONF: Readonly<Record<string, string>> = {
  "spark.sql.session.timeZone": "UTC",
  "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
  "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
};

const SINGLE_NODE_SPARK_CONF = { "spark.databricks.cluster.profile": "singleNode", "spark.master": "local[*]" };

/** Unity Catalog access mode for job clusters: dedicated to the job's run-as identity. */
export const DATA_SECURITY_MODE = "SINGLE_USER";

export interface JobClusterPolicyProps {
  /** Policy name, unique in the workspace. */
  readonly policyName: string;
  /** Cloud of the workspace: decides aws_attributes vs azure_attributes. */
  readonly cloud: Cloud;
  /** Databricks runtime (spark_version) every job cluster must use. */
  readonly sparkVersion: string;
  /** Node types a job cluster may use (driver and workers). */
  readonly allowedNodeTypes: readonly string[];
  /** Node type used when a cluster names none; must be in allowedNodeTypes. */
  readonly defaultNodeType: string;
  /** Autoscale lower bound; 0 together with maxWorkers 0 means single node. */
  readonly minWorkers: number;
  /** Worker cap; 0 makes every job cluster a single-node cluster. */
  readonly maxWorkers: number;
  /**
   * Spot instances with on-demand fallback, first node (the driver) on demand.
   * @default true
   */
  readonly spot?: boolean;
  /** Fixed custom tags (cost allocation) every job cluster carries. */
  readonly costTags: Readonly<Record<string, string>>;
  /** Granted CAN_USE: the identity that creates the job clusters. */
  readonly user: Principal;
  /**
   * Spark conf every job cluster carries, each value fixed by the policy: what a run must not change (the notebooks'
   * deployment settings). Values may be Terraform references.
   * @default none
   */
  readonly fixedSparkConf?: Readonly<Record<string, string>>;
}

/**
 * The cluster policy every job cluster of the pipeline uses, and its CAN_USE permission. It also hands out the
 * matching job-cluster spec (`jobClusterSpec`), so the jobs cannot drift from what the policy allows.
 */
export class JobClusterPolicy extends Construct {
  readonly policy: ClusterPolicy;
  /** The policy definition as an object (what `definition` serializes). */
  readonly definition: PolicyDefinition;
  private readonly props: JobClusterPolicyProps;

  constructor(scope: Construct, id: string, props: JobClusterPolicyProps) {
    super(scope, id);
    validate(props);
    this.props = props;
    this.definition = policyDefinition(props);
    this.policy = new ClusterPolicy(this, "policy", {
      name: props.policyName,
      description: "Job compute for the members pipeline: pinned runtime, dedicated UC access mode, spot with fallback, no init scripts.",
      definition: JSON.stringify(this.definition),
    });
    new Permissions(this, "permissions", {
      clusterPolicyId: this.policy.id,
      accessControl: [accessControl(props.user, "CAN_USE")],
    });
  }

  /** A job cluster that satisfies the policy and applies its defaults. */
  jobClusterSpec(): JobJobClusterNewCluster {
    const p = this.props;
    const singleNode = p.maxWorkers === 0;
    return {
      policyId: this.policy.id,
      applyPolicyDefaultValues: true,
      sparkVersion: p.sparkVersion,
      nodeTypeId: p.defaultNodeType,
      driverNodeTypeId: p.defaultNodeType,
      dataSecurityMode: DATA_SECURITY_MODE,
      // Every value the policy fixes (cost tags included): the Jobs API stores fixed values in the job, so a spec
      // without them would diff on every plan (MEM-CLU-002).
      customTags: { ...p.costTags, ...(singleNode ? { ResourceClass: "SingleNode" } : {}) },
      ...(singleNode ? { numWorkers: 0 } : { autoscale: { minWorkers: Math.max(p.minWorkers, 1), maxWorkers: p.maxWorkers } }),
      sparkConf: { ...UTC_SPARK_CONF, ...(singleNode ? SINGLE_NODE_SPARK_CONF : {}), ...p.fixedSparkConf },
      ...cloudAttributes(p.cloud, p.spot ?? true),
    };
  }
}

function validate(p: JobClusterPolicyProps): void {
  const name = "JobClusterPolicy";
  requireProp(name, "allowedNodeTypes", p.allowedNodeTypes, (t) => t.length > 0, "at least one node type");
  requireProp(name, "defaultNodeType", p.defaultNodeType, (t) => p.allowedNodeTypes.includes(t), `one of ${p.allowedNodeTypes.join(", ")}`);
  requireProp(name, "minWorkers", p.minWorkers, (n) => Number.isInteger(n) && n >= 0, "an integer >= 0");
  requireProp(name, "maxWorkers", p.maxWorkers, (n) => Number.isInteger(n) && n >= p.minWorkers, `an integer >= minWorkers (${p.minWorkers})`);
}

function cloudAttributes(cloud: Cloud, spot: boolean): Pick<JobJobClusterNewCluster, "awsAttributes" | "azureAttributes"> {
  return cloud === "aws"
    ? { awsAttributes: { availability: spot ? "SPOT_WITH_FALLBACK" : "ON_DEMAND", firstOnDemand: 1, zoneId: "auto" } }
    : {
        azureAttributes: spot
          ? { availability: "SPOT_WITH_FALLBACK_AZURE", firstOnDemand: 1, spotBidMaxPrice: -1 }
          : { availability: "ON_DEMAND_AZURE", firstOnDemand: 1 },
      };
}

/** The policy as data; exported for tests and for anyone reviewing what a job cluster may do. */
export function policyDefinition(p: JobClusterPolicyProps): PolicyDefinition {
  const spot = p.spot ?? true;
  const fixed = (value: string | number | boolean, hidden = false): PolicyRule =>
    hidden ? { type: "fixed", value, hidden } : { type: "fixed", value };
  const nodeTypes: PolicyRule = { type: "allowlist", values: [...p.allowedNodeTypes], defaultValue: p.defaultNodeType };

  const workers: PolicyDefinition =
    p.maxWorkers === 0
      ? {
          num_workers: fixed(0, true),
          "spark_conf.spark.databricks.cluster.profile": fixed("singleNode", true),
          "spark_conf.spark.master": fixed("local[*]", true),
          "custom_tags.ResourceClass": fixed("SingleNode", true),
        }
      : {
          "autoscale.min_workers": { type: "range", minValue: 1, maxValue: p.maxWorkers, defaultValue: Math.max(p.minWorkers, 1) },
          "autoscale.max_workers": { type: "range", minValue: 1, maxValue: p.maxWorkers, defaultValue: p.maxWorkers },
          // A fixed-size cluster is capped just like an autoscaling one.
          num_workers: { type: "range", minValue: 1, maxValue: p.maxWorkers, isOptional: true },
        };

  const cloud: PolicyDefinition =
    p.cloud === "aws"
      ? {
          "aws_attributes.availability": fixed(spot ? "SPOT_WITH_FALLBACK" : "ON_DEMAND"),
          "aws_attributes.first_on_demand": fixed(1),
          "aws_attributes.zone_id": { type: "unlimited", defaultValue: "auto", isOptional: true },
          // Storage access goes through Unity Catalog credentials, never a node-wide instance profile.
          "aws_attributes.instance_profile_arn": { type: "forbidden" },
        }
      : {
          "azure_attributes.availability": fixed(spot ? "SPOT_WITH_FALLBACK_AZURE" : "ON_DEMAND_AZURE"),
          "azure_attributes.first_on_demand": fixed(1),
          // -1: pay up to the on-demand price rather than being evicted on price.
          ...(spot ? { "azure_attributes.spot_bid_max_price": fixed(-1) } : {}),
        };

  const costTags = Object.fromEntries(Object.entries(p.costTags).map(([k, v]) => [`custom_tags.${k}`, fixed(v)]));
  const sparkConf = Object.fromEntries(Object.entries({ ...UTC_SPARK_CONF, ...p.fixedSparkConf }).map(([k, v]) => [`spark_conf.${k}`, fixed(v)]));
  const noInitScripts = Object.fromEntries(
    INIT_SCRIPT_SOURCES.map((source) => [`init_scripts.*.${source}.destination`, { type: "forbidden" } as PolicyRule]),
  );

  return {
    cluster_type: fixed("job"),
    spark_version: fixed(p.sparkVersion),
    data_security_mode: fixed(DATA_SECURITY_MODE),
    node_type_id: nodeTypes,
    driver_node_type_id: nodeTypes,
    ...workers,
    ...cloud,
    ...costTags,
    ...sparkConf,
    ...noInitScripts,
    instance_pool_id: { type: "forbidden" },
    driver_instance_pool_id: { type: "forbidden" },
    "docker_image.url": { type: "forbidden" },
  };
}
