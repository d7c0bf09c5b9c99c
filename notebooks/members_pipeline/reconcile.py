"""A batch verified against its manifest and split into the MERGE source and the quarantine."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from .batches import Batch, ReconciliationError
from .config import LoadConfig
from .schema import SOURCE_COLUMNS
from .transform import deduplicate, row_checksum, row_hash, with_rejection_reason


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
    if counts["rows"] != m.rows or counts["checksum"] != m.checksum:
        raise ReconciliationError(
            f"batch {batch.batch_id} at {batch.path}: manifest says {m.rows} rows / checksum {m.checksum}, "
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
    """One atomic replace of the quarantine rows of the batch's ingest date: a retried load replaces its own rows, a
    rerun of the day (a newer batch of the same date) replaces the older batch's, and two loads of the same batch never
    both append (a DELETE then an append could interleave and double). A MERGE, not an overwrite with a condition:
    the one replacing write Databricks allows on a table with masks or row filters (docs/architecture/governance.md)."""
    spark = rejected.sparkSession
    rows = (
        rejected.select(*SOURCE_COLUMNS, "run_id", "extracted_at", "ingest_date", "reason")
        .withColumn("quarantined_at", F.lit(loaded_at).cast("timestamp"))
        .withColumn("pii_erased_at", F.lit(None).cast("timestamp"))
    )
    view = f"members_quarantine_rows_{uuid.uuid4().hex}"
    rows.createOrReplaceTempView(view)
    try:
        spark.sql(
            f"MERGE INTO {cfg.quarantine_table} AS q USING {view} AS s ON false WHEN NOT MATCHED THEN INSERT * "
            f"WHEN NOT MATCHED BY SOURCE AND q.ingest_date = DATE'{batch.ingest_date.isoformat()}' THEN DELETE"
        ).collect()
    finally:
        spark.catalog.dropTempView(view)
