import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AzureadProvider } from "@cdktf/provider-azuread/lib/provider";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { DatabricksProvider } from "@cdktf/provider-databricks/lib/provider";
import { TimeProvider } from "@cdktf/provider-time/lib/provider";
import { Aspects, AzurermBackend, type ITerraformDependable, LocalBackend, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "./config/schema";
import { AzureDefaultTags, standardTags } from "./common/tags";
import type { LandingZone } from "./unity-catalog/landing-location";
import { AwsLandingZone } from "./aws/landing-zone";
import { AzureLandingZone } from "./azure/landing-zone";
import { SecretsKeyVault } from "./azure/secrets-key-vault";
import { MembersPipeline } from "./databricks/pipeline";
import { policyPackFor } from "./policy";

export interface MembersStackProps {
  /** The validated environment this stack deploys. */
  readonly environment: EnvironmentConfig;
}

/**
 * One deployable environment: providers, state backend and the pipeline's resources on the environment's cloud.
 * Credentials never appear here: every provider reads its own environment variables (README "Deploy and diff").
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

    this.configureBackend(env);

    // Auth: DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET (OAuth M2M), or ARM_* on Azure.
    new DatabricksProvider(this, "databricks", { host: env.databricks.host });
    // time_sleep waits out eventual consistency (IAM propagation) between dependent resources.
    new TimeProvider(this, "time");

    // --- cloud provider and landing zone (storage + Unity Catalog storage credential and external location) ---
    let landing: LandingZone;
    let secretsKeyVault: { resourceId: string; dnsName: string } | undefined;
    if (env.cloud === "aws") {
      // Auth: AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, or OIDC in CI.
      new AwsProvider(this, "aws", { region: env.region, defaultTags: [{ tags }] });
      landing = new AwsLandingZone(this, "landing", { environment: env });
    } else {
      // Auth: ARM_SUBSCRIPTION_ID, ARM_TENANT_ID, ARM_CLIENT_ID (+ ARM_CLIENT_SECRET or ARM_USE_OIDC).
      // Storage data-plane calls use Azure AD because the account disables shared keys.
      new AzurermProvider(this, "azurerm", { features: [{}], storageUseAzuread: true });
      Aspects.of(this).add(new AzureDefaultTags(tags));
      const azureLanding = new AzureLandingZone(this, "landing", { environment: env });
      landing = azureLanding;
      if (env.azure?.keyVaultSecretScope) {
        // Auth: the same ARM_* variables; looks up the Azure Databricks application in Microsoft Entra ID.
        new AzureadProvider(this, "azuread", {});
        const vault = new SecretsKeyVault(this, "secrets-vault", {
          name: env.names.keyVault,
          resourceGroupName: azureLanding.resourceGroupName,
          location: env.region,
          privateNetworkOnly: env.storage.privateNetworkOnly,
          allowedIpRanges: env.storage.allowedIpRanges,
        });
        secretsKeyVault = { resourceId: vault.vault.id, dnsName: vault.vault.vaultUri };
      }
    }
    this.landingUrl = landing.landingUrl;
    this.landingDependables = landing.dependables;

    // --- pipeline (cloud-agnostic Databricks side) ---
    new MembersPipeline(this, "pipeline", {
      environment: env,
      cloud: env.cloud,
      landingUrl: this.landingUrl,
      dependsOn: this.landingDependables,
      secretsKeyVault,
    });

    // Policy as code (stacks/policy): checked on every synth after all other aspects; errors fail the synth.
    Aspects.of(this).add(policyPackFor(env));
  }

  private configureBackend(env: EnvironmentConfig): void {
    const key = env.stateBackend?.key ?? `members/${env.name}.tfstate`;
    switch (env.stateBackend?.type) {
      case "s3":
        new S3Backend(this, {
          bucket: env.stateBackend.bucket,
          key,
          region: env.stateBackend.region,
          encrypt: true,
        });
        // S3-native state locking (Terraform >= 1.10); cdktf 0.21's typed config predates the option.
        this.addOverride("terraform.backend.s3.use_lockfile", true);
        break;
      case "azurerm":
        new AzurermBackend(this, {
          resourceGroupName: env.stateBackend.resourceGroupName,
          storageAccountName: env.stateBackend.storageAccountName,
          containerName: env.stateBackend.containerName,
          key,
          useAzureadAuth: true,
        });
        break;
      default:
        new LocalBackend(this, { path: `terraform.${env.stackName}.tfstate` });
    }
  }
}
