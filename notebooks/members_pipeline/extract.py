"""MySQL ``members`` -> cleaned, typed Parquet batch in the landing zone."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from . import landing
from .config import ExtractConfig
from .files import Files
from .frames import local_frame
from .mysql import MySqlConnection, jdbc_properties, jdbc_url
from .partitioning import member_id_predicates
from .results import Status
from .schema import LANDING_FILE_SCHEMA, SOURCE_COLUMNS, SOURCE_SCHEMA
from .transform import clean_members, row_checksum

# ~60-120 MB of snappy Parquet per file at the row width of `members`.
DEFAULT_ROWS_PER_FILE = 1_000_000
# Columns with (nearly) one value per member are written without Parquet dictionary encoding: the writer would build a
# dictionary per row group only to give it up when it outgrows its page (1 MB) and fall back to plain encoding. Without
# the attempt the Parquet write costs less than half the CPU (1M bench members, warm JVM: about 2.5 -> 1.1 s of JVM CPU
# time); the bench's files grow 8 % (its synthetic phone numbers repeat, real ones barely do). Names, city, country and
# the dates keep their dictionaries.
PLAIN_ENCODED_COLUMNS = ("member_id", "email", "phone_number", "address")


class SourceUnavailableError(RuntimeError):
    """MySQL could not be reached or read; the message names host and port, never credentials."""


class ExtractVerificationError(RuntimeError):
    pass


class SourceSchemaError(RuntimeError):
    """A source column's type changed in MySQL; nothing is written rather than casting values to NULL."""


def source_query(table: str) -> str:
    cols = ", ".join(f"`{c}`" for c in SOURCE_COLUMNS)
    return f"(SELECT {cols} FROM `{table}`) AS members_src"


def source_jdbc(conn: MySqlConnection, cfg: ExtractConfig) -> tuple[str, dict[str, str]]:
    """URL and properties of the extract's JDBC reads. Both carry how rows are fetched (cfg.fetch_size): a cursor needs
    useCursorFetch in the URL and the fetch size in the properties."""
    return jdbc_url(conn, cfg.ssl_mode, cfg.trust_store_path, fetch_size=cfg.fetch_size), jdbc_properties(conn, cfg.fetch_size)


def _cause(exc: BaseException, conn: MySqlConnection) -> str:
    """First meaningful line of a (Java) exception plus its root cause, with the password scrubbed just in case."""
    lines = [ln.strip().lstrip(": ").strip() for ln in str(exc).splitlines() if ln.strip()]
    picked = next((ln for ln in lines if "Exception" in ln or "Error" in ln), lines[0] if lines else type(exc).__name__)
    roots = [ln[len("Caused by:") :].strip() for ln in lines if ln.startswith("Caused by:")]
    if roots and roots[-1] not in picked:
        picked = f"{picked} (root cause: {roots[-1]})"
    if conn.password:
        picked = picked.replace(conn.password, "***")
    return picked[:600]


def _mysql_column_types(spark: SparkSession, conn: MySqlConnection, cfg: ExtractConfig) -> dict[str, str]:
    """COLUMN_TYPE per column of the source table, for error messages only (best effort)."""
    query = (
        "(SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS "
        f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{cfg.source_table}') AS cols"
    )
    try:
        url, properties = source_jdbc(conn, cfg)
        rows = spark.read.jdbc(url, query, properties=properties).collect()
        return {r["name"]: str(r["type"]) for r in rows}
    except Exception:
        return {}


def check_source_schema(spark: SparkSession, df: DataFrame, conn: MySqlConnection, cfg: ExtractConfig) -> None:
    """The JDBC read must give the expected Spark type per column (string, date for registration_date).

    clean_members casts every column, so without this a column whose MySQL type changed (a VARCHAR
    registration_date, an INT member_id) would land as NULLs or reformatted keys instead of failing.
    """
    got = {f.name: f.dataType for f in df.schema.fields}
    wrong = [(f.name, f.dataType, got[f.name]) for f in SOURCE_SCHEMA.fields if got.get(f.name) != f.dataType]
    if not wrong:
        return
    mysql_types = _mysql_column_types(spark, conn, cfg)
    details = "; ".join(
        f"column `{name}` is {mysql_types.get(name, '?')} in MySQL (read as {actual.simpleString() if actual else 'missing'}), "
        f"expected {expected.simpleString()}"
        for name, expected, actual in wrong
    )
    raise SourceSchemaError(f"MySQL table `{cfg.source_table}` at {conn.host}:{conn.port} changed type: {details}; nothing written")


def read_source(spark: SparkSession, conn: MySqlConnection, cfg: ExtractConfig) -> DataFrame:
    url, properties = source_jdbc(conn, cfg)
    try:
        df = spark.read.jdbc(
            url=url, table=source_query(cfg.source_table), predicates=member_id_predicates(cfg.partition_count), properties=properties
        )
    except Exception as exc:
        raise SourceUnavailableError(
            f"cannot read MySQL table `{cfg.source_table}` at {conn.host}:{conn.port} "
            f"(database {conn.database!r}, user {conn.user!r}): {_cause(exc, conn)}"
        ) from None
    check_source_schema(spark, df, conn, cfg)
    return df


def batch_stats_columns(df: DataFrame) -> list[Column]:
    """What the manifest records about a batch, as aggregate columns over its rows (JSON-ready types)."""
    return [
        F.count(F.lit(1)).alias("rows"),
        row_checksum(df).cast("string").alias("checksum"),
        F.min("member_id").alias("min_member_id"),
        F.max("member_id").alias("max_member_id"),
        # As ISO strings: an Observation on classic compute hands back dates as JVM objects.
        F.min("registration_date").cast("string").alias("min_registration_date"),
        F.max("registration_date").cast("string").alias("max_registration_date"),
    ]


def manifest_stats(values: dict) -> dict:
    return {**values, "rows": int(values["rows"])}


def write_batch(cleaned: DataFrame, root: str, run_date: dt.date, rows_per_file: int) -> None:
    """One file per input partition, e.g. per JDBC partition (more above rows_per_file): the rows stream from MySQL straight into Parquet,
    with no count beforehand to size the files and no cached copy (neither exists on serverless compute)."""
    (
        cleaned.withColumn("ingest_date", F.lit(run_date))
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")  # replaces this date only
        .option("maxRecordsPerFile", rows_per_file)
        .option("compression", "snappy")
        .options(**{f"parquet.enable.dictionary#{c}": "false" for c in PLAIN_ENCODED_COLUMNS})
        .option("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .partitionBy("ingest_date")
        .parquet(root)
    )


def write_empty_batch(spark: SparkSession, part_path: str) -> None:
    """An empty source table is a valid, empty snapshot. A partitioned write of zero rows creates no folder at
    all, so write one schema-only Parquet file straight into the date's folder (replacing an earlier run's files):
    the batch then reads back, verifies and loads like any other."""
    (
        local_frame(spark, [], LANDING_FILE_SCHEMA)
        .coalesce(1)
        .write.mode("overwrite")
        .option("compression", "snappy")
        .option("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .parquet(part_path)
    )


def land_batch(
    spark: SparkSession,
    files: Files,
    rows: DataFrame,
    landing_path: str,
    run_date: dt.date,
    *,
    run_id: str,
    extracted_at: dt.datetime,
    source: landing.ManifestSource | None,
    rows_per_file: int = DEFAULT_ROWS_PER_FILE,
    on_write_error: Callable[[Exception], Exception] | None = None,
    full_snapshot: bool = True,
) -> landing.Manifest:
    """Land ``rows`` (cleaned landing rows: LANDING_FILE_SCHEMA, this run_id and extracted_at) as the batch of
    ``run_date``: its Parquet files, then its manifest as the very last write. The extract's writer, and the load
    tests' way to land a batch without MySQL.

    The date's previous manifest is hidden first (no manifest = not loadable). ``on_write_error`` turns a failure of
    the write, where ``rows`` are computed (read from the source), into the caller's error. ``full_snapshot=False``
    lands a partial batch (a change feed: nobody absent from it is flagged deleted); the extract lands full snapshots."""
    root = landing.members_root(landing_path)
    part_path = landing.partition_path(landing_path, run_date)
    manifest_path = landing.manifest_path(landing_path, run_date)
    files.remove(manifest_path)
    # One pass over the rows: they go straight to Parquet while the observation aggregates the manifest's numbers
    # from the same rows (an Observation works on classic compute and over Spark Connect alike).
    observation = Observation(f"extract_{uuid.uuid4().hex}")
    try:
        write_batch(rows.observe(observation, *batch_stats_columns(rows)), root, run_date, rows_per_file)
    except Exception as exc:
        if on_write_error is None:
            raise
        raise on_write_error(exc) from None
    stats = manifest_stats(observation.get)
    if stats["rows"] == 0:
        write_empty_batch(spark, part_path)

    # Verify what actually landed (row counts from the Parquet footers), then publish the manifest. The load
    # recomputes the checksum from the files and refuses a batch that does not match.
    landed = spark.read.schema(LANDING_FILE_SCHEMA).parquet(part_path).count()
    if landed != stats["rows"]:
        raise ExtractVerificationError(f"{part_path}: wrote {stats['rows']} rows but read back {landed}; manifest not written")
    manifest = landing.Manifest(
        run_id=run_id,
        ingest_date=run_date,
        # Unique per attempt: a repaired/retried job run reuses its run id but must still be loaded.
        attempt_id=uuid.uuid4().hex,
        snapshot=landing.FULL_SNAPSHOT if full_snapshot else None,
        extracted_at=extracted_at,
        source=source,
        files=tuple(f for f in files.list_files(part_path) if f.endswith(".parquet")),
        **stats,
    )
    files.write_json(manifest_path, manifest.to_json())
    return manifest


def extract_members(
    spark: SparkSession,
    files: Files,
    conn: MySqlConnection,
    cfg: ExtractConfig,
    *,
    now: dt.datetime | None = None,
    rows_per_file: int = DEFAULT_ROWS_PER_FILE,
) -> dict:
    started = time.monotonic()
    extracted_at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    part_path = landing.partition_path(cfg.landing_path, cfg.run_date)

    # Hide the previous batch of this date before touching MySQL: a failed read leaves no loadable batch of it.
    files.remove(landing.manifest_path(cfg.landing_path, cfg.run_date))
    raw = read_source(spark, conn, cfg)

    def unreadable(exc: Exception) -> SourceUnavailableError:
        return SourceUnavailableError(
            f"reading MySQL table `{cfg.source_table}` at {conn.host}:{conn.port} into {part_path} failed: {_cause(exc, conn)}"
        )

    manifest = land_batch(
        spark,
        files,
        clean_members(raw, cfg.run_id, extracted_at),
        cfg.landing_path,
        cfg.run_date,
        run_id=cfg.run_id,
        extracted_at=extracted_at,
        source=landing.ManifestSource(cfg.source_table, conn.host, conn.port, conn.database),
        rows_per_file=rows_per_file,
        on_write_error=unreadable,
    )
    return {
        "status": Status.OK.value,
        "ingest_date": cfg.run_date.isoformat(),
        "run_id": cfg.run_id,
        "attempt_id": manifest.attempt_id,
        "rows": manifest.rows,
        "files": len(manifest.files),
        "partitions_read": cfg.partition_count,
        "path": part_path,
        "checksum": manifest.checksum,
        "seconds": round(time.monotonic() - started, 2),
    }
