"""The generate -> extract -> load -> change -> extract -> load sequence that test_compute_modes.py runs on every kind
of compute, as plain functions of a SparkSession (classic or Spark Connect) and a MySQL connection.

Also a command: `python tests/mode_sequence.py <sc://url> <template> <table> <landing> <schema>` runs the sequence over Spark
Connect in its own process (pyspark allows no Connect session next to the tests' classic one), in the restriction mode
of serverless compute with the load's PII tables fine-grained, and prints the result as JSON on the last line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1]
RUN_DATE = dt.date.today()
ROWS, INVALID = 400, 3
CHANGED, DELETED, ADDED = 7, 3, 5
# Set by the clock, not the data: left out of the comparison.
WALL_CLOCK = {"updated_at", "extracted_at", "quarantined_at", "loaded_at", "batch_id", "seconds"}


def _run(spark, notebook: str, widgets: dict) -> dict:
    from run_local import run_notebook

    return run_notebook(NOTEBOOKS / notebook, widgets, spark=spark).json()


def _rows(spark, table: str) -> list:
    df = spark.table(table)
    cols = [c for c in df.columns if c not in WALL_CLOCK]
    return sorted((tuple(r) for r in df.select(*cols).collect()), key=lambda row: [(v is None, str(v)) for v in row])


def _sql(conn, statement: str) -> None:
    from members_pipeline.generate import connect
    from run_local import local_mysql_tls

    db = connect(conn, ca_path=local_mysql_tls()["ca_path"], autocommit=True)
    try:
        with db.cursor() as cur:
            cur.execute(statement)
    finally:
        db.close()


def generate_template(conn, table: str) -> None:
    """The source every mode copies, so every mode reads the very same rows."""
    from members_pipeline.config import GenerateConfig
    from members_pipeline.generate import generate_members
    from run_local import local_mysql_tls

    generate_members(conn, GenerateConfig("members", ROWS, 11, 500, table, "FAIL", INVALID, local_mysql_tls()["ca_path"]))


def pipeline_sequence(spark, conn, template: str, table: str, landing: str, schema: str) -> dict:
    """Runs the sequence on `table`, a fresh copy of `template`; the result is JSON-comparable."""
    _sql(conn, f"CREATE TABLE `{table}` LIKE `{template}`")
    _sql(conn, f"INSERT INTO `{table}` SELECT * FROM `{template}`")
    day2 = RUN_DATE + dt.timedelta(days=1)
    from run_local import local_mysql_tls

    tls = local_mysql_tls()
    extract = {
        "landing_path": landing,
        "ssl_mode": tls["ssl_mode"],
        "trust_store_path": tls["trust_store_path"],
        "source_table": table,
        "partition_count": "3",
    }
    load = {"landing_path": landing, "catalog": "spark_catalog", "schema": schema, "max_quarantined_share": "0.05"}
    steps = [
        _run(spark, "extract_members.py", {**extract, "run_date": RUN_DATE.isoformat(), "run_id": "day1"}),
        _run(spark, "load_members.py", load),
    ]
    ids = sorted(r.member_id for r in spark.table(f"spark_catalog.{schema}.members").select("member_id").collect())
    quoted = [f"'{i}'" for i in ids]
    _sql(conn, f"UPDATE `{table}` SET city = 'Changed' WHERE member_id IN ({', '.join(quoted[:CHANGED])})")
    _sql(conn, f"DELETE FROM `{table}` WHERE member_id IN ({', '.join(quoted[CHANGED : CHANGED + DELETED])})")
    _sql(
        conn,
        f"INSERT INTO `{table}` SELECT CONCAT('n', SUBSTR(member_id, 2)), first_name, last_name, email, phone_number, "
        f"address, city, country, registration_date FROM `{table}` "
        f"WHERE member_id IN ({', '.join(quoted[CHANGED + DELETED : CHANGED + DELETED + ADDED])})",
    )
    steps += [
        _run(spark, "extract_members.py", {**extract, "run_date": day2.isoformat(), "run_id": "day2"}),
        _run(spark, "load_members.py", load),
    ]
    manifests = [json.loads((Path(landing) / "members" / f"ingest_date={d.isoformat()}" / "_manifest.json").read_text()) for d in (RUN_DATE, day2)]
    counts = ("batches_loaded", "merged", "inserted", "updated", "unchanged", "quarantined", "flagged_deleted")
    result = {
        "extracts": [(s["rows"], s["checksum"]) for s in steps[0::2]],
        "loads": [{k: s[k] for k in counts} for s in steps[1::2]],
        "manifests": [(m["rows"], m["checksum"], m["min_member_id"], m["max_member_id"]) for m in manifests],
        "members": _rows(spark, f"spark_catalog.{schema}.members"),
        "quarantine": _rows(spark, f"spark_catalog.{schema}.members_quarantine"),
        "load_log": _rows(spark, f"spark_catalog.{schema}.members_load_log"),
    }
    return json.loads(json.dumps(result, default=str))


def main(argv: list[str]) -> int:
    from databricks_restrictions import SERVERLESS, pipeline_profile, restricted
    from members_pipeline.mysql import MySqlConnection
    from pyspark.sql import SparkSession
    from run_local import SMALL_DATA_CONFS, pin_utc

    url, template, table, landing, schema = argv
    pin_utc()
    env = {k: os.environ[f"MEMBERS_MYSQL_{k.upper()}"] for k in ("host", "port", "database", "user", "password")}
    conn = MySqlConnection(**{**env, "port": int(env["port"])})
    spark = SparkSession.builder.remote(url).getOrCreate()
    for key, value in SMALL_DATA_CONFS.items():
        spark.conf.set(key, value)
    try:
        with restricted(spark, pipeline_profile(SERVERLESS, catalog="spark_catalog", schema=schema)):
            result = pipeline_sequence(spark, conn, template, table, landing, schema)
    finally:
        spark.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(NOTEBOOKS))
    sys.exit(main(sys.argv[1:]))
