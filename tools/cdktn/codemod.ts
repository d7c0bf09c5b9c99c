/**
 * The cdktf -> CDK Terrain (cdktn) codemod: rewrites module specifiers, nothing else.
 *   cdktf                              -> cdktn
 *   @cdktf/provider-<p>/lib/<r>        -> @cdktn/provider-<p>/lib/<r>   for the providers with a cdktn prebuilt package
 *   @cdktf/provider-{time,azuread}/... -> tools/cdktn/bindings (hand-written; no @cdktn package exists)
 * Any cdktf specifier left over afterwards (a provider with neither) fails it.
 *
 *   codemod.ts <outdir>          copy the app, tests and tools into <outdir> and rewrite the copy (make cdktn-check)
 *   codemod.ts --in-place <dir>  rewrite the sources under <dir> itself: the switch (docs/maintainers/cdktn.md)
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, posix, relative, resolve } from "node:path";

/** Providers the app uses that have an @cdktn prebuilt package (same module layout: lib/<resource>). */
export const PREBUILT_PROVIDERS = ["aws", "azurerm", "databricks"] as const;
/** Providers the app uses that have none: their imports go to the hand-written bindings. */
export const BOUND_PROVIDERS = ["time", "azuread"] as const;
/** The bindings module, relative to the app root. */
export const BINDINGS_MODULE = "tools/cdktn/bindings";

/**
 * What the variant holds (the tests read notebooks/ and its wheel, and copy it: a symlink would not do; the workflow
 * tests read .github/; synth uploads the checked JDBC driver jar from .local/artifacts, `make jdbc-driver`; the
 * ci-identities test compares docs/deploy/ci-identities.md with its generator).
 */
const COPIED = [
  "main.ts",
  "tsconfig.json",
  "jest.config.js",
  "stacks",
  "__tests__",
  "tools",
  "diagrams",
  "notebooks",
  ".github",
  ".local/artifacts",
  "docs",
];
/**
 * Not copied: the bench and checkov tooling, the renderer, the supply-chain test (it reads this repository's build
 * files and the cdktf provider sets' lock files; the variant's providers differ by design) and the docs' link test (it
 * checks README.md and the files the docs link to, most of which the variant does not hold; nothing in it depends on
 * the toolkit), and the tests of the repository's own tooling that read or run its Makefile, workflows, .nvmrc and
 * package.json (make help, make -n bench, make doctor's machine checks, the toolchain): the variant has its own build
 * files.
 */
const SKIPPED_PATHS = new Set([
  "tools/bench",
  "tools/checkov",
  "diagrams/renderer",
  "__tests__/supply-chain.test.ts",
  "__tests__/docs-links.test.ts",
  "__tests__/make-help.test.ts",
  "__tests__/make-dry-run.test.ts",
  "__tests__/doctor.test.ts",
  "__tests__/toolchain.test.ts",
]);
const SKIPPED_NAMES = new Set(["node_modules", "__pycache__", ".pytest_cache", "spark-warehouse", "metastore_db"]);

/** A module specifier in import/export ... from, side-effect import, dynamic import() or require(). */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*|\brequire\(\s*)(["'])([^"'\n]+)\2/g;
const PROVIDER = /^@cdktf\/provider-([a-z0-9-]+)(\/.*)?$/;
const isCdktf = (specifier: string) => specifier === "cdktf" || specifier.startsWith("cdktf/") || specifier.startsWith("@cdktf/");

/** The cdktn specifier for one cdktf specifier; `bindings` is the relative path to the bindings module. */
export function mapSpecifier(specifier: string, bindings: string): string {
  if (specifier === "cdktf" || specifier.startsWith("cdktf/")) return `cdktn${specifier.slice("cdktf".length)}`;
  const provider = PROVIDER.exec(specifier);
  if (!provider) return specifier;
  const [, name, rest = ""] = provider;
  if ((PREBUILT_PROVIDERS as readonly string[]).includes(name)) return `@cdktn/provider-${name}${rest}`;
  if ((BOUND_PROVIDERS as readonly string[]).includes(name)) return bindings;
  return specifier;
}

/** The source with every cdktf module specifier rewritten. */
export function rewriteImports(source: string, bindings: string): string {
  return source.replace(SPECIFIER, (whole, lead: string, quote: string, specifier: string) =>
    isCdktf(specifier) ? `${lead}${quote}${mapSpecifier(specifier, bindings)}${quote}` : whole,
  );
}

/** cdktf module specifiers still in a source (after rewriting: a provider the codemod cannot place). */
export function cdktfImports(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[3]).filter(isCdktf);
}

const skipped = (root: string, path: string) =>
  SKIPPED_PATHS.has(relative(root, path).split(/[\\/]/).join(posix.sep)) || SKIPPED_NAMES.has(basename(path));

/** Every .ts/.js of the app under `root`: the COPIED entries, less the skipped ones. */
function sourceFiles(root: string): string[] {
  const walk = (path: string): string[] => {
    if (skipped(root, path)) return [];
    if (statSync(path).isDirectory()) return readdirSync(path).flatMap((entry) => walk(join(path, entry)));
    return /\.(ts|js)$/.test(path) ? [path] : [];
  };
  return COPIED.filter((entry) => existsSync(join(root, entry))).flatMap((entry) => walk(join(root, entry)));
}

/** Rewrites the app's .ts/.js under `root` in place; returns the files changed. Throws on leftover cdktf imports. */
export function rewriteTree(root: string): string[] {
  const changed: string[] = [];
  const leftovers: string[] = [];
  for (const file of sourceFiles(root)) {
    const rel = relative(dirname(file), join(root, BINDINGS_MODULE)).split(/[\\/]/).join(posix.sep);
    const before = readFileSync(file, "utf8");
    const after = rewriteImports(before, rel.startsWith(".") ? rel : `./${rel}`);
    if (after !== before) {
      writeFileSync(file, after);
      changed.push(relative(root, file));
    }
    leftovers.push(...cdktfImports(after).map((s) => `${relative(root, file)}: ${s}`));
  }
  if (leftovers.length > 0) throw new Error(`cdktf imports the codemod cannot rewrite:\n  ${leftovers.join("\n  ")}`);
  return changed;
}

/** A fresh variant of the app at `out`: copied from `repo` and rewritten. */
export function makeVariant(repo: string, out: string): string[] {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const entry of COPIED) {
    cpSync(join(repo, entry), join(out, entry), { recursive: true, filter: (src) => !skipped(repo, src) });
  }
  return rewriteTree(out);
}

if (require.main === module) {
  const [first, second] = process.argv.slice(2);
  const inPlace = first === "--in-place";
  const target = inPlace ? second : first;
  if (!target) {
    console.error("usage: codemod.ts <outdir> | codemod.ts --in-place <dir>");
    process.exit(2);
  }
  try {
    const changed = inPlace ? rewriteTree(resolve(target)) : makeVariant(resolve(__dirname, "..", ".."), resolve(target));
    console.log(`cdktn codemod: ${changed.length} files rewritten${inPlace ? "" : ` in ${target}`}`);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
