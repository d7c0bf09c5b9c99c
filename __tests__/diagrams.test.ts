import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { DIAGRAM_STACKS, generateResourceDiagrams } from "../tools/resource-diagram";

const DIAGRAMS = join(__dirname, "..", "diagrams");

function mermaidSources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "renderer") return [];
    if (statSync(path).isDirectory()) return mermaidSources(path);
    return entry.endsWith(".mmd") ? [path] : [];
  });
}

describe("generated stack diagrams", () => {
  const generated = generateResourceDiagrams();

  test.each([...DIAGRAM_STACKS])("diagrams/generated/%s.mmd matches the current code (run `make diagrams`)", (stack) => {
    const committed = readFileSync(join(DIAGRAMS, "generated", `${stack}.mmd`), "utf8");
    expect(committed).toBe(generated[stack]);
  });

  test("draws references between resources, e.g. the external location uses the storage credential", () => {
    expect(generated["members-prod"]).toMatch(
      /databricks_storage_credential_\S+ --> databricks_external_location_\S+/,
    );
    expect(generated["members-azure-dev"]).toMatch(/azurerm_databricks_access_connector_\S+ --> databricks_storage_credential_\S+/);
  });
});

describe("rendered SVGs", () => {
  const sources = mermaidSources(DIAGRAMS);

  test("cover the architecture, the daily run, the security boundaries and the generated stacks", () => {
    const names = sources.map((s) => relative(DIAGRAMS, s)).sort();
    expect(names).toEqual(
      expect.arrayContaining(["architecture.mmd", "daily-run.mmd", "security.mmd", ...DIAGRAM_STACKS.map((s) => `generated/${s}.mmd`)]),
    );
  });

  test.each(mermaidSources(DIAGRAMS).map((s) => relative(DIAGRAMS, s)))("%s has a current SVG (run `make diagrams`)", (name) => {
    const source = readFileSync(join(DIAGRAMS, name));
    const svg = readFileSync(join(DIAGRAMS, name.replace(/\.mmd$/, ".svg")), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    const stamp = /<!-- source-sha256: ([0-9a-f]{64}) rendered-by: mermaid-cli \S+ -->\s*$/.exec(svg);
    expect(stamp?.[1]).toBe(createHash("sha256").update(source).digest("hex"));
  });
});
