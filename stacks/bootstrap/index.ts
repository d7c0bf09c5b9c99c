/**
 * The bootstrap stacks: per cloud, the CI identities (GitHub OIDC trust, plan and deploy identities per environment)
 * and the state stores the environments' backends name. Applied once by an administrator, never by the workflows.
 */
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { AWS_BOOTSTRAP_STACK, AwsBootstrapStack } from "./aws-bootstrap-stack";
import { AZURE_BOOTSTRAP_STACK, AzureBootstrapStack } from "./azure-bootstrap-stack";

export { AWS_BOOTSTRAP_STACK, AwsBootstrapStack } from "./aws-bootstrap-stack";
export { AZURE_BOOTSTRAP_STACK, AzureBootstrapStack } from "./azure-bootstrap-stack";

/** Names of every bootstrap stack this app can synthesize: none of them is ever deployed by CI. */
export const BOOTSTRAP_STACKS = [AWS_BOOTSTRAP_STACK, AZURE_BOOTSTRAP_STACK] as const;

/** Environments whose CI deploys: the ones with remote state (local state is for hand deploys). */
const deployedByCi = (env: EnvironmentConfig) => env.stateBackend.type !== "local";

/** One bootstrap stack per cloud that has environments CI deploys. */
export function buildBootstrapStacks(scope: Construct, githubRepository: string, environments: readonly EnvironmentConfig[]): void {
  const aws = environments.filter((env) => env.cloud === "aws" && deployedByCi(env));
  if (aws.length > 0) new AwsBootstrapStack(scope, AWS_BOOTSTRAP_STACK, { githubRepository, environments: aws });
  const azure = environments.filter((env) => env.cloud === "azure" && deployedByCi(env));
  if (azure.length > 0) new AzureBootstrapStack(scope, AZURE_BOOTSTRAP_STACK, { githubRepository, environments: azure });
}
