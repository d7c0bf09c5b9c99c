import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AnnotationMetadataEntryType, App, type IManifest, Manifest } from "cdktf";
import { buildBootstrapStacks } from "./bootstrap";
import { config as shippedConfig } from "./config/environments";
import type { AppConfigInput } from "./config/schema";
import { validateConfig } from "./config/validate";
import { MembersStack } from "./members-stack";

/**
 * Builds one stack per environment. Validation runs first, so a bad configuration fails before any construct exists.
 */
export function buildApp(config: AppConfigInput = shippedConfig, app: App = new App()): App {
  const environments = validateConfig(config);
  for (const environment of environments) {
    new MembersStack(app, environment.stackName, { environment });
  }
  // The CI identities and state stores, one stack per cloud, applied once by an administrator (stacks/bootstrap):
  // only with a repository to trust, and never listed for CI (tools/list-stacks.ts lists environments only).
  if (config.github !== undefined) buildBootstrapStacks(app, config.github.repository, environments);
  return app;
}

/**
 * Whether the cdktf CLI (synth, diff, deploy) runs the app: it sets this variable, and prints the manifest's
 * annotations itself. `make synth` runs main.ts directly, where nothing else would print them.
 */
export const runByCdktfCli = (): boolean => process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS !== undefined;

/**
 * Every warning annotation of the stacks synthesized into `outdir`, read from its manifest and worded as the cdktf CLI
 * prints them: `WARN [<construct path>]: <message>`.
 */
export function synthWarnings(outdir: string): string[] {
  const manifest: IManifest = JSON.parse(readFileSync(join(outdir, Manifest.fileName), "utf8"));
  return Object.values(manifest.stacks).flatMap((stack) =>
    stack.annotations
      .filter((annotation) => annotation.level === AnnotationMetadataEntryType.WARN)
      .map((annotation) => `WARN [${annotation.constructPath}]: ${annotation.message}`),
  );
}

/**
 * Deletes the stack folders of `outdir` that its manifest does not list: stacks an earlier synth wrote for an
 * environment since removed or renamed, which checkov, `make cost`, the diagrams and terraform would otherwise still
 * read. Returns the names removed.
 */
export function pruneStaleStacks(outdir: string): string[] {
  const manifest: IManifest = JSON.parse(readFileSync(join(outdir, Manifest.fileName), "utf8"));
  const current = new Set(Object.keys(manifest.stacks));
  const dir = join(outdir, Manifest.stacksFolder);
  const stale = existsSync(dir) ? readdirSync(dir).filter((name) => !current.has(name)) : [];
  for (const name of stale) rmSync(join(dir, name), { recursive: true, force: true });
  return stale;
}
