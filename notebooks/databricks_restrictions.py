"""Databricks' restrictions, enforced locally: a mode of the local runner that refuses, with Databricks' documented
error class, what the deployed compute and objects do not support. Local only: not part of the members_pipeline wheel.

    with restricted(spark, pipeline_profile(DEDICATED, catalog="spark_catalog", schema="s")):
        run the notebooks ...   # DESCRIBE HISTORY on the members table raises DatabricksRestrictionError

A profile names the kinds of compute whose restrictions apply (DEDICATED: the stack's job clusters, dedicated access
mode; SERVERLESS: Spark Connect compute, standard access mode and serverless) and the fine-grained tables (row
filters or column masks, set per table or by an ABAC policy). RULES is the one rule table: each entry cites the
Databricks page that documents it. Only what Databricks documents as unsupported is refused.

What is intercepted, on a classic session and over Spark Connect alike:
  spark.sql(...)         the statement's parsed plan: Spark's own parser, through the JVM on a classic session and
                         through EXPLAIN on the Connect server (whose base parser does not know Delta's own statements,
                         so DESCRIBE HISTORY and RESTORE are recognised from the text there, see _delta_statement)
  DataFrame APIs         reader options versionAsOf/timestampAsOf, writer modes and replaceWhere, DataFrameWriterV2
                         overwrite/overwritePartitions/replace, cache/persist/cacheTable, DeltaTable
                         history/update/delete/restore (patched on the classes while the mode is on)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

DEDICATED = "dedicated"
SERVERLESS = "serverless"
COMPUTES = (DEDICATED, SERVERLESS)

# The kinds of operation the rules speak about.
HISTORY, TIME_TRAVEL, WRITE, CACHE = "history", "time travel", "write", "cache"

FGAC_DEDICATED_DOC = "https://docs.databricks.com/aws/en/compute/single-user-fgac"
RLS_CM_ERROR_DOC = "https://docs.databricks.com/aws/en/error-messages/row-level-security-column-mask-feature-not-supported-error-class"
FGAC_TIME_TRAVEL_DOC = "https://docs.databricks.com/aws/en/error-messages/fgac-time-travel-not-supported-error-class"
SERVERLESS_LIMITS_DOC = "https://docs.databricks.com/aws/en/compute/serverless/limitations"


@dataclass(frozen=True)
class Rule:
    kind: str
    computes: frozenset[str]
    fine_grained_only: bool
    error_class: str | None  # None: Databricks documents the restriction but no error class for it
    reason: str
    source: str


RULES: tuple[Rule, ...] = (
    # Any compute: the error condition names no compute kind.
    Rule(
        HISTORY,
        frozenset(COMPUTES),
        True,
        "ROW_LEVEL_SECURITY_COLUMN_MASK_FEATURE_NOT_SUPPORTED.DESCRIBE_HISTORY",
        "Reading commit history is not supported for tables with row level security and column mask policies.",
        RLS_CM_ERROR_DOC,
    ),
    Rule(
        TIME_TRAVEL,
        frozenset({DEDICATED}),
        True,
        "FGAC_TIME_TRAVEL_NOT_SUPPORTED.DEDICATED_COMPUTE",
        "Time travel on tables with fine-grained access control does not support Dedicated Compute at this time.",
        FGAC_TIME_TRAVEL_DOC,
    ),
    # Standard compute and serverless allow it only on tables with catalog commits enabled (and ABAC policies, not
    # per-table masks); no table the stack creates enables catalog commits.
    Rule(
        TIME_TRAVEL,
        frozenset({SERVERLESS}),
        True,
        "FGAC_TIME_TRAVEL_NOT_SUPPORTED.NOT_CATALOG_OWNED",
        "Time travel on tables with fine-grained access control is only supported on tables with catalog commits enabled.",
        FGAC_TIME_TRAVEL_DOC,
    ),
    # "Support for write operations" (Public Preview): the page lists what writes, not an error class.
    Rule(
        WRITE,
        frozenset({DEDICATED}),
        True,
        None,
        "on dedicated compute only the MERGE INTO command, the Delta merge API and DataFrame.write.mode('append') write "
        "to tables with row filters or column masks (Public Preview, Databricks Runtime 16.3 and above)",
        FGAC_DEDICATED_DOC,
    ),
    # Error text as serverless raises it: "[NOT_SUPPORTED_WITH_SERVERLESS] PERSIST TABLE is not supported on serverless
    # compute. SQLSTATE: 0A000" (github.com/capitalone/datacompy/issues/407).
    Rule(
        CACHE,
        frozenset({SERVERLESS}),
        False,
        "NOT_SUPPORTED_WITH_SERVERLESS",
        "Caching (DataFrame cache/persist, CACHE TABLE, spark.catalog.cacheTable) is not supported on serverless compute.",
        SERVERLESS_LIMITS_DOC,
    ),
)


class DatabricksRestrictionError(Exception):
    """An operation Databricks refuses on the profile's compute and objects; raised before anything ran."""

    def __init__(self, rule: Rule, operation: str, table: str | None, compute: str):
        self.rule, self.operation, self.table, self.compute = rule, operation, table, compute
        self.error_class = rule.error_class
        where = f" on {table}" if table else ""
        prefix = f"[{rule.error_class}] " if rule.error_class else ""
        undocumented = "" if rule.error_class else "Databricks documents no error class for it; "
        declared = f"{table} is declared fine-grained, " if rule.fine_grained_only and table else ""
        super().__init__(
            f"{prefix}{operation}{where}: {rule.reason} (local restriction mode, {rule.kind} rule, {declared}"
            f"compute {compute}; {undocumented}source: {rule.source})"
        )


TableName = tuple[str, ...]


def split_name(name: str) -> TableName:
    """`a`.`b`.c -> ("a", "b", "c"): dots outside backticks separate, `` is a literal backtick."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(name):
        ch = name[i]
        if ch == "`":
            if quoted and name[i + 1 : i + 2] == "`":
                current.append("`")
                i += 1
            else:
                quoted = not quoted
        elif ch == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return tuple(p.strip() for p in parts)


def _key(parts: Iterable[str]) -> TableName:
    return tuple(p.lower() for p in parts)


@dataclass(frozen=True)
class Profile:
    computes: frozenset[str]
    fine_grained: frozenset[TableName]

    def __post_init__(self):
        unknown = set(self.computes) - set(COMPUTES)
        if not self.computes or unknown:
            raise ValueError(f"restriction profile: got computes {sorted(self.computes)}, expected one or more of {COMPUTES}")
        bad = [".".join(t) for t in self.fine_grained if len(t) != 3 or not all(t)]
        if bad:
            raise ValueError(f"restriction profile: fine-grained table(s) {bad}: expected catalog.schema.table names")


def profile(*computes: str, fine_grained: Iterable[str] = ()) -> Profile:
    return Profile(frozenset(computes), frozenset(_key(split_name(t)) for t in fine_grained))


def pipeline_profile(*computes: str, catalog: str, schema: str, table: str = "members") -> Profile:
    """The end-to-end tests' default: the load's two PII tables (members and its quarantine) are fine-grained.

    Deliberately strict: on Databricks they carry Unity Catalog `pii` tags, and a governance team's ABAC policy on the
    tag makes them fine-grained without the stack knowing, so the load may only use what works on fine-grained tables.
    Names come from LoadConfig, as the load itself forms them."""
    from members_pipeline.config import LoadConfig

    cfg = LoadConfig("", catalog, schema, table, None, "")
    return profile(*computes, fine_grained=(cfg.members_table, cfg.quarantine_table))


@dataclass(frozen=True)
class Access:
    """What a statement or API call does that a rule speaks about."""

    kind: str
    operation: str
    table: TableName | None


# --- parsed plans (Spark's tree string: classic parsePlan(...).treeString() or EXPLAIN's "Parsed Logical Plan") ---

_NODE_LINE = re.compile(r"^(?P<indent>[ :+|-]*)'?(?P<node>[A-Za-z]\w*)")
_TIME_TRAVEL = re.compile(r"\b(?:Relation)?TimeTravel '?UnresolvedRelation \[([^\]]*)\]")
_COMMAND_ON_TABLE = re.compile(r"\bUnresolvedTable(?:OrView)? \[([^\]]*)\], ([A-Z][A-Z .]*?),")
_WRITE_TARGET = re.compile(r"\bUnresolvedRelation \[([^\]]*)\], \[__required_write_privileges__=([A-Z,]+)\]")
_IDENTIFIER = re.compile(r"\bUnresolvedIdentifier \[([^\]]*)\]")
_CACHE_TABLE = re.compile(r"^'?CacheTable(?:AsSelect)?\b(?: \[([^\]]*)\])?")
# Write nodes of the parsed plan and what they are; None: a write the rules allow.
_WRITE_NODES = {
    "UpdateTable": "UPDATE",
    "DeleteFromTable": "DELETE",
    "OverwriteByExpression": "INSERT INTO ... REPLACE WHERE / overwrite by condition",
    "OverwritePartitionsDynamic": "INSERT OVERWRITE (dynamic partitions)",
    "MergeIntoTable": None,
    "AppendData": None,
}


def _parts(text: str) -> TableName:
    return tuple(p.strip() for p in text.split(","))


def plan_accesses(tree: str) -> list[Access]:
    """The rule-relevant accesses of a parsed (unresolved) logical plan, from its tree string."""
    lines = [line for line in tree.splitlines() if line.strip()]
    parsed = [(m.end("indent"), m.group("node"), line) for line in lines if (m := _NODE_LINE.match(line))]
    out: list[Access] = []
    for i, (depth, node, line) in enumerate(parsed):
        body = line[depth:]
        for m in _TIME_TRAVEL.finditer(line):
            out.append(Access(TIME_TRAVEL, "VERSION AS OF / TIMESTAMP AS OF", _parts(m.group(1))))
        for m in _COMMAND_ON_TABLE.finditer(line):
            command = m.group(2)
            if command == "DESCRIBE HISTORY":
                out.append(Access(HISTORY, command, _parts(m.group(1))))
            elif command == "TRUNCATE TABLE":
                out.append(Access(WRITE, command, _parts(m.group(1))))
        if (m := _CACHE_TABLE.match(body)) is not None:
            out.append(Access(CACHE, "CACHE TABLE", _parts(m.group(1)) if m.group(1) else None))
        if node == "ReplaceTableAsSelect" and (m := _IDENTIFIER.search(_subtree_first_line(parsed, i))):
            out.append(Access(WRITE, "CREATE OR REPLACE TABLE ... AS SELECT", _parts(m.group(1))))
        for m in _WRITE_TARGET.finditer(line):
            writer = _nearest_write_node(parsed, i)
            privileges = set(m.group(2).split(","))
            if writer == "InsertIntoStatement":
                operation = "INSERT OVERWRITE" if "DELETE" in privileges else None
            elif writer in _WRITE_NODES:
                operation = _WRITE_NODES[writer]
            else:  # a write node this table does not know: what it may change decides
                operation = f"a write needing {','.join(sorted(privileges))} privileges" if privileges & {"UPDATE", "DELETE"} else None
            if operation:
                out.append(Access(WRITE, operation, _parts(m.group(1))))
    return out


def _subtree_first_line(parsed, i: int) -> str:
    """The node's own line and its first child's (ReplaceTableAsSelect prints its name as a child)."""
    return "\n".join(p[2] for p in parsed[i : i + 2])


def _nearest_write_node(parsed, i: int) -> str | None:
    """The write node the annotated relation belongs to: itself or its nearest ancestor (smaller indent, above it)."""
    depth = parsed[i][0]
    for j in range(i, -1, -1):
        d, node, _ = parsed[j]
        if (j == i or d < depth) and (node in _WRITE_NODES or node == "InsertIntoStatement"):
            return node
        if d < depth:
            depth = d
    return None


# --- Delta's own statements, which only Delta's parser extension knows (not the base parser behind EXPLAIN) ---

_SQL_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/)*", re.S)
_NAME = r"((?:`(?:[^`]|``)*`|[\w$]+)(?:\s*\.\s*(?:`(?:[^`]|``)*`|[\w$]+))*)"
_DESCRIBE_HISTORY = re.compile(rf"(?:DESC|DESCRIBE)\s+HISTORY\s+{_NAME}", re.I)
_RESTORE = re.compile(rf"RESTORE\s+(?:TABLE\s+)?{_NAME}\s+(?:TO\s+)?(?:VERSION|TIMESTAMP)\s+AS\s+OF\b", re.I)


def _delta_statement(sql: str) -> list[Access] | None:
    """The accesses of a DESCRIBE HISTORY or RESTORE statement (Delta grammar), None for any other statement."""
    text = sql[_SQL_COMMENTS.match(sql).end() :]
    if m := _DESCRIBE_HISTORY.match(text):
        return [Access(HISTORY, "DESCRIBE HISTORY", split_name(re.sub(r"\s*\.\s*", ".", m.group(1))))]
    if m := _RESTORE.match(text):
        return [Access(TIME_TRAVEL, "VERSION AS OF / TIMESTAMP AS OF", split_name(re.sub(r"\s*\.\s*", ".", m.group(1))))]
    return None


def _is_connect(session) -> bool:
    return not hasattr(session, "_jsparkSession")


def jvm_plan_tree(session, sql: str) -> str | None:
    """Classic session: the parsed plan from the session's own parser (Delta's extension included); None when the text
    does not parse (running it then raises Spark's own error)."""
    try:
        return str(session._jsparkSession.sessionState().sqlParser().parsePlan(sql).treeString())
    except Exception as exc:  # noqa: BLE001 - py4j wraps the JVM's ParseException
        if "ParseException" in type(exc).__name__ or "PARSE_SYNTAX_ERROR" in str(exc) or "ParseException" in str(exc):
            return None
        raise


def explain_plan_tree(session, sql: str, args=None, run_sql: Callable | None = None) -> str | None:
    """Any session (the Spark Connect client has no JVM): the "Parsed Logical Plan" section of EXPLAIN EXTENDED, which
    the server parses (without running the statement); None when EXPLAIN does not parse it."""
    from pyspark.errors import ParseException

    run = run_sql or type(session).sql
    try:
        text = run(session, "EXPLAIN EXTENDED " + sql, args).collect()[0][0]
    except ParseException:
        return None
    section = text.split("== Parsed Logical Plan ==\n", 1)[-1]
    return section.split("\n\n== Analyzed Logical Plan ==", 1)[0]


def statement_accesses(session, sql: str, args=None, run_sql: Callable | None = None, via_explain: bool | None = None) -> list[Access]:
    """The rule-relevant accesses of one SQL statement, through the parser of the session's kind."""
    explain = _is_connect(session) if via_explain is None else via_explain
    if explain:
        delta = _delta_statement(sql)
        if delta is not None:
            return delta
        tree = explain_plan_tree(session, sql, args, run_sql)
    else:
        tree = jvm_plan_tree(session, sql)
    return plan_accesses(tree) if tree else []


# --- the mode ---


class _Restrictions:
    def __init__(self, profile: Profile, session):
        self.profile = profile
        self.session = session

    def qualify(self, parts: TableName, session=None) -> TableName:
        """A name as written -> catalog.schema.table (lower case), with the session's current catalog and schema."""
        parts = _key(parts)
        if len(parts) >= 3:
            return parts
        catalog = (session or self.session).catalog
        if len(parts) == 2:
            return (catalog.currentCatalog().lower(), *parts)
        return (catalog.currentCatalog().lower(), catalog.currentDatabase().lower(), *parts)

    def check(self, accesses: Iterable[Access], session=None) -> None:
        for access in accesses:
            table = self.qualify(access.table, session) if access.table else None
            for rule in RULES:
                if rule.kind != access.kind or not rule.computes & self.profile.computes:
                    continue
                if rule.fine_grained_only and table not in self.profile.fine_grained:
                    continue
                compute = "/".join(sorted(rule.computes & self.profile.computes))
                raise DatabricksRestrictionError(rule, access.operation, ".".join(table) if table else None, compute)

    def check_name(self, kind: str, operation: str, name: str | None) -> None:
        self.check([Access(kind, operation, split_name(name) if name else None)])


def _session_classes() -> dict[str, list[type]]:
    """The classes to patch, classic and (when its client libraries are installed) Spark Connect."""
    from pyspark.sql import readwriter as classic_rw
    from pyspark.sql.catalog import Catalog
    from pyspark.sql.classic.dataframe import DataFrame
    from pyspark.sql.session import SparkSession

    classes = {
        "session": [SparkSession],
        "frame": [DataFrame],
        "reader": [classic_rw.DataFrameReader],
        "writer": [classic_rw.DataFrameWriter],
        "writer_v2": [classic_rw.DataFrameWriterV2],
        "catalog": [Catalog],
        "delta": [],
    }
    with contextlib.suppress(ImportError):
        from pyspark.sql.connect import readwriter as connect_rw
        from pyspark.sql.connect.catalog import Catalog as ConnectCatalog
        from pyspark.sql.connect.dataframe import DataFrame as ConnectFrame
        from pyspark.sql.connect.session import SparkSession as ConnectSession

        classes["session"].append(ConnectSession)
        classes["frame"].append(ConnectFrame)
        classes["reader"].append(connect_rw.DataFrameReader)
        classes["writer"].append(connect_rw.DataFrameWriter)
        classes["writer_v2"].append(connect_rw.DataFrameWriterV2)
        classes["catalog"].append(ConnectCatalog)
    with contextlib.suppress(ImportError):
        from delta.tables import DeltaTable

        classes["delta"].append(DeltaTable)
    with contextlib.suppress(ImportError):
        from delta.connect.tables import DeltaTable as ConnectDeltaTable

        classes["delta"].append(ConnectDeltaTable)
    return classes


_TIME_TRAVEL_OPTIONS = {"versionasof", "timestampasof"}


def _recorded(obj, attr: str) -> dict:
    return obj.__dict__.setdefault(attr, {})


@contextlib.contextmanager
def restricted(session, profile: Profile) -> Iterator[Profile]:
    """While inside, operations the profile's compute refuses on its objects raise DatabricksRestrictionError.

    session: the SparkSession (classic or Spark Connect, or run_local's lazy one) whose current catalog and schema
    qualify one- and two-part names."""
    state = _Restrictions(profile, session)
    classes = _session_classes()
    saved: list[tuple[type, str, object]] = []

    def patch(cls: type, name: str, make: Callable[[Callable], Callable]) -> None:
        original = cls.__dict__.get(name)
        if original is None:
            return
        saved.append((cls, name, original))
        if isinstance(original, classmethod):
            setattr(cls, name, classmethod(make(original.__func__)))
        else:
            setattr(cls, name, make(original))

    # spark.sql: the statement's parsed plan.
    def sql(original):
        def restricted_sql(self, sqlQuery, args=None, **kwargs):
            if kwargs:
                raise NotImplementedError("restriction mode: spark.sql with format arguments (kwargs) is not inspected; pass the final text")
            state.check(statement_accesses(self, sqlQuery, args, run_sql=original), session=self)
            return original(self, sqlQuery, args)

        return restricted_sql

    for cls in classes["session"]:
        patch(cls, "sql", sql)

    # Readers: time travel by option, checked when the table is named.
    def record_option(original, attr: str):
        def option(self, key, value):
            _recorded(self, attr)[str(key).lower()] = value
            return original(self, key, value)

        return option

    def record_options(original, attr: str):
        def options(self, **opts):
            _recorded(self, attr).update({str(k).lower(): v for k, v in opts.items()})
            return original(self, **opts)

        return options

    def reader_table(original):
        def table(self, tableName):
            used = sorted(k for k in _recorded(self, "_restriction_options") if k in _TIME_TRAVEL_OPTIONS)
            if used:
                state.check_name(TIME_TRAVEL, f"spark.read.option({used[0]!r}).table(...)", tableName)
            return original(self, tableName)

        return table

    for cls in classes["reader"]:
        patch(cls, "option", lambda o: record_option(o, "_restriction_options"))
        patch(cls, "options", lambda o: record_options(o, "_restriction_options"))
        patch(cls, "table", reader_table)

    # DataFrameWriter: overwrite and replaceWhere are writes other than append.
    def record_mode(original):
        def mode(self, saveMode):
            _recorded(self, "_restriction_writer")["mode"] = (saveMode or "").lower()
            return original(self, saveMode)

        return mode

    def overwriting(writer, mode_arg: str | None, options: dict) -> str | None:
        recorded = _recorded(writer, "_restriction_writer")
        opts = {**_recorded(writer, "_restriction_writer_options"), **{k.lower(): v for k, v in options.items()}}
        if "replacewhere" in opts:
            return "DataFrameWriter with option replaceWhere"
        if (mode_arg or recorded.get("mode") or "").lower() == "overwrite":
            return "DataFrameWriter.mode('overwrite')"
        return None

    def save_as_table(original):
        def saveAsTable(self, name, format=None, mode=None, partitionBy=None, **options):
            operation = overwriting(self, mode, options)
            if operation:
                state.check_name(WRITE, f"{operation}.saveAsTable(...)", name)
            return original(self, name, format, mode, partitionBy, **options)

        return saveAsTable

    def insert_into(original):
        def insertInto(self, tableName, overwrite=None):
            operation = overwriting(self, None, {}) if overwrite is None else "DataFrameWriter" if overwrite else None
            if operation:
                state.check_name(WRITE, f"{operation}.insertInto(...) overwriting", tableName)
            return original(self, tableName, overwrite)

        return insertInto

    for cls in classes["writer"]:
        patch(cls, "mode", record_mode)
        patch(cls, "option", lambda o: record_option(o, "_restriction_writer_options"))
        patch(cls, "options", lambda o: record_options(o, "_restriction_writer_options"))
        patch(cls, "saveAsTable", save_as_table)
        patch(cls, "insertInto", insert_into)

    # DataFrameWriterV2: the table is given to writeTo; append and create are allowed.
    def write_to(original):
        def writeTo(self, table):
            writer = original(self, table)
            writer.__dict__["_restriction_table"] = table
            return writer

        return writeTo

    def v2_write(method: str):
        def make(original):
            def write(self, *args, **kwargs):
                state.check_name(WRITE, f"DataFrameWriterV2.{method}()", self.__dict__.get("_restriction_table"))
                return original(self, *args, **kwargs)

            return write

        return make

    for cls in classes["writer_v2"]:
        for method in ("overwrite", "overwritePartitions", "replace", "createOrReplace"):
            patch(cls, method, v2_write(method))

    # Caching.
    def frame_cache(method: str):
        def make(original):
            def cache(self, *args, **kwargs):
                state.check([Access(CACHE, f"DataFrame.{method}()", None)])
                return original(self, *args, **kwargs)

            return cache

        return make

    for cls in classes["frame"]:
        patch(cls, "writeTo", write_to)
        patch(cls, "cache", frame_cache("cache"))
        patch(cls, "persist", frame_cache("persist"))

    def cache_table(original):
        def cacheTable(self, tableName, *args, **kwargs):
            state.check_name(CACHE, "spark.catalog.cacheTable(...)", tableName)
            return original(self, tableName, *args, **kwargs)

        return cacheTable

    for cls in classes["catalog"]:
        patch(cls, "cacheTable", cache_table)

    # DeltaTable: the name given to forName travels with the object (alias keeps it).
    def for_name(original):
        def forName(cls, sparkSession, tableOrViewName):
            table = original(cls, sparkSession, tableOrViewName)
            table.__dict__["_restriction_table"] = tableOrViewName
            return table

        return forName

    def alias(original):
        def alias_(self, aliasName):
            aliased = original(self, aliasName)
            aliased.__dict__["_restriction_table"] = self.__dict__.get("_restriction_table")
            return aliased

        return alias_

    def delta_op(kind: str, operation: str):
        def make(original):
            def op(self, *args, **kwargs):
                name = self.__dict__.get("_restriction_table")
                if name:
                    state.check_name(kind, operation, name)
                return original(self, *args, **kwargs)

            return op

        return make

    for cls in classes["delta"]:
        patch(cls, "forName", for_name)
        patch(cls, "alias", alias)
        patch(cls, "history", delta_op(HISTORY, "DeltaTable.history()"))
        patch(cls, "update", delta_op(WRITE, "DeltaTable.update()"))
        patch(cls, "updateExpr", delta_op(WRITE, "DeltaTable.updateExpr()"))
        patch(cls, "delete", delta_op(WRITE, "DeltaTable.delete()"))
        patch(cls, "restoreToVersion", delta_op(TIME_TRAVEL, "DeltaTable.restoreToVersion()"))
        patch(cls, "restoreToTimestamp", delta_op(TIME_TRAVEL, "DeltaTable.restoreToTimestamp()"))

    try:
        yield profile
    finally:
        for cls, name, original in reversed(saved):
            setattr(cls, name, original)
