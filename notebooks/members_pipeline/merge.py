"""The MERGE into the members table and what it will change."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from .batches import Batch
from .config import LoadConfig
from .retention import erasure_due_condition
from .schema import SOURCE_COLUMNS


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
