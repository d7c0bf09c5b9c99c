"""PII erasure after a retention, and the table history that must expire for erased values to leave storage.

A member deleted in MySQL stays in the members table as a tombstone. Once it has been flagged deleted for
``pii_retention_days`` (ingest date of the flagging batch vs the current batch's: deterministic, no wall clock),
its PII columns are set to NULL there and in its quarantine rows. Delta keeps the old files for time travel, so the
erased values physically leave storage only when VACUUM runs after ``history_retention_days``; the log's per-file
statistics never hold PII because statistics are limited to non-PII columns (``delta.dataSkippingStatsColumns``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import SparkSession

from .schema import PII_COLUMNS
from .transform import ROW_HASH_TYPE, erased_row_hash_sql

if TYPE_CHECKING:
    from .batches import Batch
    from .config import LoadConfig

# Statistics only on columns that hold no PII (clustering needs member_id; booleans cannot have statistics).
MEMBERS_STATS_COLUMNS = "member_id,deleted_ingest_date,pii_erased_at,updated_at"
QUARANTINE_STATS_COLUMNS = "member_id,run_id,ingest_date"


def history_properties(days: int, stats_columns: str) -> dict[str, str]:
    """Table properties bounding how long removed files (and log entries) keep erased values."""
    interval = f"interval {days} days"
    return {
        "delta.deletedFileRetentionDuration": interval,
        "delta.logRetentionDuration": interval,
        "delta.dataSkippingStatsColumns": stats_columns,
    }


def erasure_due_condition(ingest_date: dt.date, retention_days: int) -> str:
    """Members flagged deleted at least ``retention_days`` before ``ingest_date`` whose PII is still there.

    Members flagged before deleted_ingest_date existed have it NULL; the date of updated_at (set when they were
    flagged) stands in, which is never earlier than the flagging batch's ingest date (erases late, not early)."""
    cutoff = ingest_date - dt.timedelta(days=retention_days)
    return f"is_deleted AND pii_erased_at IS NULL AND coalesce(deleted_ingest_date, CAST(updated_at AS DATE)) <= DATE'{cutoff.isoformat()}'"


def _ts(value: dt.datetime) -> str:
    return f"TIMESTAMP'{value.astimezone(dt.UTC).isoformat()}'"


def _null_pii(alias: str = "") -> str:
    return ", ".join(f"{alias}{c} = NULL" for c in PII_COLUMNS)


def erase_members_sql(members: str, condition: str, erased_at: dt.datetime, row_hash_type: str = ROW_HASH_TYPE) -> str:
    # MERGE, not UPDATE: the one row-level write Databricks allows on a table with masks or row filters (an ABAC policy
    # on the `pii` tags would make this one such a table; docs/architecture/governance.md).
    return (
        f"MERGE INTO {members} AS t USING (SELECT member_id FROM {members} WHERE {condition}) AS s "
        f"ON t.member_id = s.member_id WHEN MATCHED AND {condition} THEN UPDATE SET "
        f"{_null_pii('t.')}, t.row_hash = {erased_row_hash_sql(row_hash_type)}, t.pii_erased_at = {_ts(erased_at)}"
    )


def erase_quarantine_sql(quarantine: str, members: str, condition: str, erased_at: dt.datetime) -> str:
    # MERGE, not UPDATE ... WHERE member_id IN (SELECT ...): Delta's UPDATE takes no subquery.
    return (
        f"MERGE INTO {quarantine} AS q USING (SELECT member_id FROM {members} WHERE {condition}) AS m "
        f"ON q.member_id = m.member_id WHEN MATCHED AND q.pii_erased_at IS NULL THEN UPDATE SET "
        f"{_null_pii('q.')}, q.pii_erased_at = {_ts(erased_at)}"
    )


def aged_quarantine_condition(ingest_date: dt.date, retention_days: int, alias: str = "") -> str:
    """Quarantine rows still holding PII, quarantined at least ``retention_days`` before ``ingest_date``."""
    cutoff = ingest_date - dt.timedelta(days=retention_days)
    return f"{alias}pii_erased_at IS NULL AND {alias}ingest_date <= DATE'{cutoff.isoformat()}'"


def erase_orphan_quarantine_sql(quarantine: str, members: str, ingest_date: dt.date, retention_days: int, erased_at: dt.datetime) -> str:
    """Quarantine rows no members row will ever erase: no member id, or a member who never had a valid row (so was
    never inserted). Their PII goes once they are as old as the PII retention."""
    return (
        f"MERGE INTO {quarantine} AS q USING (SELECT member_id FROM {members}) AS m ON q.member_id = m.member_id "
        f"WHEN NOT MATCHED BY SOURCE AND {aged_quarantine_condition(ingest_date, retention_days, 'q.')} THEN UPDATE SET "
        f"{_null_pii('q.')}, q.pii_erased_at = {_ts(erased_at)}"
    )


def vacuum_due(erased_now: bool, last_erased_at: dt.datetime | None, now: dt.datetime, history_days: int) -> bool:
    """VACUUM after a run that erased something, and on every run until the pre-erasure files have passed the
    history retention (+2 days of slack), so the VACUUM that can actually delete them runs even if nothing else is
    erased in between. Wall clock here only decides maintenance, never data."""
    if erased_now:
        return True
    if last_erased_at is None:
        return False
    return now - last_erased_at <= dt.timedelta(days=history_days + 2)


@dataclass(frozen=True)
class ErasureCounts:
    members: int
    quarantine_rows: int


def erase_expired_pii(
    spark: SparkSession, cfg: LoadConfig, batch: Batch, erased_at: dt.datetime, members_due: bool = True, *, row_hash_type: str
) -> ErasureCounts:
    """Null the PII of members deleted for at least pii_retention_days (``members_due``: the load's pass found some),
    their quarantine rows first (so a run that fails in between redoes both: the members rows are still due), and of
    aged quarantine rows without a member row; then purge deletion vectors so the old values are only in removed
    files, which VACUUM deletes after the history retention. ``row_hash_type``: the members table's (tables.row_hash_type),
    for the erased rows' row_hash. Every write is a MERGE (docs/architecture/governance.md)."""
    quarantine_rows = members = 0
    if members_due:
        due = erasure_due_condition(batch.ingest_date, cfg.pii_retention_days)
        quarantine_rows += int(spark.sql(erase_quarantine_sql(cfg.quarantine_table, cfg.members_table, due, erased_at)).first()["num_updated_rows"])
        members = int(spark.sql(erase_members_sql(cfg.members_table, due, erased_at, row_hash_type)).first()["num_updated_rows"])
    # The quarantine is small: only look for orphans (a join with every member id) when aged rows are there at all.
    if spark.table(cfg.quarantine_table).where(aged_quarantine_condition(batch.ingest_date, cfg.pii_retention_days)).limit(1).count():
        orphans = erase_orphan_quarantine_sql(cfg.quarantine_table, cfg.members_table, batch.ingest_date, cfg.pii_retention_days, erased_at)
        quarantine_rows += int(spark.sql(orphans).first()["num_updated_rows"])
    erased = {cfg.members_table: members, cfg.quarantine_table: quarantine_rows}
    for table in (t for t, n in erased.items() if n):
        # With deletion vectors (Databricks' default) an update only marks old rows deleted inside the old file;
        # PURGE rewrites those files so the erased values are left only in removed files.
        spark.sql(f"REORG TABLE {table} APPLY (PURGE)").collect()
    return ErasureCounts(members=members, quarantine_rows=quarantine_rows)


def vacuum_tables(spark: SparkSession, cfg: LoadConfig) -> list[str]:
    """VACUUM with each table's own delta.deletedFileRetentionDuration (history_retention_days): deletes the
    removed files, erased values included, once they are older than that."""
    tables = [cfg.members_table, cfg.quarantine_table]
    for table in tables:
        spark.sql(f"VACUUM {table}").collect()
    return [t.replace("`", "") for t in tables]
