"""The daily MERGE takes only the change set: its classification and SQL (no JVM), and the load's counts, revivals,
quarantined members, reruns and concurrent writers between the diff and the MERGE (real engines)."""

import datetime as dt
import re
import sqlite3

import pytest
from conftest import RUN_DATE, member
from members_pipeline.frames import local_frame
from members_pipeline.guards import DataGuardError
from members_pipeline.load import ConcurrentLoadError
from members_pipeline.merge import (
    CHANGED_MARK,
    DELETE,
    INSERT,
    KINDS,
    REVIVE,
    REVIVE_KEY,
    UPDATE,
    ChangedSinceDiffError,
    ChangeSet,
    change_kind_sql,
    check_merge_result,
    merge_sql,
)

DAY = [RUN_DATE + dt.timedelta(days=i) for i in range(4)]

# ---------------------------------------------------------------------------------------------------------------
# Pure: classification and SQL

# (_s_present, _s_hash, _t_hash, _t_deleted) -> kind in a full snapshot, kind in a partial one
CASES = [
    ((1, "h1", None, None), INSERT, INSERT),  # new member
    ((1, None, None, None), None, None),  # new member, quarantined: nothing to insert
    ((1, "h1", "h1", 0), None, None),  # unchanged
    ((1, "h2", "h1", 0), UPDATE, UPDATE),
    ((1, "h1", "h1", 1), REVIVE, REVIVE),  # deleted, back with the same values
    ((1, "h2", "pii-erased", 1), REVIVE, REVIVE),  # erased tombstone, back
    ((1, None, "h1", 1), REVIVE_KEY, REVIVE_KEY),  # deleted, back but quarantined: back by its key
    ((1, None, "h1", 0), None, None),  # quarantined today: present, not flagged
    ((None, None, "h1", 0), DELETE, None),  # absent: flagged by a full snapshot only
    ((None, None, "h1", 1), None, None),  # absent and already deleted
]


@pytest.mark.parametrize(("row", "full", "partial"), CASES)
def test_change_kind_sql_classifies_every_case(row, full, partial):
    db = sqlite3.connect(":memory:")
    for full_snapshot, want in ((True, full), (False, partial)):
        sql = f"SELECT {change_kind_sql(full_snapshot)} FROM (SELECT ? AS _s_present, ? AS _s_hash, ? AS _t_hash, ? AS _t_deleted)"
        assert db.execute(sql, row).fetchone()[0] == want, (row, full_snapshot)


def _clauses(sql: str) -> list[str]:
    return re.findall(r"^WHEN [^\n]*", sql, flags=re.M)


def test_merge_sql_with_only_inserts_has_the_single_insert_clause():
    sql = merge_sql("t", "v", [INSERT])
    assert [c.split(" THEN")[0] for c in _clauses(sql)] == ["WHEN NOT MATCHED"]
    assert "raise_error" not in sql and "MATCHED AND" not in sql and "s.row_hash, false, s.ingest_date" in sql
    # the inserted keys, quoted as Spark SQL literals, also filter the table's side of the anti-join
    keyed = merge_sql("t", "v", [INSERT], ["m1", "it's"])
    assert "ON t.member_id = s.member_id AND t.member_id IN ('m1', 'it\\'s')\n" in keyed
    with pytest.raises(ValueError, match=r"insert_keys: got 1 keys for change kinds \['delete'\]"):
        merge_sql("t", "v", [DELETE], ["m1"])


def test_merge_sql_of_the_other_kinds_is_matched_only_and_refuses_a_changed_row_first():
    sql = merge_sql("t", "v", [UPDATE, REVIVE, REVIVE_KEY, DELETE])
    clauses = [c.split(" THEN")[0] for c in _clauses(sql)]
    assert clauses == [
        "WHEN MATCHED AND NOT (xxhash64(t.row_hash) <=> s._seen_hash AND t.is_deleted <=> s._seen_deleted)",
        f"WHEN MATCHED AND s._kind IN ('{UPDATE}', '{REVIVE}')",
        f"WHEN MATCHED AND s._kind = '{REVIVE_KEY}'",
        f"WHEN MATCHED AND s._kind = '{DELETE}'",
    ]
    assert CHANGED_MARK in _clauses(sql)[0]
    only_deletes = [c.split(" THEN")[0] for c in _clauses(merge_sql("t", "v", [DELETE]))]
    assert only_deletes == [clauses[0], clauses[3]]


@pytest.mark.parametrize("kinds", [[], ["upsert"], [INSERT, UPDATE]])
def test_merge_sql_rejects_unknown_mixed_or_no_kinds(kinds):
    with pytest.raises(ValueError, match=r"change kinds: got .*, expected \['insert'\] or a non-empty subset"):
        merge_sql("t", "v", kinds)


def test_merge_result_must_match_the_change_set():
    changes = ChangeSet("s", {INSERT: 2, UPDATE: 3, REVIVE: 1, REVIVE_KEY: 1, DELETE: 4}, 10, 0, None, {}, "bigint")
    assert (changes.updated, changes.flagged_deleted, changes.unchanged(merged=9), changes.kinds) == (5, 4, 3, frozenset(KINDS))
    check_merge_result("updates", (0, 9), (0, 9))
    with pytest.raises(ChangedSinceDiffError, match=r"MERGE of the inserts inserted 1 and updated 0 rows, the change set expected 2 and 0"):
        check_merge_result("inserts", (1, 0), (2, 0))


def test_collected_change_rows_are_tallied_per_kind_with_the_summarys_numbers():
    from members_pipeline.merge import SUMMARY, tally_collected

    def row(kind, due=None, active=None, due_total=None, last=None):
        return {"_kind": kind, "_due": due, "_active": active, "_due_total": due_total, "_last_erased": last}

    rows = [row(UPDATE, False), row(REVIVE, True), row(REVIVE, False), row(DELETE, None), row(SUMMARY, None, 7, 2, 1_700_000_000)]
    tally = tally_collected(rows)
    assert tally.per_kind == {UPDATE: (1, 0), REVIVE: (2, 1), DELETE: (1, 0)}
    assert (tally.active, tally.due_total, tally.last_erased) == (7, 2, 1_700_000_000)


# ---------------------------------------------------------------------------------------------------------------
# Real engines


def test_the_change_sets_pass_counts_the_batch_as_the_reconciliation_does(spark):
    """The daily load reconciles with the counts observed on the diff's grouped pass: they must be batch_counts'
    numbers for duplicates, rejected rows, a member with valid and rejected rows and rows without a member_id."""
    from members_pipeline.merge import _snapshot_keys
    from members_pipeline.reconcile import batch_counts
    from members_pipeline.schema import LANDING_SCHEMA
    from members_pipeline.transform import deduplicate, hash_fingerprint, row_hash
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    at = dt.datetime(2026, 1, 31, 2, 0)
    rows = [
        member("m1"),
        member("m2"),
        member("m2", first_name="Bo"),  # a duplicate valid member_id: deduplicate keeps the greater fingerprint
        member("m3", email="not-an-email"),  # rejected only: present by its key
        member("m4"),
        member("m4", email="bad"),  # valid and rejected
        member(None),  # no member_id: counted, not a key
        member("  ", city="Faro"),  # blank member_id: rejected
    ]
    df = local_frame(spark, [(*r, "run-1", at, RUN_DATE) for r in rows], LANDING_SCHEMA)
    counted = Observation("counted")
    keys = {r.member_id: r for r in _snapshot_keys(df, counted, "bigint").collect()}
    want = batch_counts(df)
    assert counted.get == {**want, "checksum": str(want["checksum"])}
    assert (want["rows"], want["valid"], want["rejected"], want["distinct_valid"]) == (8, 4, 4, 3)
    assert set(keys) == {"m1", "m2", "m3", "m4", "  "} and all(k._s_present for k in keys.values())
    assert keys["m3"]._s_hash is None and keys["  "]._s_hash is None
    kept = deduplicate(df.where("member_id = 'm2'").withColumn("row_hash", row_hash())).select(hash_fingerprint(F.col("row_hash")).alias("fp"))
    assert keys["m2"]._s_hash == kept.first().fp


def test_the_first_loads_counts_find_a_duplicate_next_to_a_row_without_a_member_id(spark):
    """batch_counts compares distinct key fingerprints with keyed rows; xxhash64(NULL) is a value, so a row without a
    member_id would stand in for the duplicate's missing fingerprint and the duplicate would go uncounted."""
    from members_pipeline.reconcile import batch_counts
    from members_pipeline.schema import LANDING_SCHEMA

    rows = [member("m1"), member("m1", first_name="Bo"), member(None)]
    df = local_frame(spark, [(*r, "run-1", dt.datetime(2026, 1, 31, 2, 0), RUN_DATE) for r in rows], LANDING_SCHEMA)
    counts = batch_counts(df)
    assert (counts["rows"], counts["valid"], counts["rejected"], counts["distinct_valid"]) == (3, 2, 1, 1)


@pytest.mark.parametrize("on_driver", [True, False], ids=["sorted on the driver", "count_distinct in Spark"])
def test_distinct_key_fingerprints_are_counted_the_same_on_the_driver_and_in_spark(spark, on_driver):
    from members_pipeline.reconcile import distinct_key_fingerprints
    from members_pipeline.schema import LANDING_SCHEMA

    rows = [member("m1"), member("m2"), member("m1", first_name="Bo"), member(None), member(None), member("m3")]
    df = local_frame(spark, [(*r, "run-1", dt.datetime(2026, 1, 31, 2, 0), RUN_DATE) for r in rows], LANDING_SCHEMA)
    limit = 10 if on_driver else 3
    assert distinct_key_fingerprints(df, keyed=4, driver_max_keys=limit) == 3
    assert distinct_key_fingerprints(df.where("member_id IS NULL"), keyed=0, driver_max_keys=limit) == 0


def test_the_change_sets_pass_aggregates_by_hashing_not_sorting(spark):
    """Fixed-width aggregation buffers (fingerprints, counts, sums) keep the batch's grouping a hash aggregate; a string
    in a buffer (the row hash itself) makes Spark sort the batch's keys twice (10M members: 44 s against 31 s)."""
    from members_pipeline.merge import _snapshot_keys
    from members_pipeline.schema import LANDING_SCHEMA
    from pyspark.sql import Observation

    df = local_frame(spark, [(*member("m1"), "run-1", dt.datetime(2026, 1, 31, 2, 0), RUN_DATE)], LANDING_SCHEMA)
    plan = _snapshot_keys(df, Observation("plan"), "bigint")._jdf.queryExecution().executedPlan().toString()
    assert "HashAggregate" in plan and "SortAggregate" not in plan, plan


def _name(loader, table: str = "members") -> str:
    return f"spark_catalog.{loader.schema}.{table}"


def _commits(loader) -> int:
    """Commits of the members table (the tests may read the history; the load never does)."""
    return loader.spark.sql(f"DESCRIBE HISTORY {_name(loader)}").count()


def _tables(loader) -> set:
    return {r.tableName for r in loader.spark.sql(f"SHOW TABLES IN spark_catalog.{loader.schema}").where("NOT isTemporary").collect()}


def _rows(loader) -> dict:
    return {r.member_id: r for r in loader.table().collect()}


def _counts(result) -> tuple:
    return tuple(result[k] for k in ("inserted", "updated", "flagged_deleted", "unchanged"))


def test_daily_change_counts_come_from_the_change_set_and_a_rerun_changes_nothing(loader, spark, monkeypatch):
    source = {f"m{i:02d}": member(f"m{i:02d}") for i in range(1, 11)}
    loader.land(list(source.values()), DAY[0], files=1)
    assert _counts(loader.load()) == (10, 0, 0, 0)
    (first,) = spark.sql(f"DESCRIBE HISTORY {_name(loader)}").where("operation = 'MERGE'").collect()
    # The first load into an empty table is Delta's insert-only MERGE: one NOT MATCHED clause, nothing else.
    params = first.operationParameters
    assert (params["matchedPredicates"], params["notMatchedBySourcePredicates"]) == ("[]", "[]"), params

    source.update(m01=member("m01", city="Lisbon"), m02=member("m02", city="Lisbon"))
    del source["m03"]
    source["m04"] = member("m04", email="broken")  # quarantined, still present
    day2_rows = [*source.values(), member("m11"), member("m12"), member("m12")]  # new, one of them twice
    loader.land(day2_rows, DAY[1], files=1)
    calls = []
    with monkeypatch.context() as patch:
        patch.setattr("members_pipeline.merge.merge_sql", _spy_merge_sql(calls))
        patch.setattr("members_pipeline.merge.COLLECT_MAX_ROWS", 0)  # a large change set's path: a staging table
        _forbid_history(patch)
        day2 = loader.load(max_deleted_share=1, max_quarantined_share=1)

    # merged = m01..m12 less m03 (deleted) and m04 (quarantined) = 10; unchanged = m05..m10
    assert (day2["merged"], day2["quarantined"], day2["duplicates"]) == (10, 1, 1)
    assert _counts(day2) == (2, 2, 1, 6)
    # the updates, then the inserts on their own, naming their keys
    assert calls == [frozenset({UPDATE, DELETE}), frozenset({INSERT}), "m11", "m12"]
    rows = _rows(loader)
    assert len(rows) == 12 and {m for m, r in rows.items() if r.is_deleted} == {"m03"}
    assert (rows["m03"].deleted_ingest_date, rows["m01"].city, rows["m01"].last_changed_ingest_date) == (DAY[1], "Lisbon", DAY[1])
    assert (rows["m04"].email, rows["m05"].last_changed_ingest_date, rows["m12"].first_ingest_date) == ("a.b@example.com", DAY[0], DAY[1])
    (log,) = loader.table("members_load_log").where(f"ingest_date = DATE'{DAY[1]}'").collect()
    assert (log.inserted, log.updated, log.flagged_deleted, log.unchanged) == (2, 2, 1, 6)
    assert _tables(loader) == {"members", "members_quarantine", "members_load_log"}  # the staging table is gone

    commits = _commits(loader)
    loader.land(day2_rows, DAY[2], files=1)  # the same data again: a new batch without changes
    with monkeypatch.context() as patch:
        _forbid_history(patch)
        again = loader.load(max_quarantined_share=1)
    assert (again["batches_loaded"], *_counts(again)) == (1, 0, 0, 0, 10)
    assert _commits(loader) == commits  # no MERGE, no commit on members
    assert _rows(loader) == rows


def _spy_merge_sql(calls: list):
    from members_pipeline import merge

    real = merge.merge_sql

    def spy(target, source_view, kinds, insert_keys=()):
        calls.append(frozenset(kinds))
        calls.extend(insert_keys)
        return real(target, source_view, kinds, insert_keys)

    return spy


def _forbid_history(patch) -> None:
    from delta.tables import DeltaTable
    from pyspark.sql import SparkSession

    real_sql = SparkSession.sql

    def sql(self, query, *args, **kwargs):
        if re.search(r"DESCRIBE\s+HISTORY|\s+AS\s+OF\s", query, flags=re.I):
            raise AssertionError(f"the load read the table history: {query}")
        return real_sql(self, query, *args, **kwargs)

    def history(self, *args, **kwargs):
        raise AssertionError("the load read the table history (DeltaTable.history)")

    patch.setattr(SparkSession, "sql", sql)
    patch.setattr(DeltaTable, "history", history)


def test_quarantined_member_counts_as_present_and_a_deleted_one_comes_back_by_its_key(loader):
    source = {f"m{i}": member(f"m{i}", first_name=f"F{i}") for i in range(1, 6)}
    loader.land(list(source.values()), DAY[0], files=1)
    loader.load()

    del source["m1"], source["m2"]
    source["m3"] = member("m3", first_name="F3", email="broken")
    loader.land(list(source.values()), DAY[1], files=1)
    day2 = loader.load(max_deleted_share=1, max_quarantined_share=1)
    assert (day2["flagged_deleted"], day2["quarantined"]) == (2, 1)
    assert {m for m, r in _rows(loader).items() if r.is_deleted} == {"m1", "m2"}  # m3 is quarantined, not gone

    # m1 back with a valid, changed row (and a quarantined one: the valid row wins); m2 back but quarantined: back
    # by its key, its last valid values kept.
    back = [member("m1", first_name="New1"), member("m1", email="broken"), member("m2", email="still broken")]
    loader.land([*source.values(), *back], DAY[2], files=1)
    day3 = loader.load(max_quarantined_share=1)

    assert (day3["merged"], day3["quarantined"], day3["duplicates"]) == (3, 3, 0)  # m1, m4, m5 valid; m1, m2, m3 quarantined
    assert _counts(day3) == (0, 2, 0, 2)
    rows = _rows(loader)
    assert not any(r.is_deleted for r in rows.values())
    assert (rows["m1"].first_name, rows["m1"].deleted_ingest_date, rows["m1"].last_changed_ingest_date) == ("New1", None, DAY[2])
    assert (rows["m2"].first_name, rows["m2"].email, rows["m2"].deleted_ingest_date, rows["m2"].last_changed_ingest_date) == (
        "F2",
        "a.b@example.com",
        None,
        DAY[2],
    )
    assert rows["m3"].last_changed_ingest_date == DAY[0]


def test_empty_snapshot_is_refused_by_the_guard_and_leaves_nothing_behind(loader):
    loader.land([member(f"m{i}") for i in range(3)], DAY[0], files=1)
    loader.load()
    assert loader.land([], DAY[1], files=1).rows == 0
    loaded = "status = 'loaded'"
    before = (_rows(loader), _commits(loader), loader.table("members_load_log").where(loaded).count(), _tables(loader))

    with pytest.raises(DataGuardError, match=r"would flag 3 of 3 active members deleted \(100.0%\)"):
        loader.load()

    assert (_rows(loader), _commits(loader), loader.table("members_load_log").where(loaded).count(), _tables(loader)) == before
    assert loader.table("members_load_log").where("status = 'refused'").count() == 1  # the refusal is recorded


def test_a_partial_batch_changes_only_its_members_and_filters_the_table_by_their_keys(loader):
    """A batch that is not a full snapshot (a change feed: its manifest has no "snapshot") flags nobody deleted; its
    change set scans the table through a broadcast of the batch's keys instead of shuffling every member."""
    from members_pipeline.batches import find_batches, read_batch
    from members_pipeline.config import parse_load_widgets
    from members_pipeline.merge import _change_rows
    from pyspark.sql import Observation

    loader.land([member(f"m{i}") for i in range(1, 6)], DAY[0], files=1)
    loader.load()
    manifest = loader.land([member("m1", city="Lisbon"), member("m6")], DAY[1], files=1, full_snapshot=False)

    cfg = parse_load_widgets(loader.load_widgets().get)
    (batch,), _ = find_batches(loader.spark, loader.files, cfg)
    assert (batch.run_id, batch.manifest.full_snapshot) == (manifest.run_id, False)
    plan = _change_rows(loader.spark, cfg, read_batch(loader.spark, batch, cfg), batch, False, Observation("plan"), "bigint")
    plan = plan._jdf.queryExecution().executedPlan().toString()
    assert "BroadcastHashJoin [member_id#" in plan and "LeftSemi" in plan, plan

    day2 = loader.load()
    assert _counts(day2) == (1, 1, 0, 0)
    rows = _rows(loader)
    assert not any(r.is_deleted for r in rows.values()) and (rows["m1"].city, rows["m6"].city) == ("Lisbon", "Porto")


# Day 1's snapshot, and a writer between the diff and the MERGE: (what it does to the members table, day 2's snapshot).
DAY1 = [member(f"m{i}") for i in range(1, 6)]
WRITERS = {
    # changes a member the batch changes too: the MERGE's first clause refuses, nothing is committed
    "changed": (
        "UPDATE {t} SET city = 'By hand', row_hash = 7 WHERE member_id = 'm1'",
        [member("m1", city="Lisbon"), *DAY1[1:]],
    ),
    # removes a member the batch flags deleted: fewer updated rows than counted
    "removed": ("DELETE FROM {t} WHERE member_id = 'm2'", [DAY1[0], *DAY1[2:]]),
    # inserts a member the batch inserts (an insert-only MERGE): fewer inserted rows than counted
    "inserted": ("INSERT INTO {t} (member_id, first_name, row_hash, is_deleted) VALUES ('m9', 'By hand', 7, false)", [*DAY1, member("m9")]),
}


@pytest.mark.parametrize(("writer", "frozen"), [(w, "collected") for w in sorted(WRITERS)] + [("changed", "staged")])
def test_a_writer_between_the_diff_and_the_merge_makes_the_load_refuse_and_a_rerun_completes(loader, spark, monkeypatch, writer, frozen):
    import members_pipeline.load as load

    loader.land(DAY1, DAY[0], files=1)
    loader.load()
    write, day2 = WRITERS[writer]
    loader.land(day2, DAY[1], files=1)

    real_merge = load.merge_changes

    def merge_after_another_writer(*args, **kwargs):
        spark.sql(write.format(t=_name(loader)))
        return real_merge(*args, **kwargs)

    monkeypatch.setattr(load, "merge_changes", merge_after_another_writer)
    if frozen == "staged":  # a large change set's path
        monkeypatch.setattr("members_pipeline.merge.COLLECT_MAX_ROWS", 0)
    with pytest.raises(ConcurrentLoadError, match=r"concurrent writer changed the members table.*this run logged nothing") as err:
        loader.load(max_deleted_share=1)
    commits = _commits(loader)
    after_writer = _rows(loader)
    monkeypatch.undo()

    assert loader.table("members_load_log").count() == 1, err.value  # day 2 is not logged
    assert _tables(loader) == {"members", "members_quarantine", "members_load_log"}
    if writer == "changed":  # the writer's row stands: the MERGE committed nothing
        assert "committed nothing" in str(err.value) and after_writer["m1"].city == "By hand"
    if writer == "removed":
        assert "the MERGE of the updates inserted 0 and updated 0 rows, the change set expected 0 and 1" in str(err.value)
        assert "m2" not in after_writer
    if writer == "inserted":  # insert-only MERGE: the member the writer inserted is not inserted again
        assert "the MERGE of the inserts inserted 0 and updated 0 rows, the change set expected 1 and 0" in str(err.value)
        assert after_writer["m9"].first_name == "By hand"

    rerun = loader.load(max_deleted_share=1)  # computes the change set anew
    # (inserted, updated, flagged deleted): the member the writer changed or inserted is updated to the batch's row;
    # the one it removed is neither in the table nor in the batch any more: nothing to do, no commit.
    expected = {"changed": (0, 1, 0), "removed": (0, 0, 0), "inserted": (0, 1, 0)}[writer]
    assert (rerun["batches_loaded"], rerun["inserted"], rerun["updated"], rerun["flagged_deleted"]) == (1, *expected)
    assert _commits(loader) == commits + (writer != "removed")
    rows = _rows(loader)
    if writer == "changed":
        assert rows["m1"].city == "Lisbon"
    if writer == "inserted":
        assert rows["m9"].first_name == "Ann"


def test_both_merges_take_the_values_the_batch_gave_once(loader, monkeypatch):
    """Changes and new members in one batch: its values are read once for both MERGEs (merge.FREEZE_SOURCE_MAX_ROWS),
    so the inserts' MERGE reads no landing file; here the batch's folder is gone by then."""
    import members_pipeline.merge as merge

    loader.land([member("m1"), member("m2")], DAY[0], files=1)
    loader.load()
    loader.land([member("m1", city="Lisbon"), member("m2"), member("m3", first_name="Cy")], DAY[1], files=1)
    folder = loader.partition(DAY[1])
    hidden = folder.with_name(folder.name + ".hidden")
    real = merge._run_merge

    def merge_then_hide_the_batch(*args, **kwargs):
        result = real(*args, **kwargs)
        if folder.exists():
            folder.rename(hidden)
        return result

    monkeypatch.setattr(merge, "_run_merge", merge_then_hide_the_batch)
    try:
        day2 = loader.load()
    finally:
        if hidden.exists():
            hidden.rename(folder)
    assert _counts(day2) == (1, 1, 0, 1)
    rows = _rows(loader)
    assert (rows["m1"].city, rows["m3"].first_name, rows["m3"].first_ingest_date) == ("Lisbon", "Cy", DAY[1])


def test_merge_refuses_values_that_are_not_the_rows_the_change_set_hashed(loader, monkeypatch):
    """If the rows merged were ever chosen differently from the rows the diff hashed, the MERGE must fail, not
    write NULLs or other values."""
    import members_pipeline.merge as merge
    from pyspark.sql import functions as F

    loader.land([member("m1"), member("m2")], DAY[0], files=1)
    loader.load()
    # a duplicate: the diff keeps the greater row hash
    loader.land([member("m1", city="Lisbon"), member("m2"), member("m1", city="Faro")], DAY[1], files=1)
    real = merge.deduplicate
    monkeypatch.setattr(merge, "deduplicate", lambda df: real(df.withColumn("row_hash", F.bitwise_not("row_hash"))))
    commits = _commits(loader)

    with pytest.raises(Exception, match=r"member m1: its batch row is not the one the change set hashed"):
        loader.load()
    assert _commits(loader) == commits and _rows(loader)["m1"].city == "Porto"
