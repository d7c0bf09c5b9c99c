/**
 * Which Terraform CLI configuration tf-validate runs with. The user's own settings win: a CLI config file that
 * exists (TF_CLI_CONFIG_FILE, else TERRAFORM_CONFIG, else ~/.terraformrc) is used untouched. Only when no such file
 * exists and a plugin mirror directory does (the machine image's /opt/tf-plugins) does tf-validate write a CLI config
 * of its own: the mirror for the providers it holds, the registry (direct) for every other one. With neither,
 * Terraform's defaults apply (the registry).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export interface CliConfigChoice {
  /** Environment for every terraform call. */
  readonly env: NodeJS.ProcessEnv;
  /** One line for the log: which configuration, and why. */
  readonly description: string;
}

const isDir = (path: string) => existsSync(path) && statSync(path).isDirectory();

/** Providers a filesystem mirror holds (both layouts start `<host>/<namespace>/<type>/`), as `host/ns/type`. */
export function mirrorProviders(mirror: string): string[] {
  const found: string[] = [];
  const subdirs = (dir: string) => readdirSync(dir).filter((name) => isDir(join(dir, name)));
  for (const host of subdirs(mirror)) {
    for (const namespace of subdirs(join(mirror, host))) {
      for (const type of subdirs(join(mirror, host, namespace))) found.push(`${host}/${namespace}/${type}`);
    }
  }
  return found.sort();
}

/** The CLI config text for a mirror: its providers from the mirror, all others from their registries. */
export function mirrorCliConfig(mirror: string, providers: string[], why: string): string {
  const list = providers.map((p) => JSON.stringify(p)).join(", ");
  return [
    `# Written by tools/tf-validate: ${why}.`,
    "provider_installation {",
    "  filesystem_mirror {",
    `    path    = ${JSON.stringify(mirror)}`,
    `    include = [${list}]`,
    "  }",
    "  direct {",
    `    exclude = [${list}]`,
    "  }",
    "}",
    "",
  ].join("\n");
}

export function chooseCliConfig(env: NodeJS.ProcessEnv, pluginMirror: string | undefined, workDir: string): CliConfigChoice {
  const [configured, how] = env.TF_CLI_CONFIG_FILE
    ? [env.TF_CLI_CONFIG_FILE, "TF_CLI_CONFIG_FILE"]
    : env.TERRAFORM_CONFIG
      ? [env.TERRAFORM_CONFIG, "TERRAFORM_CONFIG"]
      : [join(homedir(), ".terraformrc"), "default location"];
  if (existsSync(configured)) {
    return { env, description: `${configured} (${how}), used as is` };
  }
  const providers = pluginMirror && isDir(pluginMirror) ? mirrorProviders(pluginMirror) : [];
  if (pluginMirror && providers.length > 0) {
    const why = `${configured} (${how}) does not exist and the plugin mirror ${pluginMirror} does`;
    const file = resolve(workDir, "terraformrc");
    mkdirSync(workDir, { recursive: true });
    writeFileSync(file, mirrorCliConfig(resolve(pluginMirror), providers, why));
    return {
      env: { ...env, TF_CLI_CONFIG_FILE: file },
      description: `${file} (written because ${why}): filesystem mirror for ${providers.join(", ")}; direct from the registry for every other provider`,
    };
  }
  const mirrorNote = pluginMirror ? `, no plugin mirror at ${pluginMirror}` : "";
  return {
    env,
    description: `Terraform's defaults (${configured} (${how}) does not exist${mirrorNote}): providers from their registries`,
  };
}

/** `terraform version -json`'s version under `env`, or undefined when there is no terraform on PATH. */
export function terraformVersion(env: NodeJS.ProcessEnv): string | undefined {
  const run = spawnSync("terraform", ["version", "-json"], { encoding: "utf8", env });
  if (run.error && (run.error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  if (run.error) throw run.error;
  return (JSON.parse(run.stdout) as { terraform_version: string }).terraform_version;
}
