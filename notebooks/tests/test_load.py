"""Load into Delta: MERGE, quarantine, dedup, deletes, reconciliation, idempotent reruns."""

import datetime as dt
import json

import pytest
from conftest import RUN_DATE, TEST_CA, member
from members_pipeline.config import GenerateConfig
from members_pipeline.generate import generate_members
from members_pipeline.load import ReconciliationError

DAY2 = RUN_DATE + dt.timedelta(days=1)
DAY3 = RUN_DATE + dt.timedelta(days=2)


def _snapshot(df):
    return sorted(tuple(r) for r in df.collect())


def test_load_creates_members_table_and_rerun_changes_nothing(pipeline, mysql, spark):
    table = mysql.new_table_name()
    generate_members(mysql.conn, GenerateConfig("members", 2_000, 11, 1000, table, "FAIL", 0, TEST_CA))
    pipeline.extract(table)

    first = pipeline.load()

    members = pipeline.table()
    assert first["batches_loaded"] == 1 and first["inserted"] == 2_000 == first["merged"]
    assert members.count() == 2_000 == members.select("member_id").distinct().count()
    assert members.where("is_deleted").count() == 0
    source = {r[0]: r for r in mysql.execute(f"SELECT * FROM `{table}`")}
    for row in members.limit(50).collect():
        assert tuple(
            row[c] for c in ("member_id", "first_name", "last_name", "phone_number", "address", "city", "country", "registration_date")
        ) == tuple(source[row.member_id][i] for i in (0, 1, 2, 4, 5, 6, 7, 8))
        assert row.email == source[row.member_id][3].lower()
    before = _snapshot(members)
    version = spark.sql(f"DESCRIBE HISTORY spark_catalog.{pipeline.schema}.members").count()

    again = pipeline.load()

    assert again["batches_loaded"] == 0
    assert _snapshot(pipeline.table()) == before
    assert spark.sql(f"DESCRIBE HISTORY spark_catalog.{pipeline.schema}.members").count() == version
    assert pipeline.table("members_load_log").count() == 1

    # The same data extracted again is a new batch; it merges with zero changes.
    pipeline.extract(table)
    third = pipeline.load()
    assert (third["batches_loaded"], third["inserted"], third["updated"], third["flagged_deleted"]) == (1, 0, 0, 0)
    assert third["unchanged"] == 2_000
    assert _snapshot(pipeline.table()) == before


def test_invalid_rows_are_quarantined_and_counts_reconcile(pipeline, mysql):
    table = mysql.create_loose_table()
    good = [member(f"good-{i}") for i in range(5)]
    bad = [
        member(None),
        member("   "),
        member("bad-email", email="ann.example.com"),
        member("bad-email-2", email="ann@"),
        member("future", registration_date=DAY2),
        member("zero-date", registration_date="0000-00-00"),
        member("null-date", registration_date=None),
    ]
    dupes = [member("good-0", first_name="Zed"), member("good-1")]  # a changed and an identical duplicate
    mysql.insert(table, good + bad + dupes)

    pipeline.extract(table)
    result = pipeline.load(max_quarantined_share=1)  # half the batch is bad on purpose: not what the guard is for

    assert result["manifest_rows"] == 14
    assert (result["merged"], result["quarantined"], result["duplicates"]) == (5, 7, 2)
    assert result["manifest_rows"] == result["merged"] + result["quarantined"] + result["duplicates"]
    reasons = sorted((r.member_id or "", r.reason) for r in pipeline.table("members_quarantine").collect())
    assert reasons == sorted(
        [
            ("", "missing member_id"),
            ("", "missing member_id"),
            ("bad-email", "malformed email"),
            ("bad-email-2", "malformed email"),
            ("future", "future registration_date"),
            ("zero-date", "missing or zero registration_date"),
            ("null-date", "missing or zero registration_date"),
        ]
    )
    members = pipeline.table()
    assert members.count() == 5 == members.select("member_id").distinct().count()
    log = pipeline.table("members_load_log").first()
    assert (log.manifest_rows, log.merged, log.quarantined, log.duplicates) == (14, 5, 7, 2)


def test_duplicates_updates_and_deletes_follow_mysql(pipeline, mysql):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("m1"), member("m2"), member("m3"), member("m4", first_name="Ann"), member("m4", first_name="Bob")])
    pipeline.extract(table)
    day1 = pipeline.load()
    assert (day1["inserted"], day1["duplicates"]) == (4, 1)
    m4 = pipeline.table().where("member_id = 'm4'").collect()
    assert len(m4) == 1 and m4[0].first_name in ("Ann", "Bob")

    mysql.execute(f"DELETE FROM `{table}` WHERE member_id = 'm4' AND first_name <> %s", (m4[0].first_name,))
    mysql.execute(f"UPDATE `{table}` SET city = 'Lisbon', email = 'NEW@Example.com' WHERE member_id = 'm1'")
    mysql.execute(f"DELETE FROM `{table}` WHERE member_id = 'm2'")
    pipeline.extract(table, DAY2)
    day2 = pipeline.load(max_deleted_share=1)  # 1 of 4 members deleted (25%): this test is about deletes

    assert (day2["inserted"], day2["updated"], day2["unchanged"], day2["flagged_deleted"]) == (0, 1, 2, 1)
    rows = {r.member_id: r for r in pipeline.table().collect()}
    assert (rows["m1"].city, rows["m1"].email, rows["m1"].last_changed_ingest_date) == ("Lisbon", "new@example.com", DAY2)
    assert rows["m2"].is_deleted and rows["m2"].city == "Porto"  # flagged, not removed
    assert not rows["m3"].is_deleted and rows["m3"].last_changed_ingest_date == RUN_DATE

    mysql.insert(table, [member("m2")])  # comes back
    mysql.execute(f"UPDATE `{table}` SET email = 'broken' WHERE member_id = 'm3'")  # quarantined, still present
    pipeline.extract(table, DAY3)
    day3 = pipeline.load(max_quarantined_share=1)  # 1 of 4 rows quarantined on purpose
    rows = {r.member_id: r for r in pipeline.table().collect()}
    assert not rows["m2"].is_deleted and not rows["m3"].is_deleted
    assert rows["m3"].email == "a.b@example.com"  # the bad value is not merged
    assert (day3["updated"], day3["quarantined"], day3["flagged_deleted"]) == (1, 1, 0)


def test_older_batch_after_newer_is_superseded_not_loaded(pipeline, mysql):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("m1")])
    pipeline.extract(table, DAY2)
    pipeline.load()
    pipeline.extract(table, RUN_DATE)
    result = pipeline.load()
    assert result["batches_loaded"] == 0 and len(result["superseded_batches"]) == 1


def test_manifest_mismatch_fails_loudly_and_records_nothing(pipeline, mysql):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("m1"), member("m2")])
    pipeline.extract(table)
    manifest_path = pipeline.partition() / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["rows"] = 3
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(ReconciliationError, match=r"manifest says 3 rows .* files hold 2 rows"):
        pipeline.load()
    assert pipeline.table("members_load_log").count() == 0
    assert pipeline.table().count() == 0


def test_ingest_date_widget_limits_the_load(pipeline, mysql):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("m1")])
    pipeline.extract(table, RUN_DATE)
    pipeline.extract(table, DAY2)
    result = pipeline.load(ingest_date=RUN_DATE.isoformat())
    assert [b["ingest_date"] for b in result["batches"]] == [RUN_DATE.isoformat()]


def test_local_table_metadata_comments_pii_and_clustering(pipeline, mysql, spark):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("m1")])
    pipeline.extract(table)
    pipeline.load()
    name = f"spark_catalog.{pipeline.schema}.members"
    detail = spark.sql(f"DESCRIBE DETAIL {name}").first()
    assert detail.clusteringColumns == ["member_id"]
    props = detail.properties
    assert props["members.pii_columns"] == "first_name,last_name,email,phone_number,address"
    comments = {r.col_name: r.comment for r in spark.sql(f"DESCRIBE TABLE {name}").collect()}
    assert comments["email"].startswith("PII:")
    ext = {r.col_name: r.data_type for r in spark.sql(f"DESCRIBE TABLE EXTENDED {name}").collect()}
    assert "Contains PII" in ext["Comment"]


def test_malformed_manifest_is_rejected_with_its_path(pipeline, mysql):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("m1")])
    pipeline.extract(table)
    manifest_path = pipeline.partition() / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["run_id"] = "x'; DROP TABLE members; --"
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(ReconciliationError, match=r"invalid manifest .*_manifest.json: run_id: got"):
        pipeline.load()
    assert pipeline.table("members_load_log").count() == 0


def test_repaired_run_with_the_same_run_id_is_loaded_again(pipeline, mysql):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("m1")])
    pipeline.extract(table, run_id="4242")
    assert pipeline.load()["inserted"] == 1
    mysql.execute(f"UPDATE `{table}` SET city = 'Faro' WHERE member_id = 'm1'")
    pipeline.extract(table, run_id="4242")  # the job's run id is reused when a run is repaired

    result = pipeline.load()

    assert (result["batches_loaded"], result["updated"]) == (1, 1)
    assert pipeline.table().first().city == "Faro"


def test_change_data_feed_returns_exactly_one_days_inserts_updates_and_delete_flags(pipeline, mysql, spark):
    table = mysql.create_loose_table()
    mysql.insert(table, [member("m1"), member("m2"), member("m3")])
    pipeline.extract(table)
    pipeline.load()
    name = f"spark_catalog.{pipeline.schema}.members"
    day1_version = spark.sql(f"DESCRIBE HISTORY {name}").agg({"version": "max"}).first()[0]
    mysql.execute(f"UPDATE `{table}` SET city = 'Lisbon' WHERE member_id = 'm1'")
    mysql.execute(f"DELETE FROM `{table}` WHERE member_id = 'm2'")
    mysql.insert(table, [member("m4")])
    pipeline.extract(table, DAY2)
    pipeline.load(max_deleted_share=1)

    changes = spark.sql(f"SELECT * FROM table_changes('{name}', {day1_version + 1})").collect()

    got = sorted((r.member_id, r._change_type, r.city, r.is_deleted) for r in changes)
    assert got == [
        ("m1", "update_postimage", "Lisbon", False),
        ("m1", "update_preimage", "Porto", False),
        ("m2", "update_postimage", "Porto", True),
        ("m2", "update_preimage", "Porto", False),
        ("m4", "insert", "Porto", False),
    ]
    assert {r._commit_version for r in changes} == {day1_version + 1}  # one MERGE commit: the day's load
    assert {r.deleted_ingest_date for r in changes if r._change_type == "update_postimage" and r.is_deleted} == {DAY2}
