/**
 * The generator has its own credentials (issue 25 item 5): a second MysqlSecretScope with `variablePrefix:
 * "mysql_generator"` gets its own scope, sensitive variables (TF_VAR_mysql_generator_<key>), secrets and READ ACL;
 * the extract's scope keeps its `mysql_<key>` variables (the documented TF_VAR_ names and the address contract).
 */
import { Testing } from "cdktf";
import { MYSQL_SECRET_KEYS, MysqlSecretScope } from "../stacks/databricks/secrets";

type Json = Record<string, any>;

const extractReader = { kind: "service_principal", applicationId: "5f0c2a52-8d4e-4b7a-9c2e-7a1d3e0b6f90" } as const;
const generatorReader = { kind: "group", name: "members-dev-generator" } as const;

function synthBoth(): Json {
  return JSON.parse(
    Testing.synthScope((scope) => {
      new MysqlSecretScope(scope, "mysql-secrets", { scopeName: "acme-dev-mysql", reader: extractReader });
      new MysqlSecretScope(scope, "mysql-generator-secrets", {
        scopeName: "acme-dev-mysql-generator",
        reader: generatorReader,
        variablePrefix: "mysql_generator",
        usedBy: "the development data generator",
      });
    }),
  );
}

/** `${databricks_secret_scope.<id>.name}` -> the scope name it refers to (resolved through the synthesized scopes). */
function scopeNameOf(json: Json, ref: string): string {
  const id = /^\$\{databricks_secret_scope\.([^.]+)\.name\}$/.exec(ref)?.[1];
  expect(id).toBeDefined();
  return json.resource.databricks_secret_scope[id!].name;
}

describe("MysqlSecretScope for the generator", () => {
  const json = synthBoth();

  test("each scope has its own variables: mysql_<key> (unchanged) and mysql_generator_<key>", () => {
    const names = Object.keys(json.variable).sort();
    expect(names).toEqual([...MYSQL_SECRET_KEYS.map((k) => `mysql_${k}`), ...MYSQL_SECRET_KEYS.map((k) => `mysql_generator_${k}`)].sort());
    for (const name of names) expect(json.variable[name]).toMatchObject({ type: "string", sensitive: true, nullable: false });
    expect(json.variable.mysql_generator_password.description).toBe(
      "MySQL password for the development data generator; set TF_VAR_mysql_generator_password.",
    );
    expect(json.variable.mysql_password.description).toBe("MySQL password for the extract job; set TF_VAR_mysql_password.");
  });

  test("two scopes; each secret comes from its own scope's variable", () => {
    const scopes = Object.values(json.resource.databricks_secret_scope).map((s: any) => s.name);
    expect(scopes.sort()).toEqual(["acme-dev-mysql", "acme-dev-mysql-generator"]);
    const secrets = Object.values(json.resource.databricks_secret) as Json[];
    expect(secrets).toHaveLength(2 * MYSQL_SECRET_KEYS.length);
    const byScope: Record<string, Record<string, string>> = {};
    for (const s of secrets) {
      const name = scopeNameOf(json, s.scope);
      byScope[name] = { ...byScope[name], [s.key]: s.string_value };
    }
    for (const key of MYSQL_SECRET_KEYS) {
      expect(byScope["acme-dev-mysql"][key]).toBe(`\${var.mysql_${key}}`);
      expect(byScope["acme-dev-mysql-generator"][key]).toBe(`\${var.mysql_generator_${key}}`);
    }
  });

  test("each scope's READ ACL names only its own reader", () => {
    const acls = (Object.values(json.resource.databricks_secret_acl) as Json[]).map((a) => [scopeNameOf(json, a.scope), a.principal, a.permission]);
    expect(acls.sort()).toEqual(
      [
        ["acme-dev-mysql", extractReader.applicationId, "READ"],
        ["acme-dev-mysql-generator", generatorReader.name, "READ"],
      ].sort(),
    );
  });

  test("a variable prefix that is no Terraform-friendly name is refused", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new MysqlSecretScope(scope, "s", { scopeName: "x", reader: extractReader, variablePrefix: "mysql-generator" });
      }),
    ).toThrow(/variablePrefix: got "mysql-generator", expected lower-case letters, digits and _/);
  });
});
