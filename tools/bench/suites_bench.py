#!/usr/bin/env python3
"""Wall time and peak RSS of the two test suites, as `make test` runs them; prints a markdown table.

    suites_bench.py <repo> [--jest-runs 1] [--pytest-runs 1]

jest: `npx jest --ci` in the repo. pytest: `<this python> -m pytest -q tests` in notebooks/, against the MySQL server
in MEMBERS_MYSQL_* (`make bench` starts its own MariaDB and sets them). A failing suite is still timed and reported
as failed; the benchmark never turns a speed figure into a failure, and a failed suite does not stop the bench.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo")
    parser.add_argument("--jest-runs", type=int, default=1)
    parser.add_argument("--pytest-runs", type=int, default=1)
    args = parser.parse_args()
    repo = os.path.abspath(args.repo)
    suites = [
        ("jest", "npx jest --ci", repo, args.jest_runs),
        ("pytest", f"{shlex.quote(sys.executable)} -m pytest -q tests", os.path.join(repo, "notebooks"), args.pytest_runs),
    ]
    print("Test suites (wall time of the whole suite as `make test` runs it)\n")
    print("| suite | command | runs | median s | min s | max s | peak RSS MB | result |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    logs = os.path.join(repo, ".local", "bench")
    os.makedirs(logs, exist_ok=True)
    for name, command, cwd, runs in suites:
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
        print(
            f"| {name} | `{command.replace(sys.executable, '.venv/bin/python')}` | "
            f"{runs}{' (single run)' if runs == 1 else ''} | {statistics.median(secs):.1f} | {min(secs):.1f} | "
            f"{max(secs):.1f} | {max(s.peak_rss_mb for s in samples):.0f} | {result} |"
        )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
