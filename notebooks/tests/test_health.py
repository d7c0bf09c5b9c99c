"""Pipeline health (issue 28): the queries in members_pipeline/health/*.sql over a known run, the rule that no query
selects a PII column, and the HTML report as headless Chromium renders it.

The known run (one per module, landed directly like the `loader` fixture's): day 0 inserts 20 members (one duplicate,
two invalid rows), day 1 changes some (2 inserted, 1 updated, 1 flagged deleted, 1 invalid row), day 2 is refused by
the deleted-share guard."""

import datetime as dt
import os
import re
import shutil
import subprocess

import pytest
from conftest import Pipeline, member
from members_pipeline.config import parse_load_widgets
from members_pipeline.guards import DataGuardError
from members_pipeline.health import health_queries, query_files, run_health_queries, substitute, write_health_report
from members_pipeline.schema import PII_COLUMNS, SOURCE_COLUMNS

# Quarantine up to 10% (3 invalid rows of 45 would otherwise be refused by the 1% default).
LOAD = {"max_quarantined_share": "0.1"}


@pytest.fixture(scope="module")
def known_run(spark, tmp_path_factory):
    today = spark.sql("SELECT current_date() AS d").first().d  # the session's date (UTC), which the queries use
    days = [today - dt.timedelta(days=n) for n in (3, 2, 1)]
    run = Pipeline(spark, None, tmp_path_factory.mktemp("health"))
    source = [member(f"m{i:02d}", email=f"m{i}@example.com") for i in range(20)]
    run.land([*source, source[0], member("bad1", email="not-an-email"), member(None)], days[0], files=1)
    assert run.load(**LOAD)["inserted"] == 20
    changed = [member("m00", email="m0@example.com", city="Lisbon"), *source[1:19], member("n01"), member("n02")]
    run.land([*changed, member("bad2", registration_date=days[1] + dt.timedelta(days=1))], days[1], files=1)
    assert run.load(**LOAD)["batches_loaded"] == 1
    run.land(source[:10], days[2], files=1)
    with pytest.raises(DataGuardError, match="would flag 11 of 21 active members deleted"):
        run.load(**LOAD)
    cfg = parse_load_widgets(run.load_widgets(**LOAD, pii_retention_days="1").get)
    return run, cfg, days


def test_health_queries_give_the_known_runs_numbers(spark, known_run):
    run, cfg, (d0, d1, d2) = known_run
    results = run_health_queries(spark, cfg)
    assert list(results["daily_loads"][0]) == [
        *("ingest_date", "batches_loaded", "batches_refused", "manifest_rows", "merged", "inserted", "updated"),
        *("flagged_deleted", "quarantined", "duplicates", "quarantine_share"),
    ]
    assert sorted(results) == ["daily_loads", "erasure_backlog", "freshness", "quarantine_by_reason", "refused_batches", "run_durations"]

    (fresh,) = results["freshness"]
    assert fresh["last_ingest_date"] == d1 and 0 <= fresh["hours_since_last_load"] < 1, fresh

    assert [tuple(r.values()) for r in results["daily_loads"]] == [
        (d0, 1, 0, 23, 20, 20, 0, 0, 2, 1, 0.087),
        (d1, 1, 0, 22, 21, 2, 1, 1, 1, 0, 0.0455),
        (d2, 0, 1, 0, 0, 0, 0, 0, 0, 0, None),
    ]
    assert results["quarantine_by_reason"] == [
        {"ingest_date": d0, "reason": "malformed email", "quarantined": 1},
        {"ingest_date": d0, "reason": "missing member_id", "quarantined": 1},
        {"ingest_date": d1, "reason": "future registration_date", "quarantined": 1},
    ]

    (refused,) = results["refused_batches"]
    assert (refused["ingest_date"], refused["manifest_rows"]) == (d2, 10) and refused["batch_id"].startswith(d2.isoformat())
    assert "would flag 11 of 21 active members deleted (52.4%), above max_deleted_share 5.0%" in refused["refusal"]

    durations = results["run_durations"]
    assert [(r["ingest_date"], r["status"], r["manifest_rows"]) for r in durations] == [(d0, "loaded", 23), (d1, "loaded", 22), (d2, "refused", 10)]
    assert all(0 < r["seconds"] < 600 for r in durations), durations

    # m19 was flagged deleted on day 1; with a one-day retention it is due (the load erases it with the next batch).
    assert results["erasure_backlog"] == [{"deleted_with_pii": 1, "due_for_erasure": 1, "oldest_due_since": d1}]
    default_retention = parse_load_widgets(run.load_widgets().get)  # 30 days: flagged, not yet due
    (backlog,) = spark.sql(health_queries(default_retention)["erasure_backlog"]).collect()
    assert (backlog.deleted_with_pii, backlog.due_for_erasure, backlog.oldest_due_since) == (1, 0, None)


# ---- the PII rule ----------------------------------------------------------------------------------------------------

_COMMENT = re.compile(r"--[^\n]*")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")
_WORD = re.compile(r"`([^`]+)`|\b([A-Za-z_][A-Za-z0-9_]*)\b")


def pii_in(sql: str) -> list[str]:
    """PII columns a query names (comments and string literals aside), and a `*` selecting every column (count(*)
    aside): a query must name its columns, none of them PII."""
    code = _STRING.sub("''", _COMMENT.sub("", sql))
    names = {(m.group(1) or m.group(2)).lower() for m in _WORD.finditer(code)}
    found = sorted(names & set(PII_COLUMNS))
    if re.search(r"\*", re.sub(r"(?i)count\s*\(\s*\*\s*\)", "", code)):
        found.append("*")
    return found


def test_pii_list_is_the_schemas():
    assert set(PII_COLUMNS) < set(SOURCE_COLUMNS) and {"email", "first_name"} <= set(PII_COLUMNS)


def test_no_health_query_selects_a_pii_column():
    files = query_files()
    assert len(files) >= 6
    assert {name: pii_in(q.sql) for name, q in files.items() if pii_in(q.sql)} == {}
    # The rule sees a PII column however it is written (seen failing once with `email` added to daily_loads.sql).
    assert pii_in("SELECT ingest_date, `Email` FROM t -- email") == ["email"]
    assert pii_in("SELECT m.phone_number AS p FROM t m") == ["phone_number"]
    assert pii_in("SELECT * FROM t") == ["*"] and pii_in("SELECT count(*) FROM t WHERE reason = 'email'") == []


def test_every_query_has_a_title_and_a_description_and_only_known_placeholders(known_run):
    _run, cfg, _days = known_run
    for q in query_files().values():
        assert q.title and q.title != q.name and q.description, q.name
    queries = health_queries(cfg)
    assert all("${" not in sql for sql in queries.values())
    assert cfg.load_log_table in queries["freshness"] and cfg.quarantine_table in queries["quarantine_by_reason"]
    with pytest.raises(ValueError, match=r"unknown placeholder\(s\) \$\{member_table\}"):
        substitute("SELECT 1 FROM ${member_table}", {"members_table": "x"})


# ---- the HTML report in a browser ------------------------------------------------------------------------------------


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "chromium not found: `make py-test` installs it (apt-get install chromium), as `make diagrams` does"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _svg_texts(dom: str, label: str) -> list[str]:
    svg = re.search(rf'<svg[^>]*aria-label="{re.escape(label)}"[^>]*>(.*?)</svg>', dom, re.S)
    assert svg, f"no chart {label!r} in the rendered report"
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg.group(1))


def test_health_report_shows_the_runs_numbers_in_chromium(spark, known_run, tmp_path):
    run, cfg, (d0, d1, d2) = known_run
    path = write_health_report(run_health_queries(spark, cfg), tmp_path / "report" / "health.html")
    html = path.read_text()
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html and "<script" not in html

    shot = tmp_path / "report.png"
    common = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]
    dom = subprocess.run([*common, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1300,900", path.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000  # a picture, not a blank page

    days = [d0.isoformat(), d1.isoformat(), d2.isoformat()]
    assert _svg_texts(dom, "inserted per day") == ["inserted per day", "20", d0.isoformat(), "2", d1.isoformat(), "0", d2.isoformat()]
    for label, values in (
        ("rows loaded per day", ["20", "21", "0"]),
        ("flagged deleted per day", ["0", "1", "0"]),
        ("batches refused per day", ["0", "0", "1"]),
    ):
        texts = _svg_texts(dom, label)
        assert texts[1::2] == values and texts[2::2] == days, (label, texts)
    assert "h since the last load" in " ".join(_svg_texts(dom, "Hours since the last loaded batch"))
    assert _svg_texts(dom, "members flagged deleted with PII")[1::2] == ["1", "1"]
    assert "would flag 11 of 21 active members deleted" in dom and "future registration_date" in dom


def test_refused_batch_is_not_a_loaded_one(known_run):
    """The refusal row does not make the batch loaded: the next run tries it again (and is refused again). Last: it
    adds a refusal to the module's run."""
    run, _cfg, _days = known_run
    with pytest.raises(DataGuardError):
        run.load(**LOAD)
    assert run.table("members_load_log").where("status = 'refused'").count() == 2
    assert run.table().where("is_deleted").count() == 1
