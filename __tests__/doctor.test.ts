/**
 * make doctor (issue 27, item 3): on the shipped example it lists every example value the deploy guard refuses and
 * each environment's example choices; on an adapted configuration and a ready machine it says nothing.
 */
import { config } from "../stacks/config/environments";
import { validateConfig } from "../stacks/config/validate";
import { configFindings, machineFindings, type Run, report } from "../tools/doctor";
import { adaptedConfig } from "./fixtures/adapted-config";

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

test("the shipped example: every placeholder field, the CI repository and each environment's choices", () => {
  const findings = configFindings(config);
  const placeholders = validateConfig(config).flatMap((env) => env.placeholders.map((p) => p.path));
  const mustChange = findings.filter((f) => f.section === "must change before a deploy").map((f) => f.text);
  expect(mustChange).toHaveLength(placeholders.length + 1);
  for (const path of [...placeholders, "github.repository"]) expect(mustChange.some((text) => text.startsWith(`${path}: got `))).toBe(true);
  for (const field of ["databricks.host", "runAsServicePrincipal", "piiReaderGroup", "failureEmails", "stateBackend"]) {
    expect(mustChange.some((text) => text.includes(field))).toBe(true);
  }
  const review = findings.filter((f) => f.section === "example choices to review").map((f) => f.text);
  expect(review).toHaveLength(config.environments.length);
  expect(review[0]).toMatch(/^environments\.dev: prefix "acme-members"; region eu-west-1; node types m6gd\.large; catalog members_dev\.members$/);
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
  const text = report([...configFindings(config), ...machineFindings(machine(), "20.0.0")]);
  expect(text).toMatch(
    /^must change before a deploy \(stacks\/config\/environments\.ts; docs\/adapt\/fork-checklist\.md\):\n {2}- environments\.dev\./,
  );
  expect(text).toContain("\nexample choices to review (");
  expect(text).toContain("\nthis machine:\n  - Node 20.0.0");
});
