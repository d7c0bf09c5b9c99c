"""The readers' masked view on local Spark + Delta: what a reader and the PII group see (docs/architecture/governance.md)."""

from __future__ import annotations

import getpass

import pytest
from members_pipeline.config import parse_load_widgets
from members_pipeline.frames import local_frame
from members_pipeline.schema import PII_COLUMNS
from members_pipeline.tables import ensure_tables

ROW = (
    "INSERT INTO {table} (member_id, first_name, last_name, email, phone_number, address, city, country, registration_date, "
    "is_deleted, row_hash) VALUES ('m-1', 'Ann', 'Lee', 'ann@example.com', NULL, '1 Main St', 'Porto', 'PT', DATE'2020-05-17', false, 1)"
)


def _config(tmp_path, group: str):
    schema = "gov_" + tmp_path.name[-10:].replace("-", "_")
    widgets = {"landing_path": str(tmp_path), "catalog": "spark_catalog", "schema": schema, "table": "members", "pii_reader_group": group}
    return parse_load_widgets(widgets.get)


def test_a_reader_sees_every_pii_column_masked_and_no_row_hash(spark, tmp_path):
    cfg = _config(tmp_path, "members-pii-readers")
    ensure_tables(spark, cfg)
    spark.sql(ROW.format(table=cfg.members_table))

    view = spark.table(cfg.masked_view)
    row = view.first().asDict()
    assert "row_hash" not in view.columns
    assert {c: row[c] for c in PII_COLUMNS} == {"first_name": "***", "last_name": "***", "email": "***", "phone_number": None, "address": "***"}
    assert (row["member_id"], row["city"], row["country"], str(row["registration_date"])) == ("m-1", "Porto", "PT", "2020-05-17")
    # The base table is untouched: the job reads and writes it unmasked.
    assert spark.table(cfg.members_table).first()["email"] == "ann@example.com"


def test_the_pii_group_sees_the_values(spark, tmp_path):
    # Locally the session user stands in for the group (no account groups in OSS Spark).
    cfg = _config(tmp_path, getpass.getuser())
    ensure_tables(spark, cfg)
    spark.sql(ROW.format(table=cfg.members_table))

    row = spark.table(cfg.masked_view).first().asDict()
    values = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "phone_number": None, "address": "1 Main St"}
    assert {c: row[c] for c in PII_COLUMNS} == values


def test_rerun_keeps_the_view_and_adds_no_commit(spark, tmp_path):
    cfg = _config(tmp_path, "members-pii-readers")
    ensure_tables(spark, cfg)
    versions = {t: spark.sql(f"DESCRIBE HISTORY {t}").count() for t in (cfg.members_table, cfg.quarantine_table, cfg.load_log_table)}
    ensure_tables(spark, cfg)
    assert {t: spark.sql(f"DESCRIBE HISTORY {t}").count() for t in versions} == versions
    assert spark.table(cfg.masked_view).count() == 0


QUARANTINE_ROW = (
    "INSERT INTO {table} (member_id, first_name, last_name, email, phone_number, address, city, country, registration_date, run_id, "
    "extracted_at, ingest_date, reason, quarantined_at) VALUES ({member_id}, 'Bo', 'Ek', 'bo@example', '+1 555', '2 Side St', 'Oslo', 'NO', "
    "NULL, 'r', NULL, DATE'{day}', 'email: invalid', current_timestamp())"
)


def test_quarantine_rows_no_member_row_will_erase_lose_their_pii_after_the_retention(spark, tmp_path):
    import datetime as dt
    from types import SimpleNamespace

    from members_pipeline.retention import erase_expired_pii

    cfg = _config(tmp_path, "members-pii-readers")  # pii_retention_days: contract default (30)
    ensure_tables(spark, cfg)
    spark.sql(ROW.format(table=cfg.members_table))  # m-1 has a valid row
    old, recent = dt.date(2026, 1, 1), dt.date(2026, 3, 1)
    for member_id, day in (("NULL", old), ("'never-valid'", old), ("'m-1'", old), ("'never-valid-2'", recent)):
        spark.sql(QUARANTINE_ROW.format(table=cfg.quarantine_table, member_id=member_id, day=day))

    erased_at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    counts = erase_expired_pii(spark, cfg, SimpleNamespace(ingest_date=dt.date(2026, 3, 2)), erased_at, members_due=False, row_hash_type="bigint")

    rows = {r.member_id: r for r in spark.table(cfg.quarantine_table).collect()}
    assert counts.quarantine_rows == 2 and counts.members == 0
    for member_id in (None, "never-valid"):  # no member row will ever erase them: erased after 30 days
        assert all(rows[member_id][c] is None for c in PII_COLUMNS) and rows[member_id].pii_erased_at is not None
    # A member with a row keeps its quarantine rows until it is erased itself; recent rows wait for the retention.
    for member_id in ("m-1", "never-valid-2"):
        assert rows[member_id].email == "bo@example" and rows[member_id].pii_erased_at is None
    again = erase_expired_pii(spark, cfg, SimpleNamespace(ingest_date=dt.date(2026, 3, 2)), erased_at, members_due=False, row_hash_type="bigint")
    assert again.quarantine_rows == 0


def test_quarantine_rows_of_a_day_are_replaced_by_its_rerun_in_one_merge(spark, tmp_path):
    import datetime as dt
    from types import SimpleNamespace

    from members_pipeline.reconcile import quarantine_rejected

    cfg = _config(tmp_path, "members-pii-readers")
    ensure_tables(spark, cfg)
    schema = spark.table(cfg.quarantine_table).drop("quarantined_at", "pii_erased_at").schema
    day1, day2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)

    def rejected(run_id: str, day: dt.date, *member_ids: str):
        return local_frame(spark, [(m, *[None] * 8, run_id, None, day, "email: invalid") for m in member_ids], schema)

    loaded_at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    quarantine_rejected(cfg, SimpleNamespace(ingest_date=day1), rejected("run-a", day1, "a1", "a2"), loaded_at)
    quarantine_rejected(cfg, SimpleNamespace(ingest_date=day2), rejected("run-b", day2, "b1"), loaded_at)
    quarantine_rejected(cfg, SimpleNamespace(ingest_date=day2), rejected("run-b", day2, "b1"), loaded_at)  # a retry
    quarantine_rejected(cfg, SimpleNamespace(ingest_date=day1), rejected("run-c", day1, "c1"), loaded_at)  # the day's rerun

    rows = sorted((r.ingest_date, r.run_id, r.member_id) for r in spark.table(cfg.quarantine_table).collect())
    assert rows == [(day1, "run-c", "c1"), (day2, "run-b", "b1")]
    operations = [r.operation for r in spark.sql(f"DESCRIBE HISTORY {cfg.quarantine_table}").collect()]
    assert set(operations) - {"CREATE TABLE"} == {"MERGE"}  # never an overwrite


def test_a_concurrent_replace_of_the_readers_view_is_run_again_and_other_errors_are_not():
    """Two loads at once both replace the view; the local metastore replaces by drop + create, so one may find it gone
    (seen in test_faults' concurrent loads). No JVM: a stand-in session that fails the way Spark reports it."""
    from members_pipeline.tables import replace_view

    class Session:
        def __init__(self, errors):
            self.errors, self.statements = list(errors), []

        def sql(self, statement):
            self.statements.append(statement)
            if self.errors:
                raise RuntimeError(self.errors.pop(0))

    gone = "[TABLE_OR_VIEW_NOT_FOUND] The table or view `s_masked`.`members` cannot be found."
    session = Session([gone])
    replace_view(session, "CREATE OR REPLACE VIEW v AS SELECT 1")
    assert session.statements == ["CREATE OR REPLACE VIEW v AS SELECT 1"] * 2
    with pytest.raises(RuntimeError, match="TABLE_OR_VIEW_NOT_FOUND"):
        replace_view(Session([gone] * 3), "CREATE OR REPLACE VIEW v AS SELECT 1")
    with pytest.raises(RuntimeError, match="PARSE_SYNTAX_ERROR"):
        replace_view(Session(["[PARSE_SYNTAX_ERROR] near 'VIEW'"]), "CREATE OR REPLACE VIEW v AS SELECT 1")
