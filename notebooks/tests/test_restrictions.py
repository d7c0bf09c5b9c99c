"""The restriction mode (databricks_restrictions.py): each rule refuses with its documented error class, before anything
ran; what Databricks allows (MERGE, append, reads, maintenance) still runs; tables not declared fine-grained are
untouched by the fine-grained rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from conftest import NOTEBOOKS
from databricks_restrictions import (
    CACHE,
    DEDICATED,
    HISTORY,
    SERVERLESS,
    TIME_TRAVEL,
    WRITE,
    DatabricksRestrictionError,
    Profile,
    pipeline_profile,
    profile,
    restricted,
    statement_accesses,
)
from delta.tables import DeltaTable
from members_pipeline.config import LoadConfig
from pyspark.sql import functions as F

HISTORY_CLASS = "ROW_LEVEL_SECURITY_COLUMN_MASK_FEATURE_NOT_SUPPORTED.DESCRIBE_HISTORY"
TIME_TRAVEL_DEDICATED = "FGAC_TIME_TRAVEL_NOT_SUPPORTED.DEDICATED_COMPUTE"
TIME_TRAVEL_SERVERLESS = "FGAC_TIME_TRAVEL_NOT_SUPPORTED.NOT_CATALOG_OWNED"
CACHE_CLASS = "NOT_SUPPORTED_WITH_SERVERLESS"


class Tables:
    def __init__(self, spark, schema: str):
        self.spark, self.schema = spark, schema
        self.cfg = LoadConfig("", "spark_catalog", schema, "members", None, "")
        self.members, self.quarantine = self.cfg.members_table, self.cfg.quarantine_table
        self.other = f"`spark_catalog`.`{schema}`.`other`"

    def dedicated(self) -> Profile:
        return pipeline_profile(DEDICATED, catalog="spark_catalog", schema=self.schema)

    def serverless(self) -> Profile:
        return pipeline_profile(SERVERLESS, catalog="spark_catalog", schema=self.schema)

    def version(self, table: str) -> int:
        return self.spark.sql(f"DESCRIBE HISTORY {table} LIMIT 1").first()["version"]

    def rows(self, n: int = 2, start: int = 0):
        return self.spark.createDataFrame([(f"m{i}", i) for i in range(start, start + n)], "member_id STRING, v INT")


@pytest.fixture(scope="module")
def tables(spark):
    t = Tables(spark, "r_" + uuid.uuid4().hex[:10])
    spark.sql(f"CREATE SCHEMA `spark_catalog`.`{t.schema}`")
    for name in (t.members, t.quarantine, t.other):
        spark.sql(f"CREATE TABLE {name} (member_id STRING, v INT) USING DELTA")
        spark.sql(f"INSERT INTO {name} VALUES ('m0', 0), ('m1', 1)")
    return t


def refused(tables: Tables, prof: Profile, action, table: str | None):
    """Runs action in the mode; returns the refusal, after checking that the table was not changed."""
    before = tables.version(table) if table else None
    with restricted(tables.spark, prof), pytest.raises(DatabricksRestrictionError) as info:
        action()
    if table:
        assert tables.version(table) == before, "the refused operation ran"
        assert table.replace("`", "") in str(info.value)
    return info.value


# --- fine-grained tables on dedicated compute (the stack's job clusters) ---

HISTORY_ACTIONS = {
    "DESCRIBE HISTORY": lambda t: t.spark.sql(f"DESCRIBE HISTORY {t.members}"),
    "DESC HISTORY, commented, unquoted": lambda t: t.spark.sql(f"-- why\nDESC HISTORY spark_catalog.{t.schema}.members_quarantine LIMIT 1"),
    "DeltaTable.history": lambda t: DeltaTable.forName(t.spark, t.members).history(1),
}

TIME_TRAVEL_ACTIONS = {
    "VERSION AS OF": lambda t: t.spark.sql(f"SELECT * FROM {t.members} VERSION AS OF 0"),
    "TIMESTAMP AS OF in a subquery": lambda t: t.spark.sql(
        f"SELECT * FROM {t.other} WHERE member_id IN (SELECT member_id FROM {t.members} TIMESTAMP AS OF '2020-01-01')"
    ),
    "VERSION AS OF in a CTE": lambda t: t.spark.sql(f"WITH x AS (SELECT * FROM {t.quarantine} VERSION AS OF 0) SELECT * FROM x"),
    "reader option versionAsOf": lambda t: t.spark.read.option("versionAsOf", 0).table(t.members),
    "reader options timestampAsOf": lambda t: t.spark.read.format("delta").options(timestampAsOf="2020-01-01").table(t.members),
    "RESTORE": lambda t: t.spark.sql(f"RESTORE TABLE {t.members} TO VERSION AS OF 0"),
    "DeltaTable.restoreToVersion": lambda t: DeltaTable.forName(t.spark, t.members).restoreToVersion(0),
}

WRITE_ACTIONS = {
    "UPDATE": lambda t: t.spark.sql(f"UPDATE {t.members} AS m SET v = 9 WHERE m.member_id = 'm0'"),
    "DELETE": lambda t: t.spark.sql(f"DELETE FROM {t.members} WHERE member_id IN (SELECT member_id FROM {t.other})"),
    "INSERT OVERWRITE": lambda t: t.spark.sql(f"INSERT OVERWRITE {t.quarantine} SELECT * FROM {t.other}"),
    "INSERT INTO ... REPLACE WHERE": lambda t: t.spark.sql(f"INSERT INTO {t.members} REPLACE WHERE v = 1 SELECT * FROM {t.other}"),
    "TRUNCATE TABLE": lambda t: t.spark.sql(f"TRUNCATE TABLE {t.members}"),
    "CREATE OR REPLACE TABLE AS SELECT": lambda t: t.spark.sql(f"CREATE OR REPLACE TABLE {t.members} USING DELTA AS SELECT * FROM {t.other}"),
    "saveAsTable overwrite": lambda t: t.rows().write.format("delta").mode("overwrite").saveAsTable(t.members),
    "saveAsTable mode argument": lambda t: t.rows().write.saveAsTable(t.members, format="delta", mode="overwrite"),
    "replaceWhere": lambda t: t.rows().write.format("delta").mode("overwrite").option("replaceWhere", "v = 1").saveAsTable(t.members),
    "insertInto overwrite": lambda t: t.rows().write.insertInto(t.members, overwrite=True),
    "writeTo overwrite(condition)": lambda t: t.rows().writeTo(t.quarantine).overwrite(F.col("v") == 1),
    "writeTo overwritePartitions": lambda t: t.rows().writeTo(t.members).overwritePartitions(),
    "writeTo createOrReplace": lambda t: t.rows().writeTo(t.members).using("delta").createOrReplace(),
    "DeltaTable.update": lambda t: DeltaTable.forName(t.spark, t.members).alias("m").update("member_id = 'm0'", {"v": "9"}),
    "DeltaTable.delete": lambda t: DeltaTable.forName(t.spark, t.members).delete("member_id = 'm0'"),
}


@pytest.mark.parametrize("name", HISTORY_ACTIONS)
def test_history_of_a_fine_grained_table_is_refused(tables, name):
    action = HISTORY_ACTIONS[name]
    table = tables.quarantine if "commented" in name else tables.members
    err = refused(tables, tables.dedicated(), lambda: action(tables), table)
    assert err.error_class == HISTORY_CLASS and str(err).startswith(f"[{HISTORY_CLASS}]")
    assert "row-level-security-column-mask-feature-not-supported-error-class" in str(err)


@pytest.mark.parametrize("name", TIME_TRAVEL_ACTIONS)
def test_time_travel_on_a_fine_grained_table_is_refused_on_dedicated_compute(tables, name):
    table = tables.quarantine if "CTE" in name else tables.members
    err = refused(tables, tables.dedicated(), lambda: TIME_TRAVEL_ACTIONS[name](tables), table)
    assert err.error_class == TIME_TRAVEL_DEDICATED and str(err).startswith(f"[{TIME_TRAVEL_DEDICATED}]")


@pytest.mark.parametrize("name", WRITE_ACTIONS)
def test_writes_other_than_merge_and_append_are_refused_on_dedicated_compute(tables, name):
    table = tables.quarantine if name in ("INSERT OVERWRITE", "writeTo overwrite(condition)") else tables.members
    err = refused(tables, tables.dedicated(), lambda: WRITE_ACTIONS[name](tables), table)
    # The page lists what may write, not an error class: the message says so and cites it.
    assert err.error_class is None and err.rule.kind == WRITE
    assert "only the MERGE INTO command, the Delta merge API and DataFrame.write.mode('append')" in str(err)
    assert "Databricks documents no error class" in str(err) and "compute/single-user-fgac" in str(err)


def test_the_old_load_history_read_is_refused(tables):
    """merge.py's _history / _table_version read the members table's commits with DESCRIBE HISTORY: refused."""
    cfg = tables.cfg
    err = refused(tables, tables.dedicated(), lambda: tables.spark.sql(f"DESCRIBE HISTORY {cfg.members_table} LIMIT 1").collect(), cfg.members_table)
    assert err.error_class == HISTORY_CLASS


def test_merge_append_reads_and_maintenance_still_run_on_dedicated_compute(tables):
    spark, m = tables.spark, tables.members
    tables.rows(1, start=10).createOrReplaceTempView("restriction_source")
    before = tables.version(m)
    with restricted(spark, tables.dedicated()):
        merged = spark.sql(
            f"MERGE INTO {m} AS t USING restriction_source AS s ON t.member_id = s.member_id "
            "WHEN MATCHED THEN UPDATE SET t.v = s.v WHEN NOT MATCHED THEN INSERT * WHEN NOT MATCHED BY SOURCE AND t.v > 100 THEN DELETE"
        ).first()
        DeltaTable.forName(spark, m).alias("t").merge(
            tables.rows(1, start=11).alias("s"), "t.member_id = s.member_id"
        ).whenNotMatchedInsertAll().execute()
        spark.sql(f"INSERT INTO {m} SELECT 'm20', 20")
        tables.rows(1, start=21).write.format("delta").mode("append").saveAsTable(m)
        tables.rows(1, start=22).write.insertInto(m)
        tables.rows(1, start=23).writeTo(m).append()
        count = spark.sql(f"SELECT count(*) FROM {m}").first()[0]
        assert spark.read.table(m).count() == count and spark.table(tables.quarantine).count() == 2
        spark.sql(f"DESCRIBE DETAIL {m}").collect()
        spark.sql(f"SHOW TBLPROPERTIES {m}").collect()
        spark.sql(f"ALTER TABLE {m} SET TBLPROPERTIES ('restriction.test' = 'yes')")
        spark.sql(f"ALTER TABLE {tables.quarantine} ADD COLUMNS (note STRING)")
        spark.sql(f"OPTIMIZE {m}").collect()
        spark.sql(f"REORG TABLE {m} APPLY (PURGE)").collect()
        spark.sql(f"VACUUM {m}").collect()
        spark.range(3).cache().count()  # caching is a serverless restriction only
    assert merged["num_inserted_rows"] == 1
    assert tables.version(m) >= before + 6
    assert count == 2 + 6


def test_tables_not_declared_fine_grained_are_untouched(tables):
    spark, other = tables.spark, tables.other
    with restricted(spark, tables.dedicated()):
        spark.sql(f"DESCRIBE HISTORY {other}").collect()
        spark.sql(f"SELECT * FROM {other} VERSION AS OF 0").collect()
        spark.read.option("versionAsOf", 0).table(other).collect()
        spark.sql(f"UPDATE {other} SET v = v + 1 WHERE member_id = 'm0'")
        tables.rows().write.format("delta").mode("overwrite").saveAsTable(other)
        DeltaTable.forName(spark, other).history(1).collect()


# --- Spark Connect compute (standard access mode, serverless) ---


def test_serverless_refuses_history_time_travel_and_caching_but_not_writes(tables):
    spark, prof = tables.spark, tables.serverless()
    assert refused(tables, prof, lambda: spark.sql(f"DESCRIBE HISTORY {tables.members}"), tables.members).error_class == HISTORY_CLASS
    err = refused(tables, prof, lambda: spark.sql(f"SELECT * FROM {tables.members} VERSION AS OF 0"), tables.members)
    assert err.error_class == TIME_TRAVEL_SERVERLESS
    # Caching is refused on any table and any DataFrame.
    for action in (
        lambda: spark.range(3).cache(),
        lambda: spark.table(tables.other).persist(),
        lambda: spark.catalog.cacheTable(tables.other.replace("`", "")),
        lambda: spark.sql(f"CACHE TABLE {tables.other}"),
    ):
        err = refused(tables, prof, action, None)
        assert err.error_class == CACHE_CLASS and str(err).startswith(f"[{CACHE_CLASS}]") and "serverless/limitations" in str(err)
    with restricted(spark, prof):  # standard access mode and serverless enforce masks natively: UPDATE runs
        spark.sql(f"UPDATE {tables.quarantine} SET v = v WHERE member_id = 'm0'")


def test_both_computes_apply_both_rule_sets(tables):
    """The compute-modes reference run: job-cluster rules plus serverless' no caching."""
    both = pipeline_profile(DEDICATED, SERVERLESS, catalog="spark_catalog", schema=tables.schema)
    assert refused(tables, both, lambda: tables.spark.range(1).cache(), None).error_class == CACHE_CLASS
    assert refused(tables, both, lambda: WRITE_ACTIONS["UPDATE"](tables), tables.members).rule.kind == WRITE
    assert refused(tables, both, lambda: TIME_TRAVEL_ACTIONS["VERSION AS OF"](tables), tables.members).error_class == TIME_TRAVEL_DEDICATED


def test_the_mode_restores_every_patched_method(tables):
    spark = tables.spark
    before = {cls: dict(vars(cls)) for cls in (type(spark), type(spark.range(1)), type(spark.read), DeltaTable)}
    with restricted(spark, tables.dedicated()):
        assert type(spark).sql is not before[type(spark)]["sql"]
    for cls, attrs in before.items():
        assert dict(vars(cls)) == attrs, cls
    spark.sql(f"DESCRIBE HISTORY {tables.members} LIMIT 1").collect()


# --- the parsed plan: one reading for both kinds of session ---

CORPUS = {
    "DESCRIBE HISTORY `spark_catalog`.`s`.`members` LIMIT 1": [(HISTORY, ("spark_catalog", "s", "members"))],
    "  /* c */ desc history s.members": [(HISTORY, ("s", "members"))],
    "SELECT * FROM s.members VERSION AS OF 1": [(TIME_TRAVEL, ("s", "members"))],
    "SELECT * FROM s.o WHERE id IN (SELECT id FROM members TIMESTAMP AS OF '2020-01-01')": [(TIME_TRAVEL, ("members",))],
    "RESTORE s.members TO TIMESTAMP AS OF '2020-01-01'": [(TIME_TRAVEL, ("s", "members"))],
    "UPDATE s.members AS m SET v = 1 WHERE id = 'a'": [(WRITE, ("s", "members"))],
    "DELETE FROM s.members WHERE id IN (SELECT id FROM s.o)": [(WRITE, ("s", "members"))],
    "INSERT OVERWRITE s.members SELECT * FROM s.o": [(WRITE, ("s", "members"))],
    "INSERT OVERWRITE TABLE s.members PARTITION (v) SELECT * FROM s.o": [(WRITE, ("s", "members"))],
    "INSERT INTO s.members REPLACE WHERE v = 1 SELECT * FROM s.o": [(WRITE, ("s", "members"))],
    "TRUNCATE TABLE s.members": [(WRITE, ("s", "members"))],
    "CREATE OR REPLACE TABLE s.members AS SELECT * FROM s.o": [(WRITE, ("s", "members"))],
    "CACHE TABLE s.members": [(CACHE, ("s", "members"))],
    "CACHE LAZY TABLE v AS SELECT * FROM s.o": [(CACHE, None)],
    "INSERT INTO s.members SELECT * FROM s.o": [],
    "MERGE INTO s.members t USING s.o s ON t.id = s.id WHEN MATCHED THEN DELETE WHEN NOT MATCHED BY SOURCE THEN UPDATE SET v = 1": [],
    "SELECT * FROM s.members": [],
    "SELECT * FROM table_changes('s.members', 0)": [],
    "DESCRIBE DETAIL s.members": [],
    "SHOW TBLPROPERTIES s.members": [],
    "ALTER TABLE s.members SET TBLPROPERTIES ('a' = 'b')": [],
    "ALTER TABLE s.members ADD COLUMNS (z INT)": [],
    "OPTIMIZE s.members": [],
    "REORG TABLE s.members APPLY (PURGE)": [],
    "VACUUM s.members": [],
}


@pytest.mark.parametrize("sql", CORPUS)
def test_connect_and_classic_read_the_same_accesses(spark, sql):
    """Over Spark Connect the plan comes from EXPLAIN on the server (Delta statements from the text); a classic
    session parses through the JVM. Both are run here on the classic session: same accesses, the expected ones."""
    classic = statement_accesses(spark, sql, via_explain=False)
    connect = statement_accesses(spark, sql, via_explain=True)
    assert [(a.kind, a.table) for a in classic] == CORPUS[sql]
    assert connect == classic


def test_profile_names_and_computes_are_checked():
    with pytest.raises(ValueError, match=r"got computes \['shared'\]"):
        profile("shared")
    with pytest.raises(ValueError, match=r"fine-grained table\(s\) \['s.members'\]: expected catalog.schema.table"):
        profile(DEDICATED, fine_grained=["s.members"])
    prof = pipeline_profile(DEDICATED, catalog="Main", schema="Sales", table="m")
    assert prof.fine_grained == {("main", "sales", "m"), ("main", "sales", "m_quarantine")}


def test_run_local_cli_defaults_to_the_loads_pii_tables():
    from run_local import cli_restrictions

    assert cli_restrictions([], [], {"catalog": "c", "schema": "s"}) is None
    prof = cli_restrictions(["dedicated"], [], {"catalog": "c", "schema": "s"})
    assert prof.computes == {DEDICATED} and prof.fine_grained == {("c", "s", "members"), ("c", "s", "members_quarantine")}
    assert cli_restrictions(["serverless"], ["c.s.t"], {}).fine_grained == {("c", "s", "t")}


def test_refusals_over_spark_connect(connect_server, tmp_path):
    """The Connect client: DESCRIBE HISTORY (from the text), time travel and UPDATE (from EXPLAIN on the server),
    caching; MERGE and a table not declared fine-grained run. Its own process: no Connect session next to the classic one."""
    schema = "rc_" + uuid.uuid4().hex[:8]
    proc = subprocess.run(
        [sys.executable, str(NOTEBOOKS / "tests" / "restrictions_connect_check.py"), connect_server.url, schema],
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {
        "describe history": HISTORY_CLASS,
        "version as of": TIME_TRAVEL_SERVERLESS,
        "reader option versionAsOf": TIME_TRAVEL_SERVERLESS,
        "cache": CACHE_CLASS,
        "cache table": CACHE_CLASS,
        "update, dedicated profile": "write rule",
        "merge": "ran",
        "history of a table not declared fine-grained": "ran",
    }
