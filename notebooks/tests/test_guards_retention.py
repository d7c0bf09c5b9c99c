"""Data guards, PII erasure after the retention, and upgrading tables created by the previous DDL (real engines)."""

import contextlib
import datetime as dt
from pathlib import Path

import pytest
from conftest import RUN_DATE, member
from members_pipeline.guards import DataGuardError
from members_pipeline.schema import PII_COLUMNS

DAY = [RUN_DATE + dt.timedelta(days=i) for i in range(4)]


def _state(pipeline):
    """Contents and Delta version of the three tables."""
    from delta.tables import DeltaTable

    out = []
    for name in ("members", "members_quarantine", "members_load_log"):
        out.append(sorted(tuple(r) for r in pipeline.table(name).collect()))
        out.append(DeltaTable.forName(pipeline.spark, f"spark_catalog.{pipeline.schema}.{name}").history(1).first().version)
    return out


def _refused(pipeline, expected: str) -> None:
    before = _state(pipeline)
    with pytest.raises(DataGuardError) as err:
        pipeline.load()
    assert expected in str(err.value) and "rerun with accept_mass_change=true" in str(err.value), str(err.value)
    assert _state(pipeline) == before  # nothing merged, quarantined or logged


def test_guards_refuse_unusual_batches_until_accepted_for_one_run(pipeline, mysql):
    table = mysql.create_loose_table()
    mysql.insert(table, [member(f"m{i:02d}", email=f"m{i}@example.com") for i in range(20)])
    pipeline.extract(table, DAY[0], partition_count=1)
    assert pipeline.load()["inserted"] == 20

    # 5% bad rows (1 of 20) is above max_quarantined_share 1%.
    mysql.execute(f"UPDATE `{table}` SET email = 'broken' WHERE member_id = 'm00'")
    pipeline.extract(table, DAY[1], partition_count=1)
    _refused(pipeline, "would quarantine 1 of 20 rows (5.0%), above max_quarantined_share 1.0%")
    accepted = pipeline.load(accept_mass_change="true")
    assert (accepted["batches_loaded"], accepted["quarantined"]) == (1, 1)
    (note,) = accepted["guard_overrides"]
    assert "would quarantine 1 of 20 rows (5.0%)" in note
    assert [r.guard_override for r in pipeline.table("members_load_log").where("guard_override IS NOT NULL").collect()] == [note]

    # A snapshot missing 10% of the members (2 of 20).
    mysql.execute(f"UPDATE `{table}` SET email = 'm0@example.com' WHERE member_id = 'm00'")
    mysql.execute(f"DELETE FROM `{table}` WHERE member_id IN ('m18', 'm19')")
    pipeline.extract(table, DAY[2], partition_count=1)
    _refused(pipeline, "would flag 2 of 20 active members deleted (10.0%), above max_deleted_share 5.0%")
    accepted = pipeline.load(accept_mass_change="true")
    assert accepted["flagged_deleted"] == 2 and "would flag 2 of 20" in accepted["guard_overrides"][0]

    # An empty snapshot after a full one: everyone would be flagged deleted.
    mysql.execute(f"DELETE FROM `{table}`")
    assert pipeline.extract(table, DAY[3], partition_count=1)["rows"] == 0
    _refused(pipeline, "would flag 18 of 18 active members deleted (100.0%), above max_deleted_share 5.0%")
    accepted = pipeline.load(accept_mass_change="true")
    assert accepted["flagged_deleted"] == 18
    assert pipeline.table().where("NOT is_deleted").count() == 0


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
    """Every string value of every Parquet data file under the table's folder, each file read on its own."""
    location = Path(spark.sql(f"DESCRIBE DETAIL {table_name}").first().location.removeprefix("file:"))
    files = [f for f in location.rglob("*.parquet") if "_delta_log" not in f.parts]
    assert files, location
    values = set()
    for f in files:
        df = spark.read.parquet(str(f))
        strings = [c for c, kind in df.dtypes if kind == "string"]
        for row in df.select(*strings).collect():
            values.update(v for v in row if v is not None)
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


def test_pii_is_erased_after_the_retention_and_leaves_the_files_after_vacuum(pipeline, mysql, spark):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("keep-1"), member("keep-2"), GONE, GONE_INVALID])
    pipeline.extract(table, DAY[0], partition_count=1)
    pipeline.load(max_quarantined_share=1)
    members, quarantine = (f"spark_catalog.{pipeline.schema}.{t}" for t in ("members", "members_quarantine"))
    # Databricks writes deletion vectors by default (UPDATE then leaves old rows in the old file): do the same here.
    for name in (members, quarantine):
        spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')")
    dv = dict(
        spark__databricks__delta__update__deletionVectors__persistent="true", spark__databricks__delta__merge__deletionVectors__persistent="true"
    )

    mysql.execute(f"DELETE FROM `{table}` WHERE member_id = 'gone-1'")
    with _spark_conf(spark, **dv):
        pipeline.extract(table, DAY[1], partition_count=1)
        flagged = pipeline.load(max_deleted_share=1, pii_retention_days=1)
        gone = pipeline.table().where("member_id = 'gone-1'").first()
        assert (flagged["flagged_deleted"], flagged["pii_erased"]) == (1, 0)  # deleted 0 days: PII kept
        assert (gone.is_deleted, gone.deleted_ingest_date, gone.email) == (True, DAY[1], GONE[3])

        pipeline.extract(table, DAY[2], partition_count=1)
        erased = pipeline.load(pii_retention_days=1)

    assert (erased["pii_erased"], erased["pii_erased_quarantine_rows"]) == (1, 1)
    assert erased["vacuumed_tables"] == [members, quarantine]
    gone = pipeline.table().where("member_id = 'gone-1'").first()
    assert all(gone[c] is None for c in PII_COLUMNS) and gone.pii_erased_at is not None
    assert (gone.is_deleted, gone.deleted_ingest_date, gone.registration_date) == (True, DAY[1], GONE[8])
    q = pipeline.table("members_quarantine").where("member_id = 'gone-1'").collect()
    assert len(q) == 1 and all(q[0][c] is None for c in PII_COLUMNS) and q[0].pii_erased_at is not None
    assert pipeline.table().where("member_id LIKE 'keep-%' AND first_name = 'Ann'").count() == 2
    # The current versions hold no erased value; the removed files still do, until VACUUM passes the retention.
    current = {v for t in (members, quarantine) for r in spark.table(t).collect() for v in r if isinstance(v, str)}
    assert not current & ERASED_VALUES
    assert _strings_in_data_files(spark, members) & ERASED_VALUES

    with _spark_conf(spark, spark__databricks__delta__retentionDurationCheck__enabled="false"):
        for name in (members, quarantine):
            spark.sql(f"VACUUM {name} RETAIN 0 HOURS").collect()
    for name in (members, quarantine):
        assert not _strings_in_data_files(spark, name) & ERASED_VALUES, name

    before = _state(pipeline)
    assert pipeline.load(pii_retention_days=1)["batches_loaded"] == 0
    assert _state(pipeline) == before  # a rerun changes nothing


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


def test_tables_created_by_the_previous_ddl_are_upgraded_and_keep_working(pipeline, mysql, spark):
    s = f"spark_catalog.{pipeline.schema}"
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
    table = mysql.create_loose_table()
    mysql.insert(table, [member("keep-1")])
    pipeline.extract(table, partition_count=1)

    result = pipeline.load()  # default pii_retention_days 30

    assert (result["batches_loaded"], result["pii_erased"]) == (1, 1)
    rows = {r.member_id: r for r in pipeline.table().collect()}
    assert all(rows["old-gone"][c] is None for c in PII_COLUMNS) and rows["keep-1"].first_name == "Ann"
    for name, added in (
        ("members", {"deleted_ingest_date", "pii_erased_at"}),
        ("members_quarantine", {"pii_erased_at"}),
        ("members_load_log", {"pii_erased", "guard_override"}),
    ):
        assert added <= set(pipeline.table(name).columns), name
    props = spark.sql(f"DESCRIBE DETAIL {s}.members").first().properties
    assert props["delta.deletedFileRetentionDuration"] == props["delta.logRetentionDuration"] == "interval 7 days"
    assert "email" not in props["delta.dataSkippingStatsColumns"].split(",")
    assert props["delta.enableChangeDataFeed"] == "true"  # Change Data Feed enabled on the old table
    (log,) = pipeline.table("members_load_log").collect()
    assert (log.pii_erased, log.guard_override) == (1, None)
    commits = spark.sql(f"DESCRIBE HISTORY {s}.members").count()
    assert pipeline.load()["batches_loaded"] == 0
    assert spark.sql(f"DESCRIBE HISTORY {s}.members").count() == commits  # the upgrade is not redone
