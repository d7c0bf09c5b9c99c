#!/usr/bin/env python3
"""Extract and load benchmark of the members pipeline on local Spark + MariaDB; prints markdown tables.

    MEMBERS_MYSQL_HOST=127.0.0.1 MEMBERS_MYSQL_PORT=... MEMBERS_MYSQL_USER=... MEMBERS_MYSQL_PASSWORD=... \
    MEMBERS_MYSQL_DATABASE=... .venv/bin/python tools/bench/pipeline_bench.py --rows 100000 1000000 --runs 3

For each member count N:
  data       `bench_members_<N>` generated server-side (INSERT ... SELECT over MariaDB's seq_<a>_to_<b> in chunks of
             1,000,000; uuid4-shaped ids from MD5 so the extract's hex-range partitions are even, like real uuid4
             ids), and `bench_members_<N>_day2`, the next day's snapshot: a copy with 0.5 % of the members changed
             (city), 0.1 % deleted and 0.1 % new ones added (CRC32(member_id) picks them). Both kept between runs.
  raw        the `mariadb` client streaming the extract's SELECT to /dev/null (--batch --quick): the fastest any
             extractor can read here. Median of 3.
  extract    the real extract notebook (tools/bench/pipeline_step.py extract), one process per run.
  first load the real load notebook (MERGE) into an empty table, next to a plain Parquet -> Delta overwrite of the
             same batch, interleaved, one process per run.
  daily load the day-2 snapshot extracted once (run date + 1 day, same landing); per run a copy of one prepared
             local metastore + warehouse holding day 1 (the members table from the load notebook and the overwrite
             table), then the load notebook MERGEs day 2 into it and the overwrite step rewrites the overwrite table
             with day 2. The load's counts must equal the planned changes, else the bench fails.
Every step runs in its own process under timing.run_once: wall time and peak RSS of the process tree (JVM included).
Spark start-up is inside each wall time; a no-op Spark process is measured too and subtracted for "excl. start-up".
Goals (issue 15) get a verdict column: extract <= 5x the raw client, first load <= 1.5x the overwrite, daily load
< 1x the overwrite (all excl. start-up), time growth <= 1.1x the growth of the rows (11x for 10x) per step.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "notebooks"))

from daily_plan import CHANGED, DELETED  # noqa: E402
from members_pipeline.schema import SOURCE_COLUMNS  # noqa: E402
from timing import Sample, run_once  # noqa: E402

RUN_DATE = "2026-01-31"
DAY2 = "2026-02-01"  # the daily load's snapshot: the next run date, same landing
LARGE = 1_000_000
# From here on a Spark step takes minutes: --large-runs (default 3, make bench's BENCH_LARGE_RUNS) instead of --runs.
FEW_RUNS_FROM = 10_000_000
CHUNK = 1_000_000  # members per generating INSERT
COLS = ", ".join(f"`{c}`" for c in SOURCE_COLUMNS)


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


def member_select(first: int, last: int) -> str:
    """Members seq = first..last, shaped like the Faker generator's: uuid4-looking id, names, e-mail, phone with
    extension, address, city, country, registration date 2015-01-01 .. 2025-12-30 (before the bench's run date)."""
    h = "MD5(CONCAT('members-bench-', seq))"
    uid = (
        f"CONCAT(SUBSTR({h},1,8),'-',SUBSTR({h},9,4),'-4',SUBSTR({h},14,3),'-',"
        f"SUBSTR('89ab', 1 + (seq % 4), 1),SUBSTR({h},18,3),'-',SUBSTR({h},21,12))"
    )
    return f"""SELECT {uid},
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
FROM seq_{first}_to_{last}"""


def generate_sql(table: str, rows: int) -> list[str]:
    # One INSERT per million members: a 10,000,000-row single statement would be one huge InnoDB transaction.
    return [
        f"DROP TABLE IF EXISTS `{table}`",
        f"""CREATE TABLE `{table}` (
  member_id VARCHAR(36) NOT NULL, first_name VARCHAR(100), last_name VARCHAR(100), email VARCHAR(255),
  phone_number VARCHAR(32), address VARCHAR(255), city VARCHAR(100), country VARCHAR(100), registration_date DATE,
  PRIMARY KEY (member_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
        *(f"INSERT INTO `{table}` ({COLS}) {member_select(a, min(a + CHUNK - 1, rows))}" for a in range(1, rows + 1, CHUNK)),
    ]


def added(rows: int) -> int:
    return max(rows // 1000, 1)


def day2_sql(base: str, table: str, rows: int) -> list[str]:
    """The next day's snapshot: the base table without the DELETED members, the CHANGED ones with another city, plus
    0.1 % new members (the generator's seq N+1.., so new ids). Copied in 16 chunks by the id's first hex digit."""
    copied = ", ".join(f"IF({CHANGED}, CONCAT(city, ' Heights'), city)" if c == "city" else f"`{c}`" for c in SOURCE_COLUMNS)
    return [
        f"DROP TABLE IF EXISTS `{table}`",
        f"CREATE TABLE `{table}` LIKE `{base}`",
        *(
            f"INSERT INTO `{table}` ({COLS}) SELECT {copied} FROM `{base}` WHERE member_id LIKE '{d}%' AND NOT ({DELETED})"
            for d in "0123456789abcdef"
        ),
        f"INSERT INTO `{table}` ({COLS}) {member_select(rows + 1, rows + added(rows))}",
    ]


def table_rows(db: dict, table: str) -> int:
    try:
        return int(sql(db, f"SELECT COUNT(*) FROM `{table}`"))
    except RuntimeError:
        return -1


def regenerate(db: dict, statements: list[str]) -> float:
    t0 = time.perf_counter()
    for statement in statements:
        sql(db, statement)
    return time.perf_counter() - t0


def ensure_data(db: dict, rows: int) -> tuple[str, float | None]:
    table = f"bench_members_{rows}"
    if table_rows(db, table) == rows:
        return table, None
    return table, regenerate(db, generate_sql(table, rows))


def ensure_day2(db: dict, base: str, rows: int, base_regenerated: bool) -> tuple[str, float | None, dict[str, int]]:
    """The day-2 table and the load counts its MERGE must report (`inserted`, `updated`, `flagged_deleted`)."""
    table = f"{base}_day2"
    changed, deleted = (int(x) for x in sql(db, f"SELECT SUM({CHANGED}), SUM({DELETED}) FROM `{base}`").split())
    plan = {"inserted": added(rows), "updated": changed, "flagged_deleted": deleted}
    if not base_regenerated and table_rows(db, table) == rows - deleted + plan["inserted"]:
        return table, None, plan
    return table, regenerate(db, day2_sql(base, table, rows)), plan


def step_cmd(step: str, local_dir: Path, out: Path, fresh: bool, **kw: str) -> str:
    args = " ".join(f"--{k.replace('_', '-')} {shlex.quote(v)}" for k, v in kw.items())
    clean = f"rm -rf {shlex.quote(str(local_dir))} && " if fresh else ""
    return (
        f"{clean}{shlex.quote(sys.executable)} {HERE / 'pipeline_step.py'} "
        f"{step} --local-dir {shlex.quote(str(local_dir))} --out {shlex.quote(str(out))} {args}"
    )


def run_step(step: str, work: Path, tag: str, local_dir: Path | None = None, fresh: bool = False, **kw: str) -> tuple[Sample, dict]:
    """One step in its own process; in a fresh local dir (work/spark-<tag>) unless local_dir is given (kept unless fresh)."""
    out = work / f"{tag}.json"
    out.unlink(missing_ok=True)
    sample = run_once(step_cmd(step, local_dir or work / f"spark-{tag}", out, fresh or local_dir is None, **kw), str(REPO))
    return sample, json.loads(out.read_text())


@dataclass
class Step:
    """Runs of one benchmark step: process samples and the in-step seconds each process reported."""

    samples: list[Sample] = field(default_factory=list)
    inner: list[float] = field(default_factory=list)

    def add(self, sample: Sample, res: dict | None = None) -> dict | None:
        self.samples.append(sample)
        if res is not None:
            self.inner.append(res["step_s"])
        return res

    @property
    def wall(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def in_step(self) -> str:
        return f"{statistics.median(self.inner):.2f}" if self.inner else "–"

    @property
    def peak(self) -> float:
        return max(s.peak_rss_mb for s in self.samples)

    @property
    def runs(self) -> int:
        return len(self.samples)


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "n/a"


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def verdict(ok: bool, n: int | None = None) -> str:
    """Goals are set at 1,000,000 members and more; below that the verdict is shown, marked informative."""
    return ("goal met" if ok else "**not met**") + (" (informative below 1,000,000)" if n is not None and n < LARGE else "")


def metric(metrics: dict, *keys: str) -> str:
    """The first of `keys` in a commit's operationMetrics (names differ between operations and Delta versions)."""
    return next((str(metrics[k]) for k in keys if k in metrics), "–")


def expect(what: str, got, want) -> None:
    """A wrong count is a broken pipeline or harness: the bench fails instead of timing it."""
    if got != want:
        raise RuntimeError(f"{what}: got {got}, expected {want}")


class Bench:
    def __init__(self, args: argparse.Namespace, db: dict, work: Path):
        self.args, self.db, self.work = args, db, work
        self.startup = 0.0
        self.gen_rows: list[str] = []
        self.steps: dict[int, dict[str, Step]] = {}
        self.delta: dict[int, dict] = {}
        self.plans: dict[int, dict[str, int]] = {}
        self.goals: list[tuple[str, str, str, bool, bool]] = []  # goal, members, measured, met, informative

    def goal(self, goal: str, n: int | str, measured: str, ok: bool) -> bool:
        """Records a goal's outcome for the summary; n is the member count (or a range, for growth)."""
        self.goals.append((goal, f"{n:,}" if isinstance(n, int) else n, measured, ok, isinstance(n, int) and n < LARGE))
        return ok

    def log(self, msg: str) -> None:
        print(f"pipeline_bench: {msg}", file=sys.stderr, flush=True)

    def measure(self, n: int) -> None:
        runs = self.args.runs if n < FEW_RUNS_FROM else min(self.args.runs, self.args.large_runs)
        st = self.steps[n] = {k: Step() for k in ("raw", "extract", "extract day 2", "merge", "overwrite", "daily merge", "daily overwrite")}
        self.log(f"{n:,} members: data")
        table, gen_s = ensure_data(self.db, n)
        day2, gen2_s, plan = ensure_day2(self.db, table, n, gen_s is not None)
        self.plans[n] = plan
        for t, s in ((table, gen_s), (day2, gen2_s)):
            self.gen_rows.append(f"| {n:,} | `{t}` | {'kept from an earlier run' if s is None else f'{s:.1f} s'} |")
        day2_rows = n - plan["flagged_deleted"] + plan["inserted"]

        for i in range(self.args.raw_runs):
            self.log(f"{n:,} members: mariadb client, run {i + 1}")
            cmd = mariadb_cmd(self.db, f"SELECT {COLS} FROM `{table}`", "--batch --quick") + " > /dev/null"
            st["raw"].add(run_once(cmd, str(REPO), env={"MYSQL_PWD": self.db["PASSWORD"]}))
        landing = self.work / f"landing-{n}"
        shutil.rmtree(landing, ignore_errors=True)
        for i in range(runs):
            self.log(f"{n:,} members: extract notebook, run {i + 1}/{runs}")
            res = st["extract"].add(*run_step("extract", self.work, f"extract-{n}-{i}", landing=str(landing), table=table, run_date=RUN_DATE))
            expect(f"extract of {table}: rows", res["result"]["rows"], n)

        # The first-load MERGE runs in daily-<N>: its last run's table is the daily load's starting point. The
        # metastore (Derby) records the tables' absolute locations, so every daily run works on a copy at that path.
        daily, base = self.work / f"daily-{n}", self.work / f"daily-{n}-base"
        for i in range(runs):
            self.log(f"{n:,} members: first load, MERGE into an empty table, run {i + 1}/{runs}")
            res = st["merge"].add(*run_step("load", self.work, f"load-{n}-{i}", landing=str(landing), local_dir=daily, fresh=True))
            expect(f"first load of {n:,} members: inserted + updated", res["result"].get("inserted", 0) + res["result"].get("updated", 0), n)
            self.log(f"{n:,} members: first load, plain Delta overwrite, run {i + 1}/{runs}")
            res = st["overwrite"].add(*run_step("overwrite", self.work, f"overwrite-{n}-{i}", landing=str(landing), run_date=RUN_DATE))
            expect(f"overwrite of {n:,} members: rows", res["result"]["rows"], n)

        self.log(f"{n:,} members: daily load, preparing day 1 (overwrite table) and extracting day 2")
        res = run_step("overwrite", self.work, f"prepare-{n}", daily, landing=str(landing), run_date=RUN_DATE)[1]
        expect(f"day-1 overwrite table of {n:,} members: rows", res["result"]["rows"], n)
        # Each table's version holding day 1: the daily load's commits are the ones after it (the load makes two).
        day1 = run_step("delta-stats", self.work, f"delta-stats-day1-{n}", daily, table="members,members_overwrite")[1]["result"]
        after = ",".join(f"{t}={d['version']}" for t, d in day1.items())
        shutil.rmtree(base, ignore_errors=True)
        daily.rename(base)
        res = st["extract day 2"].add(*run_step("extract", self.work, f"extract-day2-{n}", landing=str(landing), table=day2, run_date=DAY2))
        expect(f"extract of {day2}: rows", res["result"]["rows"], day2_rows)
        for i in range(runs):
            shutil.rmtree(daily, ignore_errors=True)
            shutil.copytree(base, daily, symlinks=True)
            self.log(f"{n:,} members: daily load, MERGE of day 2, run {i + 1}/{runs}")
            res = st["daily merge"].add(*run_step("load", self.work, f"daily-load-{n}-{i}", daily, landing=str(landing)))["result"]
            expect(f"daily load of {n:,} members: batches loaded", res.get("batches_loaded"), 1)
            for key, want in plan.items():
                expect(f"daily load of {n:,} members: {key} (planned in {day2})", res.get(key), want)
            self.log(f"{n:,} members: daily load, plain Delta overwrite with day 2, run {i + 1}/{runs}")
            res = st["daily overwrite"].add(*run_step("overwrite", self.work, f"daily-overwrite-{n}-{i}", daily, landing=str(landing), run_date=DAY2))
            expect(f"daily overwrite of {n:,} members: rows", res["result"]["rows"], day2_rows)
        self.log(f"{n:,} members: daily load, Delta log of the last run (not timed)")
        self.delta[n] = run_step("delta-stats", self.work, f"delta-stats-{n}", daily, table="members,members_overwrite", after=after)[1]["result"]
        shutil.rmtree(daily, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)

    def excl(self, n: int, step: str) -> float:
        return self.steps[n][step].wall - self.startup

    def print_extract(self) -> None:
        print("Extract: MySQL → cleaned Parquet batch + manifest (real `extract_members.py` notebook, 8 JDBC partitions).")
        print("Goal: extract excl. Spark start-up ≤ 5× the raw client (set at 1,000,000 and 10,000,000 members).\n")
        print("| members | reader | runs | median wall s | in-notebook s | rows/s | time vs raw client | verdict (≤ 5×) | peak RSS MB |")
        print("|---:|---|---:|---:|---:|---:|---:|---|---:|")
        for n, st in self.steps.items():
            raw, ext, day2 = st["raw"], st["extract"], st["extract day 2"]
            x, rows2 = self.excl(n, "extract"), n - self.plans[n]["flagged_deleted"] + self.plans[n]["inserted"]
            ok = self.goal("extract excl. start-up ≤ 5× raw client", n, f"{ratio(x, raw.wall):.1f}×", ratio(x, raw.wall) <= 5)
            print(
                f"| {n:,} | `mariadb --batch --quick` → /dev/null (1 connection) | {raw.runs} | {raw.wall:.2f} | – | "
                f"{rate(n, raw.wall)} | 1× | – | {raw.peak:.0f} |\n"
                f"| {n:,} | extract notebook, incl. Spark start-up | {ext.runs} | {ext.wall:.2f} | {ext.in_step} | "
                f"{rate(n, ext.wall)} | {ratio(ext.wall, raw.wall):.1f}× | – | {ext.peak:.0f} |\n"
                f"| {n:,} | extract notebook, excl. start-up (wall − {self.startup:.1f} s) | {ext.runs} | {x:.2f} | – | "
                f"{rate(n, x)} | {ratio(x, raw.wall):.1f}× | {verdict(ok, n)} | – |\n"
                f"| {rows2:,} | day-2 snapshot extract (for the daily load), incl. start-up | {day2.runs} | {day2.wall:.2f} | "
                f"{day2.in_step} | {rate(rows2, day2.wall)} | – | – | {day2.peak:.0f} |"
            )
        print()

    def load_rows(self, n: int, merge: str, over: str, label: str, goal: float, strict: bool) -> str:
        m, o = self.steps[n][merge], self.steps[n][over]
        mx, ox = self.excl(n, merge), self.excl(n, over)
        r = ratio(mx, ox)
        name = f"{'daily' if strict else 'first'} load MERGE {'<' if strict else '≤'} {goal:g}× overwrite, excl. start-up"
        ok = self.goal(name, n, f"{r:.2f}×", r < goal if strict else r <= goal)
        return (
            f"| {n:,} | MERGE load notebook {label} | {m.runs} | {m.wall:.2f} | {m.in_step} | {mx:.2f} | {rate(n, mx)} | "
            f"{ratio(m.wall, o.wall):.2f} / {r:.2f} | {verdict(ok, n)} | {m.peak:.0f} |\n"
            f"| {n:,} | plain `read.parquet` → Delta `overwrite` `saveAsTable` | {o.runs} | {o.wall:.2f} | {o.in_step} | "
            f"{ox:.2f} | {rate(n, ox)} | 1.00 | – | {o.peak:.0f} |"
        )

    def print_loads(self) -> None:
        head = (
            "| members | load | runs | median wall s | in-step s | excl. start-up s | rows/s excl. start-up | "
            "time vs overwrite (wall / excl.) | verdict | peak RSS MB |\n|---:|---|---:|---:|---:|---:|---:|---:|---|---:|"
        )
        print("First load: landing Parquet → empty Delta table (fresh local metastore per run). Goal: MERGE ≤ 1.5× the overwrite, excl. start-up.\n")
        print(head)
        print("\n".join(self.load_rows(n, "merge", "overwrite", "into an empty table", 1.5, False) for n in self.steps) + "\n")
        print(
            "Daily load: day-2 snapshot (0.5 % changed, 0.1 % deleted, 0.1 % added) into the table holding day 1 (a copy of one "
            "prepared metastore + warehouse per run). MERGE = the load notebook, guards at their defaults; overwrite = the same "
            "snapshot rewriting a table that holds day 1. Goal: MERGE < 1× the overwrite, excl. start-up.\n"
        )
        print(head)
        print("\n".join(self.load_rows(n, "daily merge", "daily overwrite", "of day 2 into day 1", 1.0, True) for n in self.steps) + "\n")
        print(
            "Daily load in the Delta log (last run; `DESCRIBE HISTORY` operationMetrics summed over the run's commits: the "
            "load MERGEs the updates and delete flags, then the inserts; files of the snapshot before/after them)\n"
        )
        print(
            "| members | table | operation | rows inserted / updated (changed and flagged deleted) / copied | files written / files in table | "
            "files removed | deletion vectors added / updated | change-data files | files after | MB after |\n"
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
        )
        for n, tables in self.delta.items():
            for name, d in tables.items():
                m = d["metrics"]
                g = functools.partial(metric, m)
                written = g("numTargetFilesAdded", "numFiles")
                removed = g("numTargetFilesRemoved", "numRemovedFiles")
                if removed == "–" and d["operation"] in ("WRITE", "CREATE OR REPLACE TABLE AS SELECT"):
                    removed = f"{d['files_before']} (all)"
                print(
                    f"| {n:,} | {name} | {d['operation']} | {g('numTargetRowsInserted', 'numOutputRows')} / {g('numTargetRowsUpdated')} / "
                    f"{g('numTargetRowsCopied')} | {written} / {d['files_before']} | {removed} | "
                    f"{g('numTargetDeletionVectorsAdded')} / {g('numTargetDeletionVectorsUpdated')} | {g('numTargetChangeFilesAdded')} | "
                    f"{d['files_after']} | {d['bytes_after'] / 1e6:,.0f} |"
                )
        print()
        print(
            "Planned day-2 changes, equal to the load's counts in every run (checked; a mismatch fails the bench): "
            + "; ".join(f"{n:,}: {p['inserted']:,} added, {p['updated']:,} changed, {p['flagged_deleted']:,} deleted" for n, p in self.plans.items())
            + ".\n"
        )

    def print_memory(self) -> None:
        keys = ("raw", "extract", "extract day 2", "merge", "overwrite", "daily merge", "daily overwrite")
        print(
            f"Peak memory per step (peak RSS MB of the step's process tree, largest over its runs; Spark driver "
            f"{os.environ.get('MEMBERS_SPARK_DRIVER_MEMORY', '2g')}). Every step completed: a failure (out of memory, spill "
            "error) fails the bench.\n"
        )
        print("| members | raw client | extract | day-2 extract | first load MERGE | first overwrite | daily MERGE | daily overwrite |")
        print("|---:|" + "---:|" * len(keys))
        for n, st in self.steps.items():
            print(f"| {n:,} | " + " | ".join(f"{st[k].peak:.0f}" for k in keys) + " |")
        print()

    def print_growth(self) -> None:
        if len(self.steps) < 2:
            print('Growth: needs two member counts (e.g. BENCH_ROWS="1000000 10000000").\n')
            return
        lo, hi = min(self.steps), max(self.steps)
        limit = 1.1 * hi / lo
        print(f"Growth of time from {lo:,} to {hi:,} members ({hi / lo:g}× the rows). Goal: ≤ 1.1 × that = {limit:g}×, excl. start-up.\n")
        print(f"| step | s at {lo:,} | s at {hi:,} | growth | verdict (≤ {limit:g}×) |\n|---|---:|---:|---:|---|")
        rows = [
            ("raw client", "raw", False, False),
            ("extract, excl. start-up", "extract", True, True),
            ("extract, incl. start-up", "extract", False, False),
            ("first load MERGE, excl. start-up", "merge", True, True),
            ("first load overwrite, excl. start-up", "overwrite", True, False),
            ("daily load MERGE, excl. start-up", "daily merge", True, True),
            ("daily load overwrite, excl. start-up", "daily overwrite", True, False),
        ]
        for label, key, excl, goal in rows:
            a, b = ((self.excl(n, key) if excl else self.steps[n][key].wall) for n in (lo, hi))
            g = ratio(b, a) if a > 0 else float("inf")
            ok = goal and self.goal(f"{label}: growth ≤ {limit:g}×", f"{lo:,} → {hi:,}", f"{g:.1f}×", g <= limit)
            print(f"| {label} | {a:.2f} | {b:.2f} | {g:.1f}× | {verdict(ok) if goal else '–'} |")
        print()

    def print_goals(self) -> None:
        binding = [g for g in self.goals if not g[4]]
        met = sum(g[3] for g in binding)
        scope = f"{met} of {len(binding)} met" if binding else "none measured at 1,000,000 members or more in this run"
        print(f"Goals (issue 15): {scope} (rows marked informative are below 1,000,000 members).\n")
        print("| goal | members | measured | verdict |\n|---|---:|---:|---|")
        for goal, members, measured, ok, informative in self.goals:
            print(f"| {goal} | {members} | {measured} | {'goal met' if ok else '**not met**'}{' (informative)' if informative else ''} |")
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, LARGE])
    parser.add_argument("--runs", type=int, default=3, help="runs per Spark step below 1,000,000 members")
    parser.add_argument("--large-runs", type=int, default=3, help="runs per Spark step at 10,000,000 members or more")
    parser.add_argument("--raw-runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=REPO / ".local" / "bench" / "work")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, db_env(), work)

    noop = Step()
    for i in range(max(args.runs, 1)):
        bench.log(f"no-op Spark start-up, run {i + 1}")
        noop.add(run_step("noop", work, f"noop-{i}")[0])
    bench.startup = noop.wall
    for n in sorted(set(args.rows)):
        bench.measure(n)

    print(
        f"Spark start-up (no-op process: Python + JVM start, `spark.range(1).count()`, stop): median of "
        f"{noop.runs} = **{bench.startup:.2f} s**, peak RSS {noop.peak:.0f} MB. Driver memory "
        f'{os.environ.get("MEMBERS_SPARK_DRIVER_MEMORY", "2g")} (runner default), local[*]. "excl. start-up" = wall − this.\n'
    )
    print("Bench data (server-side `INSERT … SELECT` from `seq_a_to_b`; day 2 = a copy with the planned changes):\n")
    print("| members | table | generated in |\n|---:|---|---|")
    print("\n".join(bench.gen_rows) + "\n")
    bench.print_extract()
    bench.print_loads()
    bench.print_memory()
    bench.print_growth()
    bench.print_goals()
    return 0


if __name__ == "__main__":
    sys.exit(main())
