#!/usr/bin/env python3
"""One benchmark step in its own process, so its wall time and peak RSS (Python + the Spark JVM) stand alone.

    .venv/bin/python tools/bench/pipeline_step.py noop|extract|load|overwrite|delta-stats --local-dir DIR --out result.json \
        [--landing DIR] [--table bench_members_100000] [--run-date 2026-01-31] [--target members_overwrite]

Steps (Spark built once with the runner's pinned config, `run_local.build_spark`):
  noop       Spark start-up and shutdown only: `spark.range(1).count()`.
  extract    the real `extract_members.py` notebook through `run_local.run_notebook` (MySQL from MEMBERS_MYSQL_*).
  load       the real `load_members.py` notebook (MERGE) into `spark_catalog.bench.members` (empty, or the table
             already in --local-dir: the daily load).
  overwrite  `spark.read.parquet(<the batch of --run-date>).write.format("delta").mode("overwrite").saveAsTable(<--target>)`.
  delta-stats  not timed: the commits of each table in --table (comma-separated, in spark_catalog.bench) after the
             version --after gives it (table=version,...; without one: its last commit) from DESCRIBE HISTORY: their
             operations, operationMetrics summed, the table's file count before and after them and its size after.
The JVM is stopped and reaped before exit: a JVM left to exit on its own is re-parented and its memory would be
missing from the parent's rusage.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))

from run_local import build_spark, pin_utc, run_notebook  # noqa: E402


def stop_and_reap(spark) -> None:
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    spark.stop()
    if gateway is None:
        return
    proc = getattr(gateway, "proc", None)
    with contextlib.suppress(Exception):
        gateway.shutdown()
    if proc is not None:
        with contextlib.suppress(Exception):
            proc.stdin.close()  # the gateway JVM exits when its stdin closes
        try:
            proc.wait(timeout=60)
        except Exception:  # noqa: BLE001
            proc.kill()
            proc.wait()


def commit_stats(spark, table: str, after: int | None = None) -> dict:
    """The table's commits after version ``after`` (default: its last commit): operations, operationMetrics summed
    over them (a load may commit more than once), the table's file count before and after them (files of the
    snapshot; a file with a deletion vector counts once) and the size of its files after them (DESCRIBE DETAIL)."""
    history = spark.sql(f"DESCRIBE HISTORY {table}").orderBy("version").collect()
    latest = int(history[-1]["version"])
    first = latest if after is None else after + 1
    commits = [h for h in history if int(h["version"]) >= first]
    metrics: dict[str, int] = {}
    for h in commits:
        for k, v in (h["operationMetrics"] or {}).items():
            if str(v).lstrip("-").isdigit():
                metrics[k] = metrics.get(k, 0) + int(v)

    def files_at(v: int) -> int:
        return len(spark.sql(f"SELECT * FROM {table} VERSION AS OF {v}").inputFiles()) if v >= 0 else 0

    return {
        "version": latest,
        "operation": " + ".join(h["operation"] for h in commits),
        "commits": len(commits),
        "metrics": metrics,
        "files_before": files_at(first - 1),
        "files_after": files_at(latest),
        "bytes_after": int(spark.sql(f"DESCRIBE DETAIL {table}").first()["sizeInBytes"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=("noop", "extract", "load", "overwrite", "delta-stats"))
    parser.add_argument("--local-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--landing", default="")
    parser.add_argument("--table", default="members")
    parser.add_argument("--run-date", default="2026-01-31")
    parser.add_argument("--ssl-mode", default="PREFERRED")
    parser.add_argument("--target", default="members_overwrite", help="table the overwrite step replaces (in spark_catalog.bench)")
    parser.add_argument("--after", default="", help="delta-stats: table=version,... report the commits after these versions")
    args = parser.parse_args()
    pin_utc()

    t0 = time.monotonic()
    spark = build_spark(args.local_dir, app_name=f"bench-{args.step}")
    startup = time.monotonic() - t0
    result: dict = {}
    t1 = time.monotonic()
    # Notebook output goes to stderr; the result goes to --out.
    with contextlib.redirect_stdout(sys.stderr):
        if args.step == "noop":
            result = {"rows": spark.range(1).count()}
        elif args.step == "extract":
            result = run_notebook(
                NOTEBOOKS / "extract_members.py",
                {"landing_path": args.landing, "run_date": args.run_date, "ssl_mode": args.ssl_mode, "source_table": args.table},
                spark=spark,
                local_dir=args.local_dir,
            ).json()
        elif args.step == "load":
            result = run_notebook(
                NOTEBOOKS / "load_members.py",
                {"landing_path": args.landing, "catalog": "spark_catalog", "schema": "bench", "table": "members"},
                spark=spark,
                local_dir=args.local_dir,
            ).json()
        elif args.step == "overwrite":
            from members_pipeline import landing

            target = f"spark_catalog.bench.{args.target}"
            batch = landing.partition_path(args.landing, dt.date.fromisoformat(args.run_date))
            spark.sql("CREATE SCHEMA IF NOT EXISTS spark_catalog.bench")
            spark.read.parquet(batch).write.format("delta").mode("overwrite").saveAsTable(target)
            metrics = spark.sql(f"DESCRIBE HISTORY {target} LIMIT 1").first()
            result = {"rows": int(metrics["operationMetrics"].get("numOutputRows", "0"))}
        else:
            after = {k: int(v) for k, v in (p.split("=") for p in args.after.split(",") if p)}
            result = {name: commit_stats(spark, f"spark_catalog.bench.{name}", after.get(name)) for name in args.table.split(",")}
    step_seconds = time.monotonic() - t1
    stop_and_reap(spark)
    args.out.write_text(json.dumps({"step": args.step, "startup_s": round(startup, 3), "step_s": round(step_seconds, 3), "result": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
