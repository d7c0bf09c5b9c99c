"""Shared fixtures: one local Spark session (Delta + JDBC) per test session, a real MySQL-protocol server.

The server comes from MEMBERS_MYSQL_HOST/PORT/USER/PASSWORD/DATABASE (the Makefile starts MariaDB and exports
them). If it is not configured or not reachable, database tests FAIL; they are skipped only when
MEMBERS_ALLOW_NO_DB=1 says so explicitly.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from members_pipeline.config import parse_extract_widgets, parse_load_widgets
from members_pipeline.extract import extract_members, land_batch
from members_pipeline.files import Files
from members_pipeline.frames import local_frame
from members_pipeline.landing import Manifest
from members_pipeline.load import load_members
from members_pipeline.mysql import MySqlConnection
from members_pipeline.schema import SOURCE_SCHEMA
from members_pipeline.transform import clean_members
from pyspark.sql.types import IntegerType, StructField, StructType
from run_local import SMALL_DATA_CONFS, LocalDbutils, build_spark, local_mysql_tls

NOTEBOOKS = Path(__file__).resolve().parents[1]

# Today, like a scheduled run: the generator draws registration dates up to today, so none is "future".
RUN_DATE = dt.date.today()

# The test server is authenticated like production (VERIFY_IDENTITY against the CA mariadb.sh made: run_local.local_mysql_tls).
TLS = local_mysql_tls()
TEST_CA, TEST_TRUST_STORE, TEST_SSL_MODE = TLS["ca_path"], TLS["trust_store_path"], TLS["ssl_mode"]


# The tests' own session settings, on top of the runner's SMALL_DATA_CONFS. Adaptive query execution re-plans after
# every shuffle and runs each query stage as a Spark job of its own (a third of a small load's jobs); tiny test data
# gains nothing from it (test_load.py + test_guards_retention.py: about a sixth less time). Code generation compiles
# every query's expressions to Java (Janino) before running them on twenty rows; interpreted, a warm 20-row daily load
# takes about 4.2 s instead of 5.6 s and the suite about a tenth less. Results depend on neither (Spark's own test suites
# run both ways), and sessions of the Spark Connect server keep Spark's defaults, so the compute-modes comparison covers
# both.
TEST_SESSION_CONFS = {
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    # Start the JVM under a far-from-UTC OS zone: the pinned -Duser.timezone=UTC must win (asserted in
    # test_versions), and every date test then also proves the pin, not the machine's zone.
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Kiritimati"
    try:
        # The tables live as long as the session: an in-memory catalog, no Derby metastore.
        session = build_spark(tmp_path_factory.mktemp("spark-local"), app_name="members-tests", persistent_catalog=False)
    finally:
        if saved is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = saved
        # Anything that ran localtime() meanwhile (logging) cached Kiritimati in the C library: re-read TZ, or
        # datetimes collected later are rendered in that zone.
        time.tzset()
    for key, value in {**SMALL_DATA_CONFS, **TEST_SESSION_CONFS}.items():
        session.conf.set(key, value)
    yield session
    session.stop()


def _mysql_conn() -> MySqlConnection:
    env = os.environ
    if not env.get("MEMBERS_MYSQL_HOST"):
        message = "MEMBERS_MYSQL_HOST is not set; run through `make py-test` (starts MariaDB) or point it at a server"
        if env.get("MEMBERS_ALLOW_NO_DB") == "1":
            pytest.skip(message)
        pytest.fail(message)
    return MySqlConnection(
        env["MEMBERS_MYSQL_HOST"],
        int(env.get("MEMBERS_MYSQL_PORT", "3306")),
        env.get("MEMBERS_MYSQL_DATABASE", "members"),
        env.get("MEMBERS_MYSQL_USER", "root"),
        env.get("MEMBERS_MYSQL_PASSWORD", ""),
    )


class MySql:
    def __init__(self, conn: MySqlConnection, ca_path: str = TEST_CA):
        from members_pipeline.generate import connect

        self.conn = conn
        self.ca_path = ca_path
        try:
            self.db = connect(conn, ca_path=ca_path, autocommit=True)
        except Exception as exc:
            message = f"cannot reach the test MySQL server at {conn.host}:{conn.port}: {exc}"
            if os.environ.get("MEMBERS_ALLOW_NO_DB") == "1":
                pytest.skip(message)
            pytest.fail(message)
        self.tables: list[str] = []

    def execute(self, sql: str, params=None):
        with self.db.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def executemany(self, sql: str, rows):
        with self.db.cursor() as cur:
            cur.executemany(sql, rows)

    def new_table_name(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self.tables.append(name)
        return name

    def create_loose_table(self) -> str:
        """A `members`-shaped table without a primary key, so tests can land NULL and duplicate ids."""
        name = self.new_table_name()
        self.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'")
        self.execute(f"""CREATE TABLE `{name}` (member_id VARCHAR(36) NULL, first_name VARCHAR(100),
            last_name VARCHAR(100), email VARCHAR(255), phone_number VARCHAR(32), address VARCHAR(255),
            city VARCHAR(100), country VARCHAR(100), registration_date DATE)""")
        return name

    def insert(self, table: str, rows: list[tuple]) -> None:
        self.executemany(f"INSERT INTO `{table}` VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)

    def reconnect(self):
        """A fresh connection, e.g. after the server was restarted under this one."""
        from members_pipeline.generate import connect

        try:
            self.db.close()
        except Exception:
            pass
        self.db = connect(self.conn, ca_path=self.ca_path, autocommit=True)

    def close(self):
        for t in self.tables:
            self.execute(f"DROP TABLE IF EXISTS `{t}`")
        self.db.close()


@pytest.fixture
def mysql():
    db = MySql(_mysql_conn())
    yield db
    db.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running test (1M rows); `make test` deselects it, `make bench` and `make py-test-slow` run it")


class MariaDbServer:
    """A MariaDB of one test's own (notebooks/scripts/mariadb.sh in a folder of its own, a free port, its own
    throwaway CA), for fault tests that stop and start it: tests running beside it (pytest -n) keep the shared server."""

    SCRIPT = NOTEBOOKS / "scripts" / "mariadb.sh"

    def __init__(self, conn: MySqlConnection, directory: Path):
        self.conn = conn
        self.directory = directory
        self.ca_path = str(directory / "tls" / "ca.pem")
        self.trust_store_path = str(directory / "tls" / "truststore.p12")

    def _run(self, action: str) -> None:
        env = {
            **os.environ,
            "MARIADB_DIR": str(self.directory),
            "MARIADB_PORT": str(self.conn.port),
            "MARIADB_DATABASE": self.conn.database,
            "MARIADB_USER": self.conn.user,
            "MARIADB_PASSWORD": self.conn.password,
        }
        done = subprocess.run([str(self.SCRIPT), action], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"mariadb.sh {action} failed ({done.returncode}): {done.stderr[-2000:]}")

    def down(self) -> None:
        self._run("down")

    def up(self) -> None:
        self._run("up")


@pytest.fixture
def private_mariadb(tmp_path_factory):
    """A MariaDBServer of this test's own, started (about 3 s), stopped and removed at the end. Same database, user
    and password as the shared server; a short folder path, as the server's Unix socket path has a length limit."""
    shared = _mysql_conn()
    conn = MySqlConnection("127.0.0.1", free_port(), shared.database, shared.user, shared.password)
    server = MariaDbServer(conn, tmp_path_factory.mktemp("mariadb"))
    server.up()
    try:
        yield server
    finally:
        server.down()


@dataclass
class Pipeline:
    """One test's private landing folder and schema, driving the package exactly as the notebooks do.

    Tests about the extract land batches from MySQL (extract); tests about the load land them directly (land), through
    the extract's own cleaning and writer, without MySQL (mysql is None then)."""

    spark: object
    mysql: MySql | None
    root: Path
    schema: str = field(default_factory=lambda: "s_" + uuid.uuid4().hex[:10])

    @property
    def landing(self) -> str:
        return str(self.root / "landing")

    @property
    def files(self) -> Files:
        return Files(LocalDbutils({}))

    def extract_widgets(self, table: str, run_date: dt.date = RUN_DATE, **extra) -> dict:
        widgets = {
            "secret_scope": "members",
            "landing_path": self.landing,
            "run_date": run_date.isoformat(),
            "partition_count": "4",
            "fetch_size": "0",
            "ssl_mode": TEST_SSL_MODE,
            "trust_store_path": TEST_TRUST_STORE,
            "source_table": table,
            "run_id": "",
        }
        widgets.update({k: str(v) for k, v in extra.items()})
        return widgets

    def extract(self, table: str, run_date: dt.date = RUN_DATE, conn: MySqlConnection | None = None, **extra):
        cfg = parse_extract_widgets(self.extract_widgets(table, run_date, **extra).get)
        return extract_members(self.spark, self.files, conn or self.mysql.conn, cfg)

    def land(
        self, rows: list[tuple], run_date: dt.date = RUN_DATE, run_id: str | None = None, files: int = 2, full_snapshot: bool = True
    ) -> Manifest:
        """Land ``rows`` (source rows as MySQL returns them: member(...) tuples, None for NULL) as the batch of
        ``run_date``, as the extract would: clean_members, then land_batch writes the Parquet files (``files`` of
        them, like JDBC partitions: row i in file i mod ``files``) and publishes the manifest (of a partial batch with
        ``full_snapshot=False``). Only the JDBC read is left out."""
        run_id = run_id or uuid.uuid4().hex
        extracted_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        # A range over the file numbers gives each its own partition (a round robin of a few rows may fill one).
        numbered = StructType([*SOURCE_SCHEMA.fields, StructField("_file", IntegerType())])
        raw = local_frame(self.spark, [(*r, i % files) for i, r in enumerate(rows)], numbered).repartitionByRange(files, "_file")
        cleaned = clean_members(raw, run_id, extracted_at)
        landed = {"run_id": run_id, "extracted_at": extracted_at, "source": None, "full_snapshot": full_snapshot}
        return land_batch(self.spark, self.files, cleaned, self.landing, run_date, **landed)

    def load_widgets(self, **extra) -> dict:
        widgets = {
            "landing_path": self.landing,
            "catalog": "spark_catalog",
            "schema": self.schema,
            "table": "members",
            "ingest_date": "",
            "pii_reader_group": "members-pii-readers",
        }
        widgets.update({k: str(v) for k, v in extra.items()})
        return widgets

    def load(self, **extra) -> dict:
        return load_members(self.spark, self.files, parse_load_widgets(self.load_widgets(**extra).get))

    def table(self, name: str = "members"):
        return self.spark.table(f"spark_catalog.{self.schema}.{name}")

    def partition(self, run_date: dt.date = RUN_DATE) -> Path:
        return self.root / "landing" / "members" / f"ingest_date={run_date.isoformat()}"


@pytest.fixture
def pipeline(spark, mysql, tmp_path):
    return Pipeline(spark, mysql, tmp_path)


@pytest.fixture
def loader(spark, tmp_path):
    """A Pipeline for tests about the load: its batches land directly (Pipeline.land), no MySQL."""
    return Pipeline(spark, None, tmp_path)


def member(member_id, email="a.b@example.com", registration_date=dt.date(2020, 5, 17), first_name="Ann", city="Porto") -> tuple:
    return (member_id, first_name, "Lee", email, "531.754.6833x29494", "1 Main St", city, "Portugal", registration_date)


def free_port() -> int:
    """A local TCP port nothing listens on (bound once by the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class InProcessConnectServer:
    """Spark Connect's own gRPC service (SparkConnectService, what SparkConnectServer runs) started in the tests' JVM.

    The notebook still runs in a process of its own holding only a Connect client session, as on standard access mode
    and serverless; the server side just reuses the JVM the classic tests have warmed up, where a second JVM cost about
    a minute (its start, then a cold first run of Delta and JDBC). Its sessions are new sessions, as on a server of
    their own: none of the classic session's runtime settings carry over. They share the catalog, so every test keeps
    its own schema names."""

    def __init__(self, spark, port: int):
        self.spark = spark
        self.port = port
        self._service = spark._jvm.org.apache.spark.sql.connect.service.SparkConnectService

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def start(self) -> InProcessConnectServer:
        # The service reads its port from the context's configuration when it starts.
        self.spark.sparkContext._jsc.sc().conf().set("spark.connect.grpc.binding.port", str(self.port))
        self._service.start(self.spark.sparkContext._jsc.sc())
        return self

    def stop(self) -> None:
        none = self.spark._jvm.scala.Option.empty()
        self._service.stop(none, none)


@pytest.fixture(scope="session")
def connect_server(spark, tmp_path_factory):
    """A local Spark Connect server with the runner's configuration (Delta, the JDBC driver, UTC): how standard
    access mode and serverless compute run notebooks. In the tests' JVM (InProcessConnectServer); with
    MEMBERS_TEST_CONNECT_SERVER=process a server process of its own (run_local.ConnectServer), stopped by its process
    id at the end of the session."""
    if os.environ.get("MEMBERS_TEST_CONNECT_SERVER") == "process":
        from run_local import ConnectServer

        server = ConnectServer(tmp_path_factory.mktemp("spark-connect"), free_port(), persistent_catalog=False).start()
    else:
        server = InProcessConnectServer(spark, free_port()).start()
    try:
        yield server
    finally:
        server.stop()
