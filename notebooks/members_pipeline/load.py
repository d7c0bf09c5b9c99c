"""Landing Parquet batches -> Delta members table (MERGE), quarantine and load log."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, replace

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import landing
from .config import _RUN_ID, LoadConfig
from .files import Files
from .guards import BatchImpact, DataGuardError, guard_problems, override_note, refusal_message
from .results import BatchCounts, BatchResult, Status
from .retention import (
    MEMBERS_STATS_COLUMNS,
    QUARANTINE_STATS_COLUMNS,
    erase_members_sql,
    erase_quarantine_sql,
    erasure_due_condition,
    history_properties,
    vacuum_due,
)
from .runtime import is_databricks
from .schema import LANDING_SCHEMA, PII_COLUMNS, SOURCE_COLUMNS
from .transform import deduplicate, row_checksum, row_hash, with_rejection_reason

__all__ = ["DataGuardError", "ReconciliationError", "ConcurrentLoadError", "GovernanceError", "load_members", "ensure_tables"]


class ReconciliationError(RuntimeError):
    """A batch's numbers do not add up; nothing is recorded as loaded."""


class ConcurrentLoadError(RuntimeError):
    """Another load committed to the same Delta tables at the same time; this run lost and logged nothing."""


def _is_delta_conflict(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"[:2000]
    return any(
        k in text
        for k in (
            "ConcurrentAppendException",
            "ConcurrentDeleteReadException",
            "ConcurrentDeleteDeleteException",
            "ConcurrentTransactionException",
            "MetadataChangedException",
            "ProtocolChangedException",
            "DELTA_CONCURRENT",
        )
    )


@dataclass(frozen=True)
class Batch:
    ingest_date: dt.date
    run_id: str
    path: str
    manifest: dict

    @property
    def batch_id(self) -> str:
        attempt = self.manifest.get("attempt_id")
        return f"{self.ingest_date.isoformat()}/{self.run_id}" + (f"/{attempt}" if attempt else "")


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


def find_batches(spark: SparkSession, files: Files, cfg: LoadConfig) -> tuple[list[Batch], list[Batch]]:
    """(to_load, superseded): complete batches not in the load log, oldest first.

    A batch older than the newest loaded one is superseded (loading an old snapshot would undo newer data);
    it is reported, not loaded.
    """
    root = landing.members_root(cfg.landing_path)
    logged = spark.table(cfg.load_log_table).select("batch_id", "ingest_date").collect()  # one row per batch
    loaded = {r.batch_id for r in logged}
    newest = max((r.ingest_date for r in logged), default=None)
    candidates = []
    for name in files.list_dirs(root):
        day = landing.parse_partition_dir(name)
        if day is None or (cfg.ingest_date and day != cfg.ingest_date):
            continue
        manifest_path = f"{root}/{name}/{landing.MANIFEST_NAME}"
        if not files.exists(manifest_path):
            continue  # incomplete or being rewritten
        manifest = files.read_json(manifest_path)
        check_manifest(manifest, day, manifest_path)
        candidates.append(Batch(day, manifest["run_id"], f"{root}/{name}", manifest))
    pending = [b for b in candidates if b.batch_id not in loaded]
    to_load = [b for b in pending if newest is None or b.ingest_date >= newest]
    superseded = [b for b in pending if b not in to_load]
    return to_load, superseded


def check_manifest(manifest: dict, day: dt.date, path: str) -> None:
    """A manifest is input too: reject one that is malformed or belongs elsewhere, naming the file."""
    problems = []
    for key in ("run_id", "rows", "checksum", "ingest_date"):
        if key not in manifest:
            problems.append(f"missing {key!r}")
    if "run_id" in manifest and not _RUN_ID.match(str(manifest["run_id"])):
        problems.append(f"run_id: got {manifest['run_id']!r}, expected up to 64 letters, digits or ._:-")
    if "rows" in manifest and (not isinstance(manifest["rows"], int) or manifest["rows"] < 0):
        problems.append(f"rows: got {manifest['rows']!r}, expected a non-negative integer")
    if "ingest_date" in manifest and manifest["ingest_date"] != day.isoformat():
        problems.append(f"ingest_date: got {manifest['ingest_date']!r}, expected {day.isoformat()!r} (its folder)")
    if problems:
        raise ReconciliationError(f"invalid manifest {path}: " + "; ".join(problems))


def read_batch(spark: SparkSession, batch: Batch, cfg: LoadConfig) -> DataFrame:
    root = landing.members_root(cfg.landing_path)
    df = spark.read.schema(LANDING_SCHEMA).option("basePath", root).parquet(batch.path)
    # Files of an older run of the same date cannot be there (dynamic overwrite), but never mix runs.
    return df.where(F.col("run_id") == batch.run_id)


def batch_counts(df: DataFrame) -> dict:
    """Everything the reconciliation needs, in one pass over the batch's files: rows and checksum (against the
    manifest), valid and rejected rows, and distinct valid member_ids (= the rows deduplicate keeps)."""
    checked = with_rejection_reason(df)
    valid = F.col("reject_reason").isNull()
    return (
        checked.agg(
            F.count(F.lit(1)).alias("rows"),
            row_checksum(checked).cast("string").alias("checksum"),
            F.count(F.when(valid, 1)).alias("valid"),
            F.count(F.when(~valid, 1)).alias("rejected"),
            F.count_distinct(F.when(valid, F.col("member_id"))).alias("distinct_valid"),
        )
        .first()
        .asDict()
    )


def verify_batch(counts: dict, batch: Batch) -> int:
    m = batch.manifest
    if counts["rows"] != m["rows"] or counts["checksum"] != m["checksum"]:
        raise ReconciliationError(
            f"batch {batch.batch_id} at {batch.path}: manifest says {m['rows']} rows / checksum {m['checksum']}, "
            f"files hold {counts['rows']} rows / checksum {counts['checksum']}; batch not loaded"
        )
    return counts["rows"]


def split_batch(df: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(valid rows with row_hash, rejected rows with reason)."""
    checked = with_rejection_reason(df)
    valid = checked.where(F.col("reject_reason").isNull()).drop("reject_reason").withColumn("row_hash", row_hash())
    rejected = checked.where(F.col("reject_reason").isNotNull()).withColumnRenamed("reject_reason", "reason")
    return valid, rejected


def _merge_source(valid_dedup: DataFrame, rejected: DataFrame, batch: Batch, loaded_at: dt.datetime) -> DataFrame:
    """Deduplicated valid rows, plus key-only rows for members present in the snapshot but quarantined,
    so a member with a bad e-mail today is not mistaken for a deleted one."""
    present_only = (
        rejected.where(F.col("member_id").isNotNull()).select("member_id").distinct().join(valid_dedup.select("member_id"), "member_id", "left_anti")
    )
    fixed = {"ingest_date": F.lit(batch.ingest_date), "run_id": F.lit(batch.run_id), "loaded_at": F.lit(loaded_at).cast("timestamp")}
    filler = [fixed.get(c, F.lit(None)).cast(valid_dedup.schema[c].dataType).alias(c) for c in valid_dedup.columns if c != "member_id"]
    present_only = present_only.select("member_id", *filler).withColumn("_present_only", F.lit(True))
    return valid_dedup.withColumn("_present_only", F.lit(False)).unionByName(present_only)


def merge_sql(target: str, source_view: str, full_snapshot: bool, ingest_date: dt.date) -> str:
    """A member who comes back gets deleted_ingest_date and pii_erased_at cleared (set only on deleted members, so a
    second deletion erases again, its new quarantine rows included). Its PII returns with its next valid row: an
    erased tombstone's row_hash matches nothing, so that update always happens."""
    set_cols = ", ".join(f"t.{c} = s.{c}" for c in SOURCE_COLUMNS[1:])
    insert_cols = ", ".join(SOURCE_COLUMNS)
    insert_vals = ", ".join(f"s.{c}" for c in SOURCE_COLUMNS)
    sql = f"""
MERGE INTO {target} AS t
USING {source_view} AS s
ON t.member_id = s.member_id
WHEN MATCHED AND NOT s._present_only AND (t.row_hash <> s.row_hash OR t.is_deleted) THEN UPDATE SET
  {set_cols}, t.row_hash = s.row_hash, t.is_deleted = false, t.deleted_ingest_date = NULL, t.pii_erased_at = NULL,
  t.last_changed_ingest_date = s.ingest_date, t.last_changed_run_id = s.run_id, t.updated_at = s.loaded_at
WHEN MATCHED AND s._present_only AND t.is_deleted THEN UPDATE SET
  t.is_deleted = false, t.deleted_ingest_date = NULL, t.pii_erased_at = NULL,
  t.last_changed_ingest_date = s.ingest_date, t.last_changed_run_id = s.run_id, t.updated_at = s.loaded_at
WHEN NOT MATCHED AND NOT s._present_only THEN INSERT
  ({insert_cols}, row_hash, is_deleted, first_ingest_date, last_changed_ingest_date, last_changed_run_id, updated_at)
  VALUES ({insert_vals}, s.row_hash, false, s.ingest_date, s.ingest_date, s.run_id, s.loaded_at)
"""
    if full_snapshot:
        sql += f"""WHEN NOT MATCHED BY SOURCE AND NOT t.is_deleted THEN UPDATE SET
  t.is_deleted = true, t.deleted_ingest_date = DATE'{ingest_date.isoformat()}', t.updated_at = current_timestamp()
"""
    return sql


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int  # changed members (members flagged deleted not included)
    flagged_deleted: int


def _history(spark: SparkSession, table: str, limit: int) -> list:
    """The newest commits, newest first, through SQL: the DeltaTable Python API needs Delta Connect on Spark
    Connect (standard access mode, serverless), DESCRIBE HISTORY works everywhere."""
    return spark.sql(f"DESCRIBE HISTORY {table} LIMIT {limit}").select("version", "operation", "operationMetrics").collect()


def _merge_metrics(spark: SparkSession, table: str, version_before: int, merge_result) -> MergeCounts:
    """Counts of this run's MERGE. Inserted/updated come from the MERGE statement itself; the split of updates
    into changed vs flagged deleted from this MERGE's commit in the history (matched by its counts, since a
    concurrent load may have committed after it). A MERGE that changed nothing commits nothing."""
    inserted, updated = int(merge_result["num_inserted_rows"]), int(merge_result["num_updated_rows"])
    if inserted == 0 and updated == 0:
        return MergeCounts(0, 0, 0)
    for h in sorted(_history(spark, table, 20), key=lambda h: h["version"]):
        if h["version"] <= version_before or h["operation"] != "MERGE":
            continue
        m = h["operationMetrics"] or {}
        if (int(m.get("numTargetRowsInserted", -1)), int(m.get("numTargetRowsUpdated", -1))) == (inserted, updated):
            flagged = int(m.get("numTargetRowsNotMatchedBySourceUpdated", 0))
            return MergeCounts(inserted=inserted, updated=updated - flagged, flagged_deleted=flagged)
    raise RuntimeError(
        f"{table}: no MERGE commit after version {version_before} with {inserted} inserted / {updated} updated rows in the table history"
    )


def _table_version(spark: SparkSession, table: str) -> int:
    return _history(spark, table, 1)[0]["version"]


@dataclass(frozen=True)
class MembersImpact:
    active: int  # members not flagged deleted
    absent: int  # of those, members the batch does not contain: a full snapshot flags them deleted
    erasure_due: int  # members whose PII this batch's erasure step will null
    last_erased_at: dt.datetime | None  # latest pii_erased_at in the table, for the VACUUM decision


def members_impact(spark: SparkSession, cfg: LoadConfig, batch_rows: DataFrame, batch: Batch, full_snapshot: bool) -> MembersImpact:
    """One pass over the members table before the MERGE: what the batch would flag deleted, and what is due for
    erasure after it. A member counts as present when the batch holds any row with its id, valid or quarantined
    (the MERGE source's key-only rows keep a quarantined member from being flagged). A deleted member present in
    the batch comes back, so it is not due; with pii_retention_days 0 the members this batch flags are due at once."""
    due = erasure_due_condition(batch.ingest_date, cfg.pii_retention_days)
    present = batch_rows.where(F.col("member_id").isNotNull()).select("member_id").distinct().withColumn("_present", F.lit(True))
    absent = F.col("_present").isNull()
    row = (
        spark.table(cfg.members_table)
        .select("member_id", "is_deleted", "pii_erased_at", F.expr(due).alias("_due"))
        .join(present, "member_id", "left")
        .agg(
            F.count(F.when(~F.col("is_deleted"), 1)).alias("active"),
            F.count(F.when(~F.col("is_deleted") & absent, 1)).alias("absent"),
            F.count(F.when(F.col("_due") & absent, 1)).alias("due"),
            F.max(F.unix_timestamp("pii_erased_at")).alias("last_erased"),
        )
        .first()
    )
    flagged = int(row["absent"]) if full_snapshot else 0
    last = row["last_erased"]
    return MembersImpact(
        active=int(row["active"]),
        absent=flagged,
        erasure_due=int(row["due"]) + (flagged if cfg.pii_retention_days == 0 else 0),
        last_erased_at=dt.datetime.fromtimestamp(last, dt.UTC) if last is not None else None,
    )


def check_guards(batch: Batch, impact: BatchImpact, cfg: LoadConfig) -> str | None:
    """Raise DataGuardError when the batch exceeds a threshold; with accept_mass_change return the note instead."""
    problems = guard_problems(impact, cfg.max_deleted_share, cfg.max_quarantined_share)
    if not problems:
        return None
    if not cfg.accept_mass_change:
        raise DataGuardError(refusal_message(batch.batch_id, problems))
    note = override_note(batch.batch_id, problems)
    print(note)
    return note


@dataclass(frozen=True)
class ErasureCounts:
    members: int
    quarantine_rows: int


def erase_expired_pii(spark: SparkSession, cfg: LoadConfig, batch: Batch, erased_at: dt.datetime) -> ErasureCounts:
    """Null the PII of members deleted for at least pii_retention_days, quarantine rows first (so a run that fails
    in between redoes both: the members rows are still due), then purge deletion vectors so the old values are
    only in removed files, which VACUUM deletes after the history retention."""
    due = erasure_due_condition(batch.ingest_date, cfg.pii_retention_days)
    quarantine = spark.sql(erase_quarantine_sql(cfg.quarantine_table, cfg.members_table, due, erased_at)).first()
    members = spark.sql(erase_members_sql(cfg.members_table, due, erased_at)).first()
    for table in (cfg.members_table, cfg.quarantine_table):
        # With deletion vectors (Databricks' default) UPDATE only marks old rows deleted inside the old file;
        # PURGE rewrites those files so the erased values are left only in removed files.
        spark.sql(f"REORG TABLE {table} APPLY (PURGE)").collect()
    return ErasureCounts(members=int(members["num_affected_rows"]), quarantine_rows=int(quarantine["num_updated_rows"]))


@dataclass(frozen=True)
class ReconciledBatch:
    """A verified batch split into what gets merged and what gets quarantined, with the reconciled row counts.
    The DataFrames are plans over the batch's files, not cached copies: the results do not depend on caching,
    which serverless compute does not offer."""

    source: DataFrame  # the MERGE source: deduplicated valid rows plus key-only rows of quarantined members
    rejected: DataFrame  # invalid rows with their reason
    manifest_rows: int
    merged: int
    quarantined: int
    duplicates: int


def reconcile_batch(df: DataFrame, batch: Batch, loaded_at: dt.datetime) -> ReconciledBatch:
    """Verify the files against the manifest, split valid/rejected, deduplicate, and check that
    manifest rows = merged + quarantined + duplicates (ReconciliationError otherwise: nothing is written)."""
    counts = batch_counts(df)
    manifest_rows = verify_batch(counts, batch)
    merged, quarantined = counts["distinct_valid"], counts["rejected"]
    duplicates = counts["valid"] - merged
    if manifest_rows != merged + quarantined + duplicates:
        raise ReconciliationError(
            f"batch {batch.batch_id}: manifest rows {manifest_rows} != merged {merged} + quarantined "
            f"{quarantined} + duplicates {duplicates}; batch not recorded as loaded"
        )
    valid, rejected = split_batch(df)
    deduped = deduplicate(valid).withColumn("loaded_at", F.lit(loaded_at).cast("timestamp"))
    return ReconciledBatch(_merge_source(deduped, rejected, batch, loaded_at), rejected, manifest_rows, merged, quarantined, duplicates)


def quarantine_rejected(cfg: LoadConfig, batch: Batch, rejected: DataFrame, loaded_at: dt.datetime) -> None:
    """One atomic replace of this run's quarantine rows: a retried load replaces its own rows, and two loads of
    the same batch never both append (a DELETE then an append could interleave and double)."""
    (
        rejected.select(*SOURCE_COLUMNS, "run_id", "extracted_at", "ingest_date", "reason")
        .withColumn("quarantined_at", F.lit(loaded_at).cast("timestamp"))
        .withColumn("pii_erased_at", F.lit(None).cast("timestamp"))
        .writeTo(cfg.quarantine_table)
        .overwrite((F.col("run_id") == batch.run_id) & (F.col("ingest_date") == F.lit(batch.ingest_date)))
    )


def merge_members(spark: SparkSession, cfg: LoadConfig, batch: Batch, source: DataFrame, full_snapshot: bool) -> MergeCounts:
    # Unique per call: two loads in one session must not replace or drop each other's source view.
    view = f"members_merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    try:
        before = _table_version(spark, cfg.members_table)
        merge_result = spark.sql(merge_sql(cfg.members_table, view, full_snapshot, batch.ingest_date)).first()
        return _merge_metrics(spark, cfg.members_table, before, merge_result)
    finally:
        spark.catalog.dropTempView(view)


def log_batch(spark: SparkSession, cfg: LoadConfig, result: BatchResult, loaded_at: dt.datetime) -> bool:
    """Write the batch's load-log row; False when another load logged the batch first.

    The log row is the commit point: once it exists the batch is never loaded again. A conditional insert
    (MERGE on batch_id), not an append: a concurrent load of the same batch that got here first makes this
    one insert nothing (or fail with a Delta conflict), so a batch is never logged twice."""
    log_schema = spark.table(cfg.load_log_table).schema
    values = result.log_values(loaded_at)
    log = spark.createDataFrame([tuple(values[f.name] for f in log_schema)], schema=log_schema)
    view = f"members_load_log_row_{uuid.uuid4().hex}"
    log.createOrReplaceTempView(view)
    try:
        logged = spark.sql(
            f"MERGE INTO {cfg.load_log_table} AS t USING {view} AS s ON t.batch_id = s.batch_id WHEN NOT MATCHED THEN INSERT *"
        ).first()["num_inserted_rows"]
    finally:
        spark.catalog.dropTempView(view)
    return logged == 1


def load_batch(spark: SparkSession, batch: Batch, cfg: LoadConfig) -> BatchResult:
    """reconcile -> guards -> quarantine -> merge -> erase -> log."""
    loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    df = read_batch(spark, batch, cfg)
    rec = reconcile_batch(df, batch, loaded_at)
    full_snapshot = batch.manifest.get("snapshot") == "full"
    impact = members_impact(spark, cfg, df, batch, full_snapshot)
    # Before any write: a refused batch leaves members, quarantine and load log untouched.
    override = check_guards(batch, BatchImpact(rec.manifest_rows, rec.quarantined, impact.active, impact.absent), cfg)
    quarantine_rejected(cfg, batch, rec.rejected, loaded_at)
    merged = merge_members(spark, cfg, batch, rec.source, full_snapshot)
    erased = erase_expired_pii(spark, cfg, batch, loaded_at) if impact.erasure_due else ErasureCounts(0, 0)
    counts = BatchCounts(
        manifest_rows=rec.manifest_rows,
        merged=rec.merged,
        quarantined=rec.quarantined,
        duplicates=rec.duplicates,
        inserted=merged.inserted,
        updated=merged.updated,
        unchanged=rec.merged - merged.inserted - merged.updated,
        flagged_deleted=merged.flagged_deleted,
        pii_erased=erased.members,
        pii_erased_quarantine_rows=erased.quarantine_rows,
    )
    result = BatchResult(batch.batch_id, batch.ingest_date, batch.run_id, counts, override, Status.LOADED, last_erased_at=impact.last_erased_at)
    if not log_batch(spark, cfg, result, loaded_at):
        return replace(result, status=Status.ALREADY_LOADED_CONCURRENTLY)
    return result


def vacuum_tables(spark: SparkSession, cfg: LoadConfig) -> list[str]:
    """VACUUM with each table's own delta.deletedFileRetentionDuration (history_retention_days): deletes the
    removed files, erased values included, once they are older than that."""
    tables = [cfg.members_table, cfg.quarantine_table]
    for table in tables:
        spark.sql(f"VACUUM {table}").collect()
    return [t.replace("`", "") for t in tables]


def _delta_error_line(exc: BaseException) -> str:
    """The first line of the error that names an exception or a DELTA_ error code (else the exception's type)."""
    for line in str(exc).splitlines():
        line = line.strip()
        if "Exception" in line or "DELTA_" in line:
            return line[:300]
    return type(exc).__name__


def load_members(spark: SparkSession, files: Files, cfg: LoadConfig) -> dict:
    started = time.monotonic()
    ensure_tables(spark, cfg)
    to_load, superseded = find_batches(spark, files, cfg)
    results: list[BatchResult] = []
    concurrent: list[BatchResult] = []
    for b in to_load:
        try:
            r = load_batch(spark, b, cfg)
        except DataGuardError as exc:
            if results:  # say what this run did commit before the refusal
                raise DataGuardError(f"{exc}; earlier batch(es) of this run were loaded: {', '.join(x.batch_id for x in results)}") from None
            raise
        except Exception as exc:
            if not _is_delta_conflict(exc):
                raise
            raise ConcurrentLoadError(
                f"batch {b.batch_id}: another load committed to {cfg.members_table} or its quarantine/load log "
                f"concurrently ({_delta_error_line(exc)}); this run logged nothing; rerun the load, it skips batches "
                f"already logged"
            ) from None
        (concurrent if r.status is Status.ALREADY_LOADED_CONCURRENTLY else results).append(r)
    done = results + concurrent
    erased = any(r.counts.pii_erased for r in done)
    last_erased = max((r.last_erased_at for r in done if r.last_erased_at), default=None)
    vacuumed = []
    if done and vacuum_due(erased, last_erased, dt.datetime.now(dt.UTC), cfg.history_retention_days):
        vacuumed = vacuum_tables(spark, cfg)
    totals = BatchCounts.total([r.counts for r in results])
    return {
        "status": Status.OK.value,
        "table": f"{cfg.catalog}.{cfg.schema}.{cfg.table}",
        "batches_loaded": len(results),
        "batches": [r.summary() for r in results],
        "superseded_batches": [b.batch_id for b in superseded],
        # Batches another load logged while this one was merging them (the table is unchanged by this run).
        "concurrently_loaded_batches": [r.batch_id for r in concurrent],
        **totals.as_dict(),
        # Batches accepted with accept_mass_change=true although they exceeded a data guard, with the numbers.
        "guard_overrides": [r.guard_override for r in results if r.guard_override],
        "vacuumed_tables": vacuumed,
        "seconds": round(time.monotonic() - started, 2),
    }
