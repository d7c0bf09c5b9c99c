import { Catalog } from "@cdktf/provider-databricks/lib/catalog";
import { DataDatabricksCatalog } from "@cdktf/provider-databricks/lib/data-databricks-catalog";
import { DataDatabricksSchema } from "@cdktf/provider-databricks/lib/data-databricks-schema";
import { Grant } from "@cdktf/provider-databricks/lib/grant";
import { Grants } from "@cdktf/provider-databricks/lib/grants";
import { Schema } from "@cdktf/provider-databricks/lib/schema";
import { Construct } from "constructs";
import { type Principal, principalName, requireLiteral } from "./principal";

/** What the job principal needs on the catalog: to see into it, nothing more. */
export const CATALOG_PRIVILEGES = ["USE_CATALOG"] as const;
/**
 * What load_members needs on the schema: create the members, quarantine and load-log tables and the PII mask
 * function, then merge into and read them. extract_members touches no table.
 */
export const SCHEMA_PRIVILEGES = ["USE_SCHEMA", "CREATE_TABLE", "CREATE_FUNCTION", "MODIFY", "SELECT"] as const;

export interface MembersCatalogProps {
  /** Catalog name. */
  readonly catalogName: string;
  /** Create the catalog (true) or look up an existing one (false). */
  readonly createCatalog: boolean;
  /** Schema name. */
  readonly schemaName: string;
  /** Create the schema (true) or look up an existing one (false). */
  readonly createSchema: boolean;
  /** Granted the privileges the notebooks need. */
  readonly jobPrincipal: Principal;
  /**
   * Properties recorded on created objects.
   * @default {}
   */
  readonly properties?: Readonly<Record<string, string>>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,254}$/;

/**
 * The Unity Catalog catalog and schema of the member tables, created or looked up, with the job principal's grants.
 *
 * Created objects get `databricks_grants`, which is authoritative: this stack owns them, so any grant not declared
 * here is drift. Existing objects get `databricks_grant` (one principal, additive), because the authoritative form
 * would revoke every grant other teams hold on a catalog this stack does not own.
 */
export class MembersCatalog extends Construct {
  /** Catalog name as a reference: consumers are ordered after the catalog exists. */
  readonly catalogName: string;
  /** Schema name (without catalog) as a reference. */
  readonly schemaName: string;

  constructor(scope: Construct, id: string, props: MembersCatalogProps) {
    super(scope, id);
    requireLiteral("MembersCatalog", "catalogName", props.catalogName, (n) => IDENTIFIER.test(n), "a lower-case identifier");
    requireLiteral("MembersCatalog", "schemaName", props.schemaName, (n) => IDENTIFIER.test(n), "a lower-case identifier");
    const principal = principalName(props.jobPrincipal);
    const properties = { ...(props.properties ?? {}) };

    if (props.createCatalog) {
      const catalog = new Catalog(this, "catalog", {
        name: props.catalogName,
        comment: "Members lakehouse tables (managed by cdktf).",
        properties,
      });
      this.catalogName = catalog.name;
      new Grants(this, "catalog-grants", {
        catalog: catalog.name,
        grant: [{ principal, privileges: [...CATALOG_PRIVILEGES] }],
      });
    } else {
      const catalog = new DataDatabricksCatalog(this, "existing-catalog", { name: props.catalogName });
      this.catalogName = catalog.name;
      new Grant(this, "catalog-grant", { catalog: catalog.name, principal, privileges: [...CATALOG_PRIVILEGES] });
    }

    if (props.createSchema) {
      const schema = new Schema(this, "schema", {
        catalogName: this.catalogName,
        name: props.schemaName,
        comment: "Members, quarantine and load log (written by the load job).",
        properties,
      });
      this.schemaName = schema.name;
      new Grants(this, "schema-grants", {
        schema: `${this.catalogName}.${schema.name}`,
        grant: [{ principal, privileges: [...SCHEMA_PRIVILEGES] }],
      });
    } else {
      const schema = new DataDatabricksSchema(this, "existing-schema", { name: `${this.catalogName}.${props.schemaName}` });
      this.schemaName = schema.schemaInfo.name;
      new Grant(this, "schema-grant", { schema: schema.name, principal, privileges: [...SCHEMA_PRIVILEGES] });
    }
  }
}
