#!/usr/bin/env python3
"""`make demo`: generate members in MySQL, extract, load, then extract + load again (must change nothing); ends by
writing the health report (members_pipeline/health) over the demo's tables and printing its path.

Runs the three notebook sources unchanged through the local runner, in one local Spark session, and prints
rows and seconds per step. MySQL comes from MEMBERS_MYSQL_* (the Makefile starts MariaDB and sets them).
State lives in .local/demo/ and is reset at the start of every demo.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

from run_local import NOTEBOOKS_DIR, REPO_ROOT, build_spark, local_mysql_tls, pin_utc, run_notebook


@contextlib.contextmanager
def stderr_to(path: Path | None):
    """Standard error (file descriptor 2) into ``path`` while the block runs; the Spark JVM started inside inherits it, so
    its start-up banner, Ivy's resolution report and later warnings go there too. ``None``: left as it is."""
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "a") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run_demo(
    rows: int,
    *,
    local_dir: Path,
    spark=None,
    seed: int = 42,
    schema: str = "members_demo",
    table: str = "members",
    out=print,
    quiet_spark: bool = False,
) -> list[dict]:
    landing = local_dir / "landing"
    steps: list[dict] = []
    startup = 0.0
    if spark is None:
        shutil.rmtree(local_dir, ignore_errors=True)
        local_dir.mkdir(parents=True)
        spark_log = local_dir / "spark.log" if quiet_spark else None
        out(f"starting local Spark{f' (its output: {spark_log})' if spark_log else ''} ...")
        t0 = time.monotonic()
        with stderr_to(spark_log):
            spark = build_spark(local_dir, app_name="members-demo")
        startup = time.monotonic() - t0
    # The server is verified as in production: VERIFY_IDENTITY against the local MariaDB's CA (mariadb.sh makes it).
    tls = local_mysql_tls()
    today = dt.date.today().isoformat()

    local_dir.mkdir(parents=True, exist_ok=True)
    log_path = local_dir / "notebooks.log"  # the notebooks' own output, kept out of the summary

    def step(run: int, name: str, notebook: str, widgets: dict) -> dict:
        out(f"run {run}: {name} ({notebook}) ...")
        with open(log_path, "a") as log, contextlib.redirect_stdout(log):
            print(f"===== run {run}: {notebook} {widgets}")
            result = run_notebook(NOTEBOOKS_DIR / notebook, widgets, spark=spark, local_dir=local_dir)
        data = result.json()
        steps.append({"run": run, "step": name, "seconds": result.seconds, **data})
        return data

    step(
        1,
        "generate",
        "generate_member_data.py",
        {
            "rows": str(rows),
            "seed": str(seed),
            "table": table,
            "if_exists": "REPLACE",
            "invalid_rows": str(max(1, rows // 200) if rows else 0),
            "batch_size": "5000",
            "ca_path": tls["ca_path"],
        },
    )
    for run in (1, 2):
        step(
            run,
            "extract",
            "extract_members.py",
            {
                "landing_path": str(landing),
                "run_date": today,
                "ssl_mode": tls["ssl_mode"],
                "trust_store_path": tls["trust_store_path"],
                "source_table": table,
            },
        )
        step(run, "load", "load_members.py", {"landing_path": str(landing), "catalog": "spark_catalog", "schema": schema, "table": table})

    out(
        f"\nMembers demo: {rows:,} members (seed {seed}), MySQL {os.environ.get('MEMBERS_MYSQL_HOST')}:"
        f"{os.environ.get('MEMBERS_MYSQL_PORT')}, Spark {spark.version}, local Spark start-up {startup:.1f}s"
    )
    header = ("run", "step", "generated", "extracted", "loaded", "unchanged", "quarantined", "duplicates", "flagged del", "seconds")
    line = "{:>3}  {:<8}  {:>9}  {:>9}  {:>9}  {:>9}  {:>11}  {:>10}  {:>11}  {:>7}"
    out(line.format(*header))
    dash = "-"
    for s in steps:
        if s["step"] == "generate":
            cells = (s["inserted"], dash, dash, dash, s["invalid_rows"], dash, dash)
        elif s["step"] == "extract":
            cells = (dash, s["rows"], dash, dash, dash, dash, dash)
        else:
            cells = (dash, dash, s["inserted"] + s["updated"], s["unchanged"], s["quarantined"], s["duplicates"], s["flagged_deleted"])
        out(line.format(s["run"], s["step"], *[f"{c:,}" if isinstance(c, int) else c for c in cells], f"{s['seconds']:.1f}"))
    rerun = steps[-1]
    changes = rerun["inserted"] + rerun["updated"] + rerun["flagged_deleted"]
    out(f"loaded = rows inserted or updated in {schema}.{table}; generated quarantined = deliberately invalid rows")
    out(f"notebook output: {log_path}")
    out(
        f"rerun: {rerun['inserted']} inserted, {rerun['updated']} updated, {rerun['flagged_deleted']} flagged "
        f"deleted -> {'zero changes' if changes == 0 else 'CHANGES (unexpected)'}"
    )
    report = write_demo_health_report(spark, local_dir, landing, schema, table)
    out(f"health report: {report}")
    return steps


def write_demo_health_report(spark, local_dir: Path, landing: Path, schema: str, table: str) -> Path:
    """The health queries (members_pipeline/health/*.sql) over the demo's tables, as <local_dir>/health-report.html."""
    from members_pipeline.config import parse_load_widgets
    from members_pipeline.health import run_health_queries, write_health_report

    widgets = {"landing_path": str(landing), "catalog": "spark_catalog", "schema": schema, "table": table, "pii_reader_group": "members-pii-readers"}
    cfg = parse_load_widgets(lambda name: widgets.get(name, ""))
    return write_health_report(run_health_queries(spark, cfg), local_dir / "health-report.html", title=f"Members pipeline health: {schema}.{table}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--local-dir", type=Path, default=REPO_ROOT / ".local" / "demo")
    parser.add_argument("--verbose", action="store_true", help="show Spark's and Ivy's own output (else in <local-dir>/spark.log)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error(f"--rows: got {args.rows}, expected at least 1")
    pin_utc()
    steps = run_demo(args.rows, local_dir=args.local_dir, seed=args.seed, quiet_spark=not args.verbose)
    last = steps[-1]
    return 0 if last["inserted"] + last["updated"] + last["flagged_deleted"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
