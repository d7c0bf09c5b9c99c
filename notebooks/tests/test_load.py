"""Load into Delta: MERGE, quarantine, dedup, deletes, reconciliation, idempotent reruns.

The batches land directly through the extract's own cleaning and writer (Pipeline.land): these tests are about the
load; the way from MySQL into the landing zone is test_extract.py's, and the notebooks' end to end."""

import datetime as dt
import json

import pytest
from conftest import RUN_DATE, member
from members_pipeline.generate import fake_members
from members_pipeline.load import ReconciliationError
from members_pipeline.schema import SOURCE_COLUMNS

DAY2 = RUN_DATE + dt.timedelta(days=1)
DAY3 = RUN_DATE + dt.timedelta(days=2)


def _snapshot(df):
    return sorted(tuple(r) for r in df.collect())


def test_load_creates_members_table_and_rerun_changes_nothing(loader, spark):
    source = list(fake_members(2_000, 11))
    loader.land(source)

    first = loader.load()

    members = loader.table()
    assert first["batches_loaded"] == 1 and first["inserted"] == 2_000 == first["merged"]
    assert members.count() == 2_000 == members.select("member_id").distinct().count()
    assert members.where("is_deleted").count() == 0
    # Every member as the source holds it, the e-mail lower-cased by the extract.
    expected = {r[0]: r[:3] + (r[3].lower(),) + r[4:] for r in source}
    assert {r.member_id: tuple(r[c] for c in SOURCE_COLUMNS) for r in members.collect()} == expected
    before = _snapshot(members)
    version = spark.sql(f"DESCRIBE HISTORY spark_catalog.{loader.schema}.members").count()

    again = loader.load()

    assert again["batches_loaded"] == 0
    assert _snapshot(loader.table()) == before
    assert spark.sql(f"DESCRIBE HISTORY spark_catalog.{loader.schema}.members").count() == version
    assert loader.table("members_load_log").count() == 1

    # The same data extracted again is a new batch; it merges with zero changes.
    loader.land(source)
    third = loader.load()
    assert (third["batches_loaded"], third["inserted"], third["updated"], third["flagged_deleted"]) == (1, 0, 0, 0)
    assert third["unchanged"] == 2_000
    assert _snapshot(loader.table()) == before


def test_invalid_rows_are_quarantined_and_counts_reconcile(loader):
    good = [member(f"good-{i}") for i in range(5)]
    bad = [
        member(None),
        member("   "),
        member("bad-email", email="ann.example.com"),
        member("bad-email-2", email="ann@"),
        member("future", registration_date=DAY2),
        # MySQL's zero date lands as NULL (test_extract.py proves the JDBC side): quarantined with the same reason.
        member("zero-date", registration_date=None),
        member("null-date", registration_date=None),
    ]
    dupes = [member("good-0", first_name="Zed"), member("good-1")]  # a changed and an identical duplicate
    loader.land(good + bad + dupes)

    result = loader.load(max_quarantined_share=1)  # half the batch is bad on purpose: not what the guard is for

    assert result["manifest_rows"] == 14
    assert (result["merged"], result["quarantined"], result["duplicates"]) == (5, 7, 2)
    assert result["manifest_rows"] == result["merged"] + result["quarantined"] + result["duplicates"]
    reasons = sorted((r.member_id or "", r.reason) for r in loader.table("members_quarantine").collect())
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
    members = loader.table()
    assert members.count() == 5 == members.select("member_id").distinct().count()
    log = loader.table("members_load_log").first()
    assert (log.manifest_rows, log.merged, log.quarantined, log.duplicates) == (14, 5, 7, 2)


def test_duplicates_updates_and_deletes_follow_the_source(loader):
    loader.land([member("m1"), member("m2"), member("m3"), member("m4", first_name="Ann"), member("m4", first_name="Bob")])
    day1 = loader.load()
    assert (day1["inserted"], day1["duplicates"]) == (4, 1)
    m4 = loader.table().where("member_id = 'm4'").collect()
    assert len(m4) == 1 and m4[0].first_name in ("Ann", "Bob")

    # The source keeps the m4 row that was loaded, changes m1 and deletes m2.
    m1 = member("m1", email="NEW@Example.com", city="Lisbon")
    loader.land([m1, member("m3"), member("m4", first_name=m4[0].first_name)], DAY2)
    day2 = loader.load(max_deleted_share=1)  # 1 of 4 members deleted (25%): this test is about deletes

    assert (day2["inserted"], day2["updated"], day2["unchanged"], day2["flagged_deleted"]) == (0, 1, 2, 1)
    rows = {r.member_id: r for r in loader.table().collect()}
    assert (rows["m1"].city, rows["m1"].email, rows["m1"].last_changed_ingest_date) == ("Lisbon", "new@example.com", DAY2)
    assert rows["m2"].is_deleted and rows["m2"].city == "Porto"  # flagged, not removed
    assert not rows["m3"].is_deleted and rows["m3"].last_changed_ingest_date == RUN_DATE

    # m2 comes back; m3's new e-mail is broken: quarantined, but m3 is still present (not flagged deleted).
    loader.land([m1, member("m2"), member("m3", email="broken"), member("m4", first_name=m4[0].first_name)], DAY3)
    day3 = loader.load(max_quarantined_share=1)  # 1 of 4 rows quarantined on purpose
    rows = {r.member_id: r for r in loader.table().collect()}
    assert not rows["m2"].is_deleted and not rows["m3"].is_deleted
    assert rows["m3"].email == "a.b@example.com"  # the bad value is not merged
    assert (day3["updated"], day3["quarantined"], day3["flagged_deleted"]) == (1, 1, 0)


def test_older_batch_after_newer_is_superseded_not_loaded(loader):
    loader.land([member("m1")], DAY2)
    loader.load()
    loader.land([member("m1")], RUN_DATE)
    result = loader.load()
    assert result["batches_loaded"] == 0 and len(result["superseded_batches"]) == 1


def test_manifest_mismatch_fails_loudly_and_records_nothing(loader):
    loader.land([member("m1"), member("m2")])
    manifest_path = loader.partition() / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["rows"] = 3
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(ReconciliationError, match=r"manifest says 3 rows .* files hold 2 rows"):
        loader.load()
    assert loader.table("members_load_log").count() == 0
    assert loader.table().count() == 0


def test_batch_with_rows_of_two_extracts_is_refused_before_any_write(loader):
    """The change set picks a member's row by its hash alone: extracted_at must be one value in a batch. Files of
    another extract in the batch's folder (the checksum covers the source columns, not extracted_at) are refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    loader.land([member("m1"), member("m2")])
    loader.load()
    loader.land([member("m1", city="Faro"), member("m2")], DAY2)
    first = sorted(loader.partition(DAY2).glob("*.parquet"))[0]
    data = pq.read_table(first)
    column = data.schema.get_field_index("extracted_at")
    earlier = pa.compute.subtract(data["extracted_at"], pa.scalar(dt.timedelta(hours=1)))
    pq.write_table(data.set_column(column, data.schema.field(column), earlier), first, use_deprecated_int96_timestamps=True)  # as Spark writes
    (first.parent / f".{first.name}.crc").unlink()  # the local file system's checksum of the old file

    with pytest.raises(ReconciliationError, match=r"different extracted_at values, expected one"):
        loader.load()
    assert loader.table("members_load_log").count() == 1
    assert sorted(r.city for r in loader.table().collect()) == ["Porto", "Porto"]


def test_ingest_date_widget_limits_the_load(loader):
    loader.land([member("m1")], RUN_DATE)
    loader.land([member("m1")], DAY2)
    result = loader.load(ingest_date=RUN_DATE.isoformat())
    assert [b["ingest_date"] for b in result["batches"]] == [RUN_DATE.isoformat()]


def test_local_table_metadata_comments_pii_and_clustering(loader, spark):
    loader.land([member("m1")])
    loader.load()
    name = f"spark_catalog.{loader.schema}.members"
    detail = spark.sql(f"DESCRIBE DETAIL {name}").first()
    assert detail.clusteringColumns == ["member_id"]
    props = detail.properties
    assert props["members.pii_columns"] == "first_name,last_name,email,phone_number,address"
    comments = {r.col_name: r.comment for r in spark.sql(f"DESCRIBE TABLE {name}").collect()}
    assert comments["email"].startswith("PII:")
    ext = {r.col_name: r.data_type for r in spark.sql(f"DESCRIBE TABLE EXTENDED {name}").collect()}
    assert "Contains PII" in ext["Comment"]
    assert ext["row_hash"] == "bigint"  # a new table's row hash is 64 bits (transform.row_hash)


def test_malformed_manifest_is_rejected_with_its_path(loader):
    loader.land([member("m1")])
    manifest_path = loader.partition() / "_manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["run_id"] = "x'; DROP TABLE members; --"
    manifest_path.write_text(json.dumps(manifest))

    with pytest.raises(ReconciliationError, match=r"invalid manifest .*_manifest.json: run_id: got"):
        loader.load()
    assert loader.table("members_load_log").count() == 0


def test_repaired_run_with_the_same_run_id_is_loaded_again(loader):
    loader.land([member("m1")], run_id="4242")
    assert loader.load()["inserted"] == 1
    loader.land([member("m1", city="Faro")], run_id="4242")  # the job's run id is reused when a run is repaired

    result = loader.load()

    assert (result["batches_loaded"], result["updated"]) == (1, 1)
    assert loader.table().first().city == "Faro"


def test_change_data_feed_returns_exactly_one_days_inserts_updates_and_delete_flags(loader, spark):
    loader.land([member("m1"), member("m2"), member("m3")])
    loader.load()
    name = f"spark_catalog.{loader.schema}.members"
    day1_version = spark.sql(f"DESCRIBE HISTORY {name}").agg({"version": "max"}).first()[0]
    # m1 changed, m2 deleted, m4 new
    loader.land([member("m1", city="Lisbon"), member("m3"), member("m4")], DAY2)
    loader.load(max_deleted_share=1)

    changes = spark.sql(f"SELECT * FROM table_changes('{name}', {day1_version + 1})").collect()

    got = sorted((r.member_id, r._change_type, r.city, r.is_deleted) for r in changes)
    assert got == [
        ("m1", "update_postimage", "Lisbon", False),
        ("m1", "update_preimage", "Porto", False),
        ("m2", "update_postimage", "Porto", True),
        ("m2", "update_preimage", "Porto", False),
        ("m4", "insert", "Porto", False),
    ]
    # The day's load only: its MERGE commits (updates and flags, then inserts), nothing else touched the table.
    operations = {r.version: r.operation for r in spark.sql(f"DESCRIBE HISTORY {name}").collect()}
    assert {operations[v] for v in {r._commit_version for r in changes}} == {"MERGE"}
    assert {operations[v] for v in operations if v > day1_version} == {"MERGE"}
    assert {r.deleted_ingest_date for r in changes if r._change_type == "update_postimage" and r.is_deleted} == {DAY2}
