import { Catalog } from "@cdktf/provider-databricks/lib/catalog";
import { DataDatabricksCatalog } from "@cdktf/provider-databricks/lib/data-databricks-catalog";
import { DataDatabricksSchema } from "@cdktf/provider-databricks/lib/data-databricks-schema";
import { Grant } from "@cdktf/provider-databricks/lib/grant";
import { Grants } from "@cdktf/provider-databricks/lib/grants";
import { Schema } from "@cdktf/provider-databricks/lib/schema";
import { Construct } from "constructs";
import { invalidProp, requireLiteral } from "../common/validation";
import { protect } from "../protection/protect";
import type { ManagedStorage } from "../unity-catalog/landing-location";
import { type Principal, principalName } from "./principal";

/** What the job principal needs on the catalog: to see into it, nothing more. */
export const CATALOG_PRIVILEGES = ["USE_CATALOG"] as const;
/**
 * What load_members needs on the schema: create the members, quarantine and load-log tables, then merge into and read
 * them. extract_members touches no table; its cluster installs the JDBC driver jar from the schema's artifacts volume
 * (READ_VOLUME, inherited by the schema's volumes: that one only).
 */
export const SCHEMA_PRIVILEGES = ["USE_SCHEMA", "CREATE_TABLE", "MODIFY", "SELECT", "READ_VOLUME"] as const;
/** What load_members needs on the masked schema: create and replace the readers' view (CREATE_TABLE covers views). */
export const MASKED_SCHEMA_PRIVILEGES = ["USE_SCHEMA", "CREATE_TABLE"] as const;
/** What a group needs to query a schema's tables or views (with USE_CATALOG on the catalog). */
export const READER_CATALOG_PRIVILEGES = ["USE_CATALOG"] as const;
export const READER_SCHEMA_PRIVILEGES = ["USE_SCHEMA", "SELECT"] as const;

/** Suffixes of the load's own tables after the members table's name (members_pipeline/config.py LoadConfig). */
export const QUARANTINE_TABLE_SUFFIX = "_quarantine";
export const LOAD_LOG_TABLE_SUFFIX = "_load_log";

/**
 * The load's three tables, fully qualified and backticked as members_pipeline/config.py's LoadConfig names them
 * (`members_table`, `quarantine_table`, `load_log_table`); __tests__/pipeline-health.test.ts checks the two agree.
 */
export function loadTableNames(catalog: string, schema: string, table: string) {
  const name = (t: string) => `\`${catalog}\`.\`${schema}\`.\`${t}\``;
  return {
    members_table: name(table),
    quarantine_table: name(`${table}${QUARANTINE_TABLE_SUFFIX}`),
    load_log_table: name(`${table}${LOAD_LOG_TABLE_SUFFIX}`),
  };
}

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
   * Account groups that query the readers' masked view: USE CATALOG, and USE SCHEMA + SELECT on the masked schema only.
   * @default none
   */
  readonly readers?: readonly string[];
  /**
   * Groups that read the tables themselves, PII unmasked (members, quarantine, load log): USE CATALOG, USE SCHEMA + SELECT
   * on the schema, and the masked view too.
   * @default none
   */
  readonly piiReaders?: readonly string[];
  /**
   * Schema of the readers' masked view, beside the schema; created or looked up like it (createSchema).
   * @default `<schemaName>_masked`
   */
  readonly maskedSchemaName?: string;
  /**
   * Managed storage of a created catalog (`storage_root`), inside an external location that must exist first.
   * Required when createCatalog is true: metastores without root storage reject a catalog without one.
   * @default none (only valid for an existing catalog)
   */
  readonly managedStorage?: ManagedStorage;
  /**
   * Properties recorded on created objects.
   * @default {}
   */
  readonly properties?: Readonly<Record<string, string>>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,254}$/;

/**
 * The Unity Catalog catalog, the schema of the member tables and the masked schema of the readers' view, created or
 * looked up, with their grants. Readers never get the tables: the tables carry no column mask, so the job's own reads
 * and writes on its dedicated compute are never sent to serverless data filtering and no Delta operation is refused
 * (docs/architecture/governance.md); readers get the view, which masks PII for all but the PII reader group.
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
  /** Masked schema name (without catalog) as a reference. */
  readonly maskedSchemaName: string;

  constructor(scope: Construct, id: string, props: MembersCatalogProps) {
    super(scope, id);
    requireLiteral("MembersCatalog", "catalogName", props.catalogName, (n) => IDENTIFIER.test(n), "a lower-case identifier");
    requireLiteral("MembersCatalog", "schemaName", props.schemaName, (n) => IDENTIFIER.test(n), "a lower-case identifier");
    const maskedSchemaName = props.maskedSchemaName ?? `${props.schemaName}_masked`;
    requireLiteral(
      "MembersCatalog",
      "maskedSchemaName",
      maskedSchemaName,
      (n) => IDENTIFIER.test(n) && n !== props.schemaName,
      "a lower-case identifier other than schemaName",
    );
    if (props.createCatalog && props.managedStorage === undefined) {
      invalidProp(`MembersCatalog ${id}`, "managedStorage", props.managedStorage, "the storage root of the catalog it creates");
    }
    const principal = principalName(props.jobPrincipal);
    const piiReaders = [...new Set(props.piiReaders ?? [])].filter((r) => r !== principal);
    const readers = [...new Set(props.readers ?? [])].filter((r) => r !== principal && !piiReaders.includes(r));
    const properties = { ...(props.properties ?? {}) };
    const readerGrant = (reader: string) => ({ principal: reader, privileges: [...READER_SCHEMA_PRIVILEGES] });
    const catalogGrants = [
      { principal, privileges: [...CATALOG_PRIVILEGES] },
      ...[...piiReaders, ...readers].map((reader) => ({ principal: reader, privileges: [...READER_CATALOG_PRIVILEGES] })),
    ];
    const schemaGrants = [{ principal, privileges: [...SCHEMA_PRIVILEGES] }, ...piiReaders.map(readerGrant)];
    const maskedSchemaGrants = [{ principal, privileges: [...MASKED_SCHEMA_PRIVILEGES] }, ...[...piiReaders, ...readers].map(readerGrant)];

    if (props.createCatalog && props.managedStorage) {
      const catalog = protect(
        new Catalog(this, "catalog", {
          name: props.catalogName,
          comment: "Members lakehouse tables (managed by cdktf).",
          storageRoot: props.managedStorage.url,
          properties,
          // Reachable only from bound workspaces; created ISOLATED, it is bound to the creating workspace, the
          // environment's own (see SECURABLE_ISOLATION_MODE for why no databricks_workspace_binding).
          isolationMode: "ISOLATED",
          dependsOn: [props.managedStorage.location],
        }),
      );
      this.catalogName = catalog.name;
      new Grants(this, "catalog-grants", { catalog: catalog.name, grant: catalogGrants });
    } else {
      const catalog = new DataDatabricksCatalog(this, "existing-catalog", { name: props.catalogName });
      this.catalogName = catalog.name;
      new Grant(this, "catalog-grant", { catalog: catalog.name, ...catalogGrants[0] });
      // One additive grant per reader, its id from the group name: reordering readers changes no address.
      for (const g of catalogGrants.slice(1)) new Grant(this, `catalog-grant-${idOf(g.principal)}`, { catalog: catalog.name, ...g });
    }

    if (props.createSchema) {
      const schema = protect(
        new Schema(this, "schema", {
          catalogName: this.catalogName,
          name: props.schemaName,
          comment: "Members, quarantine and load log (written by the load job; PII unmasked: not for readers).",
          properties,
        }),
      );
      this.schemaName = schema.name;
      new Grants(this, "schema-grants", { schema: `${this.catalogName}.${schema.name}`, grant: schemaGrants });
      const masked = protect(
        new Schema(this, "masked-schema", {
          catalogName: this.catalogName,
          name: maskedSchemaName,
          comment: "The members view for readers, PII masked (maintained by the load job).",
          properties,
        }),
      );
      this.maskedSchemaName = masked.name;
      new Grants(this, "masked-schema-grants", { schema: `${this.catalogName}.${masked.name}`, grant: maskedSchemaGrants });
    } else {
      const schema = new DataDatabricksSchema(this, "existing-schema", { name: `${this.catalogName}.${props.schemaName}` });
      this.schemaName = schema.schemaInfo.name;
      new Grant(this, "schema-grant", { schema: schema.name, ...schemaGrants[0] });
      for (const g of schemaGrants.slice(1)) new Grant(this, `schema-grant-${idOf(g.principal)}`, { schema: schema.name, ...g });
      const masked = new DataDatabricksSchema(this, "existing-masked-schema", { name: `${this.catalogName}.${maskedSchemaName}` });
      this.maskedSchemaName = masked.schemaInfo.name;
      new Grant(this, "masked-schema-grant", { schema: masked.name, ...maskedSchemaGrants[0] });
      for (const g of maskedSchemaGrants.slice(1)) new Grant(this, `masked-schema-grant-${idOf(g.principal)}`, { schema: masked.name, ...g });
    }
  }
}

function idOf(principal: string): string {
  return principal.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}
