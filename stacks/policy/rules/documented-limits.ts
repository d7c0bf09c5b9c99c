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
