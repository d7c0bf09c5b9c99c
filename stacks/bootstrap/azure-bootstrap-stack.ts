import { DataAzurermClientConfig } from "@cdktf/provider-azurerm/lib/data-azurerm-client-config";
import { AzurermProvider } from "@cdktf/provider-azurerm/lib/provider";
import { Aspects, LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { AzureDefaultTags } from "../common/tags";
import { invalidProp } from "../common/validation";
import { addPlaceholderGuard } from "../config/placeholder-guard";
import platform from "../config/platform.json";
import type { EnvironmentConfig } from "../config/schema";
import { type AzurermStateLocation, stateLocation } from "../config/state";
import type { ConfigProblem } from "../config/validate";
import { setProtection } from "../protection/protect";
import { type BootstrapStackProps, bootstrapPlaceholders, bootstrapStatePath, outputName } from "./aws-bootstrap-stack";
import { AzureCiEnvironment } from "./azure-ci-environment";
import { AzureStateAccount } from "./azure-state-account";

/** Name of the Azure bootstrap stack. */
export const AZURE_BOOTSTRAP_STACK = "members-bootstrap-azure";

/**
 * The CI identities and state stores of every Azure environment, applied once by an administrator (never by CI): per
 * state storage account an AzureStateAccount (customer-managed key, one container per environment), per environment
 * its resource group and an AzureCiEnvironment (federated plan and deploy identities scoped to that group and its
 * state container). Its own state is local; everything stateful in it is protected.
 */
export class AzureBootstrapStack extends TerraformStack {
  readonly environments: Record<string, AzureCiEnvironment> = {};
  readonly stateAccounts: Record<string, AzureStateAccount> = {};

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    const where = `AzureBootstrapStack ${id}`;
    if (props.environments.length === 0) invalidProp(where, "environments", props.environments, "at least one Azure environment");
    const states = props.environments.map((env) => {
      const state = stateLocation(env);
      if (env.cloud !== "azure" || state.type !== "azurerm" || env.azure === undefined) {
        return invalidProp(where, `environments.${env.name}`, env.stateBackend.type, "an Azure environment with the azurerm state backend");
      }
      return { env, azure: env.azure, state: state as AzurermStateLocation };
    });
    setProtection(this, true);
    new LocalBackend(this, { path: props.localStatePath ?? bootstrapStatePath(id) });
    this.addOverride("terraform.required_version", platform.terraform.requiredVersion);
    new AzurermProvider(this, "azurerm", {
      features: [
        {
          storage: [{ dataPlaneAvailable: false }],
          keyVault: [{ purgeSoftDeleteOnDestroy: false, recoverSoftDeletedKeyVaults: true }],
          resourceGroup: [{ preventDeletionIfContainsResources: true }],
        },
      ],
      storageUseAzuread: true,
    });
    Aspects.of(this).add(new AzureDefaultTags({ "managed-by": "cdktf", stack: id }));
    addPlaceholderGuard(this, { stackName: id, placeholders: [...bootstrapPlaceholders(props), ...resourceGroupProblems(props.environments)] });
    const client = new DataAzurermClientConfig(this, "client");

    const byAccount = new Map<string, typeof states>();
    for (const entry of states) {
      const key = `${entry.state.resourceGroupName}/${entry.state.storageAccountName}`;
      byAccount.set(key, [...(byAccount.get(key) ?? []), entry]);
    }
    for (const entries of byAccount.values()) {
      const { state, env } = entries[0];
      this.stateAccounts[state.storageAccountName] = new AzureStateAccount(this, `state-${state.storageAccountName}`, {
        resourceGroupName: state.resourceGroupName,
        accountName: state.storageAccountName,
        containerNames: entries.map((e) => e.state.containerName),
        region: env.region,
        tenantId: client.tenantId,
        administratorObjectId: client.objectId,
        allowedIpRanges: [...new Set(entries.flatMap((e) => e.env.storage.allowedIpRanges))],
      });
    }
    new TerraformOutput(this, "tenant_id", { value: client.tenantId });
    new TerraformOutput(this, "subscription_id", { value: client.subscriptionId });
    for (const { env, azure, state } of states) {
      const account = this.stateAccounts[state.storageAccountName];
      const ci = new AzureCiEnvironment(this, env.name, {
        environmentName: env.name,
        githubRepository: props.githubRepository,
        resourcePrefix: env.names.base,
        resourceGroupName: azure.resourceGroupName,
        region: env.region,
        identityResourceGroupName: account.resourceGroup.name,
        stateContainer: account.containers[state.containerName],
      });
      this.environments[env.name] = ci;
      new TerraformOutput(this, outputName(env.name, "plan_client_id"), { value: ci.planIdentity.clientId });
      new TerraformOutput(this, outputName(env.name, "deploy_client_id"), { value: ci.deployIdentity.clientId });
    }
  }
}

/**
 * The bootstrap creates each environment's resource group, so the deploy identity's roles can be scoped to it before
 * the first deploy; an environment whose own stack would create the group too (azure.createResourceGroup) must not be
 * bootstrapped until it uses the existing group.
 */
export function resourceGroupProblems(environments: readonly EnvironmentConfig[]): ConfigProblem[] {
  return environments
    .filter((env) => env.azure?.createResourceGroup === true)
    .map((env) => ({
      path: `environments.${env.name}.azure.createResourceGroup`,
      got: "true",
      expected:
        "false once the bootstrap creates the group (members-bootstrap-azure creates it so the deploy identity's roles are scoped to it; two stacks must not both create it)",
    }));
}
