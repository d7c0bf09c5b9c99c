"""Wall time and peak memory of shell commands, measured the same way for every benchmark row."""
import os
import statistics
import subprocess
import time
from dataclasses import dataclass


@dataclass
class Sample:
    seconds: float
    peak_rss_mb: float


def run_once(command: str, cwd: str, env: dict | None = None) -> Sample:
    """Runs `command` through bash; peak RSS is the largest resident set of any process in its tree (rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"benchmark command failed ({command}):\n{stderr[-2000:]}")
    return Sample(seconds, usage.ru_maxrss / 1024)


def interleaved(commands: dict[str, tuple[str, str]], runs: int) -> dict[str, list[Sample]]:
    """Runs each named (command, cwd) `runs` times, round-robin, so machine noise hits every row alike."""
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, cwd) in commands.items():
            samples[name].append(run_once(command, cwd))
    return samples


def median_seconds(samples: list[Sample]) -> float:
    return statistics.median(s.seconds for s in samples)


def peak_mb(samples: list[Sample]) -> float:
    return max(s.peak_rss_mb for s in samples)
