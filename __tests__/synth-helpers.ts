import { type App, Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import type { TerraformJson } from "../stacks/common/terraform-json";
import type { AppConfigInput } from "../stacks/config/schema";
import { MembersStack } from "../stacks/members-stack";
import { testConfig } from "./fixtures/test-config";

export type { TerraformJson } from "../stacks/common/terraform-json";

/** Builds the app (the test configuration, fixtures/test-config.ts, by default; never the shipped example) and synthesizes every stack once; tests share the result. */
export function synthAll(config: AppConfigInput = testConfig): { app: App; stacks: Record<string, TerraformJson> } {
  const app = buildApp(config, Testing.app());
  const stacks: Record<string, TerraformJson> = {};
  for (const child of app.node.children) {
    // Environments' stacks only: the bootstrap stacks (stacks/bootstrap) have tests of their own.
    if (!(child instanceof MembersStack)) continue;
    stacks[child.node.id] = JSON.parse(Testing.synth(child));
  }
  return { app, stacks };
}

/** Every stack of the app, the bootstrap stacks (stacks/bootstrap) included, synthesized; by stack name. */
export function synthEveryStack(config: AppConfigInput = testConfig): Record<string, TerraformJson> {
  const app = buildApp(config, Testing.app());
  return Object.fromEntries(app.node.children.map((stack) => [stack.node.id, JSON.parse(Testing.synth(stack as MembersStack)) as TerraformJson]));
}

/** All resources of one type in a synthesized stack, keyed by their logical id. */
export function resourcesOf(json: TerraformJson, type: string): Record<string, any> {
  return json.resource?.[type] ?? {};
}

/** The single resource of a type; fails the test when there is not exactly one. */
export function onlyResource(json: TerraformJson, type: string): { id: string; props: Record<string, any> } {
  const entries = Object.entries(resourcesOf(json, type));
  if (entries.length !== 1) {
    throw new Error(`expected exactly one ${type}, found ${entries.length}: ${entries.map(([id]) => id).join(", ")}`);
  }
  const [[id, props]] = entries;
  return { id, props };
}

/** The external location over the landing folder (a stack that creates its catalog also has a managed one). */
export function landingLocationOf(json: TerraformJson): { id: string; props: Record<string, any> } {
  const entries = Object.entries(resourcesOf(json, "databricks_external_location")).filter(([id]) =>
    id.startsWith("landing_unity-catalog_landing_location_"),
  );
  if (entries.length !== 1) throw new Error(`expected one landing external location, found ${entries.length}`);
  return { id: entries[0][0], props: entries[0][1] };
}
