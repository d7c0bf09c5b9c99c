/**
 * `make help` (issue 27, item 6): every documented target, grouped by what a reader is doing (first look, develop,
 * deploy, maintain) and aligned; a target documented without one of those groups fails here instead of landing in
 * "other".
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..");
const GROUPS = ["first look", "develop", "deploy", "maintain"];

const help = execFileSync("make", ["-s", "--no-print-directory", "help"], { cwd: ROOT, encoding: "utf8" });
const makefiles = ["Makefile", ...readdirSync(join(ROOT, "mk")).map((f) => join("mk", f))];
const documented = makefiles.flatMap((file) => [...readFileSync(join(ROOT, file), "utf8").matchAll(/^([a-zA-Z_-]+):.*## /gm)].map((m) => m[1]));

test("the groups come in reading order and nothing is left ungrouped", () => {
  const headings = help.split("\n").filter((line) => /^\S.*:$/.test(line));
  expect(headings).toEqual(GROUPS.map((g) => `${g}:`));
});

test("every documented target is listed once, descriptions aligned in one column", () => {
  const rows = help.split("\n").filter((line) => line.startsWith("  make "));
  const listed = rows.map((line) => line.split(/\s+/)[2]);
  expect([...listed].sort()).toEqual([...documented].sort());
  const columns = new Set(rows.map((line) => line.search(/(?<=^ {2}make \S+ +)\S/)));
  expect(columns.size).toBe(1);
});
