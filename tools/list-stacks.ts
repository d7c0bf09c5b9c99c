/**
 * Prints the stacks CI plans and deploys as JSON for matrices:
 * [{"stack":"members-dev","environment":"dev","cloud":"aws","mode":"development","authType":"oauth-m2m"}].
 * Optional argument: a mode ("development" or "production") to list only those environments, in config order.
 * Reads the same validated configuration as main.ts, so CI can never plan a stack that does not exist. Stacks with
 * local state (`stateBackend: {type: "local"}`, hand deploys only) are never listed: a throwaway runner would lose
 * their state and the next deploy would try to create everything again. The bootstrap stacks (stacks/bootstrap: CI
 * identities and state stores) are never listed either: they are not environments, an administrator applies them.
 */
import { config } from "../stacks/config/environments";
import type { AppConfigInput } from "../stacks/config/schema";
import { validateConfig } from "../stacks/config/validate";

export interface CiStack {
  readonly stack: string;
  readonly environment: string;
  readonly cloud: string;
  readonly mode: string;
  /** The Databricks provider's auth_type: the workflow exports only this method's variables. */
  readonly authType: string;
}

export function ciStacks(appConfig: AppConfigInput, mode?: string): CiStack[] {
  return validateConfig(appConfig)
    .filter((env) => env.stateBackend.type !== "local" && (mode === undefined || env.mode === mode))
    .map((env) => ({ stack: env.stackName, environment: env.name, cloud: env.cloud, mode: env.mode, authType: env.databricks.authType }));
}

if (require.main === module) {
  process.stdout.write(`${JSON.stringify(ciStacks(config, process.argv[2]))}\n`);
}
