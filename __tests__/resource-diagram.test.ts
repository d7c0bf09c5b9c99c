/**
 * The stack diagrams tools/resource-diagram.ts draws (`make diagrams`), on the test configuration: what a picture shows
 * and leaves out. diagrams.test.ts checks that the committed pictures are the shipped configuration's, current.
 */
import { validateConfig } from "../stacks/config/validate";
import { generateResourceDiagrams, resourceDiagram } from "../tools/resource-diagram";
import { testConfig, testEnv } from "./fixtures/test-config";

const generated = generateResourceDiagrams(testConfig);
const DIAGRAM_STACKS = Object.keys(generated);
const ENVIRONMENT_STACKS = validateConfig(testConfig).map((env) => env.stackName);

describe("stack diagrams", () => {
  test("every stack of the configuration is drawn: the environments' stacks and, with github.repository, the bootstrap stacks", () => {
    expect(DIAGRAM_STACKS).toEqual(expect.arrayContaining([...ENVIRONMENT_STACKS, "members-bootstrap-aws", "members-bootstrap-azure"]));
    expect(DIAGRAM_STACKS).toHaveLength(ENVIRONMENT_STACKS.length + 2);
  });

  test("draws references between resources, e.g. the external location uses the storage credential", () => {
    expect(generated["members-live"]).toMatch(/databricks_storage_credential_\S+ --> databricks_external_location_\S+/);
    expect(generated["members-lab"]).toMatch(/azurerm_databricks_access_connector_\S+ --> databricks_storage_credential_\S+/);
  });

  test("a bootstrap stack draws its per-environment boxes once, titled with every environment: more environments, same picture", () => {
    const subgraphs = (source: string) => source.split("\n").filter((line) => line.startsWith("  subgraph "));
    const aws = generated["members-bootstrap-aws"];
    expect(subgraphs(aws)).toEqual([
      '  subgraph g_live["each of live, preview, sandbox"]',
      '  subgraph g_live_state["each of live, preview, sandbox / state"]',
      '  subgraph g_stack["stack"]',
    ]);
    expect(aws).not.toMatch(/_sandbox|_preview/);
    const more = ["qa", "uat", "perf"].map((name) => ({
      ...testEnv("preview"),
      name,
      catalog: { name: `lake_${name}`, schema: "members" },
      stateBackend: { type: "s3" as const, bucket: `globex-lake-${name}-tfstate-example`, region: "eu-west-1" as const },
    }));
    const larger = generateResourceDiagrams({ ...testConfig, environments: [...testConfig.environments, ...more] })["members-bootstrap-aws"];
    expect(larger.split("\n").filter((line) => !line.startsWith("%%") && !line.includes("subgraph"))).toEqual(
      aws.split("\n").filter((line) => !line.startsWith("%%") && !line.includes("subgraph")),
    );
    expect(subgraphs(larger)[0]).toBe('  subgraph g_live["each of live, perf, preview, qa, sandbox, uat"]');
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
