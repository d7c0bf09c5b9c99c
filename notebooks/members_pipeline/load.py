"""Landing Parquet batches -> Delta members table (MERGE), quarantine and load log."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import landing
from .config import _RUN_ID, LoadConfig
from .files import Files
from .runtime import is_databricks
from .schema import LANDING_SCHEMA, PII_COLUMNS, SOURCE_COLUMNS
from .transform import deduplicate, row_checksum, row_hash, with_rejection_reason


class ReconciliationError(RuntimeError):
    """A batch's numbers do not add up; nothing is recorded as loaded."""


class ConcurrentLoadError(RuntimeError):
    """Another load committed to the same Delta tables at the same time; this run lost and logged nothing."""


def _is_delta_conflict(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"[:2000]
    return any(k in text for k in ("ConcurrentAppendException", "ConcurrentDeleteReadException",
                                   "ConcurrentDeleteDeleteException", "ConcurrentTransactionException",
                                   "MetadataChangedException", "ProtocolChangedException", "DELTA_CONCURRENT"))


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
    "row_hash": "SHA-256 of the business columns; MERGE skips rows whose hash is unchanged",
    "first_ingest_date": "Ingest date of the batch that first inserted the member",
    "last_changed_ingest_date": "Ingest date of the batch that last changed the row",
    "last_changed_run_id": "Extract run id of the batch that last changed the row",
    "updated_at": "When the row was last inserted or changed (UTC)",
}


def _comment(text: str) -> str:
    return text.replace("'", "\\'")


def members_ddl(table: str) -> str:
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
  updated_at TIMESTAMP COMMENT '{c["updated_at"]}'
) USING DELTA
CLUSTER BY (member_id)
COMMENT 'Members from MySQL, one row per member_id, loaded from the Parquet landing zone by load_members. Contains PII.'
TBLPROPERTIES ('members.pii_columns' = '{",".join(PII_COLUMNS)}', 'members.source' = 'mysql.members')
"""


def quarantine_ddl(table: str) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {table} (
  member_id STRING, first_name STRING, last_name STRING, email STRING, phone_number STRING, address STRING,
  city STRING, country STRING, registration_date DATE,
  run_id STRING NOT NULL, extracted_at TIMESTAMP, ingest_date DATE NOT NULL,
  reason STRING NOT NULL COMMENT 'Why the row was not loaded',
  quarantined_at TIMESTAMP NOT NULL
) USING DELTA
COMMENT 'Landed member rows that failed validation, with the reason. Contains PII.'
TBLPROPERTIES ('members.pii_columns' = '{",".join(PII_COLUMNS)}')
"""


def load_log_ddl(table: str) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {table} (
  batch_id STRING NOT NULL, ingest_date DATE NOT NULL, run_id STRING NOT NULL,
  manifest_rows BIGINT NOT NULL, merged BIGINT NOT NULL, quarantined BIGINT NOT NULL, duplicates BIGINT NOT NULL,
  inserted BIGINT NOT NULL, updated BIGINT NOT NULL, unchanged BIGINT NOT NULL, flagged_deleted BIGINT NOT NULL,
  loaded_at TIMESTAMP NOT NULL
) USING DELTA
COMMENT 'One row per landed batch merged into the members table; batches listed here are never loaded twice.'
"""


def databricks_governance_sql(cfg: LoadConfig) -> list[str]:
    """Unity Catalog tags and column masks (Databricks only: OSS Spark has neither)."""
    fn = f"`{cfg.catalog}`.`{cfg.schema}`.`mask_member_pii`"
    group = cfg.pii_reader_group.replace("'", "")
    stmts = [
        f"CREATE OR REPLACE FUNCTION {fn}(value STRING) RETURNS STRING "
        f"COMMENT 'Shows member PII only to {group}' "
        f"RETURN CASE WHEN is_account_group_member('{group}') THEN value ELSE '***' END",
        f"ALTER TABLE {cfg.members_table} SET TAGS ('contains_pii' = 'true')",
    ]
    for col in PII_COLUMNS:
        stmts.append(f"ALTER TABLE {cfg.members_table} ALTER COLUMN {col} SET TAGS ('pii' = '{col}')")
    for col in ("email", "phone_number", "address"):
        stmts.append(f"ALTER TABLE {cfg.members_table} ALTER COLUMN {col} SET MASK {fn}")
    return stmts


def ensure_tables(spark: SparkSession, cfg: LoadConfig) -> None:
    if not is_databricks():
        # Locally the schema lives in the Hive/Derby metastore; on Databricks the stack creates it.
        spark.sql(f"CREATE SCHEMA IF NOT EXISTS `{cfg.catalog}`.`{cfg.schema}`")
    created = not spark.catalog.tableExists(f"{cfg.catalog}.{cfg.schema}.{cfg.table}")
    spark.sql(members_ddl(cfg.members_table))
    spark.sql(quarantine_ddl(cfg.quarantine_table))
    spark.sql(load_log_ddl(cfg.load_log_table))
    if created and is_databricks():
        for stmt in databricks_governance_sql(cfg):
            spark.sql(stmt)


def find_batches(spark: SparkSession, files: Files, cfg: LoadConfig) -> tuple[list[Batch], list[Batch]]:
    """(to_load, superseded): complete batches not in the load log, oldest first.

    A batch older than the newest loaded one is superseded (loading an old snapshot would undo newer data);
    it is reported, not loaded.
    """
    root = landing.members_root(cfg.landing_path)
    loaded = {r.batch_id for r in spark.table(cfg.load_log_table).select("batch_id").collect()}
    newest = spark.table(cfg.load_log_table).agg(F.max("ingest_date")).first()[0]
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


def verify_batch(df: DataFrame, batch: Batch) -> int:
    stats = df.agg(F.count(F.lit(1)).alias("rows"), row_checksum(df).cast("string").alias("checksum")).first()
    m = batch.manifest
    if stats["rows"] != m["rows"] or stats["checksum"] != m["checksum"]:
        raise ReconciliationError(
            f"batch {batch.batch_id} at {batch.path}: manifest says {m['rows']} rows / checksum {m['checksum']}, "
            f"files hold {stats['rows']} rows / checksum {stats['checksum']}; batch not loaded"
        )
    return stats["rows"]


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
        rejected.where(F.col("member_id").isNotNull())
        .select("member_id").distinct()
        .join(valid_dedup.select("member_id"), "member_id", "left_anti")
    )
    cols = [c for c in valid_dedup.columns]
    fixed = {"ingest_date": F.lit(batch.ingest_date), "run_id": F.lit(batch.run_id),
             "loaded_at": F.lit(loaded_at).cast("timestamp")}
    filler = [fixed.get(c, F.lit(None)).cast(valid_dedup.schema[c].dataType).alias(c) for c in cols if c != "member_id"]
    present_only = present_only.select("member_id", *filler).withColumn("_present_only", F.lit(True))
    return valid_dedup.withColumn("_present_only", F.lit(False)).unionByName(present_only)


def merge_sql(target: str, source_view: str, full_snapshot: bool) -> str:
    set_cols = ", ".join(f"t.{c} = s.{c}" for c in SOURCE_COLUMNS[1:])
    insert_cols = ", ".join(SOURCE_COLUMNS)
    insert_vals = ", ".join(f"s.{c}" for c in SOURCE_COLUMNS)
    sql = f"""
MERGE INTO {target} AS t
USING {source_view} AS s
ON t.member_id = s.member_id
WHEN MATCHED AND NOT s._present_only AND (t.row_hash <> s.row_hash OR t.is_deleted) THEN UPDATE SET
  {set_cols}, t.row_hash = s.row_hash, t.is_deleted = false,
  t.last_changed_ingest_date = s.ingest_date, t.last_changed_run_id = s.run_id, t.updated_at = s.loaded_at
WHEN MATCHED AND s._present_only AND t.is_deleted THEN UPDATE SET
  t.is_deleted = false, t.last_changed_ingest_date = s.ingest_date, t.last_changed_run_id = s.run_id,
  t.updated_at = s.loaded_at
WHEN NOT MATCHED AND NOT s._present_only THEN INSERT
  ({insert_cols}, row_hash, is_deleted, first_ingest_date, last_changed_ingest_date, last_changed_run_id, updated_at)
  VALUES ({insert_vals}, s.row_hash, false, s.ingest_date, s.ingest_date, s.run_id, s.loaded_at)
"""
    if full_snapshot:
        sql += """WHEN NOT MATCHED BY SOURCE AND NOT t.is_deleted THEN UPDATE SET
  t.is_deleted = true, t.updated_at = current_timestamp()
"""
    return sql


def _merge_metrics(spark: SparkSession, table: str, version_before: int, merge_result) -> dict:
    """Counts of this run's MERGE. Inserted/updated come from the MERGE statement itself; the split of updates
    into changed vs flagged deleted from this MERGE's commit in the history (matched by its counts, since a
    concurrent load may have committed after it). A MERGE that changed nothing commits nothing."""
    from delta.tables import DeltaTable

    inserted, updated = int(merge_result["num_inserted_rows"]), int(merge_result["num_updated_rows"])
    if inserted == 0 and updated == 0:
        return {"inserted": 0, "updated": 0, "flagged_deleted": 0}
    history = DeltaTable.forName(spark, table.replace("`", "")).history(20).where(
        (F.col("version") > version_before) & (F.col("operation") == "MERGE")).orderBy("version").collect()
    for h in history:
        m = h["operationMetrics"]
        if (int(m.get("numTargetRowsInserted", -1)), int(m.get("numTargetRowsUpdated", -1))) == (inserted, updated):
            flagged = int(m.get("numTargetRowsNotMatchedBySourceUpdated", 0))
            return {"inserted": inserted, "updated": updated - flagged, "flagged_deleted": flagged}
    raise RuntimeError(f"{table}: no MERGE commit after version {version_before} with {inserted} inserted / "
                       f"{updated} updated rows in the table history")


def _table_version(spark: SparkSession, table: str) -> int:
    from delta.tables import DeltaTable

    return DeltaTable.forName(spark, table.replace("`", "")).history(1).first()["version"]


def load_batch(spark: SparkSession, batch: Batch, cfg: LoadConfig) -> dict:
    loaded_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    df = read_batch(spark, batch, cfg).cache()
    try:
        manifest_rows = verify_batch(df, batch)
        valid, rejected = split_batch(df)
        valid_count = valid.count()
        deduped = deduplicate(valid).withColumn("loaded_at", F.lit(loaded_at).cast("timestamp")).cache()
        merged = deduped.count()
        quarantined = rejected.count()
        duplicates = valid_count - merged
        if manifest_rows != merged + quarantined + duplicates:
            raise ReconciliationError(
                f"batch {batch.batch_id}: manifest rows {manifest_rows} != merged {merged} + quarantined "
                f"{quarantined} + duplicates {duplicates}; batch not recorded as loaded"
            )
        # Quarantine first, as one atomic replace of this run's rows: a retried load replaces its own rows, and
        # two loads of the same batch never both append (a DELETE then an append could interleave and double).
        (rejected.select(*SOURCE_COLUMNS, "run_id", "extracted_at", "ingest_date", "reason")
            .withColumn("quarantined_at", F.lit(loaded_at).cast("timestamp"))
            .writeTo(cfg.quarantine_table)
            .overwrite((F.col("run_id") == batch.run_id) & (F.col("ingest_date") == F.lit(batch.ingest_date))))

        # Unique per call: two loads in one session must not replace or drop each other's source view.
        view = f"members_merge_source_{uuid.uuid4().hex}"
        _merge_source(deduped, rejected, batch, loaded_at).createOrReplaceTempView(view)
        before = _table_version(spark, cfg.members_table)
        merge_result = spark.sql(merge_sql(cfg.members_table, view, batch.manifest.get("snapshot") == "full")).first()
        metrics = _merge_metrics(spark, cfg.members_table, before, merge_result)
        spark.catalog.dropTempView(view)
        deduped.unpersist()
    finally:
        df.unpersist()
    result = {
        "batch_id": batch.batch_id,
        "ingest_date": batch.ingest_date.isoformat(),
        "run_id": batch.run_id,
        "manifest_rows": manifest_rows,
        "merged": merged,
        "quarantined": quarantined,
        "duplicates": duplicates,
        "inserted": metrics["inserted"],
        "updated": metrics["updated"],
        "unchanged": merged - metrics["inserted"] - metrics["updated"],
        "flagged_deleted": metrics["flagged_deleted"],
    }
    # The log row is the commit point: once it exists the batch is never loaded again. A conditional insert
    # (MERGE on batch_id), not an append: a concurrent load of the same batch that got here first makes this
    # one insert nothing (or fail with a Delta conflict), so a batch is never logged twice.
    log = spark.createDataFrame([{**result, "ingest_date": batch.ingest_date, "loaded_at": loaded_at}],
                                schema=spark.table(cfg.load_log_table).schema)
    view = f"members_load_log_row_{uuid.uuid4().hex}"
    log.createOrReplaceTempView(view)
    try:
        logged = spark.sql(f"MERGE INTO {cfg.load_log_table} AS t USING {view} AS s ON t.batch_id = s.batch_id "
                           f"WHEN NOT MATCHED THEN INSERT *").first()["num_inserted_rows"]
    finally:
        spark.catalog.dropTempView(view)
    if logged != 1:
        return {**result, "status": "already_loaded_concurrently"}
    return result


def _first_line(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        line = line.strip()
        if "Exception" in line or "DELTA_" in line:
            return line[:300]
    return type(exc).__name__


def load_members(spark: SparkSession, files: Files, cfg: LoadConfig) -> dict:
    started = time.monotonic()
    ensure_tables(spark, cfg)
    to_load, superseded = find_batches(spark, files, cfg)
    results, concurrent = [], []
    for b in to_load:
        try:
            r = load_batch(spark, b, cfg)
        except Exception as exc:
            if not _is_delta_conflict(exc):
                raise
            raise ConcurrentLoadError(
                f"batch {b.batch_id}: another load committed to {cfg.members_table} or its quarantine/load log "
                f"concurrently ({_first_line(exc)}); this run logged nothing; rerun the load, it skips batches "
                f"already logged"
            ) from None
        (concurrent if r.get("status") == "already_loaded_concurrently" else results).append(r)
    totals = {k: sum(r[k] for r in results) for k in
              ("manifest_rows", "merged", "quarantined", "duplicates", "inserted", "updated", "unchanged",
               "flagged_deleted")}
    return {
        "status": "ok",
        "table": f"{cfg.catalog}.{cfg.schema}.{cfg.table}",
        "batches_loaded": len(results),
        "batches": results,
        "superseded_batches": [b.batch_id for b in superseded],
        # Batches another load logged while this one was merging them (the table is unchanged by this run).
        "concurrently_loaded_batches": [r["batch_id"] for r in concurrent],
        **totals,
        "seconds": round(time.monotonic() - started, 2),
    }
