"""Data guards, PII erasure after the retention, and upgrading tables created by the previous DDL (real engines).

About the load: the batches land directly through the extract's own cleaning and writer (Pipeline.land)."""

import contextlib
import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import RUN_DATE, member
from members_pipeline.guards import DataGuardError
from members_pipeline.schema import PII_COLUMNS
from pyspark.sql import functions as F

DAY = [RUN_DATE + dt.timedelta(days=i) for i in range(4)]


def _state(loader):
    """Contents and Delta version of the members and quarantine tables, and the load log's loaded batches."""
    from delta.tables import DeltaTable

    out = [sorted(r.batch_id for r in loader.table("members_load_log").where("status = 'loaded'").collect())]
    for name in ("members", "members_quarantine"):
        out.append(sorted(tuple(r) for r in loader.table(name).collect()))
        out.append(DeltaTable.forName(loader.spark, f"spark_catalog.{loader.schema}.{name}").history(1).first().version)
    return out


def _refused(loader, expected: str) -> None:
    before = _state(loader)
    with pytest.raises(DataGuardError) as err:
        loader.load()
    assert expected in str(err.value) and "rerun with accept_mass_change=true" in str(err.value), str(err.value)
    assert _state(loader) == before  # nothing merged, quarantined or logged as loaded
    refusal = loader.table("members_load_log").where("status = 'refused'").orderBy(F.desc("loaded_at"), F.desc("refusal")).first()
    assert refusal.refusal == str(err.value) and (refusal.merged, refusal.quarantined, refusal.inserted) == (0, 0, 0)


def test_guards_refuse_unusual_batches_until_accepted_for_one_run(loader):
    source = [member(f"m{i:02d}", email=f"m{i}@example.com") for i in range(20)]
    loader.land(source, DAY[0], files=1)
    assert loader.load()["inserted"] == 20

    # 5% bad rows (1 of 20) is above max_quarantined_share 1%.
    loader.land([member("m00", email="broken"), *source[1:]], DAY[1], files=1)
    _refused(loader, "would quarantine 1 of 20 rows (5.0%), above max_quarantined_share 1.0%")
    accepted = loader.load(accept_mass_change="true")
    assert (accepted["batches_loaded"], accepted["quarantined"]) == (1, 1)
    (note,) = accepted["guard_overrides"]
    assert "would quarantine 1 of 20 rows (5.0%)" in note
    assert [r.guard_override for r in loader.table("members_load_log").where("guard_override IS NOT NULL").collect()] == [note]

    # A snapshot missing 10% of the members (2 of 20).
    loader.land(source[:18], DAY[2], files=1)
    _refused(loader, "would flag 2 of 20 active members deleted (10.0%), above max_deleted_share 5.0%")
    accepted = loader.load(accept_mass_change="true")
    assert accepted["flagged_deleted"] == 2 and "would flag 2 of 20" in accepted["guard_overrides"][0]

    # An empty snapshot after a full one: everyone would be flagged deleted.
    assert loader.land([], DAY[3], files=1).rows == 0
    _refused(loader, "would flag 18 of 18 active members deleted (100.0%), above max_deleted_share 5.0%")
    accepted = loader.load(accept_mass_change="true")
    assert accepted["flagged_deleted"] == 18
    assert loader.table().where("NOT is_deleted").count() == 0


@contextlib.contextmanager
def _spark_conf(spark, **values):
    """Session settings for one test only (restored even when it fails)."""
    keys = {k.replace("__", "."): v for k, v in values.items()}
    saved = {k: spark.conf.get(k, None) for k in keys}
    for k, v in keys.items():
        spark.conf.set(k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            spark.conf.unset(k) if v is None else spark.conf.set(k, v)


def _strings_in_data_files(spark, table_name: str) -> set:
    """Every string value of every Parquet data file under the table's folder, each file read on its own as stored
    (pyarrow: no Delta log, no deletion vectors, no JVM)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    location = Path(spark.sql(f"DESCRIBE DETAIL {table_name}").first().location.removeprefix("file:"))
    files = [f for f in location.rglob("*.parquet") if "_delta_log" not in f.parts]
    assert files, location
    values = set()
    for f in files:
        data = pq.read_table(f)
        for name, kind in zip(data.column_names, data.schema.types, strict=True):
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                values.update(v for v in data.column(name).to_pylist() if v is not None)
    return values


GONE = (
    "gone-1",
    "Gonzalo",
    "Erasedson",
    "gonzalo.erasedson@example.com",
    "+351 900 000 111",
    "9 Vanishing Rd",
    "Porto",
    "Portugal",
    dt.date(2021, 4, 2),
)
GONE_INVALID = GONE[:3] + ("gonzalo-at-example.com",) + GONE[4:]  # the same member's quarantined row
ERASED_VALUES = {GONE[i] for i in range(1, 6)} | {GONE_INVALID[3]}


def test_pii_is_erased_after_the_retention_and_leaves_the_files_after_vacuum(loader, spark):
    kept = [member("keep-1"), member("keep-2")]
    loader.land([*kept, GONE, GONE_INVALID], DAY[0], files=1)
    loader.load(max_quarantined_share=1)
    members, quarantine = (f"spark_catalog.{loader.schema}.{t}" for t in ("members", "members_quarantine"))
    # Databricks writes deletion vectors by default (UPDATE then leaves old rows in the old file): do the same here.
    for name in (members, quarantine):
        spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')")
    dv = dict(
        spark__databricks__delta__update__deletionVectors__persistent="true", spark__databricks__delta__merge__deletionVectors__persistent="true"
    )

    # gone-1 is deleted in the source (both its rows)
    with _spark_conf(spark, **dv):
        loader.land(kept, DAY[1], files=1)
        flagged = loader.load(max_deleted_share=1, pii_retention_days=1)
        gone = loader.table().where("member_id = 'gone-1'").first()
        assert (flagged["flagged_deleted"], flagged["pii_erased"]) == (1, 0)  # deleted 0 days: PII kept
        assert (gone.is_deleted, gone.deleted_ingest_date, gone.email) == (True, DAY[1], GONE[3])

        loader.land(kept, DAY[2], files=1)
        erased = loader.load(pii_retention_days=1)

    assert (erased["pii_erased"], erased["pii_erased_quarantine_rows"]) == (1, 1)
    assert erased["vacuumed_tables"] == [members, quarantine]
    gone = loader.table().where("member_id = 'gone-1'").first()
    assert all(gone[c] is None for c in PII_COLUMNS) and gone.pii_erased_at is not None
    assert (gone.is_deleted, gone.deleted_ingest_date, gone.registration_date) == (True, DAY[1], GONE[8])
    q = loader.table("members_quarantine").where("member_id = 'gone-1'").collect()
    assert len(q) == 1 and all(q[0][c] is None for c in PII_COLUMNS) and q[0].pii_erased_at is not None
    assert loader.table().where("member_id LIKE 'keep-%' AND first_name = 'Ann'").count() == 2
    # The current versions hold no erased value; the removed files still do, until VACUUM passes the retention.
    current = {v for t in (members, quarantine) for r in spark.table(t).collect() for v in r if isinstance(v, str)}
    assert not current & ERASED_VALUES
    assert _strings_in_data_files(spark, members) & ERASED_VALUES

    with _spark_conf(spark, spark__databricks__delta__retentionDurationCheck__enabled="false"):
        for name in (members, quarantine):
            spark.sql(f"VACUUM {name} RETAIN 0 HOURS").collect()
    for name in (members, quarantine):
        assert not _strings_in_data_files(spark, name) & ERASED_VALUES, name

    before = _state(loader)
    assert loader.load(pii_retention_days=1)["batches_loaded"] == 0
    assert _state(loader) == before  # a rerun changes nothing


# The tables as the first release created them (no deleted_ingest_date / pii_erased_at / guard columns).
LEGACY_DDL = [
    """CREATE TABLE {s}.members (member_id STRING NOT NULL, first_name STRING, last_name STRING, email STRING,
       phone_number STRING, address STRING, city STRING, country STRING, registration_date DATE,
       is_deleted BOOLEAN NOT NULL, row_hash STRING NOT NULL, first_ingest_date DATE, last_changed_ingest_date DATE,
       last_changed_run_id STRING, updated_at TIMESTAMP) USING DELTA CLUSTER BY (member_id)""",
    """CREATE TABLE {s}.members_quarantine (member_id STRING, first_name STRING, last_name STRING, email STRING,
       phone_number STRING, address STRING, city STRING, country STRING, registration_date DATE,
       run_id STRING NOT NULL, extracted_at TIMESTAMP, ingest_date DATE NOT NULL, reason STRING NOT NULL,
       quarantined_at TIMESTAMP NOT NULL) USING DELTA""",
    """CREATE TABLE {s}.members_load_log (batch_id STRING NOT NULL, ingest_date DATE NOT NULL,
       run_id STRING NOT NULL, manifest_rows BIGINT NOT NULL, merged BIGINT NOT NULL, quarantined BIGINT NOT NULL,
       duplicates BIGINT NOT NULL, inserted BIGINT NOT NULL, updated BIGINT NOT NULL, unchanged BIGINT NOT NULL,
       flagged_deleted BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL) USING DELTA""",
]


def test_tables_created_by_the_previous_ddl_are_upgraded_and_keep_working(loader, spark):
    s = f"spark_catalog.{loader.schema}"
    spark.sql(f"CREATE SCHEMA {s}")
    for ddl in LEGACY_DDL:
        spark.sql(ddl.format(s=s))
    # Flagged deleted 40 days ago by the old code (updated_at is when it was flagged), and still active.
    flagged_at = dt.datetime.combine(RUN_DATE - dt.timedelta(days=40), dt.time(3))
    spark.sql(f"""INSERT INTO {s}.members VALUES
        ('old-gone', 'Olga', 'Oldham', 'olga@example.com', '555', '1 Old St', 'Porto', 'Portugal', DATE'2020-01-01',
         true, 'h1', DATE'2020-01-02', DATE'2020-01-02', 'r0', TIMESTAMP'{flagged_at}'),
        ('keep-1', 'Ann', 'Lee', 'a.b@example.com', '531.754.6833x29494', '1 Main St', 'Porto', 'Portugal',
         DATE'2020-05-17', false, 'h2', DATE'2020-01-02', DATE'2020-01-02', 'r0', TIMESTAMP'{flagged_at}')""")
    loader.land([member("keep-1")], files=1)

    result = loader.load()  # default pii_retention_days 30

    assert (result["batches_loaded"], result["pii_erased"]) == (1, 1)
    rows = {r.member_id: r for r in loader.table().collect()}
    assert all(rows["old-gone"][c] is None for c in PII_COLUMNS) and rows["keep-1"].first_name == "Ann"
    # The old table keeps its SHA-256 hex row hashes: the load hashes to the table's type (transform.row_hash).
    assert rows["old-gone"].row_hash == "pii-erased" and re.fullmatch(r"[0-9a-f]{64}", rows["keep-1"].row_hash)
    for name, added in (
        ("members", {"deleted_ingest_date", "pii_erased_at"}),
        ("members_quarantine", {"pii_erased_at"}),
        ("members_load_log", {"pii_erased", "guard_override", "status", "seconds", "refusal"}),
    ):
        assert added <= set(loader.table(name).columns), name
    props = spark.sql(f"DESCRIBE DETAIL {s}.members").first().properties
    assert props["delta.deletedFileRetentionDuration"] == props["delta.logRetentionDuration"] == "interval 7 days"
    assert "email" not in props["delta.dataSkippingStatsColumns"].split(",")
    assert props["delta.enableChangeDataFeed"] == "true"  # Change Data Feed enabled on the old table
    (log,) = loader.table("members_load_log").collect()
    assert (log.pii_erased, log.guard_override) == (1, None)
    commits = spark.sql(f"DESCRIBE HISTORY {s}.members").count()
    assert loader.load()["batches_loaded"] == 0
    assert spark.sql(f"DESCRIBE HISTORY {s}.members").count() == commits  # the upgrade is not redone
