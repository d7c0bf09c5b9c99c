/**
 * `make bootstrap-rehearsal`: applies members-bootstrap-aws on a local moto server (the AWS rehearsal's moto and
 * terraform with the filesystem mirror of the AWS provider), then checks that a second plan has no changes and that a
 * destroy plan is refused (prevent_destroy on the state buckets, keys and aliases). The shipped example values stop
 * the real stack's plan (placeholder guard), so the rehearsal synthesizes it with a non-example repository and
 * non-example state bucket names, and a local state file in its work folder.
 *
 *   node tools/bootstrap-rehearsal.ts [--work <dir>] [--python <moto venv python>] [--aws-version 5.100.0] [--plugin-mirror <dir>]
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { Testing } from "cdktf";
import { buildApp } from "../stacks/app";
import { AWS_BOOTSTRAP_STACK } from "../stacks/bootstrap";
import { config as shipped } from "../stacks/config/environments";
import type { AppConfigInput } from "../stacks/config/schema";
import { killAllSync, startMoto } from "./aws-rehearsal/moto";
import { motoOverride } from "./aws-rehearsal/override";
import { chooseCliConfig } from "./tf-validate/cli-config";

/** The shipped configuration with the values the placeholder guard refuses replaced by plausible ones. */
export function rehearsalConfig(config: AppConfigInput = shipped): AppConfigInput {
  return {
    ...config,
    github: { repository: "acme/members-lakehouse" },
    environments: config.environments.map((env) =>
      env.stateBackend.type === "s3"
        ? { ...env, stateBackend: { ...env.stateBackend, bucket: env.stateBackend.bucket.replace(/-?example/g, "") } }
        : env,
    ),
  };
}

/** The bootstrap stack's Terraform JSON for the rehearsal, with a local state file in its own folder. */
export function rehearsalStack(config: AppConfigInput = rehearsalConfig()): Record<string, any> {
  const app = buildApp(config, Testing.app());
  const json = JSON.parse(Testing.synth(app.node.findChild(AWS_BOOTSTRAP_STACK) as never));
  json.terraform.backend = { local: { path: "terraform.tfstate" } };
  return json;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      work: { type: "string", default: ".local/bootstrap-rehearsal" },
      python: { type: "string", default: ".local/aws-rehearsal/venv/bin/python" },
      "aws-version": { type: "string", default: "5.100.0" },
      "plugin-mirror": { type: "string", default: "/opt/tf-plugins" },
    },
  });
  const work = resolve(values.work as string);
  const dir = join(work, "stack");
  rmSync(work, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const moto = await startMoto(values.python as string, join(work, "moto.log"));
  // The CLI configuration tf-validate and the AWS rehearsal choose: the filesystem mirror of the AWS provider.
  const cli = chooseCliConfig(process.env, values["plugin-mirror"] as string, work);
  console.log(`bootstrap-rehearsal: CLI config: ${cli.description}`);
  const env = { ...cli.env, TF_IN_AUTOMATION: "1" };
  // Asynchronous: moto's output is drained by this process's event loop, which a synchronous call would block (moto
  // then stalls on a full pipe and terraform with it).
  const run = promisify(execFile);
  const tf = async (...args: string[]) =>
    (await run("terraform", [`-chdir=${dir}`, ...args, "-no-color"], { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })).stdout;
  try {
    const json = rehearsalStack();
    if (json.resource?.terraform_data) throw new Error("the rehearsal configuration still trips the placeholder guard");
    writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(json, null, 1));
    const override = motoOverride({
      endpoint: moto.endpoint,
      services: ["iam", "kms", "s3", "sts"],
      requiredProvider: json.terraform.required_providers.aws,
      version: values["aws-version"] as string,
      providerBlocks: json.provider.aws,
      backend: {},
    }) as { terraform: { backend?: unknown } };
    delete override.terraform.backend; // the stack's local backend stays
    writeFileSync(join(dir, "moto_override.tf.json"), JSON.stringify(override, null, 1));
    await tf("init", "-input=false");
    const applied = await tf("apply", "-input=false", "-auto-approve");
    console.log(`bootstrap-rehearsal: apply: ${/Apply complete![^\n]*/.exec(applied)?.[0]}`);
    // -detailed-exitcode: 2 = changes after apply (a perpetual diff), which execFile reports as an error.
    await tf("plan", "-input=false", "-detailed-exitcode");
    console.log("bootstrap-rehearsal: second plan: no changes");
    let refused = false;
    try {
      await tf("plan", "-destroy", "-input=false");
    } catch (error) {
      refused = String((error as { stdout?: string; stderr?: string }).stderr ?? "").includes("Instance cannot be destroyed");
    }
    if (!refused) throw new Error("a destroy plan of the bootstrap stack was not refused (prevent_destroy)");
    console.log("bootstrap-rehearsal: destroy plan refused (prevent_destroy)");
    console.log("bootstrap-rehearsal: OK");
  } finally {
    await moto.stop();
  }
}

if (require.main === module) {
  process.on("exit", killAllSync);
  main().catch((error) => {
    const detail = error as { stdout?: string; stderr?: string; message: string };
    console.error(`bootstrap-rehearsal: FAILED: ${detail.message}\n${detail.stderr ?? ""}`);
    process.exit(1);
  });
}
