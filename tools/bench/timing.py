"""Wall time and peak memory of shell commands, measured the same way for every benchmark row."""

import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass


def _become_subreaper() -> bool:
    """Orphans of a measured command (a Spark JVM whose Python parent exited without waiting for it) are re-parented
    to this process instead of init, so their peak RSS can still be collected (Linux prctl PR_SET_CHILD_SUBREAPER)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except Exception:  # noqa: BLE001 - not Linux: peak RSS then covers waited-for processes only
        return False


SUBREAPER = _become_subreaper()


def _reap_orphans(timeout: float = 60.0) -> int:
    """Waits (up to `timeout`) for orphans re-parented to us; returns their largest ru_maxrss in KB."""
    peak = 0
    deadline = time.monotonic() + timeout
    while SUBREAPER and time.monotonic() < deadline:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.05)
            continue
        peak = max(peak, usage.ru_maxrss)
    return peak


@dataclass
class Sample:
    seconds: float
    peak_rss_mb: float
    exit_code: int = 0


def run_once(command: str, cwd: str, env: dict | None = None, check: bool = True) -> Sample:
    """Runs `command` through bash; peak RSS is the largest resident set of any process in its tree (rusage,
    orphans included).
    With check=False a failing command is still timed and its exit code returned instead of raising."""
    # stderr goes to a file, not a pipe: a pipe nobody reads until exit blocks a chatty command (jest, Spark).
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=err)
        # Reap every child as it exits, the command's orphans too, as init would: an orphan left a zombie here still
        # answers `kill -0`, so a test waiting for it to exit (mariadb.sh down) waited its whole timeout, only in the
        # bench (measured: 30 s per stopped test server, about 55 s of the pytest suite's time).
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(-1 if SUBREAPER else proc.pid, 0)
            peak_kb = max(peak_kb, usage.ru_maxrss)
            if pid == proc.pid:
                break
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keeps Popen from waiting again
        peak_kb = max(peak_kb, _reap_orphans())
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0 and check:
        raise RuntimeError(f"benchmark command failed ({command}):\n{stderr[-2000:]}")
    return Sample(seconds, peak_kb / 1024, code)


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
