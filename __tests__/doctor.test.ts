/**
 * make doctor (issue 27, item 3): on a configuration holding example values it lists every one the deploy guards refuse
 * and each environment's example choices; on an adapted configuration and a ready machine it says nothing.
 */
import { config as shipped } from "../stacks/config/environments";
import { ciPlaceholderProblems } from "../stacks/config/placeholders";
import { formatProblem, validateConfig } from "../stacks/config/validate";
import { configFindings, machineFindings, type Run, report } from "../tools/doctor";
import { adaptedConfig } from "./fixtures/adapted-config";
import { testConfig } from "./fixtures/test-config";

const READY: Record<string, string> = {
  java: 'openjdk version "17.0.15" 2025-04-15',
  terraform: "Terraform v1.11.4\non linux_amd64",
};
const machine =
  (overrides: Record<string, string | undefined> = {}): Run =>
  (command) => {
    const name = command.endsWith("find-python.sh") ? "python" : command;
    const all: Record<string, string | undefined> = { ...READY, python: "/usr/bin/python3\n", ...overrides };
    return all[name];
  };

test("a configuration holding example values (the test configuration): every placeholder field, the CI repository and each environment's choices", () => {
  const findings = configFindings(testConfig);
  const placeholders = validateConfig(testConfig).flatMap((env) => env.placeholders.map((p) => p.path));
  const mustChange = findings.filter((f) => f.section === "must change before a deploy").map((f) => f.text);
  expect(mustChange).toHaveLength(placeholders.length + 1);
  for (const path of [...placeholders, "github.repository"]) expect(mustChange.some((text) => text.startsWith(`${path}: got `))).toBe(true);
  for (const field of ["databricks.host", "runAsServicePrincipal", "piiReaderGroup", "failureEmails", "stateBackend"]) {
    expect(mustChange.some((text) => text.includes(field))).toBe(true);
  }
  const review = findings.filter((f) => f.section === "example choices to review").map((f) => f.text);
  expect(review).toHaveLength(testConfig.environments.length);
  expect(review[0]).toMatch(/^environments\.sandbox: prefix "globex-lake"; region eu-west-1; node types m6gd\.large; catalog lake_sandbox\.members$/);
});

test("the shipped configuration (or a fork's): make doctor's findings are exactly what the placeholder guards refuse", () => {
  const mustChange = configFindings(shipped)
    .filter((f) => f.section === "must change before a deploy")
    .map((f) => f.text);
  const refused = [
    ...validateConfig(shipped).flatMap((env) => env.placeholders),
    ...(shipped.github ? ciPlaceholderProblems(shipped.github) : []),
  ].map(formatProblem);
  expect(mustChange).toEqual(refused);
});

test("an adapted configuration on a ready machine: quiet", () => {
  expect(configFindings(adaptedConfig())).toEqual([]);
  expect(machineFindings(machine(), "22.12.0")).toEqual([]);
  expect(report([])).toBe("");
});

test("what the machine lacks, each with its fix", () => {
  const texts = machineFindings(machine({ python: undefined, java: 'openjdk version "11.0.2"', terraform: undefined }), "20.20.2").map((f) => f.text);
  expect(texts).toEqual([
    expect.stringMatching(/^Node 20\.20\.2, expected >=22\.12 \(\.nvmrc\): nvm install/),
    expect.stringMatching(/^no Python >= 3\.11 on PATH .*make PYTHON=/),
    expect.stringMatching(/^Java 11, expected 17 or newer/),
    expect.stringMatching(/^no terraform on PATH/),
  ]);
  expect(machineFindings(machine({ java: undefined }), "24.1.0").map((f) => f.text)).toEqual([expect.stringMatching(/^no java on PATH/)]);
});

test("the report names each section and where to change it", () => {
  const text = report([...configFindings(testConfig), ...machineFindings(machine(), "20.0.0")]);
  expect(text).toMatch(
    /^must change before a deploy \(stacks\/config\/environments\.ts; docs\/adapt\/fork-checklist\.md\):\n {2}- environments\.sandbox\./,
  );
  expect(text).toContain("\nexample choices to review (");
  expect(text).toContain("\nthis machine:\n  - Node 20.0.0");
});
