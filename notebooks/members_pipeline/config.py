"""Typed, validated notebook parameters.

Widgets arrive as strings. Every parser collects *all* problems and raises one WidgetError whose message names
each widget, the value it got and what was expected, e.g.
``widget "partition_count": got "zero", expected an integer between 1 and 256``.

A widget the deployment fixes (``deployed``, see deployment.py) takes the deployed value; a run that sets it to
anything else is refused, e.g. ``widget "pii_reader_group": got "account users", expected "members-pii-readers"
(fixed by the deployment: spark.members.load.pii_reader_group; change it in the stack's configuration)``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from . import contract

Getter = Callable[[str], str]

SSL_MODES = ("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
_RUN_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_SCHEME = re.compile(r"^(s3|s3a|abfss|gs|dbfs|file):/+|^/")
_LOCAL_FILE = re.compile(r"^/[^\s?#&;]*[^/\s?#&;]$")


class WidgetError(ValueError):
    """One or more notebook widgets hold an invalid value."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid notebook parameters:\n  " + "\n  ".join(problems))


class _Collector:
    """Reads one notebook's widgets; defaults and bounds come from the contract (contract.json).

    deployed: the deployment settings (deployment.py) by widget name. Such a widget yields the deployed value when
    it is empty or holds the same value; any other value is a problem, so the run stops before it reads or writes.
    """

    def __init__(self, get: Getter, notebook: str, deployed: Mapping[str, str] | None = None):
        self._get = get
        self._notebook = notebook
        self._deployed = dict(deployed or {})
        self._refused: set[str] = set()
        self.problems: list[str] = []

    def _bounds(self, name: str) -> tuple:
        return contract.bounds(self._notebook, name)

    def _default(self, name: str) -> str:
        return contract.default(self._notebook, name)

    def raw(self, name: str) -> str:
        value = (self._get(name) or "").strip()
        if name not in self._deployed:
            return value
        fixed = self._deployed[name]
        if value and value != fixed and name not in self._refused:
            self._refused.add(name)
            key = contract.deployment_conf_key(self._notebook, name)
            self.fail(name, value, f'"{fixed}" (fixed by the deployment: {key}; change it in the stack\'s configuration)')
        return fixed

    @property
    def fixed_by_deployment(self) -> frozenset[str]:
        return frozenset(self._deployed)

    def fail(self, name: str, value: str, expected: str) -> None:
        self.problems.append(f'widget "{name}": got "{value}", expected {expected}')

    def text(self, name: str, expected: str = "a non-empty value") -> str:
        value = self.raw(name)
        if not value:
            self.fail(name, value, expected)
        return value

    def integer(self, name: str) -> int:
        low, high = self._bounds(name)
        value = self.raw(name)
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.fail(name, value, f"an integer between {low} and {high}")
            return low
        return number

    def date(self, name: str, optional: bool = False) -> dt.date | None:
        value = self.raw(name)
        if not value and optional:
            return None
        # Databricks passes {{job.start_time.iso_date}} as YYYY-MM-DD; accept a full ISO timestamp too.
        try:
            return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else dt.date.fromisoformat(value)
        except ValueError:
            self.fail(name, value, "a date YYYY-MM-DD" + (" or empty" if optional else ""))
            return None

    def identifier(self, name: str) -> str:
        value = self.raw(name)
        if not _IDENTIFIER.match(value):
            self.fail(name, value, "a name of letters, digits and underscores")
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.raw(name)
        upper = value.upper()
        if upper not in choices:
            self.fail(name, value, "one of " + ", ".join(choices))
        return upper

    def share(self, name: str) -> Decimal:
        """A fraction in [min, max] = [0, 1] (exact Decimal, so 0.05 of 1,000 is 50, not 50.000000000000004);
        empty = default."""
        default = self._default(name)
        low, high = self._bounds(name)
        value = self.raw(name) or default
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or not low <= number <= high:
            self.fail(name, value, f"a share between {low} and {high}, e.g. 0.05 for 5%")
            return Decimal(default)
        return number

    def boolean(self, name: str) -> bool:
        value = self.raw(name) or self._default(name)
        if value.lower() not in ("true", "false"):
            self.fail(name, value, "true or false")
            return False
        return value.lower() == "true"

    def integer_or_default(self, name: str) -> int:
        if not self.raw(name):
            return int(self._default(name))
        return self.integer(name)

    def path(self, name: str) -> str:
        value = self.raw(name)
        if not _SCHEME.match(value):
            self.fail(name, value, "an absolute path or a URL such as s3://bucket/prefix or abfss://c@a.dfs.core.windows.net/p")
        return value.rstrip("/")

    def local_file(self, name: str) -> str:
        """An optional absolute path of a file the driver and executors read (/Volumes/... on Databricks); "" = none."""
        value = self.raw(name)
        if value and not _LOCAL_FILE.match(value):
            self.fail(name, value, "empty or an absolute file path such as /Volumes/catalog/schema/volume/file")
        return value

    def done(self) -> None:
        if self.problems:
            raise WidgetError(self.problems)


@dataclass(frozen=True)
class ExtractConfig:
    secret_scope: str
    landing_path: str
    run_date: dt.date
    partition_count: int
    fetch_size: int
    ssl_mode: str
    source_table: str
    run_id: str
    # PKCS12 trust store with the MySQL server's CA (Connector/J trustCertificateKeyStoreUrl); "" = the JVM default.
    trust_store_path: str = contract.default("extract", "trust_store_path")


def parse_extract_widgets(get: Getter, deployed: Mapping[str, str] | None = None) -> ExtractConfig:
    c = _Collector(get, "extract", deployed)
    scope = c.text("secret_scope", "the name of the secret scope holding the MySQL connection")
    landing = c.path("landing_path")
    run_date = c.date("run_date")
    partitions = c.integer("partition_count")
    fetch = c.integer("fetch_size")
    ssl_mode = c.choice("ssl_mode", SSL_MODES)
    table = c.identifier("source_table")
    run_id = c.raw("run_id") or uuid.uuid4().hex
    if not _RUN_ID.match(run_id):
        c.fail("run_id", run_id, "up to 64 letters, digits or ._:- (or empty for a generated id)")
    trust_store = c.local_file("trust_store_path")
    if trust_store and ssl_mode not in ("VERIFY_CA", "VERIFY_IDENTITY"):
        c.fail("trust_store_path", trust_store, f"empty with ssl_mode {ssl_mode} (a trust store only applies to VERIFY_CA or VERIFY_IDENTITY)")
    c.done()
    return ExtractConfig(scope, landing, run_date, partitions, fetch, ssl_mode, table, run_id, trust_store)


@dataclass(frozen=True)
class LoadConfig:
    landing_path: str
    catalog: str
    schema: str
    table: str
    ingest_date: dt.date | None
    pii_reader_group: str
    # Defaults of the guard and retention widgets (contract.json): an empty widget value means the default too.
    max_deleted_share: Decimal = Decimal(contract.default("load", "max_deleted_share"))
    max_quarantined_share: Decimal = Decimal(contract.default("load", "max_quarantined_share"))
    accept_mass_change: bool = contract.default("load", "accept_mass_change") == "true"
    pii_retention_days: int = int(contract.default("load", "pii_retention_days"))
    history_retention_days: int = int(contract.default("load", "history_retention_days"))
    # Widgets whose values the deployment fixed (deployment.py); the view only unmasks PII for a fixed group.
    fixed_by_deployment: frozenset[str] = frozenset()
    # Schema of the masked view readers query; "" = <schema>_masked (the stack's default name).
    masked_schema: str = ""

    @property
    def members_table(self) -> str:
        return f"`{self.catalog}`.`{self.schema}`.`{self.table}`"

    @property
    def quarantine_table(self) -> str:
        return f"`{self.catalog}`.`{self.schema}`.`{self.table}_quarantine`"

    @property
    def load_log_table(self) -> str:
        return f"`{self.catalog}`.`{self.schema}`.`{self.table}_load_log`"

    @property
    def masked_schema_name(self) -> str:
        return self.masked_schema or f"{self.schema}_masked"

    @property
    def masked_view(self) -> str:
        return f"`{self.catalog}`.`{self.masked_schema_name}`.`{self.table}`"


def parse_load_widgets(get: Getter, deployed: Mapping[str, str] | None = None) -> LoadConfig:
    c = _Collector(get, "load", deployed)
    landing = c.path("landing_path")
    catalog = c.identifier("catalog")
    schema = c.identifier("schema")
    table = c.identifier("table")
    ingest_date = c.date("ingest_date", optional=True)
    group = c.text("pii_reader_group", "the account group allowed to read PII in clear")
    masked_schema = c.raw("masked_schema")
    if masked_schema and not _IDENTIFIER.match(masked_schema):
        c.fail("masked_schema", masked_schema, "empty (<schema>_masked) or a name of letters, digits and underscores")
    max_deleted = c.share("max_deleted_share")
    max_quarantined = c.share("max_quarantined_share")
    accept = c.boolean("accept_mass_change")
    pii_days = c.integer_or_default("pii_retention_days")
    # At least a day (contract min): VACUUM must not delete files a running reader or writer may still need.
    history_days = c.integer_or_default("history_retention_days")
    c.done()
    return LoadConfig(
        landing,
        catalog,
        schema,
        table,
        ingest_date,
        group,
        max_deleted,
        max_quarantined,
        accept,
        pii_days,
        history_days,
        c.fixed_by_deployment,
        masked_schema,
    )


@dataclass(frozen=True)
class GenerateConfig:
    secret_scope: str
    rows: int
    seed: int
    batch_size: int
    table: str
    if_exists: str
    invalid_rows: int
    # PEM CA the generator verifies the MySQL server's certificate against; "" = the system CAs.
    ca_path: str = contract.default("generate", "ca_path")


IF_EXISTS = ("FAIL", "REPLACE", "APPEND")


def parse_generate_widgets(get: Getter, deployed: Mapping[str, str] | None = None) -> GenerateConfig:
    c = _Collector(get, "generate", deployed)
    scope = c.text("secret_scope", "the name of the secret scope holding the MySQL connection")
    rows = c.integer("rows")
    seed = c.integer("seed")
    batch = c.integer("batch_size")
    table = c.identifier("table")
    if_exists = c.choice("if_exists", IF_EXISTS)
    invalid = c.integer("invalid_rows")
    if not c.problems and invalid > rows:
        c.fail("invalid_rows", str(invalid), f"at most rows ({rows})")
    ca_path = c.local_file("ca_path")
    c.done()
    return GenerateConfig(scope, rows, seed, batch, table, if_exists, invalid, ca_path)
