/**
 * The documentation's link check (tools/docs/check-links.ts, `make docs-links`): the repository's pages pass it, and a
 * fixture with a broken file link, a broken anchor and an unreachable page fails it, naming each.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { anchorsOf, checkLinks, linksOf, slugOf } from "../tools/docs/check-links";

const REPO = path.resolve(__dirname, "..");

test("every relative link and anchor of README.md, docs/ and notebooks/README.md resolves; every docs page is reachable", () => {
  const report = checkLinks(REPO);
  expect(report.problems).toEqual([]);
  expect(report.files).toBeGreaterThan(10);
});

describe("a fixture with broken links", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "docs-links-"));
    mkdirSync(path.join(root, "docs", "deploy"), { recursive: true });
    writeFileSync(
      path.join(root, "README.md"),
      [
        "# Fixture",
        "",
        "- [deploy](docs/deploy/first-deploy.md) and [its steps](docs/deploy/first-deploy.md#by-hand)",
        "- [gone](docs/deploy/missing.md)",
        "- [wrong anchor](docs/deploy/first-deploy.md#no-such-heading)",
        "- [outside](https://example.com/not-fetched) and `[in code](docs/nowhere.md)`",
        "",
      ].join("\n"),
    );
    writeFileSync(path.join(root, "docs", "deploy", "first-deploy.md"), "# Deploy\n\n## By hand\n\n[back](../../README.md#fixture)\n");
    writeFileSync(path.join(root, "docs", "orphan.md"), "# Nobody links here\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("reports the missing file, the missing heading and the unreachable page, and nothing else", () => {
    expect(checkLinks(root).problems).toEqual([
      "README.md:4: broken link docs/deploy/missing.md (no such file)",
      "README.md:5: broken link docs/deploy/first-deploy.md#no-such-heading (no heading #no-such-heading in docs/deploy/first-deploy.md)",
      "docs/orphan.md: unreachable from README.md (link it from README.md or docs/README.md)",
    ]);
  });

  test("the command exits 1 and prints each problem as file:line", () => {
    const run = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", "tools/docs/check-links.ts", root], {
      cwd: REPO,
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("README.md:4: broken link docs/deploy/missing.md (no such file)");
    expect(run.stderr).toContain("no heading #no-such-heading in docs/deploy/first-deploy.md");
  });
});

test("anchors are GitHub's heading slugs, outside code fences, numbered when repeated", () => {
  expect(slugOf("cdktf → CDK Terrain (`cdktn`)")).toBe("cdktf--cdk-terrain-cdktn");
  expect(slugOf("Notebooks and `members_pipeline`")).toBe("notebooks-and-members_pipeline");
  expect([...anchorsOf("# A\n## A\n```\n### Plan guard: FAILED\n```\n### C ###\n")]).toEqual(["a", "a-1", "c"]);
  expect(linksOf('[`x`](a.md#b) `[no](c.md)`\n```\n[no](d.md)\n```\n![i](e.svg "title")').map((l) => l.target)).toEqual(["a.md#b", "e.svg"]);
});
