"""The local MariaDB script (notebooks/scripts/mariadb.sh, behind make demo / make test): a port another process holds
is named at once, with the variable that moves it, instead of a server that never answers."""

import os
import socket
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "mariadb.sh"


def test_a_port_in_use_is_named_at_once_with_the_variable_that_changes_it(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {
            **os.environ,
            "MARIADB_DIR": str(tmp_path / "mariadb"),
            "MARIADB_PORT": str(port),
            "MARIADB_DATABASE": "members",
            "MARIADB_USER": "members_app",
            "MARIADB_PASSWORD": "local-test-only",
        }
        proc = subprocess.run(["bash", str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert f"127.0.0.1:{port} is in use by another process; choose a free port with MARIADB_PORT" in proc.stderr
    # Refused before anything is initialised or started (before: the server exited and the script waited 60 s).
    assert not (tmp_path / "mariadb" / "data").exists()
