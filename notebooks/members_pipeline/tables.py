"""The load's Delta tables: members, quarantine and load log; their DDL, properties and upgrades, and governance."""

from __future__ import annotations

from pyspark.sql import SparkSession

from .config import LoadConfig
from .retention import MEMBERS_STATS_COLUMNS, QUARANTINE_STATS_COLUMNS, history_properties
from .runtime import is_databricks
from .schema import PII_COLUMNS

COLUMN_COMMENTS = {
    "member_id": "Member key (uuid), primary key of MySQL members",
    "first_name": "PII: first name",
    "last_name": "PII: last name",
    "email": "PII: e-mail address, trimmed and lower-cased; not unique",
    "phone_number": "PII: phone number as free text (may contain extensions such as x1234)",
    "address": "PII: street address",
    "city": "City",
    "country": "Country",
    "registration_date": "Date the member registered",
    "is_deleted": "True when the member is absent from the latest full snapshot of MySQL",
    "row_hash": "SHA-256 of the business columns; MERGE skips rows whose hash is unchanged; 'pii-erased' once erased",
    "first_ingest_date": "Ingest date of the batch that first inserted the member",
    "last_changed_ingest_date": "Ingest date of the batch that last changed the row",
    "last_changed_run_id": "Extract run id of the batch that last changed the row",
    "updated_at": "When the row was last inserted or changed (UTC)",
    "deleted_ingest_date": "Ingest date of the batch that flagged the member deleted; NULL while active",
    "pii_erased_at": "When the PII columns were set to NULL, pii_retention_days after the member was flagged deleted",
}
QUARANTINE_ERASED_COMMENT = "When the PII columns were set to NULL (the member was erased from members)"
LOG_ERASED_COMMENT = "Members whose PII this batch erased (pii_retention_days after they were flagged deleted)"
LOG_OVERRIDE_COMMENT = "Set when accept_mass_change=true let this batch exceed a data guard: the numbers"
# Columns added after the first release (name, type, comment): ensure_tables adds them to tables created by the
# older DDL. The DDL below lists them last too, so old and new tables have the same column order.
MEMBERS_ADDED_COLUMNS = (
    ("deleted_ingest_date", "DATE", COLUMN_COMMENTS["deleted_ingest_date"]),
    ("pii_erased_at", "TIMESTAMP", COLUMN_COMMENTS["pii_erased_at"]),
)
QUARANTINE_ADDED_COLUMNS = (("pii_erased_at", "TIMESTAMP", QUARANTINE_ERASED_COMMENT),)
LOAD_LOG_ADDED_COLUMNS = (("pii_erased", "BIGINT", LOG_ERASED_COMMENT), ("guard_override", "STRING", LOG_OVERRIDE_COMMENT))


def _comment(text: str) -> str:
    return text.replace("'", "\\'")


def sql_string(value: str) -> str:
    """A Spark/Databricks SQL string literal: backslash escapes, as '' is concatenation there, not a quote."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _properties_sql(props: dict[str, str]) -> str:
    return ", ".join(f"{sql_string(k)} = {sql_string(v)}" for k, v in props.items())


# Change Data Feed on the members table: downstream readers get each load's inserts, updates (pre/post images)
# and delete flags (updates of is_deleted) with table_changes(). Its change files are removed files too, so they
# share the history retention; erased PII stays in update_preimage rows until then (notebooks/README.md).
CHANGE_DATA_FEED = {"delta.enableChangeDataFeed": "true"}
# Deletion vectors (Databricks' default for new tables, explicit here for OSS Delta and older tables): the daily
# MERGE marks the few changed or flagged rows as deleted in their file and writes only those rows anew, instead of
# rewriting every file that holds one of them (with uuid keys, every file).
DELETION_VECTORS = {"delta.enableDeletionVectors": "true"}


def members_properties(cfg: LoadConfig) -> dict[str, str]:
    return {**history_properties(cfg.history_retention_days, MEMBERS_STATS_COLUMNS), **CHANGE_DATA_FEED, **DELETION_VECTORS}


def quarantine_properties(cfg: LoadConfig) -> dict[str, str]:
    return history_properties(cfg.history_retention_days, QUARANTINE_STATS_COLUMNS)


def members_ddl(table: str, props: dict[str, str] | None = None) -> str:
    c = {k: _comment(v) for k, v in COLUMN_COMMENTS.items()}
    return f"""
CREATE TABLE IF NOT EXISTS {table} (
  member_id STRING NOT NULL COMMENT '{c["member_id"]}',
  first_name STRING COMMENT '{c["first_name"]}',
  last_name STRING COMMENT '{c["last_name"]}',
  email STRING COMMENT '{c["email"]}',
  phone_number STRING COMMENT '{c["phone_number"]}',
  address STRING COMMENT '{c["address"]}',
  city STRING COMMENT '{c["city"]}',
  country STRING COMMENT '{c["country"]}',
  registration_date DATE COMMENT '{c["registration_date"]}',
  is_deleted BOOLEAN NOT NULL COMMENT '{c["is_deleted"]}',
  row_hash STRING NOT NULL COMMENT '{c["row_hash"]}',
  first_ingest_date DATE COMMENT '{c["first_ingest_date"]}',
  last_changed_ingest_date DATE COMMENT '{c["last_changed_ingest_date"]}',
  last_changed_run_id STRING COMMENT '{c["last_changed_run_id"]}',
  updated_at TIMESTAMP COMMENT '{c["updated_at"]}',
  deleted_ingest_date DATE COMMENT '{c["deleted_ingest_date"]}',
  pii_erased_at TIMESTAMP COMMENT '{c["pii_erased_at"]}'
) USING DELTA
CLUSTER BY (member_id)
COMMENT 'Members from MySQL, one row per member_id, loaded from the Parquet landing zone by load_members. Contains PII.'
TBLPROPERTIES ({_properties_sql({"members.pii_columns": ",".join(PII_COLUMNS), "members.source": "mysql.members", **(props or {})})})
"""


def quarantine_ddl(table: str, props: dict[str, str] | None = None) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {table} (
  member_id STRING, first_name STRING, last_name STRING, email STRING, phone_number STRING, address STRING,
  city STRING, country STRING, registration_date DATE,
  run_id STRING NOT NULL, extracted_at TIMESTAMP, ingest_date DATE NOT NULL,
  reason STRING NOT NULL COMMENT 'Why the row was not loaded',
  quarantined_at TIMESTAMP NOT NULL,
  pii_erased_at TIMESTAMP COMMENT {sql_string(QUARANTINE_ERASED_COMMENT)}
) USING DELTA
COMMENT 'Landed member rows that failed validation, with the reason. Contains PII.'
TBLPROPERTIES ({_properties_sql({"members.pii_columns": ",".join(PII_COLUMNS), **(props or {})})})
"""


def load_log_ddl(table: str) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {table} (
  batch_id STRING NOT NULL, ingest_date DATE NOT NULL, run_id STRING NOT NULL,
  manifest_rows BIGINT NOT NULL, merged BIGINT NOT NULL, quarantined BIGINT NOT NULL, duplicates BIGINT NOT NULL,
  inserted BIGINT NOT NULL, updated BIGINT NOT NULL, unchanged BIGINT NOT NULL, flagged_deleted BIGINT NOT NULL,
  loaded_at TIMESTAMP NOT NULL,
  pii_erased BIGINT COMMENT {sql_string(LOG_ERASED_COMMENT)},
  guard_override STRING COMMENT {sql_string(LOG_OVERRIDE_COMMENT)}
) USING DELTA
COMMENT 'One row per landed batch merged into the members table; batches listed here are never loaded twice.'
"""


class GovernanceError(RuntimeError):
    """The members table's column masks cannot be created safely; nothing was created."""


def mask_function_name(cfg: LoadConfig) -> str:
    """The members table's own mask function, named after the table: no other table shares it, so creating it for
    one table never changes who sees another table's PII."""
    return f"{cfg.table}_mask_pii"


def mask_function_users_sql(cfg: LoadConfig) -> str:
    """Tables other than the members table whose column masks use its mask function (Unity Catalog information
    schema of the catalog; names are stored in lower case)."""
    return (
        f"SELECT DISTINCT catalog_name, schema_name, table_name FROM `{cfg.catalog}`.information_schema.column_masks "
        f"WHERE lower(mask_catalog) = lower({sql_string(cfg.catalog)}) AND lower(mask_schema) = lower({sql_string(cfg.schema)}) "
        f"AND lower(mask_name) = lower({sql_string(mask_function_name(cfg))}) "
        f"AND NOT (lower(catalog_name) = lower({sql_string(cfg.catalog)}) AND lower(schema_name) = lower({sql_string(cfg.schema)}) "
        f"AND lower(table_name) = lower({sql_string(cfg.table)}))"
    )


def check_governance(spark: SparkSession, cfg: LoadConfig) -> None:
    """Before a new members table is created on Databricks: its mask is only created from a reader group the
    deployment fixed, and never replaces a mask function that another table's masks use."""
    if "pii_reader_group" not in cfg.fixed_by_deployment:
        raise GovernanceError(
            f"refusing to create {cfg.members_table}: its PII mask would show PII to group {cfg.pii_reader_group!r} from a "
            "widget; the reader group must be fixed by the deployment (spark.members.load.pii_reader_group, the stack's configuration)"
        )
    users = [".".join(r) for r in spark.sql(mask_function_users_sql(cfg)).collect()]
    if users:
        raise GovernanceError(
            f"refusing to create {cfg.members_table}: its mask function {mask_function_name(cfg)} is used by the masks of "
            f"{', '.join(users)}; replacing it would change who sees their PII"
        )


def databricks_governance_sql(cfg: LoadConfig, writer: str) -> list[str]:
    """Unity Catalog tags and column masks (Databricks only: OSS Spark has neither).

    The mask shows PII to the reader group and to ``writer``, the principal that creates the table (the job's
    run-as identity): the load itself MERGE-reads and rewrites these columns and must see real values, never '***'.
    The mask function belongs to the table (mask_function_name); check_governance runs first.
    """
    fn = f"`{cfg.catalog}`.`{cfg.schema}`.`{mask_function_name(cfg)}`"
    group = sql_string(cfg.pii_reader_group)
    comment = sql_string(f"Shows member PII only to group {cfg.pii_reader_group} and to {writer}, the loader")
    stmts = [
        f"CREATE OR REPLACE FUNCTION {fn}(value STRING) RETURNS STRING COMMENT {comment} "
        f"RETURN CASE WHEN is_account_group_member({group}) OR current_user() = {sql_string(writer)} "
        f"THEN value ELSE '***' END",
        f"ALTER TABLE {cfg.members_table} SET TAGS ('contains_pii' = 'true')",
    ]
    for col in PII_COLUMNS:
        stmts.append(f"ALTER TABLE {cfg.members_table} ALTER COLUMN {col} SET TAGS ('pii' = '{col}')")
    for col in ("email", "phone_number", "address"):
        stmts.append(f"ALTER TABLE {cfg.members_table} ALTER COLUMN {col} SET MASK {fn}")
    return stmts


def _add_missing_columns(spark: SparkSession, table: str, columns: tuple[tuple[str, str, str], ...]) -> None:
    have = {c.lower() for c in spark.table(table).columns}
    missing = [f"{name} {kind} COMMENT {sql_string(comment)}" for name, kind, comment in columns if name not in have]
    if missing:
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({', '.join(missing)})")


def _set_changed_properties(spark: SparkSession, table: str, wanted: dict[str, str]) -> None:
    """Only what differs: an unconditional SET would add a commit to every run (reruns must change nothing)."""
    if not wanted:
        return
    have = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    changed = {k: v for k, v in wanted.items() if have.get(k) != v}
    if changed:
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ({_properties_sql(changed)})")


def ensure_tables(spark: SparkSession, cfg: LoadConfig) -> None:
    """Create the three tables if missing; bring tables created by an older DDL up to date (added columns,
    history retention, statistics and Change Data Feed properties). A table created here already has both."""
    if not is_databricks():
        # Locally the schema lives in the Hive/Derby metastore; on Databricks the stack creates it.
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{cfg.catalog}`.`{cfg.schema}`")
    tables = [
        (cfg.members_table, members_ddl, MEMBERS_ADDED_COLUMNS, members_properties(cfg)),
        (cfg.quarantine_table, quarantine_ddl, QUARANTINE_ADDED_COLUMNS, quarantine_properties(cfg)),
        (cfg.load_log_table, lambda name, _props: load_log_ddl(name), LOAD_LOG_ADDED_COLUMNS, {}),
    ]
    if is_databricks() and not spark.catalog.tableExists(cfg.members_table.replace("`", "")):
        check_governance(spark, cfg)  # before anything is created
    created = []
    for name, ddl, added, props in tables:
        if spark.catalog.tableExists(name.replace("`", "")):
            _add_missing_columns(spark, name, added)
            _set_changed_properties(spark, name, props)
        else:
            spark.sql(ddl(name, props))  # IF NOT EXISTS: a concurrent load may create it first
            created.append(name)
    if cfg.members_table in created and is_databricks():
        # Read once, when the table is created: the job's run-as principal is the one identity the mask exempts.
        writer = spark.sql("SELECT current_user()").first()[0]
        for stmt in databricks_governance_sql(cfg, writer):
            spark.sql(stmt)
