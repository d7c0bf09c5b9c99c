#!/usr/bin/env python3
"""A/B of the load: the members_pipeline of two checkouts on the same landed batches, each next to a plain overwrite.

    .venv/bin/python tools/bench/load_ab.py --rows 10000000 --code base=/tmp/wt-base/notebooks --code new=notebooks

For a change to the load, without MySQL: day 1 (N members) and day 2 (0.5 % changed, 0.1 % deleted, 0.1 % added,
as `make bench` plans them) are generated in Spark and landed once through the extract's own cleaning and writer
(.local/bench/ab/landing-<N>, kept). Then per checkout, in a process of its own with the runner's Spark settings: a
plain Parquet -> Delta overwrite of day 1, the first load (day 1 into an empty table), an overwrite of day 2, the daily
load (day 2). Prints one markdown row per checkout and run: seconds of each step and the loads' ratios to the
overwrite of the same day in that process. The counts of every load are printed too; the daily load's must equal the
plan's. `make bench` stays the measure of record (extract, MariaDB, growth, memory); this is the quick comparison.

--feed lands day 2 as a change feed instead (.local/bench/ab/landing-<N>-feed): only the changed and added members,
in a batch whose manifest says it is not a full snapshot (so nothing is flagged deleted), next to the overwrite of the
whole day-2 snapshot: what the daily load would cost if the source sent its changes instead of full snapshots.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
from daily_plan import CHANGED, DELETED  # noqa: E402

DAY1, DAY2 = dt.date(2026, 1, 31), dt.date(2026, 2, 1)
ADDED = "CRC32(member_id) % 1000 = 6"  # 0.1 %: copied under a new id on day 2 (pipeline_bench adds generated ones)


def land(spark, files, landing: str, rows: int, feed: bool) -> None:
    from members_pipeline.extract import land_batch
    from members_pipeline.transform import clean_members
    from pyspark.sql import functions as F

    uuid = "regexp_replace(md5(cast(id as string)), '^(.{8})(.{4})(.{4})(.{4})(.{12})$', '$1-$2-$3-$4-$5')"
    day1 = spark.range(rows).select(
        F.expr(uuid).alias("member_id"),
        F.expr("concat('First', id % 1000)").alias("first_name"),
        F.expr("concat('Last', id % 5000)").alias("last_name"),
        F.expr("concat('user', id, '@example.com')").alias("email"),
        F.expr("concat('+1555', id)").alias("phone_number"),
        F.expr("concat(id, ' Main Street')").alias("address"),
        F.expr("concat('City', id % 300)").alias("city"),
        F.expr("concat('C', id % 50)").alias("country"),
        F.expr("date_add(date'2000-01-01', cast(id % 9000 as int))").alias("registration_date"),
    )
    kept = day1.where(f"NOT ({DELETED})").withColumn("city", F.expr(f"CASE WHEN {CHANGED} THEN concat(city, 'x') ELSE city END"))
    added = day1.where(ADDED).withColumn("member_id", F.concat(F.lit("n"), F.substring("member_id", 2, 35)))
    day2 = kept.where(CHANGED).unionByName(added) if feed else kept.unionByName(added)
    for day, df in ((DAY1, day1), (DAY2, day2)):
        at = dt.datetime.combine(day, dt.time(2))
        cleaned = clean_members(df, f"run-{day}", at)
        full = not (feed and day == DAY2)  # the feed is a partial batch: nobody absent from it is flagged deleted
        land_batch(spark, files, cleaned, landing, day, run_id=f"run-{day}", extracted_at=at, source=None, full_snapshot=full)


def run_checkout(code: Path, local: Path, landing: str, rows: int, feed: bool) -> dict:
    """In this process: the four steps with the package of ``code``; returns seconds and counts."""
    sys.path.insert(0, str(code))
    from members_pipeline.config import parse_load_widgets
    from members_pipeline.files import Files
    from members_pipeline.load import load_members
    from run_local import LocalDbutils, build_spark

    spark = build_spark(local, app_name="load-ab")
    files = Files(LocalDbutils({}))
    if not Path(landing, "members").exists():
        land(spark, files, landing, rows, feed)
    spark.sql("CREATE SCHEMA IF NOT EXISTS spark_catalog.bench")
    out: dict = {}

    def overwrite(day: dt.date, snapshots: str = landing) -> float:
        t0 = time.monotonic()
        batch = f"{snapshots}/members/ingest_date={day.isoformat()}"
        spark.read.parquet(batch).write.format("delta").mode("overwrite").saveAsTable("spark_catalog.bench.overwrite")
        return time.monotonic() - t0

    def load(day: dt.date) -> tuple[float, dict]:
        widgets = {
            "landing_path": landing,
            "catalog": "spark_catalog",
            "schema": "bench",
            "table": "members",
            "ingest_date": day.isoformat(),
            "pii_reader_group": "members-pii-readers",
        }
        t0 = time.monotonic()
        result = load_members(spark, files, parse_load_widgets(lambda k: widgets.get(k, "")))
        counts = {k: result[k] for k in ("inserted", "updated", "flagged_deleted")}
        return time.monotonic() - t0, counts

    out["overwrite_1"] = overwrite(DAY1)
    out["first"], out["first_counts"] = load(DAY1)
    # With --feed, the overwrite of day 2 rewrites the whole snapshot (the full landing of the same rows count).
    out["overwrite_2"] = overwrite(DAY2, landing.removesuffix("-feed"))
    out["daily"], out["daily_counts"] = load(DAY2)
    day1 = spark.read.parquet(f"{landing}/members/ingest_date={DAY1.isoformat()}")
    flagged = "0" if feed else f"count_if({DELETED})"
    plan = day1.selectExpr(f"count_if({ADDED}) AS inserted", f"count_if({CHANGED}) AS updated", f"{flagged} AS flagged_deleted")
    out["daily_plan"] = plan.first().asDict()
    spark.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="runs per checkout, interleaved")
    parser.add_argument("--code", action="append", default=[], help="name=<a checkout's notebooks/ dir> (repeat)")
    parser.add_argument("--dir", type=Path, default=REPO / ".local" / "bench" / "ab")
    parser.add_argument("--feed", action="store_true", help="day 2 as a change feed (the docstring)")
    parser.add_argument("--child", nargs=2, metavar=("CODE", "LOCAL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    landing = str((args.dir / f"landing-{args.rows}").resolve())
    if args.feed and not Path(landing, "members").exists():
        sys.exit(f"load_ab: --feed overwrites day 2 from the full snapshot in {landing}: run once without --feed first")
    landing += "-feed" if args.feed else ""
    if args.child:
        print(json.dumps(run_checkout(Path(args.child[0]).resolve(), Path(args.child[1]), landing, args.rows, args.feed)))
        return 0
    checkouts = dict(c.split("=", 1) for c in args.code) or {"this": str(REPO / "notebooks")}
    feed = ["--feed"] if args.feed else []
    print(f"| checkout | run | overwrite day 1 | first load | ratio | overwrite day 2 | daily load | ratio | daily counts |\n|{'---|' * 9}")
    for run in range(1, args.runs + 1):
        for name, code in checkouts.items():
            local = args.dir / f"spark-{name}"
            shutil.rmtree(local, ignore_errors=True)
            proc = subprocess.run(
                [sys.executable, __file__, "--rows", str(args.rows), "--dir", str(args.dir), *feed, "--child", code, str(local)],
                capture_output=True,
                text=True,
                env=os.environ,
            )
            if proc.returncode != 0:
                sys.exit(f"load_ab: {name} failed:\n{proc.stderr[-3000:]}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            if r["daily_counts"] != r["daily_plan"]:
                sys.exit(f"load_ab: {name}'s daily load counted {r['daily_counts']}, the plan is {r['daily_plan']}")
            print(
                f"| {name} | {run} | {r['overwrite_1']:.1f} s | {r['first']:.1f} s | {r['first'] / r['overwrite_1']:.2f}× "
                f"| {r['overwrite_2']:.1f} s | {r['daily']:.1f} s | {r['daily'] / r['overwrite_2']:.2f}× | {r['daily_counts']} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
