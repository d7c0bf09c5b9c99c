import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AzureadProvider } from "@cdktf/provider-azuread/lib/provider";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { DatabricksProvider } from "@cdktf/provider-databricks/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { Aspects, AzurermBackend, type ITerraformDependable, LocalBackend, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { AwsLandingZone } from "./aws/landing-zone";
import { AzureLandingZone } from "./azure/landing-zone";
import { SecretsKeyVault } from "./azure/secrets-key-vault";
import { AzureDefaultTags, standardTags } from "./common/tags";
import { invalidProp } from "./common/validation";
import { addPlaceholderGuard } from "./config/placeholder-guard";
import platform from "./config/platform.json";
import type { EnvironmentConfig } from "./config/schema";
import { stateLocation } from "./config/state";
import { loadTableNames } from "./databricks/catalog";
import { MEMBERS_TABLE, MembersPipeline, type MembersPipelineProps } from "./databricks/pipeline";
import { PipelineHealth, type PipelineHealthProps } from "./databricks/pipeline-health";
import { jobPrincipalOf } from "./databricks/principal";
import type { KeyVaultReference } from "./databricks/secrets";
import { policyPackFor } from "./policy";
import { setProtection } from "./protection/protect";
import type { LandingZone } from "./unity-catalog/landing-location";

/** What a cloud gives the pipeline: its landing zone and, on Azure, the Key Vault of a Key Vault-backed scope. */
interface CloudLanding {
  readonly landing: LandingZone;
  readonly secretsKeyVault?: KeyVaultReference;
}

export interface MembersStackProps {
  /** The validated environment this stack deploys. */
  readonly environment: EnvironmentConfig;
}

/**
 * One deployable environment: providers, state backend and the pipeline's resources on the environment's cloud.
 * Credentials never appear here: every provider reads its own environment variables (docs/deploy/credentials.md).
 */
export class MembersStack extends TerraformStack {
  readonly environment: EnvironmentConfig;
  /** Where the extract job writes and the load job reads; ends with `/`. */
  readonly landingUrl: string;
  /** Resources that must exist before anything uses the landing URL (external location and its grants). */
  readonly landingDependables: ITerraformDependable[];

  constructor(scope: Construct, id: string, props: MembersStackProps) {
    super(scope, id);
    const env = props.environment;
    this.environment = env;
    const tags = standardTags(env);
    // Before any child exists: every protect() below reads it (stacks/protection).
    setProtection(this, env.protectStatefulResources);

    this.configureBackend(env);
    // 1.11: S3-native state locking (use_lockfile) is GA; older CLIs would ignore or reject parts of this config.
    this.addOverride("terraform.required_version", platform.terraform.requiredVersion);
    // Example or placeholder values left in the configuration: synth works, every plan (diff, deploy) stops on them.
    addPlaceholderGuard(this, env);

    // auth_type is explicit: with several methods' variables set (DATABRICKS_CLIENT_ID/SECRET and ARM_* on Azure) the
    // Databricks SDK refuses "more than one authorization method configured" unless auth_type picks one.
    new DatabricksProvider(this, "databricks", { host: env.databricks.host, authType: env.databricks.authType });
    // time_sleep waits out eventual consistency (IAM propagation) between dependent resources.
    new TimeProvider(this, "time");

    const { landing, secretsKeyVault } = env.cloud === "aws" ? this.awsLandingZone(env, tags) : this.azureLandingZone(env, tags);
    this.landingUrl = landing.landingUrl;
    this.landingDependables = landing.dependables;

    const pipeline = new MembersPipeline(this, "pipeline", {
      ...pipelineSettings(env),
      landingUrl: this.landingUrl,
      dependsOn: this.landingDependables,
      secretsKeyVault,
      managedStorage: landing.managedStorage,
    });

    // The health dashboard and alerts (on by default in production), beside the pipeline whose tables they read.
    if (env.healthEnabled) new PipelineHealth(this, "health", healthSettings(env, pipeline.code.deployRoot));

    // Policy as code (stacks/policy): checked on every synth after all other aspects; errors fail the synth.
    Aspects.of(this).add(policyPackFor(env));
  }

  /** AWS provider, landing bucket and Unity Catalog's access to it. */
  private awsLandingZone(env: EnvironmentConfig, tags: Record<string, string>): CloudLanding {
    const storage = env.storage;
    // Auth: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, or OIDC in CI.
    new AwsProvider(this, "aws", { region: env.region, defaultTags: [{ tags }] });
    const landing = new AwsLandingZone(this, "landing", {
      bucketName: env.names.bucket,
      landingPrefix: storage.landingPrefix,
      managedPrefix: env.catalog.create ? storage.managedPrefix : undefined,
      retentionDays: storage.retentionDays,
      coolAfterDays: env.coolAfterDays,
      roleName: env.names.unityCatalogRole,
      unityCatalogName: env.names.unityCatalogAccess,
      grantee: env.jobPrincipal,
      breakGlassRoleArn: storage.breakGlassRoleArn,
    });
    return { landing };
  }

  /** azurerm provider, landing storage account, Unity Catalog's access, and the optional Key Vault of the secret scope. */
  private azureLandingZone(env: EnvironmentConfig, tags: Record<string, string>): CloudLanding {
    const storage = env.storage;
    const azure =
      env.azure ?? invalidProp(`MembersStack ${this.node.id}`, "environment.azure", env.azure, "an azure block (validation requires it on Azure)");
    // Auth: ARM_SUBSCRIPTION_ID, ARM_TENANT_ID, ARM_CLIENT_ID (+ ARM_CLIENT_SECRET or ARM_USE_OIDC).
    new AzurermProvider(this, "azurerm", {
      features: [
        {
          // The account disables shared keys and denies public networks: azurerm 4.x data-plane reads (blob, queue,
          // static website properties) would fail later plans with 403. data_plane_available = false (azurerm >= 4.9)
          // manages the container and management policy through ARM only.
          storage: [{ dataPlaneAvailable: false }],
          // Never purge a vault on destroy (its secrets are set by operators, outside Terraform); recover a
          // soft-deleted one instead of failing on its name.
          keyVault: [{ purgeSoftDeleteOnDestroy: false, recoverSoftDeletedKeyVaults: true }],
          // A resource group still holding the storage account is never deleted with it.
          resourceGroup: [{ preventDeletionIfContainsResources: true }],
        },
      ],
      storageUseAzuread: true,
    });
    Aspects.of(this).add(new AzureDefaultTags(tags));
    const azureLanding = new AzureLandingZone(this, "landing", {
      resourceGroupName: azure.resourceGroupName,
      createResourceGroup: azure.createResourceGroup,
      region: env.region,
      accountName: env.names.storageAccount,
      containerName: env.names.container,
      landingPrefix: storage.landingPrefix,
      managedPrefix: env.catalog.create ? storage.managedPrefix : undefined,
      retentionDays: storage.retentionDays,
      coolAfterDays: env.coolAfterDays,
      connectorName: env.names.accessConnector,
      unityCatalogName: env.names.unityCatalogAccess,
      grantee: env.jobPrincipal,
      privateNetworkOnly: storage.privateNetworkOnly,
      allowedIpRanges: storage.allowedIpRanges,
      allowedSubnetIds: azure.allowedSubnetIds,
    });
    if (!azure.keyVaultSecretScope) return { landing: azureLanding };

    // Auth: the same ARM_* variables; looks up the Azure Databricks application in Microsoft Entra ID.
    new AzureadProvider(this, "azuread", {});
    const vault = new SecretsKeyVault(this, "secrets-vault", {
      name: env.names.keyVault,
      resourceGroupName: azureLanding.resourceGroupName,
      region: env.region,
      allowedIpRanges: storage.allowedIpRanges,
    });
    return { landing: azureLanding, secretsKeyVault: { resourceId: vault.vault.id, dnsName: vault.vault.vaultUri } };
  }

  private configureBackend(env: EnvironmentConfig): void {
    // stateLocation: the one resolution of defaults the bootstrap stack reads too (it creates this bucket and key).
    const state = stateLocation(env);
    switch (state.type) {
      case "s3":
        // SSE-KMS with the environment's customer-managed key (created by members-bootstrap-aws), not the bucket default.
        new S3Backend(this, { bucket: state.bucket, key: state.key, region: state.region, encrypt: true, kmsKeyId: state.kmsKeyAlias });
        // S3-native state locking (GA in Terraform 1.11); cdktf 0.21's typed config predates the option.
        this.addOverride("terraform.backend.s3.use_lockfile", true);
        break;
      case "azurerm":
        new AzurermBackend(this, {
          resourceGroupName: state.resourceGroupName,
          storageAccountName: state.storageAccountName,
          containerName: state.containerName,
          key: state.key,
          useAzureadAuth: true,
        });
        break;
      case "local":
        // Hand deploys only (tools/list-stacks.ts never lists this stack for CI).
        new LocalBackend(this, { path: state.path });
        break;
    }
  }
}

/** The environment-derived part of the pipeline's props: everything but what the landing zone provides. */
export function pipelineSettings(
  env: EnvironmentConfig,
): Omit<MembersPipelineProps, "landingUrl" | "dependsOn" | "secretsKeyVault" | "managedStorage"> {
  const { extract, load } = env.schedules;
  return {
    cloud: env.cloud,
    environmentName: env.name,
    namePrefix: env.names.base,
    jobPrincipal: jobPrincipalOf(env),
    runAsServicePrincipal: env.databricks.runAsServicePrincipal,
    platformGroup: env.databricks.platformGroup,
    viewerGroup: env.databricks.viewerGroup,
    tableReaders: env.tableReaders,
    piiReaderGroup: env.databricks.piiReaderGroup,
    catalog: env.catalog,
    cluster: {
      sparkVersion: env.cluster.runtimeVersion,
      allowedNodeTypes: env.allowedNodeTypes,
      defaultNodeType: env.cluster.nodeType,
      minWorkers: env.cluster.minWorkers,
      maxWorkers: env.cluster.maxWorkers,
      spot: env.cluster.spot,
      taskTimeoutMinutes: env.cluster.taskTimeoutMinutes,
    },
    extractSchedule: { kind: "schedule", cron: extract.cron, timezone: extract.timezone, paused: env.extractPaused },
    loadTrigger:
      load.type === "file_arrival"
        ? {
            kind: "file_arrival",
            minTimeBetweenTriggersSeconds: load.minTimeBetweenTriggersSeconds,
            waitAfterLastChangeSeconds: load.waitAfterLastChangeSeconds,
            paused: env.loadPaused,
          }
        : { kind: "schedule", cron: load.cron, timezone: load.timezone, paused: env.loadPaused },
    load: env.load,
    failureEmails: env.notifications.failureEmails,
    tags: standardTags(env),
    deployRoot: env.deployRoot,
    // The generator writes test members into MySQL: never part of a production deploy.
    includeGenerator: env.mode === "development",
    mysql: env.mysql,
    codeReadOnlyForPlatform: env.mode === "production",
  };
}

/** The environment-derived props of the health dashboard and alerts; `deployRoot` is the pipeline's code folder. */
export function healthSettings(env: EnvironmentConfig, deployRoot: string): PipelineHealthProps {
  const { health, databricks } = env;
  return {
    namePrefix: env.names.base,
    deployRoot,
    // Literal names, not references: the dashboard's file is written at synth.
    values: { ...loadTableNames(env.catalog.name, env.catalog.schema, MEMBERS_TABLE), pii_retention_days: env.load.piiRetentionDays },
    staleAfterHours: health.staleAfterHours,
    maxQuarantinedShare: env.load.maxQuarantinedShare,
    alertSchedule: { cron: health.alertSchedule.cron, timezone: health.alertSchedule.timezone, paused: env.healthAlertsPaused },
    failureEmails: env.notifications.failureEmails,
    runAsServicePrincipal: databricks.runAsServicePrincipal,
    managers: { kind: "group", name: databricks.platformGroup },
    viewers: [...new Set([databricks.viewerGroup, ...env.tableReaders])].map((name) => ({ kind: "group", name }) as const),
    warehouseId: health.warehouseId,
    tags: standardTags(env),
  };
}
