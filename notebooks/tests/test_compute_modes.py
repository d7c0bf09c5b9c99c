"""The notebooks give the same tables on every kind of compute Databricks runs them on: a classic session (job
clusters), Spark Connect (standard access mode, serverless) and a session where cache/persist fail (serverless).

Every run is in the restriction mode (databricks_restrictions.py) with the load's PII tables fine-grained. The reference
run is the classic session with the job clusters' (dedicated compute) rules and serverless' no caching: the notebooks
never cache, so that one run is both the job-cluster mode and the no-cache mode; the Spark Connect run has serverless'
rules. Each run executes tests/mode_sequence.py (generate -> extract -> load,
change MySQL -> extract the next day -> load) on its own copy of the same generated MySQL table; over Spark Connect the
members, quarantine and load-log tables, the manifests and the notebooks' counts must equal the reference run's, apart
from wall-clock columns.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import NOTEBOOKS
from databricks_restrictions import DEDICATED, SERVERLESS, pipeline_profile, restricted
from mode_sequence import ADDED, CHANGED, DELETED, INVALID, ROWS, generate_template, pipeline_sequence


@pytest.fixture(scope="module")
def template():
    from conftest import MySql, _mysql_conn

    db = MySql(_mysql_conn())
    try:
        name = db.new_table_name()
        generate_template(db.conn, name)
        yield name
    finally:
        db.close()


@pytest.fixture(scope="module")
def classic_result(spark, template, tmp_path_factory):
    from conftest import MySql, _mysql_conn

    db = MySql(_mysql_conn())
    try:
        landing = str(tmp_path_factory.mktemp("classic") / "landing")
        with restricted(spark, pipeline_profile(DEDICATED, SERVERLESS, catalog="spark_catalog", schema="modes_classic")):
            result = pipeline_sequence(spark, db.conn, template, db.new_table_name(), landing, "modes_classic")
    finally:
        db.close()
    return result


def test_classic_sequence_without_cache_loads_the_snapshot_then_the_changes(classic_result):
    first, day2 = classic_result["loads"]
    assert (first["merged"] + first["quarantined"], first["quarantined"]) == (ROWS, INVALID)
    assert (day2["inserted"], day2["updated"], day2["flagged_deleted"]) == (ADDED, CHANGED, DELETED)
    assert day2["unchanged"] == first["merged"] - CHANGED - DELETED


def test_same_tables_over_spark_connect(connect_server, mysql, template, tmp_path, classic_result):
    # Its own process: pyspark allows no Connect session next to the tests' classic one. It runs in the restriction
    # mode of serverless compute (mode_sequence.main).
    args = [connect_server.url, template, mysql.new_table_name(), str(tmp_path / "landing"), "modes_connect"]
    proc = subprocess.run(
        [sys.executable, str(NOTEBOOKS / "tests" / "mode_sequence.py"), *args], env=os.environ, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in classic_result:
        assert got[key] == classic_result[key], key
