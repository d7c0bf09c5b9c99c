import { FederatedIdentityCredential } from "@cdktf/provider-azurerm/lib/federated-identity-credential";
import { ResourceGroup } from "@cdktf/provider-azurerm/lib/resource-group";
import { RoleAssignment } from "@cdktf/provider-azurerm/lib/role-assignment";
import type { StorageContainer } from "@cdktf/provider-azurerm/lib/storage-container";
import { UserAssignedIdentity } from "@cdktf/provider-azurerm/lib/user-assigned-identity";
import { Construct } from "constructs";
import { protect } from "../protection/protect";
import { AZURE_TOKEN_EXCHANGE_AUDIENCE, ciIdentityNames, GITHUB_OIDC_ISSUER, githubEnvironments, githubSubject } from "./github";

export interface AzureCiEnvironmentProps {
  /** Configuration environment name: the GitHub environments are `<name>-plan` and `<name>`. */
  readonly environmentName: string;
  /** GitHub repository (owner/name) whose workflows may use the identities. */
  readonly githubRepository: string;
  /** The environment's resource prefix `<prefix>-<env>`: names of the identities. */
  readonly resourcePrefix: string;
  /** The environment's resource group (azure.resourceGroupName): created here, the identities' whole scope. */
  readonly resourceGroupName: string;
  /** Azure location of the environment. */
  readonly region: string;
  /**
   * Resource group the identities live in: the state account's, which the deploy identity cannot reach, so it cannot
   * change its own federated credentials.
   */
  readonly identityResourceGroupName: string;
  /** The environment's state container. */
  readonly stateContainer: StorageContainer;
}

/** Role of one identity on a scope. */
interface Grant {
  readonly id: string;
  readonly role: string;
  readonly scope: string;
}

/**
 * One environment's CI identities on Azure: user-assigned managed identities for plan and deploy, each with one
 * federated credential trusting exactly `repo:<owner>/<name>:environment:<env>-plan` or `...:<env>` (issuer GitHub,
 * audience api://AzureADTokenExchange), and role assignments scoped to the environment's resource group and state
 * container only: plan reads (Reader, Storage Blob Data Reader), deploy manages (Contributor, Role Based Access
 * Control Administrator for the Unity Catalog connector's assignments, Storage Blob Data Contributor on its state).
 */
export class AzureCiEnvironment extends Construct {
  readonly resourceGroup: ResourceGroup;
  readonly planIdentity: UserAssignedIdentity;
  readonly deployIdentity: UserAssignedIdentity;

  constructor(scope: Construct, id: string, props: AzureCiEnvironmentProps) {
    super(scope, id);
    const names = ciIdentityNames(props.resourcePrefix);
    const githubEnvs = githubEnvironments(props.environmentName);
    this.resourceGroup = protect(new ResourceGroup(this, "resource-group", { name: props.resourceGroupName, location: props.region }));
    const group = this.resourceGroup.id;
    const state = props.stateContainer.resourceManagerId;

    const identity = (kind: "plan" | "deploy", githubEnvironment: string, grants: readonly Grant[]) => {
      const managed = new UserAssignedIdentity(this, `${kind}-identity`, {
        name: names[kind],
        resourceGroupName: props.identityResourceGroupName,
        location: props.region,
      });
      new FederatedIdentityCredential(this, `${kind}-github`, {
        name: `github-${githubEnvironment}`,
        resourceGroupName: props.identityResourceGroupName,
        parentId: managed.id,
        issuer: GITHUB_OIDC_ISSUER,
        audience: [AZURE_TOKEN_EXCHANGE_AUDIENCE],
        subject: githubSubject(props.githubRepository, githubEnvironment),
      });
      for (const grant of grants) {
        new RoleAssignment(this, `${kind}-${grant.id}`, {
          scope: grant.scope,
          roleDefinitionName: grant.role,
          principalId: managed.principalId,
          principalType: "ServicePrincipal",
          description: `CI ${kind} of ${props.environmentName} (GitHub environment ${githubEnvironment})`,
        });
      }
      return managed;
    };
    this.planIdentity = identity("plan", githubEnvs.plan, [
      { id: "reader", role: "Reader", scope: group },
      { id: "state-reader", role: "Storage Blob Data Reader", scope: state },
    ]);
    this.deployIdentity = identity("deploy", githubEnvs.deploy, [
      { id: "contributor", role: "Contributor", scope: group },
      { id: "role-assignments", role: "Role Based Access Control Administrator", scope: group },
      { id: "state-contributor", role: "Storage Blob Data Contributor", scope: state },
    ]);
  }
}
