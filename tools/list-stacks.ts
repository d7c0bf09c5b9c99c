/**
 * Prints the stacks as JSON for CI matrices: [{"stack":"members-dev","environment":"dev","cloud":"aws","mode":...}].
 * Optional argument: a mode ("development" or "production") to list only those environments, in config order.
 * Reads the same validated configuration as main.ts, so CI can never plan a stack that does not exist.
 */
import { config } from "../stacks/config/environments";
import { validateConfig } from "../stacks/config/validate";

const stacks = validateConfig(config).map((env) => ({
  stack: env.stackName,
  environment: env.name,
  cloud: env.cloud,
  mode: env.mode,
}));
const mode = process.argv[2];
process.stdout.write(`${JSON.stringify(mode ? stacks.filter((s) => s.mode === mode) : stacks)}\n`);
