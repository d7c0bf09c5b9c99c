/**
 * `make synth` writes exactly the configured stacks (issue 27, item 6): a stack folder an earlier synth left for an
 * environment since removed is deleted, so checkov, `make cost` and the diagrams never read it.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { buildApp, pruneStaleStacks } from "../stacks/app";
import { testConfig as config } from "./fixtures/test-config";

test("a synth after an environment is removed leaves only the configured stacks", () => {
  const outdir = mkdtempSync(join(tmpdir(), "synth-output-"));
  try {
    const [first, second] = config.environments;
    const synth = (environments: typeof config.environments) => {
      const app = buildApp({ environments }, new App({ outdir }));
      app.synth();
      return pruneStaleStacks(outdir);
    };
    expect(synth([first, second])).toEqual([]);
    expect(readdirSync(join(outdir, "stacks")).sort()).toEqual([`members-${first.name}`, `members-${second.name}`].sort());
    expect(synth([first])).toEqual([`members-${second.name}`]);
    expect(readdirSync(join(outdir, "stacks"))).toEqual([`members-${first.name}`]);
    expect(existsSync(join(outdir, "stacks", `members-${first.name}`, "cdk.tf.json"))).toBe(true);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
