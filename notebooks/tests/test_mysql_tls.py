"""The MySQL server is authenticated, not just encrypted (issue 25 item 5).

sslMode VERIFY_IDENTITY is the default; the extract trusts the CA in trust_store_path (PKCS12) and the generator the
CA in ca_path (PEM). Against the local MariaDB (mariadb.sh: a certificate for localhost / 127.0.0.1 signed by a
throwaway CA) both must connect with the right CA and host, and refuse a wrong CA or a wrong host name. The host and
database from the secret scope must not be able to inject JDBC URL parameters.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import TEST_CA, TEST_TRUST_STORE
from members_pipeline import contract
from members_pipeline.config import WidgetError, parse_extract_widgets, parse_generate_widgets
from members_pipeline.extract import SourceUnavailableError
from members_pipeline.generate import connect
from members_pipeline.mysql import MySqlConnection, SecretError, connection_from_secrets, jdbc_url

PASSWORD = "s3cr3t-never-shown"
# What the JVM says about a certificate that does not chain to a trusted CA.
UNTRUSTED = "PKIX path building failed|does not chain with any of the trust anchors|unable to find valid certification path"
GOOD = {"host": "db.example.com", "port": "3306", "database": "members", "user": "app", "password": PASSWORD}


def _secrets(**override):
    store = {**GOOD, **override}
    return lambda scope, key: store[key]


# --- defaults ------------------------------------------------------------------------------------------------------


def test_defaults_verify_the_server_identity_and_the_generator_has_its_own_scope():
    assert contract.default("extract", "ssl_mode") == "VERIFY_IDENTITY"
    assert contract.default("extract", "trust_store_path") == ""
    assert contract.default("generate", "secret_scope") == "members-mysql-generator"
    assert contract.default("generate", "secret_scope") != contract.default("extract", "secret_scope")
    url = jdbc_url(MySqlConnection("db.example.com", 3306, "members", "app", PASSWORD))
    assert "sslMode=VERIFY_IDENTITY" in url
    assert "trustCertificateKeyStoreUrl" not in url  # empty trust_store_path: the JVM's default trust store


def test_jdbc_url_carries_the_trust_store():
    url = jdbc_url(MySqlConnection("db.example.com", 3306, "members", "app", PASSWORD), "VERIFY_IDENTITY", "/Volumes/main/sec/tls/ca.p12")
    assert "trustCertificateKeyStoreUrl=file%3A%2FVolumes%2Fmain%2Fsec%2Ftls%2Fca.p12" in url
    assert "trustCertificateKeyStoreType=PKCS12" in url
    assert PASSWORD not in url


# --- host and database validation (URL injection) -----------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "db.example.com/x?allowLoadLocalInfile=true&",
        "h:1",
        "evil@host",
        "db.example.com?allowUrlInLocalInfile=true",
        "db.example.com#frag",
        "db.example.com&autoDeserialize=true",
        "a=b",
        "db example.com",
        "db.exa\nmple.com",
        "db\t.example.com",
        "db.example.com,evil.example.com",
        "-db.example.com",
        "db..example.com",
        "256.1.1.1",
        "[::1]:3306",
        "::1",
        "[not-ipv6]",
        "[fe80::1%eth0]",
        "a" * 64 + ".example.com",
    ],
)
def test_host_injection_is_refused_naming_scope_and_key_without_the_password(host):
    with pytest.raises(SecretError) as err:
        connection_from_secrets(_secrets(host=host), "members-mysql")
    message = str(err.value)
    assert message.startswith('secret scope "members-mysql", key "host": got "')
    assert "expected a DNS name, an IPv4 address or a bracketed IPv6 literal" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("host", ["db.example.com", "localhost", "127.0.0.1", "[::1]", "[2001:db8::10]", "db-1.eu-west-1.rds.amazonaws.com", "db."])
def test_valid_hosts_are_accepted(host):
    assert connection_from_secrets(_secrets(host=host), "s").host == host


@pytest.mark.parametrize("database", ["members/../mysql", "members?sslMode=DISABLED", "mem bers", "members&x=1", "a" * 65, "db-1"])
def test_database_must_be_a_plain_identifier(database):
    with pytest.raises(SecretError, match=r'key "database": got ".*", expected a database name of letters, digits and underscores') as err:
        connection_from_secrets(_secrets(database=database), "scope")
    assert PASSWORD not in str(err.value)


def test_repr_of_an_accepted_connection_hides_the_password():
    conn = connection_from_secrets(_secrets(), "s")
    assert PASSWORD not in repr(conn) and PASSWORD not in jdbc_url(conn)


# --- widgets --------------------------------------------------------------------------------------------------------

EXTRACT = {
    "secret_scope": "s",
    "landing_path": "/tmp/l",
    "run_date": "2026-01-31",
    "partition_count": "2",
    "fetch_size": "1000",
    "ssl_mode": "VERIFY_IDENTITY",
    "source_table": "members",
}


def test_trust_store_path_is_parsed_and_checked():
    cfg = parse_extract_widgets({**EXTRACT, "trust_store_path": "/Volumes/main/sec/tls/ca.p12"}.get)
    assert (cfg.ssl_mode, cfg.trust_store_path) == ("VERIFY_IDENTITY", "/Volumes/main/sec/tls/ca.p12")
    with pytest.raises(WidgetError) as err:
        parse_extract_widgets({**EXTRACT, "trust_store_path": "ca.p12"}.get)
    assert 'widget "trust_store_path": got "ca.p12", expected empty or an absolute file path' in str(err.value)
    with pytest.raises(WidgetError) as err:
        parse_extract_widgets({**EXTRACT, "ssl_mode": "REQUIRED", "trust_store_path": "/Volumes/a/b/c/ca.p12"}.get)
    assert 'widget "trust_store_path": got "/Volumes/a/b/c/ca.p12", expected empty with ssl_mode REQUIRED' in str(err.value)


def test_generator_ca_path_widget():
    widgets = {"secret_scope": "g", "rows": "1", "seed": "1", "batch_size": "1", "table": "t", "if_exists": "FAIL", "invalid_rows": "0"}
    assert parse_generate_widgets(widgets.get).ca_path == ""
    assert parse_generate_widgets({**widgets, "ca_path": "/Volumes/m/s/v/ca.pem"}.get).ca_path == "/Volumes/m/s/v/ca.pem"
    with pytest.raises(WidgetError, match='widget "ca_path": got "x y"'):
        parse_generate_widgets({**widgets, "ca_path": "x y"}.get)


# --- against the TLS MariaDB ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A CA that did not sign the server's certificate, as PEM and as a password-less PKCS12 trust store."""
    d = tmp_path_factory.mktemp("other-ca")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=not the test CA"]
        + ["-keyout", str(d / "key.pem"), "-out", str(d / "ca.pem")],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["keytool", "-J-Dkeystore.pkcs12.certProtectionAlgorithm=NONE", "-J-Dkeystore.pkcs12.macAlgorithm=NONE", "-importcert"]
        + ["-noprompt", "-storetype", "PKCS12", "-keystore", str(d / "ts.p12"), "-storepass", "unused", "-alias", "x", "-file", str(d / "ca.pem")],
        check=True,
        capture_output=True,
    )
    return {"pem": str(d / "ca.pem"), "p12": str(d / "ts.p12")}


class Forwarder:
    """127.0.0.2:<port> -> the test server: the same server and certificate, reached under a name the certificate
    does not carry (it names localhost and 127.0.0.1)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.2", 0))
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.closed = True
        self.listener.close()


@pytest.fixture
def wrong_host(mysql):
    forwarder = Forwarder((mysql.conn.host, mysql.conn.port))
    c = mysql.conn
    yield MySqlConnection("127.0.0.2", forwarder.port, c.database, c.user, c.password)
    forwarder.close()


@pytest.fixture
def one_row_table(mysql):
    table = mysql.create_loose_table()
    mysql.insert(table, [("0a", "Ann", "Lee", "a@b.co", "1", "1 Main St", "Porto", "Portugal", "2020-01-01")])
    return table


def _extract(pipeline, table, conn=None, **widgets):
    return pipeline.extract(table, conn=conn, partition_count="1", **widgets)


def test_extract_verify_identity_with_the_trust_store_reads_the_server(pipeline, mysql, one_row_table):
    assert mysql.conn.host in ("127.0.0.1", "localhost"), "the test server's certificate names localhost and 127.0.0.1"
    summary = _extract(pipeline, one_row_table, ssl_mode="VERIFY_IDENTITY", trust_store_path=TEST_TRUST_STORE)
    assert summary["rows"] == 1
    cipher = mysql.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")[0][1]
    assert cipher, "the test fixture's own PyMySQL connection is TLS too"


def test_extract_refuses_a_server_signed_by_another_ca(pipeline, one_row_table, other_ca):
    with pytest.raises(SourceUnavailableError) as err:
        _extract(pipeline, one_row_table, ssl_mode="VERIFY_IDENTITY", trust_store_path=other_ca["p12"])
    assert re.search(UNTRUSTED, str(err.value)), str(err.value)


def test_extract_refuses_a_server_not_in_the_jvm_default_trust_store(pipeline, one_row_table):
    """The contract default (VERIFY_IDENTITY, no trust store): a private CA is not trusted unless configured."""
    with pytest.raises(SourceUnavailableError, match=UNTRUSTED):
        _extract(pipeline, one_row_table, ssl_mode="VERIFY_IDENTITY", trust_store_path="")


def test_extract_refuses_a_certificate_for_another_host(pipeline, one_row_table, wrong_host):
    # The CA is right: VERIFY_CA (no host name check) reads through the very same forwarder...
    assert _extract(pipeline, one_row_table, conn=wrong_host, ssl_mode="VERIFY_CA", trust_store_path=TEST_TRUST_STORE)["rows"] == 1
    # ...VERIFY_IDENTITY refuses: the certificate does not name 127.0.0.2.
    with pytest.raises(SourceUnavailableError) as err:
        _extract(pipeline, one_row_table, conn=wrong_host, ssl_mode="VERIFY_IDENTITY", trust_store_path=TEST_TRUST_STORE)
    assert "127.0.0.2" in str(err.value)
    assert wrong_host.password not in str(err.value)


def test_generator_connects_with_verified_tls(mysql):
    db = connect(mysql.conn, ca_path=TEST_CA)
    try:
        with db.cursor() as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            assert cur.fetchone()[1].startswith("TLS")
    finally:
        db.close()


def test_generator_refuses_another_ca_and_another_host(mysql, wrong_host, other_ca):
    import pymysql

    with pytest.raises(pymysql.err.OperationalError, match="CERTIFICATE_VERIFY_FAILED"):
        connect(mysql.conn, ca_path=other_ca["pem"])
    with pytest.raises(pymysql.err.OperationalError, match="IP address mismatch|doesn't match|CERTIFICATE_VERIFY_FAILED"):
        connect(wrong_host, ca_path=TEST_CA)


def test_generate_notebook_reads_its_own_scope_over_tls(mysql, tmp_path):
    """The generator notebook reads secret scope members-mysql-generator (not the extract's) and verifies the server."""
    import os
    import sys

    from conftest import NOTEBOOKS

    table = mysql.new_table_name()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMBERS_MYSQL_")}
    c = mysql.conn
    for key, value in {"host": c.host, "port": str(c.port), "database": c.database, "user": c.user, "password": c.password}.items():
        env[f"MEMBERS_SECRET_MEMBERS_MYSQL_GENERATOR_{key.upper()}"] = value
    args = [sys.executable, str(NOTEBOOKS / "run_local.py"), str(NOTEBOOKS / "generate_member_data.py"), "--local-dir", str(tmp_path)]
    args += ["--widget", "rows=5", "--widget", f"table={table}"]
    ok = subprocess.run([*args, "--widget", f"ca_path={TEST_CA}"], env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["inserted"] == 5
    # By hand, without any TLS widget: the runner defaults ca_path to the local MariaDB's CA (README's command works).
    env_local = {**env, "MARIADB_DIR": str(Path(TEST_CA).parent.parent)}
    by_hand = subprocess.run([*args, "--widget", "if_exists=REPLACE"], env=env_local, capture_output=True, text=True, timeout=120)
    assert by_hand.returncode == 0, by_hand.stderr
    assert "TLS widgets default to the local MariaDB's CA" in by_hand.stderr
    # Without the CA (ca_path given empty: the runner's local default does not apply) the system trust store does not
    # know the test CA: refused, nothing written.
    refused = subprocess.run([*args, "--widget", "if_exists=APPEND", "--widget", "ca_path="], env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in refused.stderr, refused.stderr
    assert c.password not in refused.stderr + refused.stdout
