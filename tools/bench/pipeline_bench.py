#!/usr/bin/env python3
"""Extract and load benchmark of the members pipeline on local Spark + MariaDB; prints markdown tables.

    MEMBERS_MYSQL_HOST=127.0.0.1 MEMBERS_MYSQL_PORT=... MEMBERS_MYSQL_USER=... MEMBERS_MYSQL_PASSWORD=... \
    MEMBERS_MYSQL_DATABASE=... .venv/bin/python tools/bench/pipeline_bench.py --rows 100000 1000000 --runs 3

For each member count N:
  data       `bench_members_<N>` generated server-side (INSERT ... SELECT over MariaDB's seq_1_to_<N>; uuid4-shaped
             ids from MD5 so the extract's hex-range partitions are even, like real uuid4 ids); kept between runs.
  raw        the `mariadb` client streaming the extract's SELECT to /dev/null (--batch --quick): the fastest any
             extractor can read here. Median of 3.
  extract    the real extract notebook (tools/bench/pipeline_step.py extract), one process per run.
  load       the real load notebook (MERGE) into an empty table, next to a plain Parquet -> Delta overwrite of the
             same batch, interleaved, one process per run.
Every step runs in its own process under timing.run_once: wall time and peak RSS of the process tree (JVM included).
Spark start-up is inside each wall time; a no-op Spark process is measured too and subtracted for "excl. start-up".
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "notebooks"))

from members_pipeline.schema import SOURCE_COLUMNS  # noqa: E402
from timing import Sample, run_once  # noqa: E402

RUN_DATE = "2026-01-31"
LARGE = 1_000_000


def db_env() -> dict:
    env = {k: os.environ.get(f"MEMBERS_MYSQL_{k}", "") for k in ("HOST", "PORT", "USER", "PASSWORD", "DATABASE")}
    if not env["HOST"]:
        sys.exit("pipeline_bench: MEMBERS_MYSQL_HOST is not set; run it through `make bench` (starts MariaDB)")
    env["PORT"] = env["PORT"] or "3306"
    return env


def mariadb_cmd(db: dict, sql: str, extra: str = "") -> str:
    """Shell command for the mariadb client; the password travels in MYSQL_PWD, not on the command line."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    if not client:
        sys.exit("pipeline_bench: the `mariadb` client is not installed (apt-get install mariadb-client)")
    return (
        f"{client} --no-defaults --protocol=tcp -h {shlex.quote(db['HOST'])} -P {db['PORT']} "
        f"-u {shlex.quote(db['USER'])} {extra} {shlex.quote(db['DATABASE'])} -e {shlex.quote(sql)}"
    )


def sql(db: dict, statement: str) -> str:
    out = subprocess.run(
        ["bash", "-c", mariadb_cmd(db, statement, "--batch --skip-column-names")],
        env={**os.environ, "MYSQL_PWD": db["PASSWORD"]},
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"mariadb: {out.stderr.strip()}")
    return out.stdout.strip()


def generate_sql(table: str, rows: int) -> list[str]:
    # Rows shaped like the Faker generator's: uuid4-looking id, names, e-mail, phone with extension, address,
    # city, country, registration date 2015-01-01 .. 2025-12-30 (before the bench's run date).
    h = "MD5(CONCAT('members-bench-', seq))"
    uid = (
        f"CONCAT(SUBSTR({h},1,8),'-',SUBSTR({h},9,4),'-4',SUBSTR({h},14,3),'-',"
        f"SUBSTR('89ab', 1 + (seq % 4), 1),SUBSTR({h},18,3),'-',SUBSTR({h},21,12))"
    )
    return [
        f"DROP TABLE IF EXISTS `{table}`",
        f"""CREATE TABLE `{table}` (
  member_id VARCHAR(36) NOT NULL, first_name VARCHAR(100), last_name VARCHAR(100), email VARCHAR(255),
  phone_number VARCHAR(32), address VARCHAR(255), city VARCHAR(100), country VARCHAR(100), registration_date DATE,
  PRIMARY KEY (member_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
        f"""INSERT INTO `{table}`
SELECT {uid},
  ELT(1 + seq % 8, 'James', 'Mary', 'Robert', 'Patricia', 'Jennifer', 'Michael', 'Linda', 'Christopher'),
  ELT(1 + (seq DIV 8) % 8, 'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis'),
  CONCAT('member', seq, '@', ELT(1 + seq % 4, 'example.com', 'example.org', 'mail.example.net', 'example.io')),
  CONCAT(LPAD(seq % 1000, 3, '0'), '.', LPAD((seq * 7) % 1000, 3, '0'), '.', LPAD((seq * 13) % 10000, 4, '0'),
         IF(seq % 3 = 0, CONCAT('x', seq % 100000), '')),
  CONCAT(seq % 9999 + 1, ' ', ELT(1 + seq % 6, 'Oak', 'Maple', 'Cedar', 'Pine', 'Elm', 'Birch'), ' ',
         ELT(1 + seq % 4, 'Street', 'Avenue', 'Road', 'Lane'), IF(seq % 5 = 0, CONCAT(' Apt. ', seq % 900), '')),
  ELT(1 + seq % 7, 'Springfield', 'Riverside', 'Franklin', 'Greenville', 'Bristol', 'Clinton', 'Fairview'),
  ELT(1 + seq % 6, 'United States', 'Germany', 'France', 'Netherlands', 'Ireland', 'Canada'),
  DATE_ADD('2015-01-01', INTERVAL (seq * 7919) % 4016 DAY)
FROM seq_1_to_{rows}""",
    ]


def ensure_data(db: dict, rows: int) -> tuple[str, float | None]:
    table = f"bench_members_{rows}"
    try:
        have = int(sql(db, f"SELECT COUNT(*) FROM `{table}`"))
    except RuntimeError:
        have = -1
    if have == rows:
        return table, None
    t0 = time.perf_counter()
    for statement in generate_sql(table, rows):
        sql(db, statement)
    return table, time.perf_counter() - t0


def step_cmd(step: str, local_dir: Path, out: Path, **kw: str) -> str:
    args = " ".join(f"--{k.replace('_', '-')} {shlex.quote(v)}" for k, v in kw.items())
    return (
        f"rm -rf {shlex.quote(str(local_dir))} && {shlex.quote(sys.executable)} {HERE / 'pipeline_step.py'} "
        f"{step} --local-dir {shlex.quote(str(local_dir))} --out {shlex.quote(str(out))} {args}"
    )


def run_step(step: str, work: Path, tag: str, **kw: str) -> tuple[Sample, dict]:
    out = work / f"{tag}.json"
    out.unlink(missing_ok=True)
    sample = run_once(step_cmd(step, work / f"spark-{tag}", out, **kw), str(REPO))
    return sample, json.loads(out.read_text())


def med(samples: list[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def peak(samples: list[Sample]) -> float:
    return max(s.peak_rss_mb for s in samples)


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, LARGE])
    parser.add_argument("--runs", type=int, default=3, help="runs per Spark step below 1,000,000 members")
    parser.add_argument("--large-runs", type=int, default=1, help="runs per Spark step at 1,000,000 members or more")
    parser.add_argument("--raw-runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=REPO / ".local" / "bench" / "work")
    args = parser.parse_args()
    db = db_env()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    log = lambda msg: print(f"pipeline_bench: {msg}", file=sys.stderr, flush=True)  # noqa: E731

    cols = ", ".join(f"`{c}`" for c in SOURCE_COLUMNS)
    noop = []
    for i in range(max(args.runs, 1)):
        log(f"no-op Spark start-up, run {i + 1}")
        noop.append(run_step("noop", work, f"noop-{i}")[0])
    startup = med(noop)

    gen_rows, extract_rows, load_rows, growth = [], [], [], {}
    for n in args.rows:
        runs = args.runs if n < LARGE else min(args.runs, args.large_runs)
        log(f"{n:,} members: data")
        table, gen_s = ensure_data(db, n)
        gen_rows.append(f"| {n:,} | `{table}` | {'kept from an earlier run' if gen_s is None else f'{gen_s:.1f} s'} |")

        raw = []
        for i in range(args.raw_runs):
            log(f"{n:,} members: mariadb client, run {i + 1}")
            raw.append(
                run_once(
                    mariadb_cmd(db, f"SELECT {cols} FROM `{table}`", "--batch --quick") + " > /dev/null", str(REPO), env={"MYSQL_PWD": db["PASSWORD"]}
                )
            )
        landing = work / f"landing-{n}"
        shutil.rmtree(landing, ignore_errors=True)
        ext, ext_in = [], []
        for i in range(runs):
            log(f"{n:,} members: extract notebook, run {i + 1}/{runs}")
            sample, res = run_step("extract", work, f"extract-{n}-{i}", landing=str(landing), table=table, run_date=RUN_DATE)
            if res["result"]["rows"] != n:
                raise RuntimeError(f"extract read {res['result']['rows']} rows, expected {n}")
            ext.append(sample)
            ext_in.append(res["step_s"])
        merge, over, merge_in, over_in = [], [], [], []
        for i in range(runs):
            log(f"{n:,} members: MERGE load, run {i + 1}/{runs}")
            sample, res = run_step("load", work, f"load-{n}-{i}", landing=str(landing), run_date=RUN_DATE)
            loaded = res["result"].get("inserted", 0) + res["result"].get("updated", 0)
            if loaded != n:
                raise RuntimeError(f"MERGE load wrote {loaded} rows, expected {n}: {res['result']}")
            merge.append(sample)
            merge_in.append(res["step_s"])
            log(f"{n:,} members: plain Delta overwrite, run {i + 1}/{runs}")
            sample, res = run_step("overwrite", work, f"overwrite-{n}-{i}", landing=str(landing), run_date=RUN_DATE)
            if res["result"]["rows"] != n:
                raise RuntimeError(f"overwrite wrote {res['result']['rows']} rows, expected {n}")
            over.append(sample)
            over_in.append(res["step_s"])

        raw_s, ext_s, merge_s, over_s = med(raw), med(ext), med(merge), med(over)
        ext_x, merge_x, over_x = ext_s - startup, merge_s - startup, over_s - startup
        growth[n] = {
            "raw": raw_s,
            "extract": ext_s,
            "extract excl.": ext_x,
            "merge": merge_s,
            "merge excl.": merge_x,
            "overwrite": over_s,
            "overwrite excl.": over_x,
        }
        extract_rows += [
            f"| {n:,} | `mariadb --batch --quick` → /dev/null (1 connection) | {args.raw_runs} | {raw_s:.2f} | – | "
            f"{rate(n, raw_s)} | 1× | {peak(raw):.0f} |",
            f"| {n:,} | extract notebook, incl. Spark start-up | {runs} | {ext_s:.2f} | {statistics.median(ext_in):.2f} | "
            f"{rate(n, ext_s)} | {ext_s / raw_s:,.0f}× | {peak(ext):.0f} |",
            f"| {n:,} | extract notebook, excl. start-up (wall − {startup:.1f} s) | {runs} | {ext_x:.2f} | – | "
            f"{rate(n, ext_x)} | {ext_x / raw_s:,.0f}× | – |",
        ]
        load_rows += [
            f"| {n:,} | MERGE load notebook into an empty table | {runs} | {merge_s:.2f} | "
            f"{statistics.median(merge_in):.2f} | {rate(n, merge_s)} | {rate(n, merge_x)} | "
            f"{merge_s / over_s:.2f} / {merge_x / over_x:.2f} | {peak(merge):.0f} |",
            f"| {n:,} | plain `read.parquet` → Delta `overwrite` `saveAsTable` | {runs} | {over_s:.2f} | "
            f"{statistics.median(over_in):.2f} | {rate(n, over_s)} | {rate(n, over_x)} | 1.00 | {peak(over):.0f} |",
        ]

    print(
        f"Spark start-up (no-op process: Python + JVM start, `spark.range(1).count()`, stop): median of "
        f"{len(noop)} = **{startup:.2f} s**, peak RSS {peak(noop):.0f} MB. Driver memory "
        f"{os.environ.get('MEMBERS_SPARK_DRIVER_MEMORY', '2g')} (runner default), local[*].\n"
    )
    print("Bench data (server-side `INSERT … SELECT` from `seq_1_to_N`):\n")
    print("| members | table | generated in |\n|---:|---|---|")
    print("\n".join(gen_rows) + "\n")
    print("Extract: MySQL → cleaned Parquet batch + manifest (real `extract_members.py` notebook, 8 JDBC partitions)\n")
    print("| members | reader | runs | median wall s | in-notebook s | rows/s | time vs raw client | peak RSS MB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(extract_rows) + "\n")
    print("Load: landing Parquet → Delta (fresh local metastore per run; ratio = MERGE time / overwrite time, wall / excl. start-up)\n")
    print("| members | load | runs | median wall s | in-step s | rows/s incl. start-up | rows/s excl. start-up | time vs overwrite | peak RSS MB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(load_rows) + "\n")
    if len(growth) > 1:
        lo, hi = min(growth), max(growth)
        print(f"Growth of time from {lo:,} to {hi:,} members ({hi / lo:g}× the rows; {hi / lo:g}× growth = linear)\n")
        print(f"| step | s at {lo:,} | s at {hi:,} | growth |\n|---|---:|---:|---:|")
        for key in growth[lo]:
            a, b = growth[lo][key], growth[hi][key]
            print(f"| {key} | {a:.2f} | {b:.2f} | {b / a:.1f}× |" if a > 0 else f"| {key} | {a:.2f} | {b:.2f} | n/a |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
