import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { config as shipped } from "../stacks/config/environments";
import { validateConfig } from "../stacks/config/validate";
import { generateResourceDiagrams, resourceDiagram, SCREEN } from "../tools/resource-diagram";

const DIAGRAMS = join(__dirname, "..", "diagrams");

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "renderer") return [];
    if (statSync(path).isDirectory()) return filesUnder(path, extension);
    return entry.endsWith(extension) ? [path] : [];
  });
}

const mermaidSources = (dir: string) => filesUnder(dir, ".mmd");

/** Every configured stack is drawn: the environments' stacks and, with github.repository, the bootstrap stacks. */
const GENERATED = generateResourceDiagrams();
const DIAGRAM_STACKS = Object.keys(GENERATED);
const ENVIRONMENT_STACKS = validateConfig(shipped).map((env) => env.stackName);

/** The size an SVG opens at: its width/height attributes, and its viewBox. */
function svgSize(svg: string): { width: number; height: number; viewBox: number[] } {
  const root = /^<svg [^>]*>/.exec(svg)?.[0] ?? "";
  const viewBox = (/viewBox="([^"]+)"/.exec(root)?.[1] ?? "").split(/\s+/).map(Number);
  return { width: Number(/ width="([\d.]+)"/.exec(root)?.[1]), height: Number(/ height="([\d.]+)"/.exec(root)?.[1]), viewBox };
}

describe("generated stack diagrams", () => {
  const generated = GENERATED;

  test("every configured stack has a picture, and no other stack has one (run `make diagrams`)", () => {
    const drawn = readdirSync(join(DIAGRAMS, "generated")).filter((f) => f.endsWith(".mmd"));
    expect(drawn.sort()).toEqual(DIAGRAM_STACKS.map((s) => `${s}.mmd`).sort());
    expect(DIAGRAM_STACKS).toEqual(expect.arrayContaining(ENVIRONMENT_STACKS));
  });

  test.each([...DIAGRAM_STACKS])("diagrams/generated/%s.mmd matches the current code (run `make diagrams`)", (stack) => {
    const committed = readFileSync(join(DIAGRAMS, "generated", `${stack}.mmd`), "utf8");
    expect(committed).toBe(generated[stack]);
  });

  test("draws references between resources, e.g. the external location uses the storage credential", () => {
    expect(generated["members-prod"]).toMatch(/databricks_storage_credential_\S+ --> databricks_external_location_\S+/);
    expect(generated["members-azure-dev"]).toMatch(/azurerm_databricks_access_connector_\S+ --> databricks_storage_credential_\S+/);
  });

  test("leaves out terraform_data (the placeholder guard: a check, not infrastructure)", () => {
    for (const stack of DIAGRAM_STACKS) expect(generated[stack]).not.toContain("terraform_data");
    const json = { resource: { terraform_data: { placeholder_guard: {} }, databricks_directory: { root: { path: "/x" } } } };
    const source = resourceDiagram("s", json, new Map([["databricks_directory.root", "pipeline/code/root"]]));
    expect(source).toContain("databricks_directory");
    expect(source).not.toContain("terraform_data");
    expect(source).not.toContain('subgraph g_stack["stack"]');
  });

  test("grants of a type all on one node are drawn inside it; grants on several nodes are a node of their own", () => {
    const grant = (on: string) => ({ principal: "${azurerm_databricks_access_connector.connector.identity[0].principal_id}", scope: on });
    const json = {
      resource: {
        azurerm_databricks_access_connector: { connector: { name: "c" } },
        azurerm_storage_account: { account: { name: "a" } },
        azurerm_role_assignment: { blob: grant("${azurerm_storage_account.account.id}"), queue: grant("${azurerm_storage_account.account.id}") },
        databricks_catalog: { catalog: { name: "c" } },
        databricks_schema: { schema: { catalog_name: "${databricks_catalog.catalog.name}" } },
        databricks_grants: {
          "catalog-grants": { catalog: "${databricks_catalog.catalog.name}" },
          "schema-grants": { schema: "${databricks_schema.schema.id}" },
        },
      },
    };
    const paths = new Map([
      ["azurerm_databricks_access_connector.connector", "landing/unity-catalog/connector"],
      ["azurerm_storage_account.account", "landing/storage/account"],
      ["azurerm_role_assignment.blob", "landing/unity-catalog/blob"],
      ["azurerm_role_assignment.queue", "landing/unity-catalog/queue"],
      ["databricks_catalog.catalog", "pipeline/catalog/catalog"],
      ["databricks_schema.schema", "pipeline/catalog/schema"],
      ["databricks_grants.catalog-grants", "pipeline/catalog/catalog-grants"],
      ["databricks_grants.schema-grants", "pipeline/catalog/schema-grants"],
    ]);
    const source = resourceDiagram("s", json, paths);
    expect(source).toContain(
      'azurerm_databricks_access_connector_landing_unity_catalog["azurerm_databricks_access_connector<br/>connector<br/>+ azurerm_role_assignment ×2"]',
    );
    expect(source).toContain('access_pipeline_catalog["databricks_grants ×2<br/>catalog-grants, schema-grants"]');
  });

  test.each(ENVIRONMENT_STACKS)("%s: one subgraph per construct, the uploaded code in one node with its count", (stack) => {
    const source = generated[stack];
    expect(source).toContain('subgraph g_pipeline_code["pipeline/code"]');
    expect(source).toContain('subgraph g_landing_storage["landing/storage"]');
    const codeNodes = source.split("\n").filter((line) => /databricks_(workspace_file|notebook)/.test(line));
    expect(codeNodes).toHaveLength(1);
    // Per type with its count (one wheel: no count).
    const [, total, notebooks, files] =
      /uploaded code ×(\d+)<br\/>databricks_notebook ×(\d+)<br\/>databricks_workspace_file(?: ×(\d+))?/.exec(codeNodes[0]) ?? [];
    expect(Number(total)).toBe(Number(notebooks) + Number(files ?? 1));
    expect(Number(notebooks)).toBeGreaterThan(1);
  });

  test("more uploaded files change a count, not the number of nodes", () => {
    const resource = (n: number, name: string) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [`${name}_${i}`, { path: `/x/${name}_${i}`, directory: "${databricks_directory.root.path}" }]),
      );
    const json = (files: number) => ({
      resource: {
        databricks_directory: { root: { path: "/x" } },
        databricks_workspace_file: resource(files, "module"),
        databricks_notebook: resource(2, "notebook"),
      },
    });
    const paths = (files: number) =>
      new Map([
        ["databricks_directory.root", "pipeline/code/root"],
        ...Array.from({ length: files }, (_, i) => [`databricks_workspace_file.module_${i}`, `pipeline/code/module-${i}`] as [string, string]),
        ...[0, 1].map((i) => [`databricks_notebook.notebook_${i}`, `pipeline/code/notebook-${i}`] as [string, string]),
      ]);
    const nodes = (source: string) => source.split("\n").filter((line) => /^ {4}\w+\["/.test(line));
    const few = resourceDiagram("s", json(3), paths(3));
    const many = resourceDiagram("s", json(40), paths(40));
    expect(nodes(many)).toHaveLength(nodes(few).length);
    expect(many).toContain("uploaded code ×42<br/>databricks_notebook ×2<br/>databricks_workspace_file ×40");
    expect(many).toMatch(/databricks_directory_pipeline_code --> code_pipeline_code/);
  });
});

describe("rendered SVGs", () => {
  const sources = mermaidSources(DIAGRAMS);
  const svgs = filesUnder(DIAGRAMS, ".svg").map((s) => relative(DIAGRAMS, s));

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

  // Viewers without an HTML engine (IDE previews, rsvg, Inkscape, slide and wiki imports) draw foreignObject labels as
  // empty boxes; diagrams/render.sh renders labels as SVG text.
  test.each(svgs)("%s keeps its text as SVG text, no HTML foreignObject", (name) => {
    const svg = readFileSync(join(DIAGRAMS, name), "utf8");
    expect(svg).not.toMatch(/foreignObject/i);
    expect(svg).toMatch(/<text[\s>]/);
  });

  test.each(svgs)("%s opens at its natural size (width and height in pixels, equal to the viewBox)", (name) => {
    const { width, height, viewBox } = svgSize(readFileSync(join(DIAGRAMS, name), "utf8"));
    expect(viewBox).toHaveLength(4);
    expect(width).toBe(Math.ceil(viewBox[2]));
    expect(height).toBe(Math.ceil(viewBox[3]));
  });

  test.each([...DIAGRAM_STACKS])(`generated/%s.svg fits one ${SCREEN.width}×${SCREEN.height} screen at scale 1`, (stack) => {
    const { width, height, viewBox } = svgSize(readFileSync(join(DIAGRAMS, "generated", `${stack}.svg`), "utf8"));
    expect(width).toBeLessThanOrEqual(SCREEN.width);
    expect(height).toBeLessThanOrEqual(SCREEN.height);
    expect(viewBox[2]).toBeLessThanOrEqual(SCREEN.width);
    expect(viewBox[3]).toBeLessThanOrEqual(SCREEN.height);
  });
});
