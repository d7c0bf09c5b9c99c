/**
 * Numbers the providers' and Databricks' documentation imposes, shared by the constructs that honour them and the
 * rules (deploy-rules.ts) that check them. No imports: constructs and rules both read it without a cycle.
 */

/** Oldest Terraform CLI the stacks accept: S3-native state locking (use_lockfile) is GA from 1.11. */
export const MIN_TERRAFORM_VERSION = [1, 11] as const;
/** Databricks documents MERGE into tables with column masks from dedicated compute from Runtime 16.3 on. */
export const MIN_RUNTIME_FOR_MASKED_MERGE = [16, 3] as const;
/** Wait for a new or changed IAM role before Unity Catalog assumes it; shorter waits make the first deploy flaky. */
export const MIN_IAM_PROPAGATION_SECONDS = 60;

/**
 * What the cloud identity of an external location with managed file events must be allowed, per Databricks' storage
 * credential docs. AWS: the IAM statements of the provider's databricks_aws_unity_catalog_policy data source
 * (aws/data_aws_unity_catalog_policy.go, v1.99.0), on the bucket and on `csms-*` SNS topics and SQS queues.
 */
export const MANAGED_FILE_EVENTS_AWS_ACTIONS = {
  setup: [
    "s3:GetBucketNotification",
    "s3:PutBucketNotification",
    "sns:ListSubscriptionsByTopic",
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:CreateTopic",
    "sns:TagResource",
    "sns:Publish",
    "sns:Subscribe",
    "sqs:CreateQueue",
    "sqs:DeleteMessage",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:SetQueueAttributes",
    "sqs:TagQueue",
    "sqs:ChangeMessageVisibility",
    "sqs:PurgeQueue",
  ],
  list: ["sqs:ListQueues", "sqs:ListQueueTags", "sns:ListTopics"],
  teardown: ["sns:Unsubscribe", "sns:DeleteTopic", "sqs:DeleteQueue"],
} as const;

/**
 * Azure: the roles of the access connector's identity besides Storage Blob Data Contributor, and their scope
 * (provider guide unity-catalog-azure, v1.99.0; Databricks, Azure managed identities: file events).
 */
export const MANAGED_FILE_EVENTS_AZURE_ROLES = [
  { role: "Storage Account Contributor", scope: "account" },
  { role: "Storage Queue Data Contributor", scope: "account" },
  { role: "EventGrid EventSubscription Contributor", scope: "resource group" },
] as const;

/** First Databricks provider that sends `enable_file_events = false` on create (PR #5762); older ones drop it. */
export const MIN_PROVIDER_SENDING_FILE_EVENTS_FALSE = [1, 117] as const;
