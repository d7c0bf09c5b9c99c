#!/usr/bin/env python3
"""Synth benchmark: every stack synthesized the way `make synth` does it, next to the same app run through
type-checked ts-node, and next to the cdktf-init baseline (package-barrel imports + type-checked ts-node).
Medians of N interleaved runs; prints a markdown table. Usage: synth_bench.py <repo> [runs]."""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from timing import interleaved, median_seconds, peak_mb  # noqa: E402


def main(repo: str, runs: int) -> None:
    baseline = os.path.join(repo, ".local", "bench", "barrel")
    here = os.path.dirname(os.path.abspath(__file__))
    os.system(f"python3 {here}/make-barrel-baseline.py {repo} {baseline} >/dev/null")
    commands = {
        "make synth way: per-resource imports, ts-node transpile-only": ("node --require ts-node/register/transpile-only main.ts", repo),
        "same app, type-checked ts-node (npx ts-node main.ts)": ("npx ts-node main.ts", repo),
        "baseline, cdktf-init way: barrel imports, type-checked ts-node": ("npx ts-node main.ts", baseline),
    }
    samples = interleaved(commands, runs)
    fastest = median_seconds(next(iter(samples.values())))
    print(f"Synthesize all stacks (median of {runs} interleaved runs)\n")
    print("| app | median s | min s | max s | peak RSS MB | vs make synth |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in samples.items():
        secs = [r.seconds for r in rows]
        med = median_seconds(rows)
        print(f"| {name} | {med:.2f} | {min(secs):.2f} | {max(secs):.2f} | {peak_mb(rows):.0f} | {med / fastest:.1f}x |")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5)
