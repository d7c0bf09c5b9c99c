"""Landed batches: finding them and their manifests, reading their files, and the load log that records them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import landing
from .config import LoadConfig
from .files import Files
from .frames import local_frame
from .results import BatchResult, Status
from .schema import LANDING_SCHEMA


def loaded_rows(alias: str = "") -> str:
    """Load-log rows of loaded batches (status is NULL in rows logged before refusals were recorded)."""
    return f"coalesce({alias}status, 'loaded') <> 'refused'"


class ReconciliationError(RuntimeError):
    """A batch's numbers do not add up; nothing is recorded as loaded."""


@dataclass(frozen=True)
class Batch:
    ingest_date: dt.date
    run_id: str
    path: str
    manifest: landing.Manifest

    @property
    def batch_id(self) -> str:
        attempt = self.manifest.attempt_id
        return f"{self.ingest_date.isoformat()}/{self.run_id}" + (f"/{attempt}" if attempt else "")


def find_batches(spark: SparkSession, files: Files, cfg: LoadConfig) -> tuple[list[Batch], list[Batch]]:
    """(to_load, superseded): complete batches not in the load log, oldest first.

    A batch older than the newest loaded one is superseded (loading an old snapshot would undo newer data);
    it is reported, not loaded.
    """
    root = landing.members_root(cfg.landing_path)
    # One row per loaded batch; refusals (status refused, logged by every run that refused the batch) do not count.
    logged = spark.table(cfg.load_log_table).where(loaded_rows()).select("batch_id", "ingest_date").collect()
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
        manifest = read_manifest(files, manifest_path, day)
        candidates.append(Batch(day, manifest.run_id, f"{root}/{name}", manifest))
    pending = [b for b in candidates if b.batch_id not in loaded]
    to_load = [b for b in pending if newest is None or b.ingest_date >= newest]
    superseded = [b for b in pending if b not in to_load]
    return to_load, superseded


def check_manifest(data: object, day: dt.date, path: str) -> landing.Manifest:
    """A manifest is input too: reject one that is malformed or belongs elsewhere, naming the file."""
    try:
        return landing.Manifest.from_json(path, data, ingest_date=day)
    except landing.ManifestError as exc:
        raise ReconciliationError(str(exc)) from None


def read_manifest(files: Files, path: str, day: dt.date) -> landing.Manifest:
    try:
        data = files.read_json(path)
    except ValueError as exc:  # not JSON (a truncated or foreign file)
        raise ReconciliationError(f"invalid manifest {path}: not JSON ({exc})") from None
    return check_manifest(data, day, path)


def read_batch(spark: SparkSession, batch: Batch, cfg: LoadConfig) -> DataFrame:
    root = landing.members_root(cfg.landing_path)
    df = spark.read.schema(LANDING_SCHEMA).option("basePath", root).parquet(batch.path)
    # Files of an older run of the same date cannot be there (dynamic overwrite), but never mix runs.
    return df.where(F.col("run_id") == batch.run_id)


def log_batch(spark: SparkSession, cfg: LoadConfig, result: BatchResult, loaded_at: dt.datetime) -> bool:
    """Write the batch's load-log row; False when another load logged the batch first.

    The log row is the commit point: once it exists the batch is never loaded again. A conditional insert
    (MERGE on batch_id), not an append: a concurrent load of the same batch that got here first makes this
    one insert nothing (or fail with a Delta conflict), so a batch is never logged twice. A refusal (status
    refused) is appended: every run that refuses the batch is recorded, and none of them counts as loaded."""
    log_schema = spark.table(cfg.load_log_table).schema
    values = result.log_values(loaded_at)
    log = local_frame(spark, [tuple(values[f.name] for f in log_schema)], log_schema)
    view = f"members_load_log_row_{uuid.uuid4().hex}"
    log.createOrReplaceTempView(view)
    try:
        if result.status is Status.REFUSED:
            spark.sql(f"INSERT INTO {cfg.load_log_table} SELECT * FROM {view}").collect()
            return True
        logged = spark.sql(
            f"MERGE INTO {cfg.load_log_table} AS t USING {view} AS s ON t.batch_id = s.batch_id AND {loaded_rows('t.')} "
            "WHEN NOT MATCHED THEN INSERT *"
        ).first()["num_inserted_rows"]
    finally:
        spark.catalog.dropTempView(view)
    return logged == 1
