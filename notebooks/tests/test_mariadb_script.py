"""The local MariaDB script (notebooks/scripts/mariadb.sh, behind make demo / make test): a port another process holds
is named, with the variable that moves it, instead of a server that never answers or a bare log."""

import os
import socket
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mariadb.sh"


def _up(tmp_path: Path, port: int) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MARIADB_DIR": str(tmp_path / "mariadb"),
        "MARIADB_PORT": str(port),
        "MARIADB_DATABASE": "members",
        "MARIADB_USER": "members_app",
        "MARIADB_PASSWORD": "local-test-only",
    }
    return subprocess.run(["bash", str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=180)


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
