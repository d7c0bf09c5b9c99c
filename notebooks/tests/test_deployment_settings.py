"""Job parameters cannot weaken security (issue 25 item 4): the widgets marked "deployment": true in contract.json
take their values from the job cluster's Spark conf (spark.members.<notebook>.<widget>); a run that sets one to
anything else is refused before anything is read or written.

Unit tests of deployment.py and the parsers, then the real notebooks through the local runner with the settings in
the session's Spark conf, as the job cluster carries them: every override is refused and leaves no landing file, no
schema, no table and no load-log row behind; over Spark Connect too.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NOTEBOOKS, RUN_DATE, TEST_SSL_MODE, TEST_TRUST_STORE, member
from members_pipeline import contract
from members_pipeline.config import WidgetError, parse_extract_widgets, parse_generate_widgets, parse_load_widgets
from members_pipeline.deployment import deployment_settings, read_deployment_settings, spark_conf_get
from members_pipeline.frames import local_frame
from run_local import LocalDbutils, run_notebook

# What the review asked to fix (issue 25 item 4); the contract may fix more (e.g. TLS trust settings).
REQUIRED = {
    "extract": {"secret_scope", "landing_path", "ssl_mode", "source_table"},
    "load": {"landing_path", "catalog", "schema", "table", "pii_reader_group", "pii_retention_days", "history_retention_days"},
    "generate": {"secret_scope", "table"},
}


def refused(notebook: str, name: str, got: str, expected: str) -> str:
    return (
        f'widget "{name}": got "{got}", expected "{expected}" '
        f"(fixed by the deployment: spark.members.{notebook}.{name}; change it in the stack's configuration)"
    )


@contextlib.contextmanager
def deployment(spark, notebook: str, values: dict[str, str]):
    """The job cluster's Spark conf for one notebook, set on the session for the duration."""
    keys = [contract.deployment_conf_key(notebook, name) for name in values]
    for key, value in zip(keys, values.values(), strict=True):
        spark.conf.set(key, value)
    try:
        yield values
    finally:
        for key in keys:
            spark.conf.unset(key)


# --- contract and pure functions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", sorted(REQUIRED))
def test_contract_marks_the_security_widgets_as_deployment_settings(notebook):
    assert REQUIRED[notebook] <= set(contract.deployment_widgets(notebook))
    assert contract.deployment_conf_key("load", "pii_reader_group") == "spark.members.load.pii_reader_group"


def test_no_setting_means_no_deployment():
    assert deployment_settings({}.get, "load") == {}
    assert deployment_settings({"spark.members.load.pii_reader_group": "  "}.get, "load") == {}
    assert deployment_settings({"spark.members.extract.landing_path": "s3://b/l"}.get, "load") == {}  # another notebook's


def test_one_setting_fixes_them_all_and_a_missing_one_is_fixed_empty():
    conf = {"spark.members.load.pii_reader_group": " members-pii-readers ", "spark.members.load.table": "members"}
    settings = deployment_settings(conf.get, "load")
    assert set(settings) == set(contract.deployment_widgets("load"))
    assert settings["pii_reader_group"] == "members-pii-readers" and settings["table"] == "members"
    assert settings["landing_path"] == ""  # the stack writes no conf entry for an empty value


def test_spark_conf_reader_on_a_classic_session(spark):
    get = spark_conf_get(spark)
    assert get("spark.members.load.not_set_anywhere") is None
    with deployment(spark, "load", {"pii_reader_group": "g1"}):
        assert get("spark.members.load.pii_reader_group") == "g1"
        assert read_deployment_settings(spark, "load")["pii_reader_group"] == "g1"
    assert read_deployment_settings(spark, "load") == {}


LOAD_WIDGETS = {"landing_path": "", "catalog": "", "schema": "", "table": "", "ingest_date": "", "pii_reader_group": ""}
LOAD_DEPLOYED = {
    "landing_path": "s3://landing/members-prod",
    "catalog": "main",
    "schema": "crm",
    "table": "members",
    "pii_reader_group": "members-pii-readers",
    "pii_retention_days": "30",
    "history_retention_days": "7",
}


def test_empty_widgets_take_the_deployed_values():
    cfg = parse_load_widgets(LOAD_WIDGETS.get, LOAD_DEPLOYED)
    assert (cfg.landing_path, cfg.catalog, cfg.schema, cfg.table) == ("s3://landing/members-prod", "main", "crm", "members")
    assert (cfg.pii_reader_group, cfg.pii_retention_days, cfg.history_retention_days) == ("members-pii-readers", 30, 7)
    assert cfg.fixed_by_deployment == frozenset(LOAD_DEPLOYED)


def test_the_same_value_is_accepted():
    same = {**LOAD_WIDGETS, "table": "members", "pii_reader_group": " members-pii-readers ", "pii_retention_days": "30"}
    assert parse_load_widgets(same.get, LOAD_DEPLOYED) == parse_load_widgets(LOAD_WIDGETS.get, LOAD_DEPLOYED)


def test_every_different_value_is_refused_naming_widget_got_expected_and_key():
    forged = {
        **LOAD_WIDGETS,
        "landing_path": "s3://attacker/forged",
        "table": "x",
        "pii_reader_group": "account users",
        "pii_retention_days": "0",
        "history_retention_days": "1",
        "max_deleted_share": "0.5",  # not a deployment setting: the run may set it
    }
    with pytest.raises(WidgetError) as err:
        parse_load_widgets(forged.get, LOAD_DEPLOYED)
    assert err.value.problems == [
        refused("load", "landing_path", "s3://attacker/forged", "s3://landing/members-prod"),
        refused("load", "table", "x", "members"),
        refused("load", "pii_reader_group", "account users", "members-pii-readers"),
        refused("load", "pii_retention_days", "0", "30"),  # reported once, though read twice
        refused("load", "history_retention_days", "1", "7"),
    ]


def test_extract_and_generate_overrides_are_refused():
    deployed = {"secret_scope": "members-mysql", "landing_path": "s3://landing/p", "ssl_mode": "VERIFY_IDENTITY", "source_table": "members"}
    widgets = {"run_date": "2026-03-01", "partition_count": "8", "fetch_size": "10000", "secret_scope": "other", "ssl_mode": "DISABLED"}
    with pytest.raises(WidgetError) as err:
        parse_extract_widgets({**widgets, "landing_path": "dbfs:/extract", "source_table": "accounts"}.get, deployed)
    assert err.value.problems == [
        refused("extract", "secret_scope", "other", "members-mysql"),
        refused("extract", "landing_path", "dbfs:/extract", "s3://landing/p"),
        refused("extract", "ssl_mode", "DISABLED", "VERIFY_IDENTITY"),
        refused("extract", "source_table", "accounts", "members"),
    ]
    cfg = parse_extract_widgets({"run_date": "2026-03-01", "partition_count": "8", "fetch_size": "10000"}.get, deployed)
    assert (cfg.secret_scope, cfg.landing_path, cfg.ssl_mode, cfg.source_table) == ("members-mysql", "s3://landing/p", "VERIFY_IDENTITY", "members")

    gen = {"rows": "10", "seed": "1", "batch_size": "5", "if_exists": "FAIL", "invalid_rows": "0"}
    with pytest.raises(WidgetError, match=refused("generate", "table", "prod_members", "members_dev").replace("(", r"\(").replace(")", r"\)")):
        parse_generate_widgets({**gen, "table": "prod_members"}.get, {"secret_scope": "gen", "table": "members_dev"})


def test_without_a_deployment_the_widgets_decide_as_before():
    widgets = {**LOAD_WIDGETS, "landing_path": "/tmp/l", "catalog": "c", "schema": "s", "table": "x", "pii_reader_group": "g"}
    cfg = parse_load_widgets(widgets.get)
    assert (cfg.table, cfg.pii_reader_group, cfg.fixed_by_deployment) == ("x", "g", frozenset())
    assert parse_load_widgets(widgets.get, {}) == cfg


def test_a_deployed_value_is_still_validated():
    with pytest.raises(WidgetError, match='widget "table": got "members; DROP", expected a name'):
        parse_load_widgets(LOAD_WIDGETS.get, {**LOAD_DEPLOYED, "table": "members; DROP"})


def test_widgets_show_the_deployed_value():
    dbutils = LocalDbutils({})
    contract.declare_widgets(dbutils, "load", {"pii_reader_group": "members-pii-readers-prod"})
    assert dbutils.widgets.get("pii_reader_group") == "members-pii-readers-prod"
    assert dbutils.widgets.get("max_deleted_share") == contract.default("load", "max_deleted_share")


# --- the readers' masked view --------------------------------------------------------------------------------------


def test_view_lives_in_the_masked_schema_named_after_its_table():
    for table, masked, expected in (("members", "", "`main`.`crm_masked`.`members`"), ("x", "shared", "`main`.`shared`.`x`")):
        fixed = {"table": table, "masked_schema": masked}
        cfg = parse_load_widgets({**LOAD_WIDGETS, **fixed}.get, {**LOAD_DEPLOYED, **fixed})
        assert cfg.masked_view == expected


def test_masked_schema_widget_is_validated():
    from members_pipeline.config import WidgetError

    with pytest.raises(WidgetError, match=r'widget "masked_schema": got "a-b", expected empty \(<schema>_masked\) or a name'):
        parse_load_widgets({**LOAD_WIDGETS, "masked_schema": "a-b"}.get)


def test_on_databricks_the_view_only_unmasks_for_a_group_the_deployment_fixed(monkeypatch):
    from members_pipeline import tables
    from members_pipeline.tables import GovernanceError, check_governance

    widgets = {**LOAD_WIDGETS, "landing_path": "/l", "catalog": "main", "schema": "crm", "table": "x", "pii_reader_group": "account users"}
    check_governance(parse_load_widgets(widgets.get))  # locally there are no groups to unmask for
    monkeypatch.setattr(tables, "is_databricks", lambda: True)
    with pytest.raises(GovernanceError, match="reader group must be fixed by the deployment"):
        check_governance(parse_load_widgets(widgets.get))
    check_governance(parse_load_widgets(LOAD_WIDGETS.get, LOAD_DEPLOYED))


@pytest.fixture
def column_masks(spark):
    """A stand-in for Unity Catalog's <catalog>.information_schema.column_masks in the local catalog."""
    spark.sql("CREATE SCHEMA IF NOT EXISTS spark_catalog.information_schema")
    spark.sql(
        "CREATE TABLE spark_catalog.information_schema.column_masks (catalog_name STRING, schema_name STRING, table_name STRING, "
        "column_name STRING, mask_catalog STRING, mask_schema STRING, mask_name STRING) USING parquet"
    )
    yield lambda *rows: local_frame(spark, list(rows), spark.table("spark_catalog.information_schema.column_masks").schema).write.insertInto(
        "spark_catalog.information_schema.column_masks"
    )
    spark.sql("DROP SCHEMA spark_catalog.information_schema CASCADE")


def test_only_the_masks_an_earlier_release_created_are_dropped(spark, column_masks):
    from members_pipeline.tables import legacy_masks_sql

    cfg = parse_load_widgets(LOAD_WIDGETS.get, {**LOAD_DEPLOYED, "catalog": "spark_catalog"})
    column_masks(
        ("spark_catalog", "crm", "members", "email", "spark_catalog", "crm", "Members_Mask_PII"),  # this table's own
        ("spark_catalog", "crm", "members", "phone_number", "spark_catalog", "crm", "mask_member_pii"),  # the shared one
        ("spark_catalog", "crm", "members", "address", "spark_catalog", "governance", "mask_address"),  # someone else's
        ("spark_catalog", "hr", "staff", "email", "spark_catalog", "crm", "members_mask_pii"),  # another table
    )
    assert sorted(r[0] for r in spark.sql(legacy_masks_sql(cfg)).collect()) == ["email", "phone_number"]


def test_on_databricks_an_unfixed_group_creates_no_table(spark, monkeypatch, tmp_path):
    from members_pipeline import tables
    from members_pipeline.tables import GovernanceError, ensure_tables

    schema = "gov_" + tmp_path.name[-8:].replace("-", "_")
    spark.sql(f"CREATE SCHEMA spark_catalog.{schema}")  # on Databricks the stack creates it
    monkeypatch.setattr(tables, "is_databricks", lambda: True)
    widgets = {**LOAD_WIDGETS, "landing_path": str(tmp_path), "catalog": "spark_catalog", "schema": schema, "table": "x", "pii_reader_group": "g"}
    with pytest.raises(GovernanceError):
        ensure_tables(spark, parse_load_widgets(widgets.get))
    # SHOW TABLES also lists the session's temporary views, whichever test left them.
    assert spark.sql(f"SHOW TABLES IN spark_catalog.{schema}").where("NOT isTemporary").count() == 0


# --- the real notebooks, settings in the session's Spark conf ----------------------------------------------------


def _files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def _no_schema(spark, *schemas: str) -> bool:
    return not any(spark.catalog.databaseExists(f"spark_catalog.{s}") for s in schemas)


def test_extract_and_load_notebooks_refuse_every_override_and_write_nothing(spark, mysql, tmp_path):
    table = mysql.create_loose_table()
    mysql.insert(table, [member(f"{i:08x}-0000-4000-8000-000000000000", email=f"m{i}@example.com") for i in range(20)])
    landing, elsewhere = tmp_path / "landing", tmp_path / "elsewhere"
    extract_deployed = {
        "secret_scope": "members",
        "landing_path": str(landing),
        "ssl_mode": TEST_SSL_MODE,
        "trust_store_path": TEST_TRUST_STORE,
        "source_table": table,
    }
    overrides = {
        "secret_scope": "other-scope",
        "landing_path": str(elsewhere),
        "ssl_mode": "DISABLED",
        "trust_store_path": str(tmp_path / "forged.p12"),
        "source_table": mysql.new_table_name(),
    }
    run = {"run_date": RUN_DATE.isoformat(), "partition_count": "2"}
    with deployment(spark, "extract", extract_deployed):
        for name, value in overrides.items():
            with pytest.raises(WidgetError) as err:
                run_notebook(NOTEBOOKS / "extract_members.py", {**run, name: value}, spark=spark)
            assert err.value.problems == [refused("extract", name, value, extract_deployed[name])]
            assert _files_under(landing) == [] and _files_under(elsewhere) == [], name
        # The deployed values, not the contract defaults: an empty landing_path widget lands in the deployed folder.
        extracted = run_notebook(NOTEBOOKS / "extract_members.py", run, spark=spark).json()
    assert extracted["rows"] == 20 and _files_under(landing) and _files_under(elsewhere) == []

    schema, other = "dep_" + table, "dep_other_" + table
    load_deployed = {
        "landing_path": str(landing),
        "catalog": "spark_catalog",
        "schema": schema,
        "table": "members",
        "pii_reader_group": "members-pii-readers",
        "pii_retention_days": "30",
        "history_retention_days": "7",
    }
    forged = tmp_path / "forged"
    (forged / "members").mkdir(parents=True)
    overrides = {
        "landing_path": str(forged),
        "catalog": "other_catalog",
        "schema": other,
        "table": "x",
        "pii_reader_group": "account users",
        "pii_retention_days": "0",
        "history_retention_days": "1",
    }
    with deployment(spark, "load", load_deployed):
        for name, value in overrides.items():
            with pytest.raises(WidgetError) as err:
                run_notebook(NOTEBOOKS / "load_members.py", {name: value}, spark=spark)
            assert err.value.problems == [refused("load", name, value, load_deployed[name])]
            assert _no_schema(spark, schema, other), name  # no schema, so no members, quarantine or load-log table
        loaded = run_notebook(NOTEBOOKS / "load_members.py", {"table": "members"}, spark=spark).json()
        assert loaded["merged"] == 20
        log_rows = spark.table(f"spark_catalog.{schema}.members_load_log").count()
        version = spark.sql(f"DESCRIBE HISTORY spark_catalog.{schema}.members").count()
        # Tables exist now: an override still changes nothing (no load-log row, no new table version).
        with pytest.raises(WidgetError, match='widget "pii_retention_days": got "0"'):
            run_notebook(NOTEBOOKS / "load_members.py", {"pii_retention_days": "0"}, spark=spark)
    assert spark.table(f"spark_catalog.{schema}.members_load_log").count() == log_rows == 1
    assert spark.sql(f"DESCRIBE HISTORY spark_catalog.{schema}.members").count() == version
    assert not spark.catalog.tableExists(f"spark_catalog.{schema}.x") and _no_schema(spark, other)


def test_generate_notebook_refuses_another_table_or_scope(spark, mysql):
    table, target = mysql.new_table_name(), mysql.new_table_name()
    with deployment(spark, "generate", {"secret_scope": "members", "table": table}):
        for name, value in (("table", target), ("secret_scope", "production-mysql")):
            with pytest.raises(WidgetError) as err:
                run_notebook(NOTEBOOKS / "generate_member_data.py", {"rows": "5", name: value}, spark=spark)
            assert err.value.problems == [refused("generate", name, value, {"table": table, "secret_scope": "members"}[name])]
    assert mysql.execute("SHOW TABLES LIKE %s", (target,)) == () and mysql.execute("SHOW TABLES LIKE %s", (table,)) == ()


CONNECT_SCRIPT = """
import json, sys
from pyspark.sql import SparkSession
from members_pipeline.config import WidgetError
from run_local import run_notebook
url, notebooks, landing, schema = sys.argv[1:]
spark = SparkSession.builder.remote(url).getOrCreate()
spark.conf.set("spark.members.load.landing_path", landing)
spark.conf.set("spark.members.load.catalog", "spark_catalog")
spark.conf.set("spark.members.load.schema", schema)
spark.conf.set("spark.members.load.table", "members")
spark.conf.set("spark.members.load.pii_reader_group", "members-pii-readers")
try:
    run_notebook(notebooks + "/load_members.py", {"pii_reader_group": "account users"}, spark=spark)
    problems = None
except WidgetError as err:
    problems = err.problems
print(json.dumps({"problems": problems, "schema_exists": spark.catalog.databaseExists("spark_catalog." + schema)}))
"""


def test_load_notebook_refuses_an_override_over_spark_connect(connect_server, tmp_path):
    # Its own process: pyspark allows no Connect session next to the tests' classic one.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(NOTEBOOKS), os.environ.get("PYTHONPATH", "")])}
    args = [connect_server.url, str(NOTEBOOKS), str(tmp_path / "landing"), "dep_connect"]
    proc = subprocess.run([sys.executable, "-c", CONNECT_SCRIPT, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {"problems": [refused("load", "pii_reader_group", "account users", "members-pii-readers")], "schema_exists": False}
