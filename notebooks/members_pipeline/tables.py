"""The load's Delta tables: members, quarantine and load log; their DDL, properties and upgrades, and governance."""

from __future__ import annotations

from pyspark.sql import SparkSession

from .config import LoadConfig
from .retention import MEMBERS_STATS_COLUMNS, QUARANTINE_STATS_COLUMNS, history_properties
from .runtime import is_databricks
from .schema import PII_COLUMNS
from .transform import check_row_hash_type

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
    "row_hash": "64-bit hash (xxhash64) of the business columns; the load skips members whose hash is unchanged; 0 once erased",
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
LOG_STATUS_COMMENT = "loaded, or refused: a data guard refused the batch (nothing of it merged or quarantined); NULL = loaded"
LOG_SECONDS_COMMENT = "Seconds the load of this batch took (until it was logged or refused)"
LOG_REFUSAL_COMMENT = "Why a data guard refused the batch: the numbers (status refused only)"
# Columns added after the first release (name, type, comment): ensure_tables adds them to tables created by the
# older DDL. The DDL below lists them last too, so old and new tables have the same column order.
MEMBERS_ADDED_COLUMNS = (
    ("deleted_ingest_date", "DATE", COLUMN_COMMENTS["deleted_ingest_date"]),
    ("pii_erased_at", "TIMESTAMP", COLUMN_COMMENTS["pii_erased_at"]),
)
QUARANTINE_ADDED_COLUMNS = (("pii_erased_at", "TIMESTAMP", QUARANTINE_ERASED_COMMENT),)
LOAD_LOG_ADDED_COLUMNS = (
    ("pii_erased", "BIGINT", LOG_ERASED_COMMENT),
    ("guard_override", "STRING", LOG_OVERRIDE_COMMENT),
    ("status", "STRING", LOG_STATUS_COMMENT),
    ("seconds", "DOUBLE", LOG_SECONDS_COMMENT),
    ("refusal", "STRING", LOG_REFUSAL_COMMENT),
)


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
  row_hash BIGINT NOT NULL COMMENT '{c["row_hash"]}',
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
  guard_override STRING COMMENT {sql_string(LOG_OVERRIDE_COMMENT)},
  status STRING COMMENT {sql_string(LOG_STATUS_COMMENT)},
  seconds DOUBLE COMMENT {sql_string(LOG_SECONDS_COMMENT)},
  refusal STRING COMMENT {sql_string(LOG_REFUSAL_COMMENT)}
) USING DELTA
COMMENT 'One row per landed batch merged into the members table (never loaded twice), and one per refusal by a data guard.'
"""


class GovernanceError(RuntimeError):
    """The readers' masked view cannot be created safely; nothing was created."""


# Column masks an earlier release put on the members table (its own function, and the shared one before that). A
# table with masks is fine-grained: on the dedicated job compute every read goes through serverless filtering and
# history, time travel, UPDATE and DELETE are refused. Readers now query the masked view instead (docs/architecture/governance.md).
LEGACY_MASK_FUNCTIONS = ("{table}_mask_pii", "mask_member_pii")


def legacy_masks_sql(cfg: LoadConfig) -> str:
    """Columns of the members table masked by a function an earlier release created (masks of other functions, e.g.
    a governance team's, are not ours to drop)."""
    names = ", ".join(sql_string(n.format(table=cfg.table).lower()) for n in LEGACY_MASK_FUNCTIONS)
    return (
        f"SELECT column_name FROM `{cfg.catalog}`.information_schema.column_masks "
        f"WHERE lower(schema_name) = lower({sql_string(cfg.schema)}) AND lower(table_name) = lower({sql_string(cfg.table)}) "
        f"AND lower(mask_schema) = lower({sql_string(cfg.schema)}) AND lower(mask_name) IN ({names})"
    )


def pii_reader_predicate(cfg: LoadConfig) -> str:
    """SQL that is true for the PII reader group: account group membership on Databricks; locally (no groups) the
    session user stands in for the group, so a test can read the view both ways."""
    if is_databricks():
        return f"is_account_group_member({sql_string(cfg.pii_reader_group)})"
    return f"current_user() = {sql_string(cfg.pii_reader_group)}"


def masked_view_sql(cfg: LoadConfig, pii_reader: str) -> str:
    """The view reader groups query: every members column but row_hash (a hash of the PII), with each PII column
    '***' (NULL stays NULL) unless ``pii_reader`` holds. Readers hold SELECT on the view only; the view reads the
    table with its owner's (the job's) rights, so the table itself carries no mask and the job's own reads and writes
    are never filtered."""
    columns = []
    for name in COLUMN_COMMENTS:
        if name == "row_hash":
            continue
        if name in PII_COLUMNS:
            columns.append(f"CASE WHEN {pii_reader} OR {name} IS NULL THEN {name} ELSE '***' END AS {name}")
        else:
            columns.append(name)
    comment = sql_string(f"Members with PII masked ('***') for everyone but group {cfg.pii_reader_group}; maintained by load_members")
    return f"CREATE OR REPLACE VIEW {cfg.masked_view} COMMENT {comment} AS SELECT {', '.join(columns)} FROM {cfg.members_table}"


def check_governance(cfg: LoadConfig) -> None:
    """On Databricks the view only unmasks PII for a group the deployment fixed: a widget must not unmask it for
    everyone (e.g. pii_reader_group=account users)."""
    if is_databricks() and "pii_reader_group" not in cfg.fixed_by_deployment:
        raise GovernanceError(
            f"refusing to create {cfg.masked_view}: it would show PII to group {cfg.pii_reader_group!r} from a widget; "
            "the reader group must be fixed by the deployment (spark.members.load.pii_reader_group, the stack's configuration)"
        )


def databricks_tags_sql(cfg: LoadConfig) -> list[str]:
    """Unity Catalog tags on a new members table (Databricks only): discovery and lineage, no access rule."""
    stmts = [f"ALTER TABLE {cfg.members_table} SET TAGS ('contains_pii' = 'true')"]
    for col in PII_COLUMNS:
        stmts.append(f"ALTER TABLE {cfg.members_table} ALTER COLUMN {col} SET TAGS ('pii' = '{col}')")
    return stmts


def ensure_masked_view(spark: SparkSession, cfg: LoadConfig) -> list[str]:
    """Drop the masks an earlier release put on the members table, then (re)create the readers' view; a view is
    metadata only (no Delta commit), so replacing it on every run keeps its definition current. Returns the
    columns whose masks were dropped."""
    check_governance(cfg)
    dropped = []
    if is_databricks():
        dropped = [r[0] for r in spark.sql(legacy_masks_sql(cfg)).collect()]
        for column in dropped:
            spark.sql(f"ALTER TABLE {cfg.members_table} ALTER COLUMN {column} DROP MASK")
    else:
        # Locally the schema lives in the Hive/Derby metastore; on Databricks the stack creates it.
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{cfg.catalog}`.`{cfg.masked_schema_name}`")
    replace_view(spark, masked_view_sql(cfg, pii_reader_predicate(cfg)))
    return dropped


# What a concurrent CREATE OR REPLACE VIEW of the same view can raise: a metastore that replaces by drop + create (the
# local Hive metastore) lets another load's replace find the view gone, or back, in between.
_CONCURRENT_VIEW_REPLACE = ("TABLE_OR_VIEW_NOT_FOUND", "TABLE_OR_VIEW_ALREADY_EXISTS")


def replace_view(spark: SparkSession, create_or_replace: str, attempts: int = 3) -> None:
    """Run a CREATE OR REPLACE VIEW; when another load replaces the same view at the same moment, run it again (each
    replace writes the same definition, so the last one wins with the right view)."""
    for attempt in range(1, attempts + 1):
        try:
            spark.sql(create_or_replace)
            return
        except Exception as exc:
            if attempt == attempts or not any(code in str(exc) for code in _CONCURRENT_VIEW_REPLACE):
                raise


def row_hash_type(spark: SparkSession, members_table: str) -> str:
    """The type of the members table's row_hash column (transform.ROW_HASH_TYPES), which the load hashes batches to."""
    return check_row_hash_type(dict(spark.table(members_table).dtypes).get("row_hash"), f"{members_table}.row_hash")


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
    history retention, statistics and Change Data Feed properties; masks replaced by the readers' view). A table
    created here already has all of it."""
    if not is_databricks():
        # Locally the schema lives in the Hive/Derby metastore; on Databricks the stack creates it.
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{cfg.catalog}`.`{cfg.schema}`")
    tables = [
        (cfg.members_table, members_ddl, MEMBERS_ADDED_COLUMNS, members_properties(cfg)),
        (cfg.quarantine_table, quarantine_ddl, QUARANTINE_ADDED_COLUMNS, quarantine_properties(cfg)),
        (cfg.load_log_table, lambda name, _props: load_log_ddl(name), LOAD_LOG_ADDED_COLUMNS, {}),
    ]
    check_governance(cfg)  # before anything is created
    created = []
    for name, ddl, added, props in tables:
        if spark.catalog.tableExists(name.replace("`", "")):
            _add_missing_columns(spark, name, added)
            _set_changed_properties(spark, name, props)
        else:
            spark.sql(ddl(name, props))  # IF NOT EXISTS: a concurrent load may create it first
            created.append(name)
    if cfg.members_table in created and is_databricks():
        for stmt in databricks_tags_sql(cfg):
            spark.sql(stmt)
    ensure_masked_view(spark, cfg)
