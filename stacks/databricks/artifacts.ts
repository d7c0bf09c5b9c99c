import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { File } from "@cdktf/provider-databricks/lib/file";
import { Volume } from "@cdktf/provider-databricks/lib/volume";
import { AssetType, TerraformAsset } from "cdktf";
import { Construct } from "constructs";
import { invalidProp } from "../common/validation";
import platform from "../config/platform.json";

/** Where `make jdbc-driver` (mk/artifacts.mk) puts the artifacts it downloaded and checked: outside git. */
export const DEFAULT_ARTIFACTS_DIR = path.resolve(__dirname, "..", "..", ".local", "artifacts");

/** A file fetched by URL and accepted only with this sha256 (stacks/config/platform.json). */
export interface PinnedArtifact {
  readonly url: string;
  readonly sha256: string;
}

/** The JDBC driver jar the extract job attaches (platform.json jdbcDriver.jar). */
export const JDBC_DRIVER_JAR: PinnedArtifact = platform.jdbcDriver.jar;

/** The local file name of an artifact: the last segment of its URL. */
export const artifactFileName = (artifact: PinnedArtifact): string => path.posix.basename(new URL(artifact.url).pathname);

/**
 * The local copy of `artifact` in `dir`, refused unless its sha256 is the pinned one: `make jdbc-driver` checked it
 * when it downloaded it, and synth checks again, so a file replaced or corrupted since is never uploaded.
 */
export function verifiedArtifact(dir: string, artifact: PinnedArtifact): string {
  const file = path.join(dir, artifactFileName(artifact));
  if (!existsSync(file)) {
    invalidProp("PipelineArtifacts", "artifact", file, `the file downloaded from ${artifact.url} (run \`make jdbc-driver\`)`);
  }
  const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
  if (sha256 !== artifact.sha256) {
    invalidProp(
      "PipelineArtifacts",
      `sha256 of ${file}`,
      sha256,
      `${artifact.sha256} (stacks/config/platform.json); delete the file and run \`make jdbc-driver\``,
    );
  }
  return file;
}

export interface PipelineArtifactsProps {
  /** Catalog of the pipeline's schema (a reference when the stack creates it). */
  readonly catalogName: string;
  /** The pipeline's schema: the volume is created in it. */
  readonly schemaName: string;
  /**
   * Local folder holding the downloaded, checked artifacts.
   * @default the repository's .local/artifacts
   */
  readonly artifactsDir?: string;
  /** @default "artifacts" */
  readonly volumeName?: string;
}

/**
 * The job libraries that are not the stack's own code, as files the stack uploads after checking them: the MySQL
 * JDBC driver jar, downloaded by URL and refused unless its sha256 is the pinned one, in a Unity Catalog managed
 * volume of the pipeline's schema (`databricks_volume` + `databricks_file`). The extract task attaches it as
 * `{ jar: "/Volumes/..." }` instead of Maven coordinates, which the cluster would resolve from a repository at every
 * start with no checksum pinned here. The job principal reads it through READ_VOLUME on the schema (MembersCatalog's
 * SCHEMA_PRIVILEGES, inherited by the schema's volumes: this one only), beside USE CATALOG and USE SCHEMA.
 *
 * Not stateful: the volume holds nothing but what this construct uploads, so a replaced volume is refilled by the
 * same apply (stacks/protection/stateful-types.ts does not list databricks_volume or databricks_file).
 */
export class PipelineArtifacts extends Construct {
  readonly volume: Volume;
  readonly jdbcDriver: File;
  /** `/Volumes/<catalog>/<schema>/<volume>/<jar>`: the path a job library names (a reference to the uploaded file). */
  readonly jdbcDriverPath: string;

  constructor(scope: Construct, id: string, props: PipelineArtifactsProps) {
    super(scope, id);
    const jar = verifiedArtifact(props.artifactsDir ?? DEFAULT_ARTIFACTS_DIR, JDBC_DRIVER_JAR);

    this.volume = new Volume(this, "volume", {
      catalogName: props.catalogName,
      schemaName: props.schemaName,
      name: props.volumeName ?? "artifacts",
      volumeType: "MANAGED",
      comment: "Job libraries checked by sha256 before upload (stacks/config/platform.json); managed by Terraform.",
    });
    this.jdbcDriver = new File(this, "jar", {
      source: new TerraformAsset(this, "jar-source", { path: jar, type: AssetType.FILE }).path,
      path: `${this.volume.volumePath}/${path.basename(jar)}`,
      // A content change (a new pin) updates the file, and shows in the plan.
      md5: createHash("md5").update(readFileSync(jar)).digest("hex"),
    });
    this.jdbcDriverPath = this.jdbcDriver.path;
  }
}
