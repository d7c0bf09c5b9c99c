/**
 * Every environment this repository deploys. One stack per entry (`members-<name>`).
 *
 * Values here are placeholders a fork replaces: workspace hosts, e-mail addresses and prefixes are examples, and
 * nothing secret belongs here. MySQL connection details come from TF_VAR_* variables, cloud and Databricks
 * credentials from the providers' own environment variables (see README "Deploy and diff").
 */
import type { AppConfigInput, EnvironmentInput } from "./schema";

const team = {
  failureEmails: ["data-platform-alerts@example.com"],
};

/** What AWS environments share; each environment overrides what differs. */
const awsBase = {
  cloud: "aws",
  region: "eu-west-1",
  prefix: "acme-members",
  catalog: { name: "members", schema: "members" },
  notifications: team,
  tags: { project: "members-lakehouse", "cost-center": "data-platform" },
} as const;

const dev: EnvironmentInput = {
  ...awsBase,
  name: "dev",
  mode: "development",
  databricks: { host: "https://dbc-example-dev.cloud.databricks.com" },
  catalog: { name: "members_dev", schema: "members" },
  schedules: {
    extract: { cron: "0 0 2 * * ?", timezone: "UTC" },
    load: { type: "file_arrival" },
  },
  cluster: { nodeType: "m6gd.large", minWorkers: 0, maxWorkers: 0, spot: true },
  storage: { retentionDays: 14 },
  tags: { ...awsBase.tags, environment: "dev" },
};

const staging: EnvironmentInput = {
  ...awsBase,
  name: "staging",
  mode: "production",
  databricks: { host: "https://dbc-example-staging.cloud.databricks.com" },
  catalog: { name: "members_staging", schema: "members" },
  schedules: {
    extract: { cron: "0 0 2 * * ?", timezone: "UTC" },
    load: { type: "file_arrival" },
  },
  cluster: { nodeType: "m6gd.large", allowedNodeTypes: ["m6gd.large", "m6gd.xlarge"], minWorkers: 1, maxWorkers: 2 },
  storage: { retentionDays: 30 },
  tags: { ...awsBase.tags, environment: "staging" },
};

const prod: EnvironmentInput = {
  ...awsBase,
  name: "prod",
  mode: "production",
  databricks: {
    host: "https://dbc-example-prod.cloud.databricks.com",
    runAsServicePrincipal: "00000000-0000-0000-0000-000000000000",
  },
  catalog: { name: "members", schema: "members" },
  schedules: {
    extract: { cron: "0 0 2 * * ?", timezone: "Europe/London" },
    load: { type: "file_arrival" },
  },
  cluster: {
    nodeType: "m6gd.xlarge",
    allowedNodeTypes: ["m6gd.large", "m6gd.xlarge", "m6gd.2xlarge"],
    minWorkers: 1,
    maxWorkers: 8,
    taskTimeoutMinutes: 180,
  },
  storage: { retentionDays: 90, coolAfterDays: 30 },
  tags: { ...awsBase.tags, environment: "prod" },
  stateBackend: { type: "s3", bucket: "acme-terraform-state-example", region: "eu-west-1" },
};

const azureDev: EnvironmentInput = {
  name: "azure-dev",
  cloud: "azure",
  region: "westeurope",
  prefix: "acmembr",
  mode: "development",
  databricks: { host: "https://adb-0000000000000000.0.azuredatabricks.net" },
  catalog: { name: "members_azure_dev", schema: "members" },
  notifications: team,
  schedules: {
    extract: { cron: "0 30 1 * * ?", timezone: "Europe/Amsterdam" },
    load: { type: "schedule", cron: "0 30 3 * * ?", timezone: "Europe/Amsterdam" },
  },
  cluster: { nodeType: "Standard_D4ads_v5", minWorkers: 1, maxWorkers: 2 },
  storage: { retentionDays: 14, privateNetworkOnly: true },
  azure: { resourceGroupName: "rg-members-azure-dev" },
  tags: { project: "members-lakehouse", "cost-center": "data-platform", environment: "azure-dev" },
};

export const config: AppConfigInput = {
  environments: [dev, staging, prod, azureDev],
};
