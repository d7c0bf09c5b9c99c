/**
 * `make provider-locks`: (re)writes stacks/provider-locks/<set>.terraform.lock.hcl from the synthesized stacks, one
 * per provider set, with `terraform providers lock` for every platform the workflows and developers use. It needs the
 * Terraform registry (the hashes come from the registry's signed SHA256SUMS); review the diff and commit it.
 *
 * Usage: provider-locks/main.ts <synth outdir> [--locks <dir>] [--platform p ...]
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LOCK_FILE, PROVIDER_LOCKS_DIR, providerSetName, type RequiredProvider } from "../../stacks/common/provider-locks";

const DEFAULT_PLATFORMS = ["linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64"];

function main(argv: string[]): number {
  const outdir = argv[0];
  if (!outdir) {
    console.error("usage: provider-locks/main.ts <synth outdir> [--locks <dir>] [--platform p ...]");
    return 2;
  }
  let locksDir = PROVIDER_LOCKS_DIR;
  const platforms: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === "--locks") locksDir = argv[++i];
    else if (argv[i] === "--platform") platforms.push(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const stacksDir = join(outdir, "stacks");
  const done = new Set<string>();
  mkdirSync(locksDir, { recursive: true });
  for (const stack of readdirSync(stacksDir).sort()) {
    const file = join(stacksDir, stack, "cdk.tf.json");
    if (!existsSync(file)) continue;
    const required = (JSON.parse(readFileSync(file, "utf8")).terraform?.required_providers ?? {}) as Record<string, RequiredProvider>;
    const set = providerSetName(required);
    if (done.has(set)) continue;
    const args = ["providers", "lock", ...(platforms.length > 0 ? platforms : DEFAULT_PLATFORMS).map((p) => `-platform=${p}`)];
    console.log(`provider-locks: ${set} from ${stack}: terraform ${args.join(" ")}`);
    const run = spawnSync("terraform", [`-chdir=${join(stacksDir, stack)}`, ...args], { stdio: "inherit" });
    if (run.status !== 0) return run.status ?? 1;
    copyFileSync(join(stacksDir, stack, LOCK_FILE), join(locksDir, `${set}${LOCK_FILE}`));
    done.add(set);
  }
  console.log(`provider-locks: wrote ${[...done].map((s) => `${s}${LOCK_FILE}`).join(", ")} in ${locksDir}; review and commit`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
