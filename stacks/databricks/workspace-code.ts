import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { Directory } from "@cdktf/provider-databricks/lib/directory";
import { Notebook } from "@cdktf/provider-databricks/lib/notebook";
import { Permissions } from "@cdktf/provider-databricks/lib/permissions";
import { WorkspaceFile } from "@cdktf/provider-databricks/lib/workspace-file";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { unzipSync } from "fflate";
import { invalidProp, requireLiteral } from "../common/validation";
import { SHARED_WORKSPACE_FOLDER } from "../config/schema";
import { accessControl, type Principal } from "./principal";

/** The repository's notebooks/ folder. */
export const DEFAULT_NOTEBOOKS_DIR = path.resolve(__dirname, "..", "..", "notebooks");

/** The notebooks the jobs run, by workspace name (file name without .py). */
export const PIPELINE_NOTEBOOKS = ["extract_members", "load_members"] as const;
export type PipelineNotebook = (typeof PIPELINE_NOTEBOOKS)[number];
/** Test-data generator: deployed to development environments only (it writes into the MySQL table it is given). */
export const GENERATOR_NOTEBOOK = "generate_member_data";

const PACKAGE = "members_pipeline";

/**
 * Parent of the default deploy roots, at the workspace root ("Only workspace admins can create objects in the
 * Workspace root folder": the first deploy creates it as an admin, docs/deploy/prerequisites.md).
 * Paths are written without the `/Workspace` prefix: provider 1.99 reads a directory's path back from the API, which
 * may drop the prefix (terraform-provider-databricks #4672), and `path` forces a new directory. Where the `/Workspace`
 * form is required (job libraries), the objects' computed `workspace_path` gives it.
 */
export const DEPLOYMENTS_FOLDER = "/Deployments";
const WORKSPACE_PREFIX = /^\/Workspace(?=\/)/;

export interface PipelineCodeProps {
  /**
   * Workspace folder the stack creates and owns, e.g. /Deployments/members/dev (a `/Workspace` prefix is accepted and
   * dropped: see DEPLOYMENTS_FOLDER). Never under /Shared, where every workspace user has CAN MANAGE (the policy pack
   * refuses it). A function of the configuration only: never the deployer's home, which would move the code (and
   * replace every notebook) whenever someone else runs the plan.
   * @default `/Deployments/<folderName>`
   */
  readonly deployRoot?: string;
  /** Last path segment of the default deploy root (unique per workspace: prefix and environment). */
  readonly folderName: string;
  /** The platform team: CAN MANAGE on the folder, or CAN READ when `readOnlyForOwners`. */
  readonly owners: Principal;
  /**
   * Owners may only read the code (production): the code runs as the job principal with the MySQL secrets, so anyone
   * who can edit it acts as that principal, and the plan would not notice (the provider tracks a notebook's path and
   * md5 attribute, not the workspace content). Only the deployer, which creates and owns the objects, changes it.
   * @default false
   */
  readonly readOnlyForOwners?: boolean;
  /** Gets CAN READ on the folder: the identity the jobs run as. */
  readonly readers: Principal;
  /**
   * Also upload the member-data generator notebook.
   * @default false
   */
  readonly includeGenerator?: boolean;
  /**
   * Local folder holding the notebook sources and the members_pipeline package.
   * @default the repository's notebooks/ folder
   */
  readonly notebooksDir?: string;
}

/**
 * Uploads the notebooks (`databricks_notebook`) and the `members_pipeline` wheel they import (one
 * `databricks_workspace_file` under `dist/`, which the job tasks attach as a `whl` library: the way Databricks
 * recommends shipping code to jobs; workspace files as libraries need DBR 11.3 LTS+, the policy pins 17.3) into a
 * folder the stack owns (`databricks_directory` with `databricks_permissions`: owners CAN MANAGE (CAN READ in production), the job principal
 * CAN READ; workspace admins and the folder's parent owner keep theirs).
 *
 * Sources are cdktf assets: copied into the stack's output folder under a content-hash path, so the synthesized JSON
 * names no machine-specific absolute path (the same plan from any checkout) and changes exactly when the content does.
 * Each resource also carries the md5 of its file, which makes a content change readable in `cdktf diff` and review.
 */
export class PipelineCode extends Construct {
  /** The deploy root as a reference to the owned directory. */
  readonly deployRoot: string;
  readonly notebooks: Record<PipelineNotebook, Notebook>;
  /** The generator notebook, when included. */
  readonly generator?: Notebook;
  /** The members_pipeline wheel in the workspace. */
  readonly wheel: WorkspaceFile;
  /**
   * `/Workspace/...` path of the wheel, as a job library must name it: the Jobs API refuses a workspace file's plain
   * `path` (`/Users/...`) for libraries (provider docs: databricks_workspace_file `workspace_path`; MEM-JOB-003).
   */
  readonly wheelPath: string;

  constructor(scope: Construct, id: string, props: PipelineCodeProps) {
    super(scope, id);
    if (props.deployRoot !== undefined) {
      requireLiteral(
        "PipelineCode",
        "deployRoot",
        props.deployRoot,
        (p) => /^\/[^\s]*[^/\s]$/.test(p) && !SHARED_WORKSPACE_FOLDER.test(p),
        "an absolute workspace path without a trailing slash, outside /Shared",
      );
    }
    const dir = props.notebooksDir ?? DEFAULT_NOTEBOOKS_DIR;

    const root = (props.deployRoot ?? `${DEPLOYMENTS_FOLDER}/${props.folderName}`).replace(WORKSPACE_PREFIX, "");
    const directory = new Directory(this, "root", { path: root });
    this.deployRoot = directory.path;
    const sameIdentity = JSON.stringify(props.owners) === JSON.stringify(props.readers);
    new Permissions(this, "root-permissions", {
      directoryPath: directory.path,
      accessControl: [
        accessControl(props.owners, props.readOnlyForOwners ? "CAN_READ" : "CAN_MANAGE"),
        ...(sameIdentity ? [] : [accessControl(props.readers, "CAN_READ")]),
      ],
    });

    const upload = (name: string) => {
      const source = path.join(dir, `${name}.py`);
      return new Notebook(this, name, {
        path: `${this.deployRoot}/${name}`,
        language: "PYTHON",
        source: new TerraformAsset(this, `${name}-source`, { path: source, type: AssetType.FILE }).path,
        md5: md5Of(source),
      });
    };
    const notebooks = {} as Record<PipelineNotebook, Notebook>;
    for (const name of PIPELINE_NOTEBOOKS) notebooks[name] = upload(name);
    this.notebooks = notebooks;
    if (props.includeGenerator) this.generator = upload(GENERATOR_NOTEBOOK);

    const wheel = builtWheel(path.join(dir, "dist"));
    this.wheel = new WorkspaceFile(this, "package-wheel", {
      path: `${this.deployRoot}/dist/${path.basename(wheel)}`,
      source: new TerraformAsset(this, "package-wheel-source", { path: wheel, type: AssetType.FILE }).path,
      md5: md5Of(wheel),
    });
    this.wheelPath = this.wheel.workspacePath;
  }
}

/**
 * The one members_pipeline wheel `make wheel` built into `distDir`, refused when it is stale: a hand `cdktf deploy`
 * after editing the package would otherwise ship whatever wheel was built last. The wheel's package files must equal
 * the sources in `<distDir>/../members_pipeline`, byte for byte.
 */
export function builtWheel(distDir: string): string {
  const wheels = existsSync(distDir) ? readdirSync(distDir).filter((f) => /^members_pipeline-[^-]+-py3-none-any\.whl$/.test(f)) : [];
  if (wheels.length !== 1) {
    invalidProp("PipelineCode", "package wheel", wheels, `exactly one ${PACKAGE}-<version>-py3-none-any.whl in ${distDir} (run \`make wheel\`)`);
  }
  const wheel = path.join(distDir, wheels[0]);
  const stale = staleFiles(wheel, path.join(distDir, "..", PACKAGE));
  if (stale.length > 0) {
    invalidProp(
      "PipelineCode",
      "package wheel",
      wheels[0],
      `a wheel built from the current ${PACKAGE} sources (these differ: ${stale.join(", ")}); run \`make wheel\``,
    );
  }
  return wheel;
}

/** Package files whose content differs between the wheel and the source folder, or that only one of them has. */
export function staleFiles(wheel: string, sourceDir: string): string[] {
  const packaged = unzipSync(readFileSync(wheel), { filter: (entry) => entry.name.startsWith(`${PACKAGE}/`) });
  const inWheel = new Map(Object.entries(packaged).map(([name, bytes]) => [name.slice(PACKAGE.length + 1), Buffer.from(bytes)]));
  const sources = existsSync(sourceDir) ? sourceFiles(sourceDir) : [];
  const names = [...new Set([...inWheel.keys(), ...sources])].sort();
  return names.filter((name) => {
    const source = path.join(sourceDir, name);
    const packagedBytes = inWheel.get(name);
    return packagedBytes === undefined || !sources.includes(name) || !packagedBytes.equals(readFileSync(source));
  });
}

/** What hatchling packages: every file below the package folder except byte-code caches (git-ignored). */
function sourceFiles(dir: string, prefix = ""): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) return entry.name === "__pycache__" ? [] : sourceFiles(dir, name);
    return entry.name.endsWith(".pyc") ? [] : [name];
  });
}

function md5Of(file: string): string {
  if (!existsSync(file)) {
    invalidProp("PipelineCode", "source", file, "an existing file");
  }
  return createHash("md5").update(readFileSync(file)).digest("hex");
}
