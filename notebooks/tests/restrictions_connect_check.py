"""`python tests/restrictions_connect_check.py <sc://url> <schema>`: the restriction mode in a Spark Connect client
(test_restrictions.py runs it in its own process: pyspark allows no Connect session next to the tests' classic one).
Prints, as JSON on the last line, the error class each operation was refused with, or "ran"."""

from __future__ import annotations

import json
import sys
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1]


def main(url: str, schema: str) -> dict:
    from databricks_restrictions import DEDICATED, SERVERLESS, DatabricksRestrictionError, pipeline_profile, restricted
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(url).getOrCreate()
    members, other = f"spark_catalog.{schema}.members", f"spark_catalog.{schema}.other"
    spark.sql(f"CREATE SCHEMA spark_catalog.{schema}")
    for name in (members, other):
        spark.sql(f"CREATE TABLE {name} (member_id STRING, v INT) USING DELTA")
        spark.sql(f"INSERT INTO {name} VALUES ('m0', 0)")
    serverless = pipeline_profile(SERVERLESS, catalog="spark_catalog", schema=schema)
    checks = {
        "describe history": (serverless, lambda: spark.sql(f"DESCRIBE HISTORY {members}")),
        "version as of": (serverless, lambda: spark.sql(f"SELECT * FROM {members} VERSION AS OF 0").collect()),
        "reader option versionAsOf": (serverless, lambda: spark.read.option("versionAsOf", 0).table(members).collect()),
        "cache": (serverless, lambda: spark.table(other).cache()),
        "cache table": (serverless, lambda: spark.sql(f"CACHE TABLE {other}")),
        "update, dedicated profile": (
            pipeline_profile(DEDICATED, catalog="spark_catalog", schema=schema),
            lambda: spark.sql(f"UPDATE {members} SET v = 1"),
        ),
        "merge": (
            serverless,
            lambda: spark.sql(f"MERGE INTO {members} t USING {other} s ON t.member_id = s.member_id WHEN MATCHED THEN UPDATE SET t.v = s.v"),
        ),
        "history of a table not declared fine-grained": (serverless, lambda: spark.sql(f"DESCRIBE HISTORY {other}").collect()),
    }
    result = {}
    try:
        for name, (prof, action) in checks.items():
            with restricted(spark, prof):
                try:
                    action()
                    result[name] = "ran"
                except DatabricksRestrictionError as err:
                    result[name] = err.error_class or f"{err.rule.kind} rule"
    finally:
        spark.stop()
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(NOTEBOOKS))
    print(json.dumps(main(*sys.argv[1:])))
