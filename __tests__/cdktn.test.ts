import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DataAzureadServicePrincipal as PrebuiltServicePrincipal } from "@cdktf/provider-azuread/lib/data-azuread-service-principal";
import { AzureadProvider as PrebuiltAzureadProvider } from "@cdktf/provider-azuread/lib/provider";
import { TimeProvider as PrebuiltTimeProvider } from "@cdktf/provider-time/lib/provider";
import { Sleep as PrebuiltSleep } from "@cdktf/provider-time/lib/sleep";
import { type TerraformResource, TerraformStack, Testing } from "cdktf";
import { validateConfig } from "../stacks/config/validate";
import { AzureadProvider, DataAzureadServicePrincipal, Sleep, type SleepConfig, TimeProvider } from "../tools/cdktn/bindings";
import { cdktfImports, mapSpecifier, rewriteImports } from "../tools/cdktn/codemod";
import { compareSynths, explain, failures, formatReport, kindOf } from "../tools/cdktn/compare";
import { COVERAGE_SUFFIX, comparedConfig } from "../tools/cdktn/synth";
import { testConfig } from "./fixtures/test-config";
import type { TerraformJson } from "./synth-helpers";

// Two small synthesized stacks (members-prod trimmed to a few blocks): the cdktf 0.21 lane and the cdktn 0.24 lane.
const fixture = (lane: string): TerraformJson => JSON.parse(readFileSync(join(__dirname, "fixtures", "cdktn", `${lane}.json`), "utf8"));
const BUCKET = "landing_storage_bucket_2664DE92";

describe("cdktn comparison (tools/cdktn/compare.ts)", () => {
  test("the two lanes' fixtures: same addresses; the provider pins differ and are reported, explained, not failing", () => {
    const comparison = compareSynths({ prod: fixture("cdktf") }, { prod: fixture("cdktn") });
    expect(failures(comparison)).toEqual([]);
    expect(comparison.stacks[0].differences).toEqual([
      { address: "terraform.required_providers.aws", path: "source", cdktf: "aws", cdktn: "hashicorp/aws" },
      { address: "terraform.required_providers.aws", path: "version", cdktf: "6.25.0", cdktn: "6.66.0" },
    ]);
    expect(comparison.stacks[0].differences.map((d) => explain(kindOf(d)))).not.toContain(undefined);
    expect(formatReport(comparison, { prod: fixture("cdktf") }, { prod: fixture("cdktn") })).toContain("**PASS**");
  });

  test("a resource removed from the cdktn synth fails the check and names its address", () => {
    const cdktn = fixture("cdktn");
    delete cdktn.resource!.aws_s3_bucket[BUCKET];
    const comparison = compareSynths({ prod: fixture("cdktf") }, { prod: cdktn });
    expect(comparison.stacks[0].missing).toEqual([`aws_s3_bucket.${BUCKET}`]);
    expect(failures(comparison)).toEqual([`prod: aws_s3_bucket.${BUCKET} missing in the cdktn synth`]);
    const report = formatReport(comparison, { prod: fixture("cdktf") }, { prod: cdktn });
    expect(report).toContain("**FAIL**");
    expect(report).toContain(`aws_s3_bucket.${BUCKET} missing in the cdktn synth`);
  });

  test("extra resources, data sources, outputs, required providers and whole stacks fail too", () => {
    const cdktn = fixture("cdktn");
    cdktn.resource!.aws_s3_bucket.extra = {};
    cdktn.output!.extra = { value: "x" };
    cdktn.terraform!.required_providers.random = { source: "hashicorp/random", version: "3.7.2" };
    delete cdktn.data!.aws_caller_identity;
    expect(failures(compareSynths({ prod: fixture("cdktf") }, { prod: cdktn, other: cdktn })).sort()).toEqual([
      expect.stringMatching(/^prod: aws_s3_bucket\.extra only in/),
      expect.stringMatching(/^prod: data\.aws_caller_identity\.\S+ missing in/),
      "prod: output.extra only in the cdktn synth",
      "prod: terraform.required_providers.random only in the cdktn synth",
      "stack other: only in the cdktn synth",
    ]);
  });

  test("attribute differences are grouped by kind, list indexes dropped; an unknown kind is flagged, not failed", () => {
    const cdktn = fixture("cdktn");
    const bucket = cdktn.resource!.aws_s3_bucket[BUCKET];
    bucket.force_destroy = true;
    delete bucket.bucket;
    cdktn.provider!.aws[0].default_tags[0].tags.environment = "other";
    const comparison = compareSynths({ prod: fixture("cdktf") }, { prod: cdktn });
    expect(failures(comparison)).toEqual([]);
    const byKind = comparison.stacks[0].differences.filter((d) => !d.address.startsWith("terraform"));
    expect(byKind.map(kindOf)).toEqual(["aws_s3_bucket bucket", "aws_s3_bucket force_destroy", "provider default_tags[].tags.environment"]);
    expect(byKind[0]).toMatchObject({ cdktf: "acme-members-prod-landing", cdktn: undefined });
    const report = formatReport(comparison, { prod: fixture("cdktf") }, { prod: cdktn });
    expect(report).toContain("### `aws_s3_bucket force_destroy`: 1 in 1 stacks");
    expect(report).toContain("**Not explained yet**");
  });

  test("construct metadata (`//`) is not compared", () => {
    const cdktn = fixture("cdktn");
    cdktn.resource!.aws_s3_bucket[BUCKET]["//"] = { metadata: { path: "elsewhere" } };
    expect(compareSynths({ prod: fixture("cdktf") }, { prod: cdktn }).stacks[0].differences.every((d) => d.address.startsWith("terraform"))).toBe(
      true,
    );
  });
});

describe("the environments both lanes synthesize (tools/cdktn/synth.ts)", () => {
  test("the Key Vault coverage copy of an Azure environment validates: its own catalog, not the original's on the same metastore", () => {
    const environments = validateConfig(comparedConfig(testConfig));
    const original = environments.find((e) => e.name === "lab")!;
    const coverage = environments.find((e) => e.name === `lab${COVERAGE_SUFFIX}`)!;
    expect(coverage.azure?.keyVaultSecretScope).toBe(true);
    expect([coverage.cloud, coverage.region]).toEqual([original.cloud, original.region]);
    expect(coverage.catalog.name).not.toBe(original.catalog.name);
  });
});

describe("cdktn codemod (tools/cdktn/codemod.ts)", () => {
  const imports = (specifier: string) => `import { X } from "${specifier}";\nconst y = require("${specifier}");\n`;

  test("cdktf becomes cdktn; providers with an @cdktn package keep their per-resource path", () => {
    expect(mapSpecifier("cdktf", "./b")).toBe("cdktn");
    expect(mapSpecifier("@cdktf/provider-aws/lib/s3-bucket", "./b")).toBe("@cdktn/provider-aws/lib/s3-bucket");
    expect(mapSpecifier("@cdktf/provider-databricks/lib/job", "./b")).toBe("@cdktn/provider-databricks/lib/job");
    expect(rewriteImports(imports("cdktf"), "./b")).toBe(imports("cdktn"));
  });

  test("time and azuread (no @cdktn package) go to the hand-written bindings; anything else is left and reported", () => {
    expect(mapSpecifier("@cdktf/provider-time/lib/sleep", "../tools/cdktn/bindings")).toBe("../tools/cdktn/bindings");
    expect(mapSpecifier("@cdktf/provider-azuread/lib/provider", "./b")).toBe("./b");
    const random = "@cdktf/provider-random/lib/password";
    const rewritten = rewriteImports(imports(random), "./b");
    expect(rewritten).toBe(imports(random));
    expect(cdktfImports(rewritten)).toEqual([random, random]);
  });

  test("only module specifiers change: strings and comments that mention cdktf stay", () => {
    const source = `// cdktf app\nconst tag = { "managed-by": "cdktf" };\n`;
    expect(rewriteImports(source, "./b")).toBe(source);
  });
});

describe("hand-written time and azuread bindings (tools/cdktn/bindings.ts)", () => {
  // The same constructs through the frozen @cdktf packages and through the bindings: identical Terraform JSON.
  type Construct<C, T> = new (scope: TerraformStack, id: string, config: C) => T;
  function synth(build: (stack: TerraformStack) => void): string {
    const stack = new TerraformStack(Testing.app(), "bindings");
    build(stack);
    return Testing.synth(stack);
  }

  test("time provider and time_sleep (triggers, depends_on)", () => {
    const build =
      (P: new (scope: TerraformStack, id: string) => unknown, S: Construct<SleepConfig, TerraformResource>) => (stack: TerraformStack) => {
        new P(stack, "time");
        const first = new S(stack, "first", { createDuration: "30s" });
        new S(stack, "second", { createDuration: "60s", destroyDuration: "5s", dependsOn: [first], triggers: { role: "arn:aws:iam::1:role/r" } });
      };
    expect(synth(build(TimeProvider, Sleep))).toBe(synth(build(PrebuiltTimeProvider, PrebuiltSleep)));
  });

  test("azuread provider and the service principal lookup, referenced by object_id", () => {
    const build =
      (P: Construct<Record<string, never>, unknown>, D: Construct<{ clientId: string }, { objectId: string }>) => (stack: TerraformStack) => {
        new P(stack, "azuread", {});
        const sp = new D(stack, "sp", { clientId: "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d" });
        new Sleep(stack, "uses", { triggers: { principal: sp.objectId } });
      };
    const prebuilt = synth(build(PrebuiltAzureadProvider, PrebuiltServicePrincipal));
    expect(synth(build(AzureadProvider, DataAzureadServicePrincipal))).toBe(prebuilt);
    expect(prebuilt).toContain("${data.azuread_service_principal.sp.object_id}");
  });
});
