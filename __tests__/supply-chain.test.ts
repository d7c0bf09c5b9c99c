/**
 * Supply chain (issue 25, item 8). Each check reads the files that install or fetch something and fails when the
 * control is removed: npm installs without install scripts, the wheel's build backend from hash-pinned requirements
 * without build isolation, a provider lock entry for every provider a stack requires, and the JDBC driver as a jar
 * checked by sha256 rather than Maven coordinates resolved at cluster start.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, TerraformStack, Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import { LOCK_FILE, lockFileFor, parseLockFile, providerAddress, providerSetName, type RequiredProvider } from "../stacks/common/provider-locks";
import platform from "../stacks/config/platform.json";
import { artifactFileName, DEFAULT_ARTIFACTS_DIR, JDBC_DRIVER_JAR, verifiedArtifact } from "../stacks/databricks/artifacts";
import { testConfig } from "./fixtures/test-config";
import { resourcesOf, synthAll, type TerraformJson } from "./synth-helpers";

const ROOT = join(__dirname, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** Every file that runs an npm install: the Makefile and its includes, and the workflows. */
function installFiles(): Array<[string, string]> {
  const mk = readdirSync(join(ROOT, "mk")).map((f) => `mk/${f}`);
  const workflows = readdirSync(join(ROOT, ".github", "workflows")).map((f) => `.github/workflows/${f}`);
  return ["Makefile", ".ci/run", ...mk, ...workflows].map((path) => [path, read(path)]);
}

describe("npm installs run no install scripts", () => {
  it("every npm ci / npm install passes --ignore-scripts", () => {
    const problems: string[] = [];
    let installs = 0;
    for (const [path, text] of installFiles()) {
      for (const line of text.split("\n")) {
        if (!/\bnpm (ci|install|i)\b/.test(line) || /^\s*#/.test(line)) continue;
        installs++;
        if (!line.includes("--ignore-scripts")) problems.push(`${path}: ${line.trim()}`);
      }
    }
    expect(problems).toEqual([]);
    // The root, the diagram renderer, the cdktn lane, and the workflows' own installs.
    expect(installs).toBeGreaterThanOrEqual(6);
  });

  it("no package of the root lock file needs an install script beyond the two that ship prebuilt binaries", () => {
    // @cdktf/node-pty-prebuilt-multiarch (cdktf-cli) ships prebuilds/ for linux-x64; @parcel/watcher (jest) gets its
    // binary from the optional @parcel/watcher-linux-x64-glibc package. Their install scripts only check or rebuild
    // what is already there, so --ignore-scripts loses nothing. A new package with an install script fails here.
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ""));
    expect(withScripts.sort()).toEqual(["@cdktf/node-pty-prebuilt-multiarch", "@parcel/watcher"]);
  });
});

describe("the wheel's build dependencies are pinned with hashes", () => {
  const requirements = read("notebooks/build-requirements.txt");
  /** `name==version` with its hashes, one entry per requirement (backslash continuations joined). */
  const entries = requirements
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter(Boolean)
    .map((line) => ({ line, pin: /^([A-Za-z0-9_.-]+)==(\S+)/.exec(line), hashes: [...line.matchAll(/--hash=sha256:([0-9a-f]{64})\b/g)] }));

  it("every requirement is pinned with == and carries a sha256", () => {
    expect(entries.length).toBeGreaterThanOrEqual(5);
    expect(entries.filter((e) => !e.pin || e.hashes.length === 0).map((e) => e.line)).toEqual([]);
  });

  it("pins the build backend at the version pyproject.toml requires", () => {
    const requires = /^requires = \["hatchling==([^"]+)"\]$/m.exec(read("notebooks/pyproject.toml"))?.[1];
    expect(requires).toBeDefined();
    expect(entries.find((e) => e.pin?.[1] === "hatchling")?.pin?.[2]).toBe(requires);
  });

  it("make wheel installs them with --require-hashes (wheels only) and builds without build isolation", () => {
    const makefile = read("Makefile");
    const install = makefile.split("\n").find((l) => l.includes("-r $(WHEEL_BUILD_REQUIREMENTS)")) ?? "";
    expect(install).toContain("--require-hashes");
    expect(install).toContain("--only-binary :all:");
    const build = makefile.split("\n").filter((l) => /\bpip wheel\b/.test(l));
    expect(build).toHaveLength(1);
    expect(build[0]).toContain("--no-build-isolation");
    expect(build[0]).toContain("$(WHEEL_BUILD_VENV)/bin/python");
  });
});

describe("the JDBC driver is a jar checked by sha256, not Maven coordinates resolved at cluster start", () => {
  let stacks: Record<string, TerraformJson>;
  beforeAll(() => {
    stacks = synthAll().stacks;
  });

  it("platform.json pins the jar's Maven Central URL and sha256, the same artifact as the local tests' coordinates", () => {
    const [group, artifact, version] = platform.jdbcDriver.maven.split(":");
    expect(JDBC_DRIVER_JAR.url).toBe(`https://repo1.maven.org/maven2/${group.replace(/\./g, "/")}/${artifact}/${version}/${artifact}-${version}.jar`);
    expect(JDBC_DRIVER_JAR.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("synth refuses a jar whose sha256 is not the pinned one, and a missing jar", () => {
    const dir = mkdtempSync(join(tmpdir(), "members-artifacts-"));
    try {
      expect(() => verifiedArtifact(dir, JDBC_DRIVER_JAR)).toThrow(/run `make jdbc-driver`/);
      writeFileSync(join(dir, artifactFileName(JDBC_DRIVER_JAR)), "not the driver");
      expect(() => verifiedArtifact(dir, JDBC_DRIVER_JAR)).toThrow(new RegExp(`expected ${JDBC_DRIVER_JAR.sha256}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("every stack uploads the checked jar into a managed volume of its schema, READ VOLUME for the job principal only, and the extract task attaches it", () => {
    const jar = verifiedArtifact(DEFAULT_ARTIFACTS_DIR, JDBC_DRIVER_JAR);
    const md5 = createHash("md5").update(readFileSync(jar)).digest("hex");
    for (const [name, json] of Object.entries(stacks)) {
      const volumes = Object.entries(resourcesOf(json, "databricks_volume"));
      expect([name, volumes.map(([, v]) => v.volume_type)]).toEqual([name, ["MANAGED"]]);
      const [[volumeId]] = volumes;
      const files = Object.entries(resourcesOf(json, "databricks_file"));
      expect(files).toHaveLength(1);
      const [[fileId, file]] = files;
      expect(file.path).toBe(`\${databricks_volume.${volumeId}.volume_path}/${artifactFileName(JDBC_DRIVER_JAR)}`);
      expect(file.md5).toBe(md5);
      expect(file.source).toMatch(new RegExp(`^assets/.*/${md5.toUpperCase()}/${artifactFileName(JDBC_DRIVER_JAR)}$`));
      // READ_VOLUME through the schema's grants (inherited by its volumes), for the job principal only.
      const schemaGrants = Object.values(resourcesOf(json, "databricks_grants")).filter((g) => "schema" in g);
      const readers = schemaGrants.flatMap((g) => g.grant).filter((e: any) => e.privileges.includes("READ_VOLUME"));
      expect([name, readers.length]).toEqual([name, 1]);
      const libraries = Object.values(resourcesOf(json, "databricks_job")).flatMap((job) => job.task.flatMap((t: any) => t.library ?? []));
      expect(libraries.filter((l) => "maven" in l || "pypi" in l || "cran" in l)).toEqual([]);
      expect(libraries).toContainEqual({ jar: `\${databricks_file.${fileId}.path}` });
    }
  });
});

describe("provider lock files", () => {
  /**
   * Provider sets whose lock file is still to be generated (`make provider-locks` needs the Terraform registry, which
   * the machine that wrote this could not reach), with their exact versions: a bump changes the entry, so it fails
   * here too. Remove an entry when its stacks/provider-locks/<set>.terraform.lock.hcl is committed.
   */
  const PENDING: Record<string, string> = {
    "aws-databricks-time": "hashicorp/aws 6.25.0, databricks/databricks 1.99.0, hashicorp/time 0.13.1",
    "azurerm-databricks-time": "hashicorp/azurerm 4.55.0, databricks/databricks 1.99.0, hashicorp/time 0.13.1",
    aws: "hashicorp/aws 6.25.0",
    azurerm: "hashicorp/azurerm 4.55.0",
  };
  const describeSet = (required: Record<string, RequiredProvider>) =>
    Object.entries(required)
      .map(([name, p]) => `${providerAddress(name, p.source).replace("registry.terraform.io/", "")} ${p.version}`)
      .sort((a, b) => a.split("/")[1].localeCompare(b.split("/")[1]))
      .join(", ");

  /** Problems of one stack's lock: every required provider has an entry of the same version and constraints. */
  function lockProblems(stack: string, required: Record<string, RequiredProvider>, lockFile: string): string[] {
    const entries = parseLockFile(readFileSync(lockFile, "utf8"));
    const problems: string[] = [];
    for (const [name, p] of Object.entries(required)) {
      const address = providerAddress(name, p.source);
      const entry = entries[address];
      if (!entry) problems.push(`${stack}: ${address} has no entry in ${lockFile}`);
      else if (entry.version !== p.version || entry.constraints !== p.version)
        problems.push(`${stack}: ${address} requires ${p.version}, the lock has ${entry.version} (constraints ${entry.constraints})`);
      else if (!entry.hashes.some((h) => h.startsWith("h1:"))) problems.push(`${stack}: ${address} has no h1: hash`);
    }
    const extra = Object.keys(entries).filter((a) => !Object.entries(required).some(([n, p]) => providerAddress(n, p.source) === a));
    if (extra.length > 0) problems.push(`${stack}: ${lockFile} locks providers the stack does not use: ${extra.join(", ")}`);
    return problems;
  }

  it("every stack's provider set has a lock file with its exact versions, or is a pending set of the same versions", () => {
    const app = buildApp(testConfig, Testing.app());
    const problems: string[] = [];
    const pendingSeen: Record<string, string> = {};
    for (const child of app.node.children) {
      if (!(child instanceof TerraformStack)) continue;
      const json = JSON.parse(Testing.synth(child));
      const required = (json.terraform?.required_providers ?? {}) as Record<string, RequiredProvider>;
      const lockFile = lockFileFor(required);
      if (lockFile) problems.push(...lockProblems(child.node.id, required, lockFile));
      else pendingSeen[providerSetName(required)] = describeSet(required);
    }
    expect(problems).toEqual([]);
    expect(pendingSeen).toEqual(PENDING);
  });

  it("the tf-validate fixture's lock pins the mirror's aws version with its linux_amd64 h1 (terraform init checks it)", () => {
    const version = /export const FIXTURE_AWS_VERSION = "([^"]+)"/.exec(read("tools/tf-validate/fixture/main.ts"))?.[1];
    expect(version).toBeDefined();
    const lockFile = join(ROOT, "tools/tf-validate/fixture/provider-locks", `aws${LOCK_FILE}`);
    expect(lockProblems("tf-validate-fixture", { aws: { source: "aws", version } }, lockFile)).toEqual([]);
  });

  it("synth copies the lock file of its set into the stack directory", () => {
    const outdir = mkdtempSync(join(tmpdir(), "members-locks-"));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, "fixture-like");
      stack.addOverride("terraform.required_providers.aws", { source: "aws", version: "5.100.0" });
      app.synth();
      const { writeProviderLocks } = require("../stacks/common/provider-locks") as typeof import("../stacks/common/provider-locks");
      const [result] = writeProviderLocks(outdir, join(ROOT, "tools/tf-validate/fixture/provider-locks"));
      expect(result.set).toBe("aws");
      expect(readFileSync(join(outdir, "stacks", "fixture-like", LOCK_FILE), "utf8")).toBe(
        read(`tools/tf-validate/fixture/provider-locks/aws${LOCK_FILE}`),
      );
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("the plan and apply jobs run terraform init -lockfile=readonly", () => {
    const inits = read(".github/workflows/stack.yml")
      .split("\n")
      .filter((l) => /\bterraform -chdir=\S+ init\b/.test(l));
    expect(inits.length).toBe(2);
    for (const line of inits) expect(line).toContain("-lockfile=readonly");
  });
});
