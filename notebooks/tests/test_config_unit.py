"""Pure functions: widget parsing, JDBC URL and secrets, partition planning, transformations."""

import datetime as dt
from decimal import Decimal

import pytest
from members_pipeline.config import WidgetError, parse_extract_widgets, parse_generate_widgets, parse_load_widgets
from members_pipeline.mysql import MySqlConnection, SecretError, connection_from_secrets, jdbc_properties, jdbc_url
from members_pipeline.partitioning import member_id_boundaries, member_id_predicates

GOOD_EXTRACT = {
    "secret_scope": "members-mysql",
    "landing_path": "s3://bucket/landing/",
    "run_date": "2026-03-01",
    "partition_count": "8",
    "fetch_size": "10000",
    "ssl_mode": "required",
    "source_table": "members",
    "run_id": "",
}


def test_extract_widgets_parse_and_normalise():
    cfg = parse_extract_widgets(GOOD_EXTRACT.get)
    assert cfg.landing_path == "s3://bucket/landing"
    assert cfg.run_date == dt.date(2026, 3, 1)
    assert (cfg.partition_count, cfg.fetch_size, cfg.ssl_mode) == (8, 10000, "REQUIRED")
    assert len(cfg.run_id) == 32  # generated when empty


def test_job_iso_timestamp_is_accepted_as_run_date():
    cfg = parse_extract_widgets({**GOOD_EXTRACT, "run_date": "2026-03-01T02:00:00Z"}.get)
    assert cfg.run_date == dt.date(2026, 3, 1)


def test_bad_widgets_are_all_reported_with_value_and_expectation():
    bad = {
        **GOOD_EXTRACT,
        "landing_path": "bucket/landing",
        "run_date": "2026-02-30",
        "partition_count": "zero",
        "fetch_size": "-1",
        "ssl_mode": "maybe",
        "source_table": "members; drop",
    }
    with pytest.raises(WidgetError) as err:
        parse_extract_widgets(bad.get)
    msg = str(err.value)
    assert 'widget "partition_count": got "zero", expected an integer between 1 and 256' in msg
    assert 'widget "run_date": got "2026-02-30", expected a date YYYY-MM-DD' in msg
    assert 'widget "fetch_size": got "-1", expected an integer between 0 and 1000000' in msg
    assert 'widget "ssl_mode": got "maybe", expected one of DISABLED, PREFERRED' in msg
    assert 'widget "landing_path": got "bucket/landing"' in msg
    assert 'widget "source_table": got "members; drop"' in msg
    assert len(err.value.problems) == 6


def test_load_widgets():
    widgets = {
        "landing_path": "abfss://landing@acct.dfs.core.windows.net/members",
        "catalog": "main",
        "schema": "crm",
        "table": "members",
        "ingest_date": "",
        "pii_reader_group": "pii",
    }
    cfg = parse_load_widgets(widgets.get)
    assert cfg.ingest_date is None
    assert cfg.members_table == "`main`.`crm`.`members`"
    assert cfg.quarantine_table == "`main`.`crm`.`members_quarantine`"
    with pytest.raises(WidgetError, match='widget "catalog": got "main-cat"'):
        parse_load_widgets({**widgets, "catalog": "main-cat"}.get)
    with pytest.raises(WidgetError, match='widget "ingest_date": got "yesterday"'):
        parse_load_widgets({**widgets, "ingest_date": "yesterday"}.get)


def test_generate_widgets_reject_more_invalid_rows_than_rows():
    widgets = {"secret_scope": "s", "rows": "10", "seed": "1", "batch_size": "5", "table": "members", "if_exists": "replace", "invalid_rows": "11"}
    with pytest.raises(WidgetError, match=r'widget "invalid_rows": got "11", expected at most rows \(10\)'):
        parse_generate_widgets(widgets.get)
    assert parse_generate_widgets({**widgets, "invalid_rows": "3"}.get).if_exists == "REPLACE"


def test_jdbc_url_has_required_options_and_no_credentials():
    conn = MySqlConnection("db.example.internal", 3306, "crm", "reader", "s3cr3t&pw")
    url = jdbc_url(conn, "VERIFY_IDENTITY")
    assert url.startswith("jdbc:mysql://db.example.internal:3306/crm?")
    for option in (
        "sslMode=VERIFY_IDENTITY",
        "zeroDateTimeBehavior=CONVERT_TO_NULL",
        "tinyInt1isBit=false",
        "connectionTimeZone=UTC",
    ):
        assert option in url
    assert "s3cr3t" not in url and "reader" not in url and "useCursorFetch" not in url


def test_fetch_size_zero_streams_rows_and_n_fetches_through_a_server_side_cursor():
    conn = MySqlConnection("db.example.internal", 3306, "crm", "reader", "s3cr3t&pw")
    streamed, cursor = jdbc_properties(conn, 0), jdbc_properties(conn, 5000)
    assert (streamed["fetchsize"], cursor["fetchsize"]) == (str(-(2**31)), "5000")
    assert streamed["driver"] == cursor["driver"] == "com.mysql.cj.jdbc.Driver"
    # Connector/J takes useCursorFetch from the URL only (as a Spark read property it never reaches the driver).
    assert "useCursorFetch" not in jdbc_url(conn, fetch_size=0) and "useCursorFetch=true" in jdbc_url(conn, fetch_size=5000)


def test_connection_repr_redacts_password():
    conn = MySqlConnection("h", 1, "d", "u", "hunter2")
    assert "hunter2" not in repr(conn) and "hunter2" not in str(conn) and "hunter2" not in f"{conn}"
    assert "password='***'" in repr(conn)


def test_connection_from_secrets_reports_missing_keys_and_bad_port():
    store = {"host": "h", "port": "3306", "database": "d", "user": "u", "password": "p"}

    def getter(values):
        def get(scope, key):
            if key not in values:
                raise KeyError(key)
            return values[key]

        return get

    assert connection_from_secrets(getter(store), "scope").port == 3306
    with pytest.raises(SecretError, match=r'secret scope "scope": missing or empty key\(s\): user; first error: user'):
        connection_from_secrets(getter({k: v for k, v in store.items() if k != "user"}), "scope")
    with pytest.raises(SecretError, match=r'key "port": got "mysql", expected a TCP port number'):
        connection_from_secrets(getter({**store, "port": "mysql"}), "scope")


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 16, 17, 64, 256])
def test_predicates_partition_every_possible_id_exactly_once(n):
    preds = member_id_predicates(n)
    assert len(preds) == n
    bounds = member_id_boundaries(n)
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)

    # Evaluate the predicates in Python (binary order) on awkward ids: each must match exactly one.
    def matches(i, value):
        if value is None:
            return i == 0
        lo = bounds[i - 1] if i > 0 else None
        hi = bounds[i] if i < len(bounds) else None
        return (lo is None or value >= lo) and (hi is None or value < hi)

    ids = [None, "", " ", "0", "00000000-0000", "7fffffff", "8", "f", "ffffffff-ffff", "g-not-hex", "Z", "~", "ABCDEF", "-leading-dash"]
    for value in ids:
        assert sum(matches(i, value) for i in range(n)) == 1, value


def test_predicates_are_balanced_for_uuid4():
    import uuid

    n = 8
    bounds = member_id_boundaries(n)
    counts = [0] * n
    for _ in range(16000):
        u = str(uuid.uuid4())
        counts[sum(u >= b for b in bounds)] += 1
    assert min(counts) > 1600 and max(counts) < 2400


def test_partition_count_out_of_range():
    with pytest.raises(ValueError, match="got 0, expected 1..256"):
        member_id_predicates(0)


def test_databricks_tags_every_pii_column():
    from members_pipeline.tables import databricks_tags_sql

    cfg = parse_load_widgets(
        {"landing_path": "s3://b/p", "catalog": "main", "schema": "crm", "table": "members", "ingest_date": "", "pii_reader_group": "pii-readers"}.get
    )
    stmts = databricks_tags_sql(cfg)
    tagged = [s.split("ALTER COLUMN ")[1].split()[0] for s in stmts if "ALTER COLUMN" in s]
    assert tagged == ["first_name", "last_name", "email", "phone_number", "address"]
    assert not any("MASK" in s for s in stmts)  # the table stays unmasked: readers get the view


def test_reader_group_is_escaped_so_a_quote_cannot_end_the_literal(spark):
    from members_pipeline.tables import pii_reader_predicate, sql_string

    nasty = ["o'brien@example.com", "back\\slash'", "x' OR true OR '", "plain-group"]
    for value in nasty:  # the real Spark parser reads back exactly the value
        assert spark.sql(f"SELECT {sql_string(value)} AS v").first().v == value
    for group in nasty:
        cfg = parse_load_widgets(
            {"landing_path": "s3://b/p", "catalog": "main", "schema": "crm", "table": "members", "ingest_date": "", "pii_reader_group": group}.get
        )
        # Locally the predicate compares the session user with the group: no quote in the name makes it true.
        assert spark.sql(f"SELECT {pii_reader_predicate(cfg)} AS v").first().v is False


def test_guard_and_retention_widgets_default_parse_and_report_errors():
    base = {"landing_path": "s3://b/p", "catalog": "main", "schema": "crm", "table": "members", "ingest_date": "", "pii_reader_group": "pii"}
    cfg = parse_load_widgets(base.get)  # a job that passes none of them gets the defaults
    assert (cfg.max_deleted_share, cfg.max_quarantined_share) == (Decimal("0.05"), Decimal("0.01"))
    assert (cfg.accept_mass_change, cfg.pii_retention_days, cfg.history_retention_days) == (False, 30, 7)
    cfg = parse_load_widgets(
        {
            **base,
            "max_deleted_share": "0.2",
            "max_quarantined_share": "1",
            "accept_mass_change": "TRUE",
            "pii_retention_days": "0",
            "history_retention_days": "30",
        }.get
    )
    assert (cfg.max_deleted_share, cfg.max_quarantined_share, cfg.accept_mass_change) == (Decimal("0.2"), Decimal("1"), True)
    assert (cfg.pii_retention_days, cfg.history_retention_days) == (0, 30)
    bad = {
        **base,
        "max_deleted_share": "5%",
        "max_quarantined_share": "1.5",
        "accept_mass_change": "yes",
        "pii_retention_days": "-1",
        "history_retention_days": "0",
    }
    with pytest.raises(WidgetError) as err:
        parse_load_widgets(bad.get)
    msg = str(err.value)
    assert 'widget "max_deleted_share": got "5%", expected a share between 0 and 1' in msg
    assert 'widget "max_quarantined_share": got "1.5", expected a share between 0 and 1' in msg
    assert 'widget "accept_mass_change": got "yes", expected true or false' in msg
    assert 'widget "pii_retention_days": got "-1", expected an integer between 0 and 3650' in msg
    assert 'widget "history_retention_days": got "0", expected an integer between 1 and 365' in msg
    assert len(err.value.problems) == 5


def test_guards_compare_exactly_and_name_the_numbers():
    from members_pipeline.guards import BatchImpact, guard_problems

    five, one = Decimal("0.05"), Decimal("0.01")
    assert guard_problems(BatchImpact(rows=0, quarantined=0, active=0, absent=0), five, one) == []  # first load
    assert guard_problems(BatchImpact(rows=1000, quarantined=10, active=1000, absent=50), five, one) == []  # at
    (deleted,) = guard_problems(BatchImpact(rows=0, quarantined=0, active=1000, absent=1000), five, one)
    assert deleted == "would flag 1,000 of 1,000 active members deleted (100.0%), above max_deleted_share 5.0%"
    assert guard_problems(BatchImpact(rows=1000, quarantined=0, active=1000, absent=51), five, one)
    (quarantined,) = guard_problems(BatchImpact(rows=100_000, quarantined=1_001, active=0, absent=0), five, one)
    assert quarantined == "would quarantine 1,001 of 100,000 rows (1.0%), above max_quarantined_share 1.0%"
    tiny = guard_problems(BatchImpact(rows=100_000, quarantined=1, active=0, absent=0), five, Decimal(0))
    assert tiny == ["would quarantine 1 of 100,000 rows (0.001%), above max_quarantined_share 0.0%"]
    # 0.29 * 100 is 28.999999999999996 in floats; the Decimal comparison does not refuse 29 of 100.
    assert guard_problems(BatchImpact(rows=0, quarantined=0, active=100, absent=29), Decimal("0.29"), one) == []


def test_vacuum_runs_after_an_erasure_until_the_history_retention_has_passed():
    from members_pipeline.retention import vacuum_due

    now = dt.datetime(2026, 3, 20, 6, 0, tzinfo=dt.UTC)
    assert vacuum_due(True, None, now, 7)
    assert not vacuum_due(False, None, now, 7)
    assert vacuum_due(False, now - dt.timedelta(days=8), now, 7)  # the files removed then are now deletable
    assert not vacuum_due(False, now - dt.timedelta(days=10), now, 7)  # the daily VACUUMs since have done it
