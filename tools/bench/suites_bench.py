#!/usr/bin/env python3
"""Wall time and peak RSS of the two test suites, as `make test` runs them; prints a markdown table.

    suites_bench.py <repo> [--jest-runs 1] [--pytest-runs 1] [--slow-runs 0] [--pytest-args '<make py-test's>']

jest: `npx jest --ci` in the repo. pytest: `<this python> -m pytest <--pytest-args> tests` in notebooks/ (`make bench`
passes make py-test's own arguments, mk/python.mk PY_PYTEST_ARGS), against the MySQL server in MEMBERS_MYSQL_* (`make
bench` starts its own MariaDB and sets them); goal: <= 150 s. A failing suite is still timed and reported as failed; the benchmark never turns a speed
figure into a failure, and a failed suite does not stop the bench.
--slow-runs N also runs the slow tests (`-m slow`: the one-million-row reliability test, `make py-test-slow`) N times;
those are a reliability check, so a failure of one of them is reported and then makes this script exit 1.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import run_once  # noqa: E402


def last_summary(log: str, suite: str) -> str:
    """The suite's own one-line summary (`Tests: 1 failed, 90 passed, 91 total` / `2 failed, 80 passed in 300s`)."""
    try:
        lines = [ln.strip() for ln in open(log, errors="replace")]
    except OSError:
        return ""
    pick = (
        [ln for ln in lines if ln.startswith("Tests:")]
        if suite == "jest"
        else [ln for ln in lines if " in " in ln and (" passed" in ln or " failed" in ln or " error" in ln)]
    )
    return pick[-1].strip("= ").replace("|", "/") if pick else ""


def memory_line(log: str) -> str:
    """The memory figures the one-million-row test prints (`[1M rows] driver JVM heap peak ...`)."""
    try:
        lines = [ln.strip() for ln in open(log, errors="replace") if "[1M rows]" in ln]
    except OSError:
        return ""
    return lines[-1].replace("[1M rows] ", "").replace("|", "/") if lines else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--jest-runs", type=int, default=1)
    parser.add_argument("--pytest-runs", type=int, default=1)
    parser.add_argument("--slow-runs", type=int, default=0, help="runs of the slow tests (pytest -m slow); 0 = none")
    parser.add_argument("--pytest-args", default="-q -m 'not slow'", help="the default suite's pytest options (make py-test's)")
    args = parser.parse_args()
    repo = os.path.abspath(args.repo)
    pytest = f"{shlex.quote(sys.executable)} -m pytest"
    notebooks = os.path.join(repo, "notebooks")
    suites = [
        ("jest", "npx jest --ci", repo, args.jest_runs, None),
        ("pytest", f"{pytest} {args.pytest_args} tests", notebooks, args.pytest_runs, 150.0),
        ("pytest-slow", f"{pytest} -q -m slow tests", notebooks, args.slow_runs, None),
    ]
    print("Test suites (wall time of the whole suite as `make test` runs it: pytest without the slow tests, `-m 'not slow'`;")
    print("the slow one-million-row reliability test runs as its own row, `make py-test-slow`, and must pass)\n")
    print("| suite | command | runs | median s | min s | max s | peak RSS MB | result | goal | verdict |")
    print("|---|---|---:|---:|---:|---:|---:|---|---|---|")
    slow_failed = False
    logs = os.path.join(repo, ".local", "bench")
    os.makedirs(logs, exist_ok=True)
    for name, command, cwd, runs, goal_s in suites:
        if runs < 1:
            continue
        samples, summary = [], ""
        log = os.path.join(logs, f"{name}.log")
        for i in range(runs):
            print(f"suites_bench: {name}, run {i + 1}/{runs} (output: {log})", file=sys.stderr, flush=True)
            samples.append(run_once(f"{command} >{shlex.quote(log)} 2>&1", cwd, check=False))
            summary = last_summary(log, name) or summary
        secs = [s.seconds for s in samples]
        failed = [s.exit_code for s in samples if s.exit_code != 0]
        result = "passed" if not failed else f"FAILED in {len(failed)} of {runs} run(s) (exit {failed[0]})"
        result += f": {summary}" if summary else ""
        result += f"; {memory_line(log)}" if name == "pytest-slow" and memory_line(log) else ""
        if goal_s is not None:
            goal, ok = f"≤ {goal_s:.0f} s", statistics.median(secs) <= goal_s and not failed
        else:
            goal, ok = ("passes", not failed) if name == "pytest-slow" else ("–", None)
        slow_failed |= name == "pytest-slow" and bool(failed)
        print(
            f"| {name} | `{command.replace(sys.executable, '.venv/bin/python')}` | "
            f"{runs}{' (single run)' if runs == 1 else ''} | {statistics.median(secs):.1f} | {min(secs):.1f} | "
            f"{max(secs):.1f} | {max(s.peak_rss_mb for s in samples):.0f} | {result} | {goal} | "
            f"{'–' if ok is None else 'goal met' if ok else '**not met**'} |"
        )
    print()
    if slow_failed:
        print("suites_bench: the slow (one-million-row) test FAILED; see .local/bench/pytest-slow.log", file=sys.stderr)
    return 1 if slow_failed else 0


if __name__ == "__main__":
    sys.exit(main())
