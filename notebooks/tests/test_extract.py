"""Extract against real MariaDB and local Spark."""

import datetime as dt
import json

import pytest
from conftest import RUN_DATE, TEST_CA, free_port, member
from members_pipeline.config import GenerateConfig
from members_pipeline.extract import SourceUnavailableError
from members_pipeline.generate import generate_members
from members_pipeline.mysql import MySqlConnection
from members_pipeline.schema import LANDING_SCHEMA, SOURCE_COLUMNS

EDGE_DATES = [
    dt.date(1970, 1, 1),
    dt.date(1969, 12, 31),
    dt.date(1999, 12, 31),
    dt.date(2000, 1, 1),
    dt.date(2000, 2, 29),
    dt.date(1900, 1, 1),
    dt.date(2024, 2, 29),
    dt.date(2026, 1, 15),
]


def _generate(mysql, rows, seed=7, invalid_rows=0) -> str:
    table = mysql.new_table_name()
    generate_members(mysql.conn, GenerateConfig("members", rows, seed, 2500, table, "FAIL", invalid_rows, TEST_CA))
    return table


def _parquet_files(path):
    return sorted(p.name for p in path.iterdir() if p.name.endswith(".parquet"))


def _cleaned(row: tuple) -> tuple:
    """A MySQL row as the extract lands it: strings trimmed (blank -> NULL), e-mail lower-cased."""
    out = [(v.strip() or None) if isinstance(v, str) else v for v in row]
    out[3] = out[3] and out[3].lower()
    return tuple(out)


def test_extract_lands_exact_rows_schema_and_dates(pipeline, mysql, spark):
    table = _generate(mysql, 10_000)
    mysql.insert(table, [member(f"edge-{i}", registration_date=d) for i, d in enumerate(EDGE_DATES)])
    source = {r[0]: r for r in mysql.execute(f"SELECT {', '.join(SOURCE_COLUMNS)} FROM `{table}`")}
    expected = {k: r[8] for k, r in source.items()}
    assert len(expected) == 10_008

    summary = pipeline.extract(table)

    part = pipeline.partition()
    assert summary["rows"] == 10_008 and summary["path"].endswith(f"members/ingest_date={RUN_DATE.isoformat()}")
    landed = spark.read.parquet(str(part.parent))
    assert [(f.name, f.dataType) for f in landed.schema] == [(f.name, f.dataType) for f in LANDING_SCHEMA]
    assert landed.count() == 10_008
    assert landed.select("member_id").distinct().count() == 10_008
    # Every value of every row as MySQL holds it (the load tests land their rows without MySQL: this is the JDBC side).
    got = {r.member_id: tuple(r) for r in landed.select(*SOURCE_COLUMNS).collect()}
    assert got == {k: _cleaned(r) for k, r in source.items()}
    assert {r.ingest_date for r in landed.select("ingest_date").distinct().collect()} == {RUN_DATE}
    assert landed.select("run_id").distinct().collect()[0].run_id == summary["run_id"]

    manifest = json.loads((part / "_manifest.json").read_text())
    assert manifest["rows"] == 10_008 and manifest["run_id"] == summary["run_id"]
    assert manifest["min_member_id"] == min(expected) and manifest["max_member_id"] == max(expected)
    assert manifest["min_registration_date"] == "1900-01-01"
    assert manifest["max_registration_date"] == max(expected.values()).isoformat()
    assert manifest["files"] == _parquet_files(part)
    assert "password" not in json.dumps(manifest)


def test_rerun_same_date_replaces_partition(pipeline, mysql, spark):
    table = _generate(mysql, 3_000)
    other_day = RUN_DATE - dt.timedelta(days=1)
    pipeline.extract(table, other_day)
    first = pipeline.extract(table)
    first_files = _parquet_files(pipeline.partition())

    second = pipeline.extract(table, partition_count=16)

    part = pipeline.partition()
    files = _parquet_files(part)
    assert files and not set(files) & set(first_files)  # no file of the first run is left
    assert sorted(p.name for p in part.iterdir() if not p.name.endswith(".crc")) == sorted(files + ["_manifest.json"])
    df = spark.read.parquet(str(part))
    assert df.count() == 3_000 == second["rows"] == first["rows"]
    assert df.select("member_id").distinct().count() == 3_000
    assert [r.run_id for r in df.select("run_id").distinct().collect()] == [second["run_id"]]
    assert second["checksum"] == first["checksum"]  # same source data, same checksum
    # the other date is untouched
    assert spark.read.parquet(str(pipeline.partition(other_day))).count() == 3_000


def _rows_written_to_server_temp_tables(mysql) -> int:
    return int(mysql.execute("SHOW GLOBAL STATUS LIKE 'Handler_tmp_write'")[0][1])


def test_rows_stream_from_the_server_unless_a_fetch_size_asks_for_a_cursor(pipeline, mysql):
    """fetch_size 0 (the default) streams the rows; a server-side cursor (fetch_size N) makes the server copy the
    whole result into a temporary table first: on the source database, every row written once more."""
    table = _generate(mysql, 2_000)
    extracts = {}
    for fetch_size in ("0", "500"):
        before = _rows_written_to_server_temp_tables(mysql)
        extracts[fetch_size] = pipeline.extract(table, fetch_size=fetch_size)
        extracts[fetch_size]["tmp_rows"] = _rows_written_to_server_temp_tables(mysql) - before
    assert extracts["0"]["tmp_rows"] < 100 <= 2_000 <= extracts["500"]["tmp_rows"], extracts
    assert [(e["rows"], e["checksum"]) for e in extracts.values()] == [(2_000, extracts["0"]["checksum"])] * 2


def test_every_row_is_read_once_whatever_the_member_id(pipeline, mysql, spark):
    table = mysql.create_loose_table()
    ids = [
        "",
        "0",
        "7fffffff",
        "8",
        "ABCDEF01",
        "abcdef01",
        "f",
        "fffff",
        "g-not-hex",
        "Zulu",
        "~tilde",
        None,
        "-dash",
        "00000000-0000-4000-8000-000000000000",
    ]
    mysql.insert(table, [member(i) for i in ids])
    mysql.insert(table, [member("zero-date", registration_date="0000-00-00")])  # MySQL's zero date: lands as NULL
    ids.append("zero-date")
    for n in (1, 3, 16, 17):
        summary = pipeline.extract(table, partition_count=n)
        assert summary["rows"] == len(ids), n
        landed = spark.read.parquet(str(pipeline.partition())).collect()
        got = sorted((r.member_id or "<null>") for r in landed)
        # blank ids become NULL in the landing zone
        assert got == sorted("<null>" if (i is None or i == "") else i for i in ids), n
        assert [r.registration_date for r in landed if r.member_id == "zero-date"] == [None], n


def test_unreachable_mysql_names_host_and_port_and_leaves_no_batch(pipeline, mysql):
    table = _generate(mysql, 200)
    pipeline.extract(table)  # an earlier, complete batch of the same date
    assert (pipeline.partition() / "_manifest.json").exists()
    port = free_port()
    dead = MySqlConnection("127.0.0.1", port, mysql.conn.database, mysql.conn.user, "not-the-password-xyz")

    with pytest.raises(SourceUnavailableError) as err:
        pipeline.extract(table, conn=dead)

    msg = str(err.value)
    assert f"127.0.0.1:{port}" in msg and f"`{table}`" in msg and "Communications link failure" in msg
    assert "not-the-password-xyz" not in msg
    assert not (pipeline.partition() / "_manifest.json").exists()
    assert pipeline.load()["batches_loaded"] == 0  # nothing for the loader to pick up


def test_failure_after_writing_files_leaves_no_manifest(pipeline, mysql, monkeypatch):
    import members_pipeline.extract as extract

    table = _generate(mysql, 100)

    def boom(values):
        raise RuntimeError("simulated failure while verifying the batch")

    monkeypatch.setattr(extract, "manifest_stats", boom)
    with pytest.raises(RuntimeError, match="simulated failure"):
        pipeline.extract(table)
    assert _parquet_files(pipeline.partition())  # data files were written ...
    assert not (pipeline.partition() / "_manifest.json").exists()  # ... but the batch is not published
    assert pipeline.load()["batches_loaded"] == 0


def test_empty_source_table_lands_an_empty_verified_batch_that_loads(pipeline, mysql, spark):
    table = mysql.create_loose_table()  # a new system: the table exists, no members yet

    summary = pipeline.extract(table, partition_count=2)

    manifest = json.loads((pipeline.partition() / "_manifest.json").read_text())
    assert summary["rows"] == 0 == manifest["rows"] and manifest["files"] == _parquet_files(pipeline.partition())
    landed = spark.read.parquet(str(pipeline.partition().parent))
    assert landed.count() == 0
    assert [(f.name, f.dataType) for f in landed.schema] == [(f.name, f.dataType) for f in LANDING_SCHEMA]
    loaded = pipeline.load()  # an empty snapshot on an empty members table: nothing would be flagged deleted
    assert (loaded["batches_loaded"], loaded["merged"], loaded["flagged_deleted"]) == (1, 0, 0)
    assert pipeline.table().count() == 0 and pipeline.table("members_load_log").count() == 1
