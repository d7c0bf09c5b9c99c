/**
 * Provider lock files (Terraform's dependency lock file, `.terraform.lock.hcl`): committed once per provider set in
 * stacks/provider-locks/<set>.terraform.lock.hcl, where <set> is the stack's provider types sorted and joined by "-"
 * (`aws-databricks-time`). After synth, each stack directory gets the lock file of its set, so `terraform init` checks
 * every provider package against the committed hashes (`zh:` = the release's SHA256SUMS entries, `h1:` = per
 * platform) and the workflows run it with `-lockfile=readonly`: a provider whose version or hash is not in the lock
 * file is refused instead of recorded. `make provider-locks` regenerates them where the registry is reachable.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The committed lock files of the app's stacks. */
export const PROVIDER_LOCKS_DIR = resolve(__dirname, "..", "provider-locks");
export const LOCK_FILE = ".terraform.lock.hcl";

export interface RequiredProvider {
  readonly source?: string;
  readonly version?: string;
}

export interface LockEntry {
  readonly version: string;
  readonly constraints?: string;
  readonly hashes: readonly string[];
}

/** `registry.terraform.io/hashicorp/aws` for `aws`, `hashicorp/aws` or the full address. */
export function providerAddress(name: string, source?: string): string {
  const parts = (source ?? name).replace(/^registry\.terraform\.io\//i, "").split("/");
  return `registry.terraform.io/${(parts.length === 1 ? ["hashicorp", ...parts] : parts).join("/").toLowerCase()}`;
}

/** The provider blocks of a lock file, by address (the file is HCL; its blocks have one fixed shape). */
export function parseLockFile(text: string): Record<string, LockEntry> {
  const entries: Record<string, LockEntry> = {};
  for (const block of text.matchAll(/^provider "([^"]+)" \{\n([\s\S]*?)^\}/gm)) {
    const [, address, body] = block;
    const version = /^\s*version\s*=\s*"([^"]+)"/m.exec(body)?.[1];
    const constraints = /^\s*constraints\s*=\s*"([^"]+)"/m.exec(body)?.[1];
    const hashes = [...(/hashes\s*=\s*\[([\s\S]*?)\]/.exec(body)?.[1] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    if (version) entries[address] = { version, ...(constraints ? { constraints } : {}), hashes };
  }
  return entries;
}

/** The name of a provider set: its provider types, sorted, joined by "-". */
export function providerSetName(required: Readonly<Record<string, RequiredProvider>>): string {
  return Object.entries(required)
    .map(([name, p]) => providerAddress(name, p.source).split("/").pop())
    .sort()
    .join("-");
}

/** The committed lock file of a provider set, if there is one. */
export function lockFileFor(required: Readonly<Record<string, RequiredProvider>>, locksDir = PROVIDER_LOCKS_DIR): string | undefined {
  const file = join(locksDir, `${providerSetName(required)}${LOCK_FILE}`);
  return existsSync(file) ? file : undefined;
}

export interface StackLock {
  readonly stack: string;
  readonly set: string;
  /** The lock file copied into the stack directory; undefined when the set has none. */
  readonly lockFile?: string;
}

/** Copies each synthesized stack's lock file (by provider set) into its directory under `<outdir>/stacks`. */
export function writeProviderLocks(outdir: string, locksDir = PROVIDER_LOCKS_DIR): StackLock[] {
  const stacksDir = join(outdir, "stacks");
  if (!existsSync(stacksDir)) return [];
  return readdirSync(stacksDir)
    .filter((stack) => existsSync(join(stacksDir, stack, "cdk.tf.json")))
    .sort()
    .map((stack) => {
      const json = JSON.parse(readFileSync(join(stacksDir, stack, "cdk.tf.json"), "utf8"));
      const required = (json.terraform?.required_providers ?? {}) as Record<string, RequiredProvider>;
      const lockFile = lockFileFor(required, locksDir);
      if (lockFile) copyFileSync(lockFile, join(stacksDir, stack, LOCK_FILE));
      return { stack, set: providerSetName(required), lockFile };
    });
}
