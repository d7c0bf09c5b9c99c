#!/usr/bin/env python3
"""Run a Databricks notebook source (.py) unchanged on local Spark.

    .venv/bin/python notebooks/run_local.py notebooks/extract_members.py \
        --widget secret_scope=members --widget landing_path=$PWD/.local/landing --widget run_date=2026-01-31 \
        --widget trust_store_path=$PWD/.local/mariadb/tls/truststore.p12

Against the local MariaDB (mariadb.sh) pass its CA: trust_store_path (extract, PKCS12) or ca_path (generator, PEM),
both under .local/mariadb/tls/ (`notebooks/scripts/mariadb.sh tls-paths` prints them); the notebooks verify the
server's certificate and host name by default.

The notebook gets what Databricks would give it:
  spark     local Spark with Delta (DeltaCatalog as spark_catalog, Hive/Derby metastore under --local-dir) and the
            MySQL JDBC driver; both Maven coordinates come from stacks/config/platform.json; JVM and session in UTC.
            Created on first use, so notebooks that never touch Spark start instantly.
  dbutils   widgets from --widget key=value (unknown keys are an error), secrets from environment variables
            MEMBERS_SECRET_<SCOPE>_<KEY> (upper-case, non-alphanumerics as _), falling back to MEMBERS_MYSQL_<KEY>;
            fs.ls/put/head/rm/mkdirs on local paths; notebook.exit(value) ends the run and becomes its result.
  display   prints a DataFrame.
The catalog for three-level names is `spark_catalog` (the local Delta catalog); pass --widget catalog=spark_catalog.
The exit value is printed as the last line of stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOTEBOOKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = NOTEBOOKS_DIR.parent
PLATFORM_JSON = REPO_ROOT / "stacks" / "config" / "platform.json"
DEFAULT_LOCAL_DIR = REPO_ROOT / ".local" / "runner"


def platform_pins(path: Path = PLATFORM_JSON) -> dict:
    pins = json.loads(path.read_text())
    return {
        "spark_line": pins["databricksRuntime"]["sparkLine"],
        "spark_version": pins["databricksRuntime"]["sparkVersion"],
        "jdbc_maven": pins["jdbcDriver"]["maven"],
        "delta_maven": pins["delta"]["maven"],
    }


def spark_confs(local_dir: Path, persistent_catalog: bool = True) -> dict[str, str]:
    """The Spark configuration of a local session shaped like a Databricks job cluster (Delta, JDBC driver, UTC,
    persistent catalog); the classic session and the local Spark Connect server both start from it.

    persistent_catalog=False keeps the catalog in memory instead of the Derby metastore: for a session whose tables
    need not outlive it (the tests), where every table lookup through Derby costs time (test_load.py: 120 s -> 104 s).
    """
    local_dir = Path(local_dir).resolve()
    pins = platform_pins()
    # Driver JVM options only take effect when they are known before the JVM starts: the builder passes them
    # to spark-submit on first creation (tests assert the JVM default time zone really is UTC).
    java_opts = f"-Duser.timezone=UTC -Dderby.system.home={local_dir}"
    return {
        "spark.jars.packages": f"{pins['delta_maven']},{pins['jdbc_maven']}",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.catalogImplementation": "hive" if persistent_catalog else "in-memory",
        "spark.sql.warehouse.dir": str(local_dir / "spark-warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={local_dir / 'metastore_db'};create=true",
        "spark.driver.extraJavaOptions": java_opts,
        "spark.executor.extraJavaOptions": java_opts,
        "spark.driver.memory": os.environ.get("MEMBERS_SPARK_DRIVER_MEMORY", "2g"),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.databricks.delta.snapshotPartitions": "2",
        # VACUUM lists the table folder with this many tasks (default 10,000: ~40 s for a tiny local table).
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "4",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
    }


# For sessions over tiny test data: one shuffle partition and one snapshot partition save about a tenth of the
# test suite's time. Session settings, so they apply to a classic session and over Spark Connect alike.
SMALL_DATA_CONFS = {"spark.sql.shuffle.partitions": "1", "spark.databricks.delta.snapshotPartitions": "1"}


def build_spark(local_dir: Path = DEFAULT_LOCAL_DIR, app_name: str = "members-local", cores: str = "*", persistent_catalog: bool = True):
    """A classic local SparkSession with spark_confs (the driver runs in this process's JVM gateway)."""
    from pyspark.sql import SparkSession

    local_dir = Path(local_dir).resolve()
    local_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.master(f"local[{cores}]").appName(app_name)
    for key, value in spark_confs(local_dir, persistent_catalog).items():
        builder = builder.config(key, value)
    spark = (builder.enableHiveSupport() if persistent_catalog else builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class ConnectServer:
    """A local Spark Connect server (pyspark's own SparkConnectServer through spark-submit) with spark_confs, the
    way Databricks standard access mode and serverless run notebooks: the notebook holds only a client session."""

    MAIN_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"

    def __init__(self, local_dir: Path, port: int, cores: str = "*", persistent_catalog: bool = True):
        import pyspark

        self.local_dir = Path(local_dir).resolve()
        self.port = port
        self.log = self.local_dir / "connect-server.log"
        submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
        confs = {**spark_confs(self.local_dir, persistent_catalog), "spark.connect.grpc.binding.port": str(port), "spark.app.name": "members-connect"}
        self.command = [str(submit), "--master", f"local[{cores}]", "--class", self.MAIN_CLASS]
        for key, value in confs.items():
            self.command += ["--conf", f"{key}={value}"]
        self.command.append("spark-internal")
        self.process = None

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 180) -> ConnectServer:
        import socket
        import subprocess

        self.local_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Spark Connect server exited with {self.process.returncode}; log: {self.log}\n{self.log.read_text()[-3000:]}")
            with socket.socket() as probe:
                probe.settimeout(1)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Spark Connect server not listening on port {self.port} after {timeout_s:.0f} s; log: {self.log}")

    def stop(self) -> None:
        """Stops the server by its process group (spark-submit and the JVM it started)."""
        import signal
        import subprocess

        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def pin_utc() -> None:
    """Python side in UTC too (timestamps collected to the driver are rendered in the process zone)."""
    os.environ["TZ"] = "UTC"
    time.tzset()


class _LazySpark:
    """Builds the session on first attribute access (the generator notebook never needs a JVM)."""

    def __init__(self, factory):
        self._factory = factory
        self._spark = None

    def get(self):
        if self._spark is None:
            self._spark = self._factory()
        return self._spark

    @property
    def started(self) -> bool:
        return self._spark is not None

    @property
    def conf(self):
        """Reading a deployment setting (spark.members.*) before the session exists does not start it: a session this
        runner builds never has one (a test that wants them passes its own session with them set)."""
        return self._spark.conf if self._spark is not None else _UnstartedConf(self)

    def __getattr__(self, name):
        return getattr(self.get(), name)


class _UnstartedConf:
    def __init__(self, lazy: _LazySpark):
        self._lazy = lazy

    def get(self, key: str, *default):
        if key.startswith("spark.members.") and default:
            return default[0]
        return self._lazy.get().conf.get(key, *default)

    def __getattr__(self, name):
        return getattr(self._lazy.get().conf, name)


class NotebookExit(Exception):
    def __init__(self, value: str):
        super().__init__(value)
        self.value = value


@dataclass
class FileInfo:
    path: str
    name: str
    size: int
    modificationTime: int


def _local(path: str) -> Path:
    return Path(re.sub(r"^(file|dbfs):", "", path))


class _Fs:
    def ls(self, path: str) -> list[FileInfo]:
        p = _local(path)
        if not p.exists():
            raise FileNotFoundError(f"No such file or directory: {path}")
        entries = sorted(p.iterdir()) if p.is_dir() else [p]
        return [
            FileInfo(
                str(e) + ("/" if e.is_dir() else ""),
                e.name + ("/" if e.is_dir() else ""),
                0 if e.is_dir() else e.stat().st_size,
                int(e.stat().st_mtime * 1000),
            )
            for e in entries
        ]

    def put(self, path: str, contents: str, overwrite: bool = False) -> bool:
        p = _local(path)
        if p.exists() and not overwrite:
            raise FileExistsError(f"{path} exists and overwrite is false")
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name("." + p.name + ".tmp")
        tmp.write_text(contents)
        os.replace(tmp, p)  # atomic, like an object-store PUT
        return True

    def head(self, path: str, maxBytes: int = 65536) -> str:
        with open(_local(path), "rb") as f:
            return f.read(maxBytes).decode("utf-8")

    def rm(self, path: str, recurse: bool = False) -> bool:
        p = _local(path)
        if not p.exists():
            return False
        if p.is_dir():
            if not recurse:
                raise IsADirectoryError(f"{path} is a directory; pass recurse=True")
            shutil.rmtree(p)
        else:
            p.unlink()
        return True

    def mkdirs(self, path: str) -> bool:
        _local(path).mkdir(parents=True, exist_ok=True)
        return True


class _Widgets:
    def __init__(self, values: dict[str, str], local_defaults: dict[str, str] | None = None):
        self._values = dict(values)
        self._defaults: dict[str, str] = {}
        # Replace a declared widget's default (the CLI: the local MariaDB's CA), never a given value.
        self._local_defaults = dict(local_defaults or {})

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:
        self._defaults[name] = defaultValue

    def dropdown(self, name: str, defaultValue: str, choices: list, label: str | None = None) -> None:
        self._defaults[name] = defaultValue

    combobox = dropdown

    def get(self, name: str) -> str:
        if name in self._values:
            return self._values[name]
        if name in self._defaults:
            return self._local_defaults.get(name, self._defaults[name])
        raise ValueError(f"No input widget named {name} is defined")

    getArgument = get

    def removeAll(self) -> None:
        self._defaults.clear()

    def undeclared(self) -> list[str]:
        return sorted(set(self._values) - set(self._defaults))


def local_mysql_tls(env: dict | None = None) -> dict[str, str]:
    """The TLS widgets for the local MariaDB (notebooks/scripts/mariadb.sh), which serves a certificate for localhost
    and 127.0.0.1 signed by a throwaway CA under $MARIADB_DIR/tls: extract verifies it like production
    (ssl_mode VERIFY_IDENTITY, trust_store_path = the CA as a PKCS12 trust store), the generator with ca_path (PEM).
    MEMBERS_MYSQL_SSL_MODE / MEMBERS_MYSQL_TRUST_STORE / MEMBERS_MYSQL_CA override them for another server."""
    env = os.environ if env is None else env
    tls = Path(env.get("MARIADB_DIR") or REPO_ROOT / ".local" / "mariadb") / "tls"
    return {
        "ssl_mode": env.get("MEMBERS_MYSQL_SSL_MODE") or "VERIFY_IDENTITY",
        "trust_store_path": env.get("MEMBERS_MYSQL_TRUST_STORE") or str(tls / "truststore.p12"),
        "ca_path": env.get("MEMBERS_MYSQL_CA") or str(tls / "ca.pem"),
    }


def secret_env_name(scope: str, key: str) -> str:
    clean = lambda s: re.sub(r"[^A-Za-z0-9]", "_", s).upper()  # noqa: E731
    return f"MEMBERS_SECRET_{clean(scope)}_{clean(key)}"


class _Secrets:
    def __init__(self, env: dict | None = None):
        self._env = os.environ if env is None else env

    def get(self, scope: str, key: str) -> str:
        for name in (secret_env_name(scope, key), "MEMBERS_MYSQL_" + re.sub(r"[^A-Za-z0-9]", "_", key).upper()):
            if self._env.get(name):
                return self._env[name]
        raise KeyError(f"Secret does not exist with scope: {scope} and key: {key} (set {secret_env_name(scope, key)})")


class _Notebook:
    def exit(self, value: str) -> None:
        raise NotebookExit(value)


class LocalDbutils:
    def __init__(self, widgets: dict[str, str], env: dict | None = None, local_defaults: dict[str, str] | None = None):
        self.widgets = _Widgets(widgets, local_defaults)
        self.secrets = _Secrets(env)
        self.fs = _Fs()
        self.notebook = _Notebook()


def _display(obj: Any, *args, **kwargs) -> None:
    if hasattr(obj, "show"):
        obj.show(20, truncate=False)
    else:
        print(obj)


@dataclass
class RunResult:
    exit_value: str | None
    seconds: float

    def json(self) -> Any:
        return json.loads(self.exit_value) if self.exit_value else None


def run_notebook(
    notebook: str | Path,
    widgets: dict[str, str] | None = None,
    *,
    spark=None,
    local_dir: Path = DEFAULT_LOCAL_DIR,
    env: dict | None = None,
    local_defaults: dict[str, str] | None = None,
    restrictions=None,
) -> RunResult:
    """Execute a notebook source file as Databricks would run it as a job task; returns its exit value.

    local_defaults replace the defaults of the widgets the notebook declares (not given values); unused ones are ignored.
    restrictions: a databricks_restrictions.Profile; the notebook then runs in the restriction mode, where what
    Databricks refuses on that compute and those fine-grained tables raises DatabricksRestrictionError.
    """
    path = Path(notebook).resolve()
    source = path.read_text()
    if not source.startswith("# Databricks notebook source"):
        raise ValueError(f"{path} is not a Databricks notebook source (missing '# Databricks notebook source')")
    dbutils = LocalDbutils(widgets or {}, env, local_defaults)
    session = spark if spark is not None else _LazySpark(lambda: build_spark(local_dir))
    scope = {"__name__": "__main__", "__file__": str(path), "spark": session, "dbutils": dbutils, "display": _display}
    started = time.monotonic()
    exit_value = None
    try:
        with _restriction_mode(session, restrictions):
            exec(compile(source, str(path), "exec"), scope)
    except NotebookExit as done:
        exit_value = done.value
    except Exception:
        if dbutils.widgets.undeclared():
            print(f"run_local: note: unknown widget(s) {', '.join(dbutils.widgets.undeclared())}", file=sys.stderr)
        raise
    unknown = dbutils.widgets.undeclared()
    if unknown:
        raise ValueError(f"{path.name}: unknown widget(s) {', '.join(unknown)}; the notebook declares {', '.join(sorted(dbutils.widgets._defaults))}")
    return RunResult(exit_value, round(time.monotonic() - started, 2))


def _restriction_mode(session, restrictions):
    if restrictions is None:
        return contextlib.nullcontext()
    from databricks_restrictions import restricted

    return restricted(session, restrictions)


def cli_restrictions(computes: list[str], fine_grained: list[str], widgets: dict[str, str]):
    """The CLI's profile: --fine-grained names, or else the load's two PII tables from the catalog/schema/table
    widgets (the end-to-end tests' default); None without --restrict."""
    if not computes:
        return None
    from databricks_restrictions import pipeline_profile, profile

    if fine_grained:
        return profile(*computes, fine_grained=fine_grained)
    if widgets.get("catalog") and widgets.get("schema"):
        return pipeline_profile(*computes, catalog=widgets["catalog"], schema=widgets["schema"], table=widgets.get("table") or "members")
    return profile(*computes)


def _parse_widget(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f'--widget: got "{text}", expected key=value')
    key, value = text.split("=", 1)
    return key.strip(), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook")
    parser.add_argument("--widget", "-w", action="append", type=_parse_widget, default=[], metavar="KEY=VALUE")
    parser.add_argument("--local-dir", type=Path, default=DEFAULT_LOCAL_DIR, help="local metastore and warehouse (default: .local/runner)")
    parser.add_argument("--traceback", action="store_true", help="print the full traceback on failure")
    parser.add_argument(
        "--no-local-tls",
        action="store_true",
        help="do not default trust_store_path / ca_path to the local MariaDB's CA (.local/mariadb/tls, when it exists)",
    )
    parser.add_argument(
        "--restrict",
        action="append",
        choices=("dedicated", "serverless"),
        default=[],
        help="restriction mode: refuse what Databricks refuses on this compute (repeatable; databricks_restrictions.py)",
    )
    parser.add_argument(
        "--fine-grained",
        action="append",
        default=[],
        metavar="CATALOG.SCHEMA.TABLE",
        help="a table with row filters or column masks, for --restrict (repeatable; default: the load's members table "
        "and its quarantine, from the catalog/schema/table widgets)",
    )
    args = parser.parse_args(argv)
    pin_utc()
    widgets = dict(args.widget)
    restrictions = cli_restrictions(args.restrict, args.fine_grained, widgets)
    if restrictions is not None:
        tables = ", ".join(sorted(".".join(t) for t in restrictions.fine_grained)) or "none"
        print(f"run_local: restriction mode {'+'.join(sorted(restrictions.computes))}, fine-grained tables: {tables}", file=sys.stderr)
    # Out of the box against the local MariaDB (mariadb.sh): the notebooks verify the server (VERIFY_IDENTITY), so the
    # TLS widgets default to its CA when the files exist; a --widget value (even empty) wins.
    local_tls = {} if args.no_local_tls else {k: v for k, v in local_mysql_tls().items() if k != "ssl_mode" and Path(v).is_file()}
    if local_tls:
        print(f"run_local: TLS widgets default to the local MariaDB's CA: {local_tls} (--no-local-tls: off)", file=sys.stderr)
    try:
        result = run_notebook(args.notebook, widgets, local_dir=args.local_dir, local_defaults=local_tls, restrictions=restrictions)
    except Exception as exc:  # noqa: BLE001 - the CLI reports any notebook failure
        if args.traceback:
            import traceback

            traceback.print_exc()
        print(f"run_local: {Path(args.notebook).name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"run_local: {Path(args.notebook).name} finished in {result.seconds}s", file=sys.stderr)
    print(result.exit_value if result.exit_value is not None else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
