/**
 * Every environment this repository deploys. One stack per entry (`members-<name>`).
 *
 * Values here are placeholders a fork replaces: workspace hosts, e-mail addresses and prefixes are examples, and
 * nothing secret belongs here. MySQL connection details come from TF_VAR_* variables, cloud and Databricks
 * credentials from the providers' own environment variables (see docs/deploy/credentials.md).
 *
 * Each stack synthesizes as it is, but refuses to plan or deploy while a field still holds an example or placeholder
 * value (the EXAMPLE_* constants, example.com addresses, "example" hosts and state stores, all-zero ids) or leaves a
 * group at its schema default: stacks/config/placeholders.ts has the rules.
 *
 * Every environment CI deploys keeps its state remotely (`stateBackend`): runners are thrown away after each run.
 * Production environments run as a service principal; replace the example application ids with your own.
 */
import { EXAMPLE_GITHUB_REPOSITORY, EXAMPLE_GROUPS } from "./placeholders";
import type { AppConfigInput, EnvironmentInput } from "./schema";

const team = {
  failureEmails: ["data-platform-alerts@example.com"],
};

/**
 * Example state bucket of one AWS environment: one bucket per environment, encrypted with its own KMS key
 * (`alias/<bucket>`). members-bootstrap-aws creates both (stacks/bootstrap, docs/deploy/ci.md).
 */
const awsState = (environment: string) => ({ type: "s3", bucket: `acme-members-${environment}-tfstate-example`, region: "eu-west-1" }) as const;

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
  databricks: {
    host: "https://dbc-example-dev.cloud.databricks.com",
    authType: "github-oidc",
    // Example id: replace with the application id of your development jobs' service principal (not an admin).
    runAsServicePrincipal: "33333333-3333-4333-8333-333333333333",
  },
  catalog: { name: "members_dev", schema: "members" },
  schedules: {
    extract: { cron: "0 0 2 * * ?", timezone: "UTC" },
    load: { type: "file_arrival" },
  },
  cluster: { nodeType: "m6gd.large", minWorkers: 0, maxWorkers: 0, spot: true },
  storage: { retentionDays: 14 },
  tags: { ...awsBase.tags, environment: "dev" },
  stateBackend: awsState("dev"),
};

const staging: EnvironmentInput = {
  ...awsBase,
  name: "staging",
  mode: "production",
  databricks: {
    host: "https://dbc-example-staging.cloud.databricks.com",
    authType: "github-oidc",
    // Example id: replace with the application id of your staging jobs' service principal.
    runAsServicePrincipal: "11111111-1111-4111-8111-111111111111",
  },
  catalog: { name: "members_staging", schema: "members" },
  schedules: {
    extract: { cron: "0 0 2 * * ?", timezone: "UTC" },
    load: { type: "file_arrival" },
  },
  cluster: { nodeType: "m6gd.large", allowedNodeTypes: ["m6gd.large", "m6gd.xlarge"], minWorkers: 1, maxWorkers: 2 },
  storage: { retentionDays: 30 },
  tags: { ...awsBase.tags, environment: "staging" },
  stateBackend: awsState("staging"),
};

const prod: EnvironmentInput = {
  ...awsBase,
  name: "prod",
  mode: "production",
  databricks: {
    host: "https://dbc-example-prod.cloud.databricks.com",
    authType: "github-oidc",
    // Example id: replace with the application id of your production jobs' service principal.
    runAsServicePrincipal: "22222222-2222-4222-8222-222222222222",
    readerGroups: [EXAMPLE_GROUPS.analysts],
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
  stateBackend: awsState("prod"),
};

const azureDev: EnvironmentInput = {
  name: "azure-dev",
  cloud: "azure",
  region: "westeurope",
  prefix: "acmembr",
  mode: "development",
  // Federated GitHub OIDC token for the ARM_CLIENT_ID application: the same identity azurerm uses.
  databricks: {
    host: "https://adb-0000000000000000.0.azuredatabricks.net",
    authType: "github-oidc-azure",
    // Example id: replace with the application id of the service principal these jobs run as (not an admin).
    runAsServicePrincipal: "44444444-4444-4444-8444-444444444444",
  },
  catalog: { name: "members_azure_dev", schema: "members" },
  notifications: team,
  schedules: {
    extract: { cron: "0 30 1 * * ?", timezone: "Europe/Amsterdam" },
    load: { type: "schedule", cron: "0 30 3 * * ?", timezone: "Europe/Amsterdam" },
  },
  cluster: { nodeType: "Standard_D4ads_v5", minWorkers: 1, maxWorkers: 2 },
  storage: { retentionDays: 14, privateNetworkOnly: true },
  azure: {
    resourceGroupName: "rg-members-azure-dev",
    // Example ids: the workspace's VNet-injected host and container subnets, each with a Microsoft.Storage endpoint.
    allowedSubnetIds: [
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-databricks-network/providers/Microsoft.Network/virtualNetworks/vnet-databricks/subnets/host",
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-databricks-network/providers/Microsoft.Network/virtualNetworks/vnet-databricks/subnets/container",
    ],
  },
  tags: { project: "members-lakehouse", "cost-center": "data-platform", environment: "azure-dev" },
  stateBackend: {
    type: "azurerm",
    resourceGroupName: "rg-terraform-state",
    storageAccountName: "acmetfstateexample",
    containerName: "tfstate",
  },
};

export const config: AppConfigInput = {
  environments: [dev, staging, prod, azureDev],
  // The repository whose workflows the CI identities trust (members-bootstrap-aws, members-bootstrap-azure).
  github: { repository: EXAMPLE_GITHUB_REPOSITORY },
};
