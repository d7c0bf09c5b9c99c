import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chooseCliConfig, mirrorProviders } from "../tools/tf-validate/cli-config";
import { DATA_DEFAULTS, generateTftest, hclString, MOCK_POLICY_JSON, PLACEHOLDER_GUARD_ADDRESS } from "../tools/tf-validate/tftest";
import { synthAll, type TerraformJson } from "./synth-helpers";

/** The `mock_provider` labels (and aliases) of a generated test file. */
const mockProviders = (hcl: string) =>
  [...hcl.matchAll(/^mock_provider "([^"]+)" \{\n(?: {2}alias = "([^"]+)"\n)?/gm)].map(([, name, alias]) => (alias ? `${name}.${alias}` : name));

describe("tf-validate test file for every synthesized stack", () => {
  let stacks: Record<string, TerraformJson>;
  beforeAll(() => {
    stacks = synthAll().stacks;
  });

  it("mocks every required provider, sets every variable without a default, and plans once", () => {
    for (const [name, json] of Object.entries(stacks)) {
      const hcl = generateTftest(json as never, name);
      expect(mockProviders(hcl)).toEqual(expect.arrayContaining(Object.keys(json.terraform?.required_providers ?? {})));
      for (const [variable, spec] of Object.entries(json.variable ?? {})) {
        const line = new RegExp(`^  ${variable} = `, "m");
        expect([name, variable, line.test(hcl)]).toEqual([name, variable, !("default" in spec)]);
      }
      expect(hcl).toMatch(/^run "plan" \{\n {2}command = plan\n/m);
    }
  });

  it("expects the placeholder guard's failure in the stacks that carry it (every test stack: example values)", () => {
    for (const [name, json] of Object.entries(stacks)) {
      const hcl = generateTftest(json as never, name);
      expect([name, hcl.includes(`  expect_failures = [${PLACEHOLDER_GUARD_ADDRESS}]\n}`)]).toEqual([name, true]);
    }
  });

  it("gives every data source with a known format a mock inside its provider's block", () => {
    for (const [name, json] of Object.entries(stacks)) {
      const hcl = generateTftest(json as never, name);
      for (const type of Object.keys(json.data ?? {}).filter((t) => t in DATA_DEFAULTS)) {
        const provider = type.split("_")[0];
        const block = new RegExp(`^mock_provider "${provider}" \\{\\n(?:  .*\\n)*?  mock_data "${type}" \\{`, "m");
        expect([name, type, block.test(hcl)]).toEqual([name, type, true]);
      }
    }
  });
});

describe("tf-validate test file generation", () => {
  const hcl = generateTftest(
    {
      terraform: { required_providers: { aws: { source: "aws", version: "5.100.0" } } },
      provider: { aws: [{}, { alias: "us" }] },
      variable: {
        password: { type: "string", sensitive: true },
        count: { type: "number" },
        names: { type: "${list(string)}" },
        region: { type: "string", default: "eu-west-1" },
      },
      data: { aws_iam_policy_document: { doc: {} }, aws_region: { here: {} } },
    },
    "unit",
  );

  it("adds one mock_provider per alias, each with the data mocks", () => {
    expect(mockProviders(hcl)).toEqual(["aws", "aws.us"]);
    expect(hcl.match(/mock_data "aws_iam_policy_document"/g)).toHaveLength(2);
    expect(hcl).not.toContain('mock_data "aws_region"');
  });

  it("writes a policy mock that is valid JSON once HCL unquotes it", () => {
    expect(JSON.parse(JSON.parse(hclString(MOCK_POLICY_JSON)))).toHaveProperty("Statement");
    expect(hcl).toContain(`json = ${hclString(MOCK_POLICY_JSON)}`);
  });

  it("gives typed dummies to variables without a default only", () => {
    expect(hcl).toContain('password = "tf-validate-dummy-password" # sensitive');
    expect(hcl).toContain("count = 1\n");
    expect(hcl).toContain("names = []\n");
    expect(hcl).not.toMatch(/^ {2}region = /m);
  });

  it("plans once, expecting no failure, without a placeholder guard", () => {
    expect(hcl).toMatch(/^run "plan" \{\n {2}command = plan\n\}\n$/m);
    expect(hcl).not.toContain("expect_failures");
  });

  it("with the placeholder guard, the run expects its precondition to fail (and only it)", () => {
    const guarded = (resource: Record<string, Record<string, unknown>>) =>
      generateTftest({ terraform: { required_providers: { aws: { source: "aws" } } }, resource }, "unit");
    expect(PLACEHOLDER_GUARD_ADDRESS).toBe("terraform_data.placeholder_guard");
    expect(guarded({ terraform_data: { placeholder_guard: {} }, aws_s3_bucket: { b: {} } })).toMatch(
      /^run "plan" \{\n {2}command = plan\n {2}# .*\n {2}expect_failures = \[terraform_data\.placeholder_guard\]\n\}\n$/m,
    );
    expect(guarded({ terraform_data: { other: {} } })).not.toContain("expect_failures");
  });

  it("escapes HCL template sequences in strings", () => {
    expect(hclString("a${b}%{c}")).toBe('"a$${b}%%{c}"');
  });
});

describe("tf-validate CLI config choice", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tf-validate-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const mirror = () => {
    mkdirSync(join(dir, "mirror/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64"), { recursive: true });
    return join(dir, "mirror");
  };

  it("uses an existing CLI config file untouched", () => {
    const file = join(dir, "user.tfrc");
    writeFileSync(file, "");
    const env = { TF_CLI_CONFIG_FILE: file };
    const choice = chooseCliConfig(env, mirror(), join(dir, "work"));
    expect(choice.env).toBe(env);
    expect(choice.description).toContain(`${file} (TF_CLI_CONFIG_FILE), used as is`);
    expect(existsSync(join(dir, "work/terraformrc"))).toBe(false);
  });

  it("writes a mirror config when the named file is missing and the mirror exists", () => {
    const choice = chooseCliConfig({ TF_CLI_CONFIG_FILE: join(dir, "missing") }, mirror(), join(dir, "work"));
    const file = join(dir, "work/terraformrc");
    expect(choice.env.TF_CLI_CONFIG_FILE).toBe(file);
    const text = readFileSync(file, "utf8");
    expect(text).toContain('include = ["registry.terraform.io/hashicorp/aws"]');
    expect(text).toMatch(/direct \{\n\s+exclude = \["registry.terraform.io\/hashicorp\/aws"\]/);
  });

  it("leaves Terraform's defaults when there is neither a config file nor a mirror", () => {
    const env = { TF_CLI_CONFIG_FILE: join(dir, "missing") };
    const choice = chooseCliConfig(env, join(dir, "no-mirror"), join(dir, "work"));
    expect(choice.env).toBe(env);
    expect(choice.description).toMatch(/^Terraform's defaults/);
  });

  it("lists a mirror's providers as host/namespace/type", () => {
    expect(mirrorProviders(mirror())).toEqual(["registry.terraform.io/hashicorp/aws"]);
  });
});
