/**
 * `make doctor`: what a fork still has to adapt and what this machine lacks, each with its fix; quiet when ready.
 *
 * Configuration: every field the deploy-time guard refuses (stacks/config/placeholders.ts, the one list of example
 * values: hosts, principals, groups, e-mails, state stores, subnets, the CI repository), then, for each environment
 * that still holds one, its example choices to review (prefix, region, node types, catalog): valid values a fork
 * usually makes its own, so they are listed only while the environment is not adapted yet.
 * Machine: Node (package.json's engines), Python >= 3.11 by any name (tools/find-python.sh), Java 17+ (local Spark),
 * terraform. Exit status 1 when anything is listed.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { config } from "../stacks/config/environments";
import { ciPlaceholderProblems } from "../stacks/config/placeholders";
import type { AppConfigInput } from "../stacks/config/schema";
import { formatProblem, validateConfig } from "../stacks/config/validate";

const ROOT = join(__dirname, "..");
const CONFIG_FILE = "stacks/config/environments.ts";

export interface Finding {
  readonly section: "must change before a deploy" | "example choices to review" | "this machine";
  readonly text: string;
}

/** The configuration's example values, in config order. */
export function configFindings(appConfig: AppConfigInput): Finding[] {
  const findings: Finding[] = [];
  const envs = validateConfig(appConfig);
  for (const env of envs) {
    for (const problem of env.placeholders) findings.push({ section: "must change before a deploy", text: formatProblem(problem) });
  }
  for (const problem of appConfig.github ? ciPlaceholderProblems(appConfig.github) : [])
    findings.push({ section: "must change before a deploy", text: formatProblem(problem) });
  for (const env of envs.filter((e) => e.placeholders.length > 0)) {
    const nodeTypes = [...new Set([env.cluster.nodeType, ...(env.cluster.allowedNodeTypes ?? [])])];
    const choices = [
      `prefix ${JSON.stringify(env.prefix)}`,
      `region ${env.region}`,
      `node types ${nodeTypes.join(", ")}`,
      `catalog ${env.catalog.name}.${env.catalog.schema}`,
    ];
    findings.push({ section: "example choices to review", text: `environments.${env.name}: ${choices.join("; ")}` });
  }
  return findings;
}

/** A command's output (stdout and stderr), or undefined when it is not on PATH or fails. */
export type Run = (command: string, args: readonly string[]) => string | undefined;

const run: Run = (command, args) => {
  const result = spawnSync(command, args, { encoding: "utf8", cwd: ROOT });
  return result.error || result.status !== 0 ? undefined : `${result.stdout}${result.stderr}`;
};

const versionOf = (text: string | undefined, pattern: RegExp) => text?.match(pattern)?.slice(1).map(Number);
const atLeast = (got: number[], want: number[]) => {
  for (let i = 0; i < want.length; i++) if ((got[i] ?? 0) !== want[i]) return (got[i] ?? 0) > want[i];
  return true;
};

/** What this machine lacks for `make test`, `make synth` and `make demo`. */
export function machineFindings(exec: Run = run, nodeVersion = process.versions.node): Finding[] {
  const findings: string[] = [];
  const engines = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
  const wantNode = versionOf(engines, /(\d+)\.(\d+)/) ?? [];
  if (!atLeast(versionOf(nodeVersion, /^(\d+)\.(\d+)/) ?? [], wantNode)) {
    findings.push(`Node ${nodeVersion}, expected ${engines} (.nvmrc): nvm install, or npx -p node@${wantNode[0]} -- node`);
  }
  if (exec(join(ROOT, "tools", "find-python.sh"), []) === undefined) {
    findings.push("no Python >= 3.11 on PATH (python3, python3.13, python3.12, python3.11): install one, or make PYTHON=/path/to/python3");
  }
  const java = versionOf(exec("java", ["-version"]), /version "(\d+)/);
  if (java === undefined) findings.push("no java on PATH, expected Java 17 or newer (local Spark): apt-get install openjdk-17-jre-headless");
  else if (java[0] < 17) findings.push(`Java ${java[0]}, expected 17 or newer (local Spark): install a newer JDK and put it first on PATH`);
  const terraform = versionOf(exec("terraform", ["version"]), /Terraform v(\d+)\.(\d+)/);
  if (terraform === undefined)
    findings.push("no terraform on PATH, expected 1.x (make tf-validate, plans): https://developer.hashicorp.com/terraform/install");
  return findings.map((text) => ({ section: "this machine", text }));
}

/** The report: nothing when ready, else each section with its findings and where to change them. */
export function report(findings: readonly Finding[]): string {
  if (findings.length === 0) return "";
  const sections = [...new Set(findings.map((f) => f.section))];
  const lines: string[] = [];
  for (const section of sections) {
    const where = section === "this machine" ? "" : ` (${CONFIG_FILE}; docs/adapt/fork-checklist.md)`;
    lines.push(`${section}${where}:`, ...findings.filter((f) => f.section === section).map((f) => `  - ${f.text}`), "");
  }
  return lines.join("\n");
}

if (require.main === module) {
  const text = report([...configFindings(config), ...machineFindings()]);
  process.stdout.write(text);
  process.exitCode = text ? 1 : 0;
}
