import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";

/**
 * Stack outputs under fixed names: output names are the interface of `cdktf output` and of CI scripts, so they never
 * derive from construct paths (each output's construct id is its name with `-` for `_`).
 */
export function fixedOutputs(scope: Construct, outputs: Readonly<Record<string, { value: string; description: string }>>): void {
  for (const [name, { value, description }] of Object.entries(outputs)) {
    new TerraformOutput(scope, name.replace(/_/g, "-"), { value, description }).overrideLogicalId(name);
  }
}
