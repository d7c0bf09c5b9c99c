"""The notebook sources themselves, end to end through the local runner (run_local.py), in the restriction mode of the
stack's job clusters (dedicated compute) with the load's PII tables fine-grained (databricks_restrictions.py)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import NOTEBOOKS, RUN_DATE, TLS
from databricks_restrictions import DEDICATED, pipeline_profile, restricted
from members_pipeline.config import WidgetError
from run_demo import run_demo
from run_local import run_notebook


def test_notebooks_are_databricks_sources_with_markdown_before_each_step():
    for name in ("extract_members.py", "load_members.py", "generate_member_data.py"):
        text = (NOTEBOOKS / name).read_text()
        assert text.startswith("# Databricks notebook source\n")
        cells = text.removeprefix("# Databricks notebook source\n").split("# COMMAND ----------")
        code_cells = [i for i, c in enumerate(cells) if c.strip() and not c.strip().startswith("# MAGIC")]
        for i in code_cells:  # every code cell follows a markdown cell
            assert cells[i - 1].strip().startswith("# MAGIC %md"), (name, i)


def test_generator_extract_load_notebooks_end_to_end(spark, mysql, tmp_path):
    table = mysql.new_table_name()
    env = {**os.environ, "MEMBERS_SECRET_MEMBERS_MYSQL_HOST": mysql.conn.host}
    # The generator needs no JVM: run it through the CLI exactly as a user would.
    proc = subprocess.run(
        [
            sys.executable,
            str(NOTEBOOKS / "run_local.py"),
            str(NOTEBOOKS / "generate_member_data.py"),
            "--widget",
            "rows=300",
            "--widget",
            "invalid_rows=4",
            "--widget",
            f"table={table}",
            "--widget",
            "if_exists=FAIL",
            "--widget",
            f"ca_path={TLS['ca_path']}",
            "--local-dir",
            str(tmp_path / "cli"),
            "--restrict",  # the CLI's restriction mode (the generator never starts Spark: nothing to refuse)
            "dedicated",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    generated = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (generated["inserted"], generated["table_rows"]) == (300, 300)

    landing = str(tmp_path / "landing")
    schema = "nb_" + table
    restrictions = pipeline_profile(DEDICATED, catalog="spark_catalog", schema=schema)
    extract = run_notebook(
        NOTEBOOKS / "extract_members.py",
        {
            "landing_path": landing,
            "run_date": RUN_DATE.isoformat(),
            "ssl_mode": TLS["ssl_mode"],
            "trust_store_path": TLS["trust_store_path"],
            "source_table": table,
            "partition_count": "3",
        },
        spark=spark,
        restrictions=restrictions,
    ).json()
    assert extract["rows"] == 300 and extract["files"] == 3  # one file per JDBC partition
    # 4 invalid of 300 rows (1.3%) is above the default max_quarantined_share of 1%: raised through the widget.
    load = run_notebook(
        NOTEBOOKS / "load_members.py",
        {"landing_path": landing, "catalog": "spark_catalog", "schema": schema, "max_quarantined_share": "0.02"},
        spark=spark,
        restrictions=restrictions,
    ).json()
    assert (load["merged"], load["quarantined"], load["duplicates"]) == (296, 4, 0)
    assert spark.table(f"spark_catalog.{schema}.members").count() == 296

    # Same generator parameters again: the table exists and if_exists=FAIL says so.
    again = subprocess.run(
        [
            sys.executable,
            str(NOTEBOOKS / "run_local.py"),
            str(NOTEBOOKS / "generate_member_data.py"),
            "--widget",
            f"table={table}",
            "--widget",
            f"ca_path={TLS['ca_path']}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1
    assert f"table `{table}` already exists" in again.stderr and 'widget "if_exists"' in again.stderr


def test_bad_widget_stops_the_notebook_with_a_clear_error(spark, tmp_path):
    with pytest.raises(WidgetError, match='widget "partition_count": got "zero", expected an integer'):
        run_notebook(
            NOTEBOOKS / "extract_members.py", {"landing_path": str(tmp_path), "run_date": "2026-01-01", "partition_count": "zero"}, spark=spark
        )


def test_runner_rejects_unknown_widgets_and_missing_secrets(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(NOTEBOOKS / "run_local.py"),
            str(NOTEBOOKS / "generate_member_data.py"),
            "--widget",
            "rowz=10",
            "--widget",
            "secret_scope=nowhere",
        ],
        env={k: v for k, v in os.environ.items() if not k.startswith("MEMBERS_")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Secret does not exist with scope: nowhere and key: host (set MEMBERS_SECRET_NOWHERE_HOST)" in proc.stderr
    assert "unknown widget(s) rowz" in proc.stderr


def test_demo_reports_zero_changes_on_rerun(spark, mysql, tmp_path):
    lines = []
    table = mysql.new_table_name()
    # The demo's load names the members table after the MySQL table.
    with restricted(spark, pipeline_profile(DEDICATED, catalog="spark_catalog", schema="demo_" + table, table=table)):
        steps = run_demo(400, local_dir=tmp_path, spark=spark, schema="demo_" + table, table=table, out=lines.append)
    by = {(s["run"], s["step"]): s for s in steps}
    assert by[(1, "generate")]["inserted"] == 400
    assert by[(1, "extract")]["rows"] == by[(2, "extract")]["rows"] == 400
    assert (by[(1, "load")]["inserted"], by[(1, "load")]["quarantined"]) == (398, 2)
    assert (by[(2, "load")]["inserted"], by[(2, "load")]["updated"], by[(2, "load")]["unchanged"]) == (0, 0, 398)
    assert lines[-2].endswith("zero changes")
    # It ends with the health report over the demo's tables: two loaded batches of one day, 398 members inserted.
    assert lines[-1] == f"health report: {tmp_path / 'health-report.html'}"
    report = (tmp_path / "health-report.html").read_text()
    assert 'aria-label="inserted per day"' in report and "<td>398</td>" in report
