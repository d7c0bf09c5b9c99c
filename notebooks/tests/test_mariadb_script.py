"""The local MariaDB script (notebooks/scripts/mariadb.sh, behind make demo / make test): a port another process holds
is named, with the variable that moves it, instead of a server that never answers or a bare log; a server that has
exited is seen as stopped even before its parent reaps it."""

import os
import socket
import subprocess
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mariadb.sh"


def _env(tmp_path: Path, port: int) -> dict:
    return {
        **os.environ,
        "MARIADB_DIR": str(tmp_path / "mariadb"),
        "MARIADB_PORT": str(port),
        "MARIADB_DATABASE": "members",
        "MARIADB_USER": "members_app",
        "MARIADB_PASSWORD": "local-test-only",
    }


def _up(tmp_path: Path, port: int) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), "up"], env=_env(tmp_path, port), capture_output=True, text=True, timeout=180)


def test_a_port_in_use_is_named_at_once_with_the_variable_that_changes_it(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        proc = _up(tmp_path, port)
    assert proc.returncode == 1, proc.stderr
    assert f"127.0.0.1:{port} is in use by another process; choose a free port with MARIADB_PORT" in proc.stderr
    # Refused before anything is initialised or started (before: the server exited and the script waited 60 s).
    assert not (tmp_path / "mariadb" / "data").exists()


def test_a_port_held_without_a_listener_is_named_when_the_server_cannot_bind_it(tmp_path):
    # A client connection's local end holds its port without listening (the port check connects, so it misses it):
    # a CI run's server on 33306, in Linux's ephemeral range, exited with "Address already in use" (2026-12-06).
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        proc = _up(tmp_path, port)
    assert proc.returncode == 1, proc.stderr
    assert f"127.0.0.1:{port} is taken (the server could not bind it); choose a free port with MARIADB_PORT" in proc.stderr


def test_down_does_not_wait_for_a_server_that_exited_but_is_not_reaped_yet(tmp_path):
    # Under `make bench` the server a test stopped became a zombie of the bench's subreaper, which reaps only later:
    # `kill -0` still answered for it and `down` waited its 30 s timeout, twice per suite (2026-12-06).
    exited = subprocess.Popen(["true"])  # not waited for: a zombie child of this process
    try:
        for _ in range(100):
            if _state(exited.pid) == "Z":
                break
            time.sleep(0.05)
        assert _state(exited.pid) == "Z"
        (tmp_path / "mariadb").mkdir()
        (tmp_path / "mariadb" / "mariadb.pid").write_text(f"{exited.pid}\n")
        down = subprocess.run(["bash", str(SCRIPT), "down"], env=_env(tmp_path, 1), capture_output=True, text=True, timeout=10)
        assert down.returncode == 0, down.stderr
        assert "stopped" not in down.stderr  # nothing was running: no shutdown, no wait
    finally:
        exited.wait()


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
