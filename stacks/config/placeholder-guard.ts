/**
 * The deploy-time stop for example and placeholder values (placeholders.ts): synth keeps working, so the shipped
 * example configuration is still synthesized and tested, but `cdktf diff` and `cdktf deploy` fail at plan, before
 * anything is touched, with a message listing every such field.
 */
import { Annotations, DataResource, Fn, Op, TerraformLocal, type TerraformStack } from "cdktf";
import type { EnvironmentConfig } from "./schema";
import { formatProblem } from "./validate";

/** Terraform address of the guard: `terraform_data.placeholder_guard`. */
export const PLACEHOLDER_GUARD_ID = "placeholder_guard";

/** What the guard reads of an environment. */
type GuardedEnvironment = Pick<EnvironmentConfig, "stackName" | "placeholders">;

/** The text a stack with placeholders stops its plan with, and warns about at synth. */
export function placeholderMessage(env: GuardedEnvironment): string {
  return [
    `Stack ${env.stackName} still holds example or placeholder values and must not be deployed. Replace them in stacks/config/environments.ts:`,
    ...env.placeholders.map((problem) => `  - ${formatProblem(problem)}`),
  ].join("\n");
}

/** Terraform reads `${` and `%{` in a JSON string as template sequences; a configured value must stay literal. */
const literal = (text: string) => text.replace(/([$%])\{/g, "$1$1{");

/**
 * When the environment has placeholders: a terraform_data resource (built into Terraform, no provider) whose
 * precondition, "no placeholder fields", fails. Terraform checks preconditions while planning, so every plan of the
 * stack fails with the message; and a warning on the stack says the same at synth.
 */
export function addPlaceholderGuard(stack: TerraformStack, env: GuardedEnvironment): void {
  if (env.placeholders.length === 0) return;
  const message = placeholderMessage(env);
  // The condition reads the fields from a local: Terraform refuses a constant one ("must refer to at least one object
  // from elsewhere in the configuration"). `< 1`, not `== 0`: cdktf 0.21's Op drops a right operand of 0.
  const fields = new TerraformLocal(
    stack,
    "placeholder_fields",
    env.placeholders.map((problem) => literal(problem.path)),
  );
  new DataResource(stack, PLACEHOLDER_GUARD_ID, {
    lifecycle: { precondition: [{ condition: Op.lt(Fn.lengthOf(fields.asList), 1), errorMessage: literal(message) }] },
  });
  // Written to the manifest at synth: the cdktf CLI prints it, and so does main.ts when run directly (`make synth`).
  Annotations.of(stack).addWarning(message);
}
