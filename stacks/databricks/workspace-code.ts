import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { Notebook } from "@cdktf/provider-databricks/lib/notebook";
import { WorkspaceFile } from "@cdktf/provider-databricks/lib/workspace-file";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { requireLiteral } from "./principal";

/** The repository's notebooks/ folder. */
export const DEFAULT_NOTEBOOKS_DIR = path.resolve(__dirname, "..", "..", "notebooks");

/** The notebooks the jobs run, by workspace name (file name without .py). */
export const PIPELINE_NOTEBOOKS = ["extract_members", "load_members", "generate_member_data"] as const;
export type PipelineNotebook = (typeof PIPELINE_NOTEBOOKS)[number];

const PACKAGE = "members_pipeline";

export interface PipelineCodeProps {
  /** Workspace folder everything is uploaded to, e.g. /Shared/members-pipeline/dev. */
  readonly deployRoot: string;
  /**
   * Local folder holding the notebook sources and the members_pipeline package.
   * @default the repository's notebooks/ folder
   */
  readonly notebooksDir?: string;
}

/**
 * Uploads the notebooks (`databricks_notebook`) and the `members_pipeline` package they import
 * (`databricks_workspace_file`, one per module) under one deploy root. The notebooks add their own workspace folder to
 * sys.path, so the package must sit next to them.
 *
 * Sources are cdktf assets: copied into the stack's output folder under a content-hash path, so the synthesized JSON
 * names no machine-specific absolute path (the same plan from any checkout) and changes exactly when the content does.
 * Each resource also carries the md5 of its file, which makes a content change readable in `cdktf diff` and review.
 */
export class PipelineCode extends Construct {
  readonly notebooks: Record<PipelineNotebook, Notebook>;
  /** Package modules by file name (e.g. "load.py"). */
  readonly packageFiles: Record<string, WorkspaceFile>;

  constructor(scope: Construct, id: string, props: PipelineCodeProps) {
    super(scope, id);
    requireLiteral("PipelineCode", "deployRoot", props.deployRoot, (p) => /^\/[^\s]*[^/\s]$/.test(p),
      "an absolute workspace path without a trailing slash");
    const dir = props.notebooksDir ?? DEFAULT_NOTEBOOKS_DIR;

    const notebooks = {} as Record<PipelineNotebook, Notebook>;
    for (const name of PIPELINE_NOTEBOOKS) {
      const source = path.join(dir, `${name}.py`);
      const md5 = md5Of(source);
      notebooks[name] = new Notebook(this, name, {
        path: `${props.deployRoot}/${name}`,
        language: "PYTHON",
        source: new TerraformAsset(this, `${name}-source`, { path: source, type: AssetType.FILE }).path,
        md5,
      });
    }
    this.notebooks = notebooks;

    this.packageFiles = {};
    for (const file of packageModules(path.join(dir, PACKAGE))) {
      const source = path.join(dir, PACKAGE, file);
      const md5 = md5Of(source);
      // Ids from module names (`module-load`, `module-init`): stable as long as the module keeps its name.
      const moduleId = `module-${file.replace(/\.py$/, "").replace(/^_+|_+$/g, "").replace(/[^A-Za-z0-9]+/g, "-")}`;
      this.packageFiles[file] = new WorkspaceFile(this, moduleId, {
        path: `${props.deployRoot}/${PACKAGE}/${file}`,
        source: new TerraformAsset(this, `${moduleId}-source`, { path: source, type: AssetType.FILE }).path,
        md5,
      });
    }
  }
}

/** The package's .py modules, sorted; no tests, caches or sub-folders (the package is flat). */
export function packageModules(packageDir: string): string[] {
  if (!existsSync(packageDir) || !statSync(packageDir).isDirectory()) {
    throw new Error(`PipelineCode: package folder: got ${JSON.stringify(packageDir)}, expected a folder holding ${PACKAGE}/*.py`);
  }
  const files = readdirSync(packageDir)
    .filter((f) => f.endsWith(".py") && !/^test_|_test\.py$/.test(f) && statSync(path.join(packageDir, f)).isFile())
    .sort();
  if (!files.includes("__init__.py")) {
    throw new Error(`PipelineCode: package folder: got ${JSON.stringify(packageDir)} without __init__.py, expected a Python package`);
  }
  return files;
}

function md5Of(file: string): string {
  if (!existsSync(file)) {
    throw new Error(`PipelineCode: notebook source: got ${JSON.stringify(file)}, expected an existing file`);
  }
  return createHash("md5").update(readFileSync(file)).digest("hex");
}
