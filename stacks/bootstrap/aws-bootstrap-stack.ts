import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import { addPlaceholderGuard } from "../config/placeholder-guard";
import { ciPlaceholderProblems } from "../config/placeholders";
import platform from "../config/platform.json";
import type { EnvironmentConfig } from "../config/schema";
import { type S3StateLocation, stateLocation } from "../config/state";
import type { ConfigProblem } from "../config/validate";
import { setProtection } from "../protection/protect";
import { AwsCiEnvironment } from "./aws-ci-environment";
import { AWS_STS_AUDIENCE, GITHUB_OIDC_ISSUER } from "./github";

/** Name of the AWS bootstrap stack. */
export const AWS_BOOTSTRAP_STACK = "members-bootstrap-aws";

export interface BootstrapStackProps {
  /** GitHub repository (owner/name) whose workflows the CI identities trust. */
  readonly githubRepository: string;
  /** The validated environments of this stack's cloud; every one needs the cloud's remote state backend. */
  readonly environments: readonly EnvironmentConfig[];
  /**
   * Where this stack's own state lives, relative to the synthesized stack's folder: a local file the administrator
   * keeps (docs/deploy/ci-identities.md).
   * @default bootstrapStatePath(stack): bootstrap-state/ at the repository root, outside cdktf.out (`make clean`
   * deletes cdktf.out), git-ignored
   */
  readonly localStatePath?: string;
}

/**
 * Default state file of a bootstrap stack, relative to its folder cdktf.out/stacks/<stack>: the repository root's
 * bootstrap-state/terraform.<stack>.tfstate, which .gitignore's `terraform.*.tfstate*` keeps out of git.
 */
export const bootstrapStatePath = (stack: string): string => `../../../bootstrap-state/terraform.${stack}.tfstate`;

/** Output names of one environment's identities: `<env>_plan_role_arn`, ... (ci-identities doc reads them). */
export const outputName = (environment: string, what: string): string => `${environment.replace(/-/g, "_")}_${what}`;

/**
 * The CI identities and state stores of every AWS environment, applied once by an administrator (never by CI:
 * tools/list-stacks.ts lists only environments' stacks): the account's GitHub OIDC provider and, per environment,
 * AwsCiEnvironment (plan and deploy roles, their boundary, the state bucket and key the environment's backend names).
 * Its own state is local (the administrator keeps it); everything in it is protected (prevent_destroy).
 */
export class AwsBootstrapStack extends TerraformStack {
  readonly environments: Record<string, AwsCiEnvironment> = {};

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    const where = `AwsBootstrapStack ${id}`;
    if (props.environments.length === 0) invalidProp(where, "environments", props.environments, "at least one AWS environment");
    const states = props.environments.map((env) => {
      const state = stateLocation(env);
      if (env.cloud !== "aws" || state.type !== "s3") {
        return invalidProp(where, `environments.${env.name}`, env.stateBackend.type, "an AWS environment with the s3 state backend");
      }
      return { env, state: state as S3StateLocation };
    });
    const region = states[0].state.region;
    const otherRegion = states.find(({ state }) => state.region !== region);
    if (otherRegion) {
      invalidProp(
        where,
        `environments.${otherRegion.env.name}.stateBackend.region`,
        otherRegion.state.region,
        `the state region of the others (${region})`,
      );
    }
    // Protected whatever the environments' modes: losing a state bucket or key loses every environment's state.
    setProtection(this, true);
    new LocalBackend(this, { path: props.localStatePath ?? bootstrapStatePath(id) });
    this.addOverride("terraform.required_version", platform.terraform.requiredVersion);
    new AwsProvider(this, "aws", { region, defaultTags: [{ tags: { "managed-by": "cdktf", stack: id } }] });
    addPlaceholderGuard(this, { stackName: id, placeholders: bootstrapPlaceholders(props) });

    const caller = new DataAwsCallerIdentity(this, "caller");
    const partition = new DataAwsPartition(this, "partition");
    // One per account and URL. thumbprint_list is optional since AWS provider 5.81 (IAM trusts GitHub's CA).
    const oidc = new IamOpenidConnectProvider(this, "github-oidc", { url: GITHUB_OIDC_ISSUER, clientIdList: [AWS_STS_AUDIENCE] });

    for (const { env, state } of states) {
      const ci = new AwsCiEnvironment(this, env.name, {
        environmentName: env.name,
        githubRepository: props.githubRepository,
        oidcProviderArn: oidc.arn,
        resourcePrefix: env.names.base,
        stackName: env.stackName,
        region: env.region,
        partition: partition.partition,
        accountId: caller.accountId,
        state,
      });
      this.environments[env.name] = ci;
      new TerraformOutput(this, outputName(env.name, "plan_role_arn"), { value: ci.planRole.arn });
      new TerraformOutput(this, outputName(env.name, "deploy_role_arn"), { value: ci.deployRole.arn });
      new TerraformOutput(this, outputName(env.name, "state_key_arn"), { value: ci.state.key.arn });
    }
  }
}

/** What the bootstrap must not be applied with: an example repository, and the environments' example state stores. */
export function bootstrapPlaceholders(props: Pick<BootstrapStackProps, "githubRepository" | "environments">): ConfigProblem[] {
  return [
    ...ciPlaceholderProblems({ repository: props.githubRepository }),
    ...props.environments.flatMap((env) => env.placeholders.filter((problem) => problem.path.startsWith(`environments.${env.name}.stateBackend.`))),
  ];
}
