import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { DataDatabricksCurrentUser } from "@cdktf/provider-databricks/lib/data-databricks-current-user";
import { Directory } from "@cdktf/provider-databricks/lib/directory";
import { Notebook } from "@cdktf/provider-databricks/lib/notebook";
import { Permissions } from "@cdktf/provider-databricks/lib/permissions";
import { WorkspaceFile } from "@cdktf/provider-databricks/lib/workspace-file";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
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

export interface PipelineCodeProps {
  /**
   * Workspace folder the stack creates and owns, e.g. /Workspace/Deployments/members/dev. Never under /Shared, where
   * every workspace user has CAN MANAGE (the policy pack refuses it).
   * @default `<deployer's home>/.bundle/members-pipeline/<folderName>`, the Asset Bundles convention
   */
  readonly deployRoot?: string;
  /** Last path segment of the default deploy root (the environment name). */
  readonly folderName: string;
  /** Gets CAN MANAGE on the folder: may change the code. */
  readonly owners: Principal;
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
 * Uploads the notebooks (`databricks_notebook`) and the `members_pipeline` package they import
 * (`databricks_workspace_file`, one per module or data file) into a folder the stack owns (`databricks_directory` with
 * `databricks_permissions`: owners CAN MANAGE, the job principal CAN READ; workspace admins and the folder's parent
 * owner keep theirs). The notebooks add their own workspace folder to sys.path, so the package sits next to them.
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
  /** Package modules by file name (e.g. "load.py"). */
  readonly packageFiles: Record<string, WorkspaceFile>;

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

    const root = props.deployRoot ?? `${new DataDatabricksCurrentUser(this, "deployer").home}/.bundle/members-pipeline/${props.folderName}`;
    const directory = new Directory(this, "root", { path: root });
    this.deployRoot = directory.path;
    const sameIdentity = JSON.stringify(props.owners) === JSON.stringify(props.readers);
    new Permissions(this, "root-permissions", {
      directoryPath: directory.path,
      accessControl: [accessControl(props.owners, "CAN_MANAGE"), ...(sameIdentity ? [] : [accessControl(props.readers, "CAN_READ")])],
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

    this.packageFiles = {};
    for (const file of packageModules(path.join(dir, PACKAGE))) {
      const source = path.join(dir, PACKAGE, file);
      const md5 = md5Of(source);
      // Ids from module names (`module-load`, `module-init`): stable as long as the module keeps its name.
      const moduleId = `module-${file
        .replace(/\.py$/, "")
        .replace(/^_+|_+$/g, "")
        .replace(/[^A-Za-z0-9]+/g, "-")}`;
      this.packageFiles[file] = new WorkspaceFile(this, moduleId, {
        path: `${this.deployRoot}/${PACKAGE}/${file}`,
        source: new TerraformAsset(this, `${moduleId}-source`, { path: source, type: AssetType.FILE }).path,
        md5,
      });
    }
  }
}

/**
 * The package's .py modules and .json data files (contract.json, read at run time), sorted; no tests, caches or
 * sub-folders (the package is flat).
 */
export function packageModules(packageDir: string): string[] {
  if (!existsSync(packageDir) || !statSync(packageDir).isDirectory()) {
    invalidProp("PipelineCode", "package folder", packageDir, `a folder holding ${PACKAGE}/*.py`);
  }
  const files = readdirSync(packageDir)
    .filter((f) => /\.(py|json)$/.test(f) && !/^test_|_test\.py$/.test(f) && statSync(path.join(packageDir, f)).isFile())
    .sort();
  if (!files.includes("__init__.py")) {
    invalidProp("PipelineCode", "package folder", packageDir, "a Python package (with __init__.py)");
  }
  return files;
}

function md5Of(file: string): string {
  if (!existsSync(file)) {
    invalidProp("PipelineCode", "notebook source", file, "an existing file");
  }
  return createHash("md5").update(readFileSync(file)).digest("hex");
}
