/**
 * Toolchain (issue 27, item 4): one Node version for people and every workflow (.nvmrc, engines), a license that
 * package.json names, and Python found as `python3` or any versioned name when it is >= 3.11 (tools/find-python.sh,
 * which every make target that builds a venv uses), with a clear error otherwise.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

describe("Node version", () => {
  const nvmrc = read(".nvmrc").trim();
  const pkg = JSON.parse(read("package.json"));

  test(".nvmrc names an LTS major that package.json's engines accepts", () => {
    expect(nvmrc).toMatch(/^(22|24)$/);
    expect(pkg.engines.node).toBe(">=22.12");
    expect(JSON.parse(read("package-lock.json")).packages[""].engines).toEqual(pkg.engines);
  });

  test("every setup-node step takes the version from .nvmrc", () => {
    const dir = join(ROOT, ".github", "workflows");
    const steps = readdirSync(dir).flatMap((file) => {
      const lines = readFileSync(join(dir, file), "utf8").split("\n");
      return lines.flatMap((line, i) => (line.includes("actions/setup-node@") ? [`${file}:${i + 1} ${lines.slice(i + 1, i + 4).join(" ")}`] : []));
    });
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.filter((step) => !/node-version-file: \.nvmrc/.test(step) || /node-version:/.test(step))).toEqual([]);
  });
});

test("the license file is Apache-2.0, as package.json says", () => {
  expect(JSON.parse(read("package.json")).license).toBe("Apache-2.0");
  expect(read("LICENSE")).toMatch(/Apache License\s+Version 2\.0, January 2004/);
});

describe("tools/find-python.sh", () => {
  let bin: string;
  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), "find-python-"));
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  /** A stand-in interpreter: answers the version check as a Python of that version would. */
  function fakePython(name: string, minor: number) {
    const path = join(bin, name);
    writeFileSync(path, `#!/bin/sh\n[ "$1" = --version ] && { echo "Python 3.${minor}.0"; exit 0; }\nexit ${minor >= 11 ? 0 : 1}\n`);
    chmodSync(path, 0o755);
    return path;
  }
  const find = () => spawnSync("/bin/sh", [join(ROOT, "tools", "find-python.sh")], { env: { PATH: bin }, encoding: "utf8" });

  test("takes python3 when it is 3.11 or newer", () => {
    const python3 = fakePython("python3", 12);
    fakePython("python3.11", 11);
    expect(find()).toMatchObject({ status: 0, stdout: `${python3}\n` });
  });

  test("passes over an older python3 to a versioned name", () => {
    fakePython("python3", 9);
    const python311 = fakePython("python3.11", 11);
    expect(find()).toMatchObject({ status: 0, stdout: `${python311}\n` });
  });

  test("none new enough: exit 1 naming what it found and how to choose one", () => {
    fakePython("python3", 9);
    const result = find();
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Python >= 3.11 not found on PATH");
    expect(result.stderr).toContain("got: Python 3.9.0");
    expect(result.stderr).toContain("PYTHON=/path/to/python3");
  });

  test("make uses it: the venvs are built with the Python it finds, and PYTHON= overrides it", () => {
    const printed = (args: string[]) =>
      execFileSync("make", ["-s", "-f", join(ROOT, "mk", "python.mk"), "-p", "-n", ...args], { cwd: ROOT, encoding: "utf8" })
        .split("\n")
        .find((line) => line.startsWith("PYTHON :="));
    const found = execFileSync(join(ROOT, "tools", "find-python.sh"), { encoding: "utf8" }).trim();
    expect(printed(["venv"])).toBe(`PYTHON := ${found}`);
    expect(printed(["venv", "PYTHON:=/opt/python/bin/python3"])).toBe("PYTHON := /opt/python/bin/python3");
  });
});
