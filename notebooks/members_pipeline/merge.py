"""The change set of a batch against the members table, and a MERGE of only those rows.

One pass over the batch and the table classifies every member (``change_kind_sql``): inserted, changed, revived
(with a valid row, or by the key of a quarantined row), flagged deleted (full snapshots: active members the batch
lacks), or unchanged. The same pass counts the batch for the reconciliation (rows, checksum, valid, rejected and
distinct valid members, observed on the way), so a daily load reads the batch's files once before its MERGEs. The
changed members' keys, with the table state the diff saw, are frozen: collected to the driver when the change set is
small (at most COLLECT_MAX_ROWS rows, bounded before the pass), else written to a staging Delta table; the counts of
the load log and the guards' numbers come from those rows, never from the table history. The MERGE then takes only those
members, their values read from the batch by key (once for both MERGEs, up to FREEZE_SOURCE_MAX_ROWS). Row hashes
travel as 64-bit fingerprints (transform.hash_fingerprint): fixed width, so the pass aggregates by hashing instead of
sorting. A partial batch (not a full snapshot: a change feed) is read once more for its keys, which filter the table's
rows while they are scanned.

Concurrent writers: refuse, never mis-merge
-------------------------------------------
Between the diff and the MERGE another writer (a load of the same batch, a hand-run UPDATE) may change the table.
The change set is frozen once (collected or staged), so the MERGE uses exactly the rows that were counted, not a
recomputation against a newer table (Delta would compute a lazy source anew, against the table it then sees). Each
change row carries the table state the diff saw (``_seen_hash``, ``_seen_deleted``), and every change is applied by
a MERGE that only changes rows still in that state:

- updates, revivals and delete flags: one MERGE whose first clause raises (``raise_error``) when a matched row is not
  in the state seen; the MERGE then commits nothing;
- inserts: an insert-only MERGE (WHEN NOT MATCHED), which cannot overwrite a member another writer inserted;
- the MERGE statements' own counts are compared with the change set's: a member the other writer inserted is not
  inserted, one it removed is not updated. Then the rows committed are only changes from the state seen to the batch.

Any of these raises ChangedSinceDiffError; the load reports ConcurrentLoadError and logs nothing, and a rerun computes
the change set anew. No retry here: the other writer may have loaded a newer batch, which makes this one superseded
(the rerun's find_batches decides). Writers during a MERGE are Delta's conflict detection's. The check is per row: a
writer that changes only members outside the change set is not detected, which matters only for a load of a newer
snapshot running alongside this one (the load log orders batches; the job runs one load at a time).

The staging table of a large change set (``<table>_changes_<id>``, beside the members table) holds keys, fingerprints
and flags, no PII, so it needs no masking and nothing in it is ever due for erasure. It is dropped when the batch is
done, refused or failed; one left by a killed driver is safe to drop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

from .batches import Batch
from .config import LoadConfig
from .frames import local_frame
from .reconcile import batch_counts, split_batch
from .retention import erasure_due_condition
from .schema import SOURCE_COLUMNS
from .tables import sql_string
from .transform import (
    FINGERPRINT_FUNCTION,
    checksum_or_zero,
    combine_piece_sums,
    deduplicate,
    hash_fingerprint,
    long_pieces,
    row_checksum_value,
    row_hash,
    several_extracts,
    with_rejection_reason,
)

INSERT, UPDATE, REVIVE, REVIVE_KEY, DELETE = "insert", "update", "revive", "revive_key", "delete"
KINDS = (INSERT, UPDATE, REVIVE, REVIVE_KEY, DELETE)
# Kinds whose MERGE row needs the member's values from the batch (the others only flip is_deleted).
VALUE_KINDS = (INSERT, UPDATE, REVIVE)
SUMMARY = "summary"  # the change rows' one row of table-wide numbers
# A change set that cannot exceed this many rows (the batch's rows plus the table's) is collected to the driver instead
# of staged: keys and fingerprints, under 100 bytes a row. Both freeze the rows counted; the staging table costs a Delta
# table's creation and drop (about 2 s of a small daily load, the kind the tests run by the hundred).
COLLECT_MAX_ROWS = 100_000
# The MERGE of updates broadcasts its source up to this many rows (~400 bytes each with the values: 100 MB at most in
# the driver); a larger change set (a mass change accepted by accept_mass_change) is joined by shuffle instead. A
# partial batch of at most this many rows has its keys broadcast to filter the table (_change_rows).
BROADCAST_MAX_ROWS = 250_000
# Up to this many change rows (~400 bytes each with their values: 40 MB) the two MERGEs' source is read once, to the
# driver, and both MERGEs take it from there (merge_changes).
FREEZE_SOURCE_MAX_ROWS = 100_000
# In raise_error messages: the load turns an error carrying it into ConcurrentLoadError.
CHANGED_MARK = "MEMBERS_CHANGED_SINCE_DIFF"


class ChangedSinceDiffError(RuntimeError):
    """The members table changed between the change set and the MERGE; the load turns it into ConcurrentLoadError."""


def change_kind_sql(full_snapshot: bool) -> str:
    """What a member's row of ``batch FULL OUTER JOIN table`` changes, as SQL (NULL: nothing).

    Columns: _s_present (TRUE when the batch holds any row with the key, valid or quarantined; NULL when it holds
    none), _s_hash (the fingerprint of the row_hash of the member's deduplicated valid row; NULL when all its rows are
    quarantined), _t_hash and _t_deleted (the fingerprint of the table's row_hash, and is_deleted; NULL when the table
    lacks the member). Plain SQL, so the unit tests evaluate this very text with sqlite. A deleted member with a valid
    row comes back with its values; one with only quarantined rows comes back by its key. A quarantined member counts
    as present: it is not flagged."""
    delete = f"\n  WHEN _s_present IS NULL AND NOT _t_deleted THEN '{DELETE}'" if full_snapshot else ""
    return f"""CASE
  WHEN _t_hash IS NULL THEN CASE WHEN _s_hash IS NOT NULL THEN '{INSERT}' END
  WHEN _s_hash IS NOT NULL AND _t_deleted THEN '{REVIVE}'
  WHEN _s_hash IS NOT NULL AND _s_hash <> _t_hash THEN '{UPDATE}'
  WHEN _s_present AND _t_deleted THEN '{REVIVE_KEY}'{delete}
END"""


def _raise(what: str) -> str:
    return f"raise_error(concat('{CHANGED_MARK}: member ', s.member_id, ' {what} after the change set was computed'))"


MATCHED_KINDS = frozenset(KINDS) - {INSERT}


# The inserts' MERGE names up to this many keys in its condition (about 40 bytes of SQL each).
INSERT_KEYS_IN_SQL_MAX = 20_000


def merge_sql(target: str, source_view: str, kinds: Iterable[str], insert_keys: Sequence[str] = ()) -> str:
    """The MERGE of the change rows of ``kinds``, with a clause only for those: either the inserts or the others.

    Inserts: the single ``WHEN NOT MATCHED THEN INSERT`` clause, Delta's insert-only path (no copy of the source, an
    anti-join with the table's keys). ``insert_keys``, the source's keys, become a condition on the table too: Spark
    filters the table's keys while scanning them instead of shuffling every one of them into the anti-join (10M
    members, 10k inserts: 9-13 s against 4 s); the MERGE's meaning is the same, as the source holds no other key.

    The others: MATCHED clauses only, so Delta joins the table's rows with the small source (broadcast) instead of
    shuffling every row of the table, as a NOT MATCHED clause next to them would make it do. Their first clause
    refuses a member whose row is no longer the one the diff saw (module docstring). A member who comes back gets
    deleted_ingest_date and pii_erased_at cleared (set only on deleted members, so a second deletion erases again); its
    PII returns with its next valid row: an erased tombstone's row_hash matches nothing."""
    kinds = frozenset(kinds)
    if kinds != {INSERT} and not (kinds and kinds <= MATCHED_KINDS):
        raise ValueError(f"change kinds: got {sorted(kinds)}, expected [{INSERT!r}] or a non-empty subset of {sorted(MATCHED_KINDS)}")
    if insert_keys and kinds != {INSERT}:
        raise ValueError(f"insert_keys: got {len(insert_keys)} keys for change kinds {sorted(kinds)}, expected them only with [{INSERT!r}]")
    head = f"MERGE INTO {target} AS t\nUSING {source_view} AS s\nON t.member_id = s.member_id\n"
    if kinds == {INSERT}:
        if insert_keys:
            head = head.rstrip("\n") + f" AND t.member_id IN ({', '.join(sql_string(k) for k in insert_keys)})\n"
        cols = ", ".join(SOURCE_COLUMNS)
        vals = ", ".join(f"s.{c}" for c in SOURCE_COLUMNS)
        return (
            head + f"WHEN NOT MATCHED THEN INSERT\n  ({cols}, row_hash, is_deleted, first_ingest_date, last_changed_ingest_date, "
            f"last_changed_run_id, updated_at)\n  VALUES ({vals}, s.row_hash, false, s.ingest_date, s.ingest_date, s.run_id, s.loaded_at)\n"
        )
    set_cols = ", ".join(f"t.{c} = s.{c}" for c in SOURCE_COLUMNS[1:])
    back = "t.is_deleted = false, t.deleted_ingest_date = NULL, t.pii_erased_at = NULL"
    changed = "t.last_changed_ingest_date = s.ingest_date, t.last_changed_run_id = s.run_id, t.updated_at = s.loaded_at"
    seen = f"{FINGERPRINT_FUNCTION}(t.row_hash) <=> s._seen_hash AND t.is_deleted <=> s._seen_deleted"
    clauses = [f"WHEN MATCHED AND NOT ({seen}) THEN UPDATE SET t.row_hash = {_raise('changed')}"]
    if kinds & {UPDATE, REVIVE}:
        clauses.append(
            f"WHEN MATCHED AND s._kind IN ('{UPDATE}', '{REVIVE}') THEN UPDATE SET\n  {set_cols}, t.row_hash = s.row_hash, {back},\n  {changed}"
        )
    if REVIVE_KEY in kinds:
        clauses.append(f"WHEN MATCHED AND s._kind = '{REVIVE_KEY}' THEN UPDATE SET\n  {back}, {changed}")
    if DELETE in kinds:
        clauses.append(
            f"WHEN MATCHED AND s._kind = '{DELETE}' THEN UPDATE SET\n"
            "  t.is_deleted = true, t.deleted_ingest_date = s.ingest_date, t.updated_at = s.loaded_at"
        )
    return head + "\n".join(clauses) + "\n"


@dataclass(frozen=True)
class ChangeSet:
    """What a batch changes in the members table, counted before anything is written."""

    rows: DataFrame | None  # the frozen change rows (collected or staged); None when the table was empty (all new)
    counts: dict[str, int]  # per kind (KINDS)
    active: int  # members not flagged deleted before this batch
    erasure_due: int  # members whose PII this batch's erasure step will null
    last_erased_at: dt.datetime | None  # latest pii_erased_at in the table, for the VACUUM decision
    batch_counts: dict  # the batch's counts for the reconciliation (reconcile.batch_counts), from the same pass
    row_hash_type: str  # the members table's (tables.row_hash_type): the merged rows' row_hash is hashed to it
    # The inserted members' keys for the inserts' MERGE (merge_sql), when at most INSERT_KEYS_IN_SQL_MAX; else, and into
    # an empty table, none.
    insert_keys: tuple[str, ...] = ()

    @property
    def inserted(self) -> int:
        return self.counts[INSERT]

    @property
    def updated(self) -> int:
        """Changed members and members who came back (with a valid row or by key)."""
        return self.counts[UPDATE] + self.counts[REVIVE] + self.counts[REVIVE_KEY]

    @property
    def flagged_deleted(self) -> int:
        return self.counts[DELETE]

    @property
    def absent(self) -> int:
        """Active members the batch does not contain, flagged deleted (full snapshots only): the guards' number."""
        return self.counts[DELETE]

    def unchanged(self, merged: int) -> int:
        """Of the batch's ``merged`` deduplicated valid members, those the MERGE leaves as they are."""
        return merged - self.counts[INSERT] - self.counts[UPDATE] - self.counts[REVIVE]

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(k for k, n in self.counts.items() if n)


def _snapshot_keys(df: DataFrame, counted: Observation, row_hash_type: str) -> DataFrame:
    """The batch's keys for the diff, one row per member: member_id, _s_hash (the fingerprint of the row deduplicate
    keeps: the greatest fingerprint of its valid rows, as extracted_at is one value per batch, which the reconciliation
    checks; NULL when all its rows are quarantined) and _s_present. Keys and fingerprints only are shuffled, never the
    rows' values, and every aggregation buffer is fixed-width (a hash aggregate); the join with the table reuses this
    grouping's shuffle.

    ``counted`` observes the reconciliation's counts (reconcile.batch_counts) on the grouped rows, so the batch is read
    once for both: rows with no member_id form one group of their own, dropped after the observation. One observation
    at one place: Spark Connect returns the metrics of only one of several observations in a plan (Spark 4.0)."""
    checked = with_rejection_reason(df)
    valid = F.col("reject_reason").isNull()
    pieces = long_pieces(row_checksum_value())
    per_member = checked.groupBy("member_id").agg(
        F.count(F.lit(1)).alias("_rows"),
        F.count(F.when(valid, 1)).alias("_valid"),
        *(F.sum(p).alias(f"_sum{i}") for i, p in enumerate(pieces)),
        F.max(F.when(valid, hash_fingerprint(row_hash(row_hash_type)))).alias("_s_hash"),
        F.min("extracted_at").alias("_first_extracted"),
        F.max("extracted_at").alias("_last_extracted"),
    )
    rows = F.sum("_rows")
    checksum = checksum_or_zero(combine_piece_sums(tuple(F.sum(f"_sum{i}") for i in range(3))))
    observed = per_member.observe(
        counted,
        F.coalesce(rows, F.lit(0)).alias("rows"),
        checksum.cast("string").alias("checksum"),
        F.coalesce(F.sum("_valid"), F.lit(0)).alias("valid"),
        F.coalesce(rows - F.sum("_valid"), F.lit(0)).alias("rejected"),
        F.count("_s_hash").alias("distinct_valid"),  # members with a valid row (no valid row has a NULL member_id)
        several_extracts(F.min("_first_extracted"), F.max("_last_extracted")),
    )
    return observed.where(F.col("member_id").isNotNull()).select("member_id", "_s_hash", F.lit(True).alias("_s_present"))


def _change_rows(
    spark: SparkSession, cfg: LoadConfig, df: DataFrame, batch: Batch, full_snapshot: bool, counted: Observation, row_hash_type: str
) -> DataFrame:
    """The change rows, plus one SUMMARY row of table-wide numbers, frozen by one query (Spark scans the table twice
    in it: its keys and hashes for the join, its narrow is_deleted and erasure columns for the summary). ``counted``
    observes the reconciliation's counts of the batch on the way."""
    due = erasure_due_condition(batch.ingest_date, cfg.pii_retention_days)
    table = spark.table(cfg.members_table)
    seen = table.select(
        "member_id", hash_fingerprint(F.col("row_hash")).alias("_t_hash"), F.col("is_deleted").alias("_t_deleted"), F.expr(due).alias("_t_due")
    )
    if not full_snapshot and batch.manifest.rows <= BROADCAST_MAX_ROWS:
        # A partial batch (a change feed) changes only its own members: the table's rows are filtered by the batch's keys
        # (broadcast) while scanned, so the join shuffles the batch's few members, not every member of the table.
        keys = df.where(F.col("member_id").isNotNull()).select("member_id").distinct()
        seen = seen.join(F.broadcast(keys), "member_id", "left_semi")
    changes = (
        _snapshot_keys(df, counted, row_hash_type)
        .join(seen, "member_id", "full_outer" if full_snapshot else "left")
        .withColumn("_kind", F.expr(change_kind_sql(full_snapshot)))
        .where(F.col("_kind").isNotNull())
        .select(
            "member_id",
            "_kind",
            F.col("_s_hash").alias("_hash"),
            F.col("_t_hash").alias("_seen_hash"),
            F.col("_t_deleted").alias("_seen_deleted"),
            F.col("_t_due").alias("_due"),
            F.lit(None).cast("long").alias("_active"),
            F.lit(None).cast("long").alias("_due_total"),
            F.lit(None).cast("long").alias("_last_erased"),
        )
    )
    summary = table.agg(
        F.count(F.when(~F.col("is_deleted"), 1)).alias("_active"),
        F.count(F.when(F.expr(due), 1)).alias("_due_total"),
        F.max(F.unix_timestamp("pii_erased_at")).alias("_last_erased"),  # seconds: no local-zone conversion on collect
    ).select(
        F.lit(None).cast("string").alias("member_id"),
        F.lit(SUMMARY).alias("_kind"),
        F.lit(None).cast("long").alias("_hash"),
        F.lit(None).cast("long").alias("_seen_hash"),
        F.lit(None).cast("boolean").alias("_seen_deleted"),
        F.lit(None).cast("boolean").alias("_due"),
        "_active",
        "_due_total",
        "_last_erased",
    )
    return changes.unionByName(summary)


@dataclass(frozen=True)
class _Tally:
    """The change rows' numbers: rows and erasure-due rows per kind, and the SUMMARY row's table-wide numbers."""

    per_kind: dict[str, tuple[int, int]]  # kind -> (rows, rows due for erasure)
    active: int
    due_total: int
    last_erased: int | None  # seconds since the epoch


def tally_collected(rows: Iterable) -> _Tally:
    """The tally of collected change rows, in Python: a small load's change set needs no further Spark query."""
    per_kind: dict[str, tuple[int, int]] = {}
    summary = None
    for r in rows:
        if r["_kind"] == SUMMARY:
            summary = r
            continue
        n, due = per_kind.get(r["_kind"], (0, 0))
        per_kind[r["_kind"]] = (n + 1, due + bool(r["_due"]))
    return _Tally(per_kind, summary["_active"], summary["_due_total"], summary["_last_erased"])


def _tally_staged(frozen: DataFrame) -> _Tally:
    """The same tally as tally_collected, by one aggregation of the staging table."""
    rows = (
        frozen.groupBy("_kind")
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.count(F.when(F.col("_due"), 1)).alias("due"),
            F.max("_active").alias("active"),
            F.max("_due_total").alias("due_total"),
            F.max("_last_erased").alias("last_erased"),
        )
        .collect()
    )
    by_kind = {r["_kind"]: r for r in rows}
    summary = by_kind.pop(SUMMARY)
    return _Tally({k: (r["n"], r["due"]) for k, r in by_kind.items()}, summary["active"], summary["due_total"], summary["last_erased"])


def _read_change_set(
    cfg: LoadConfig, frozen: DataFrame, tally: _Tally, inserted_keys: Callable[[], Sequence[str]], counts: dict, row_hash_type: str
) -> ChangeSet:
    """``inserted_keys`` gives the inserted members' keys; called only when the inserts' MERGE can name them."""
    unknown = set(tally.per_kind) - set(KINDS)
    if unknown:
        raise RuntimeError(f"change set: got kinds {sorted(unknown)}, expected only {list(KINDS)}")
    kind_counts = {k: int(tally.per_kind.get(k, (0, 0))[0]) for k in KINDS}
    # Due members the batch brings back are not erased; with pii_retention_days 0 the ones it flags are due at once.
    back_due = sum(int(tally.per_kind.get(k, (0, 0))[1]) for k in (REVIVE, REVIVE_KEY))
    due = int(tally.due_total) - back_due + (kind_counts[DELETE] if cfg.pii_retention_days == 0 else 0)
    last_erased = dt.datetime.fromtimestamp(tally.last_erased, dt.UTC) if tally.last_erased is not None else None
    keys = tuple(inserted_keys()) if 0 < kind_counts[INSERT] <= INSERT_KEYS_IN_SQL_MAX else ()
    return ChangeSet(frozen, kind_counts, int(tally.active), due, last_erased, counts, row_hash_type, keys)


@contextlib.contextmanager
def change_set(spark: SparkSession, cfg: LoadConfig, df: DataFrame, batch: Batch, full_snapshot: bool, row_hash_type: str) -> Iterator[ChangeSet]:
    """The batch's change set against the members table (``df``: the batch's rows as read; ``row_hash_type``: the
    table's, tables.row_hash_type) and the batch's counts for the reconciliation, from one pass. Into an empty table
    every valid member is an insert: nothing is frozen, and the counts take a pass of their own. Nothing but a staging
    table is written here: the caller reconciles the counts before any other write."""
    table_rows = spark.table(cfg.members_table).count()  # from the Delta log's statistics, no scan
    if table_rows == 0:
        counts = batch_counts(df)
        yield ChangeSet(None, {**dict.fromkeys(KINDS, 0), INSERT: int(counts["distinct_valid"])}, 0, 0, None, counts, row_hash_type)
        return
    counted = Observation(f"batch_counts_{uuid.uuid4().hex}")
    rows = _change_rows(spark, cfg, df, batch, full_snapshot, counted, row_hash_type)
    if batch.manifest.rows + table_rows <= COLLECT_MAX_ROWS:
        collected = rows.collect()
        frozen = local_frame(spark, collected, rows.schema)
        inserted = [r["member_id"] for r in collected if r["_kind"] == INSERT]
        yield _read_change_set(cfg, frozen, tally_collected(collected), lambda: sorted(inserted), counted.get, row_hash_type)
        return
    # Unique per call: two loads at once must not share one.
    staged = f"`{cfg.catalog}`.`{cfg.schema}`.`{cfg.table}_changes_{uuid.uuid4().hex[:16]}`"
    try:
        rows.write.format("delta").saveAsTable(staged)
        frozen = spark.table(staged)
        yield _read_change_set(cfg, frozen, _tally_staged(frozen), lambda: _insert_keys(frozen), counted.get, row_hash_type)
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {staged}")


def _batch_values(
    df: DataFrame, batch: Batch, loaded_at: dt.datetime, deduplicated: bool, row_hash_type: str, keys: DataFrame | None = None
) -> DataFrame:
    """The batch's valid rows of the members in ``keys`` (all when None), one per member, hashed to ``row_hash_type``:
    the rows the load merges.
    ``deduplicated``: the batch holds no duplicate valid member_id (reconciliation counted none), so no window."""
    if keys is not None:
        df = df.join(keys, "member_id", "left_semi")  # before the validation: only the changed members are checked
    valid = split_batch(df, row_hash_type)[0]
    if not deduplicated:
        valid = deduplicate(valid)
    fixed = {"ingest_date": F.lit(batch.ingest_date), "run_id": F.lit(batch.run_id), "loaded_at": F.lit(loaded_at).cast("timestamp")}
    return valid.select(*SOURCE_COLUMNS, "row_hash", *(v.alias(k) for k, v in fixed.items()))


def _merge_source(spark: SparkSession, changes: ChangeSet, df: DataFrame, batch: Batch, loaded_at: dt.datetime, deduplicated: bool) -> DataFrame:
    """The change rows with the values of the members that need them (the rows the diff hashed: checked again)."""
    if changes.rows is None:
        return _batch_values(df, batch, loaded_at, deduplicated, changes.row_hash_type)
    rows = changes.rows.where(F.col("_kind").isin(*KINDS)).select("member_id", "_kind", "_hash", "_seen_hash", "_seen_deleted")
    needs_values = F.col("_kind").isin(*VALUE_KINDS)
    values = _batch_values(df, batch, loaded_at, deduplicated, changes.row_hash_type, rows.where(needs_values).select("member_id"))
    fixed = {"ingest_date": F.lit(batch.ingest_date), "run_id": F.lit(batch.run_id), "loaded_at": F.lit(loaded_at).cast("timestamp")}
    # A value row must be the one the diff saw; if the batch's rows were read differently, fail rather than merge NULLs.
    checked_hash = (
        F.when(~needs_values, F.lit(None).cast(changes.row_hash_type))
        .when(hash_fingerprint(F.col("v.row_hash")) == F.col("r._hash"), F.col("v.row_hash"))
        .otherwise(F.raise_error(F.concat(F.lit("member "), F.col("r.member_id"), F.lit(": its batch row is not the one the change set hashed"))))
    )
    return (
        rows.alias("r")
        .join(values.alias("v"), F.col("r.member_id") == F.col("v.member_id"), "left")
        .select(
            F.col("r.member_id").alias("member_id"),
            *(F.col(f"v.{c}").alias(c) for c in SOURCE_COLUMNS[1:]),
            checked_hash.alias("row_hash"),
            *(v.alias(k) for k, v in fixed.items()),
            "r._kind",
            "r._seen_hash",
            "r._seen_deleted",
        )
    )


def _insert_keys(frozen: DataFrame) -> list[str]:
    """The inserted members' keys from the staged change rows."""
    return sorted(r.member_id for r in frozen.where(F.col("_kind") == INSERT).select("member_id").collect())


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int  # changed and revived members (members flagged deleted not included)
    flagged_deleted: int


def check_merge_result(what: str, got: tuple[int, int], want: tuple[int, int]) -> None:
    """A MERGE statement's own (inserted, updated) counts must be the change set's; else another writer came in
    between (a member it inserted is not inserted again, one it removed is not updated)."""
    if got != want:
        raise ChangedSinceDiffError(
            f"the MERGE of the {what} inserted {got[0]} and updated {got[1]} rows, the change set expected {want[0]} and {want[1]}: "
            "a concurrent writer changed the members table after the change set was computed"
        )


def _run_merge(spark: SparkSession, cfg: LoadConfig, source: DataFrame, kinds: frozenset[str], insert_keys: Sequence[str] = ()) -> tuple[int, int]:
    # Unique per call: two loads in one session must not replace or drop each other's source view.
    view = f"members_merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    try:
        result = spark.sql(merge_sql(cfg.members_table, view, kinds, insert_keys)).first()
    except Exception as exc:
        if CHANGED_MARK not in str(exc):
            raise
        detail = next((line.strip() for line in str(exc).splitlines() if CHANGED_MARK in line), CHANGED_MARK)
        raise ChangedSinceDiffError(f"a concurrent writer changed the members table; the MERGE committed nothing: {detail[:300]}") from None
    finally:
        spark.catalog.dropTempView(view)
    return int(result["num_inserted_rows"]), int(result["num_updated_rows"])


def merge_changes(
    spark: SparkSession, cfg: LoadConfig, batch: Batch, changes: ChangeSet, df: DataFrame, loaded_at: dt.datetime, deduplicated: bool
) -> MergeCounts:
    """MERGE the change set: the updates, revivals and delete flags, then the inserts (two MERGEs, see merge_sql; the
    first refuses atomically, so a refusal there commits nothing). Nothing to do: no MERGE, so a rerun adds no commit.
    Raises ChangedSinceDiffError when the table changed after the diff (module docstring)."""
    counts = MergeCounts(changes.inserted, changes.updated, changes.flagged_deleted)
    source = _merge_source(spark, changes, df, batch, loaded_at, deduplicated)
    matched = changes.kinds - {INSERT}
    if changes.rows is not None and matched and INSERT in changes.kinds and sum(changes.counts.values()) <= FREEZE_SOURCE_MAX_ROWS:
        # Both MERGEs would read the batch for their members' values (the updates' one copies it first): read it once
        # here instead, through Arrow. A row that is not the one the diff hashed now fails before the first MERGE.
        source = spark.createDataFrame(source.toArrow(), source.schema)
    if matched:
        rows = source.where(F.col("_kind") != INSERT) if INSERT in changes.kinds else source
        if changes.updated + changes.flagged_deleted <= BROADCAST_MAX_ROWS:
            # Delta copies this source (it reads the batch's Parquet) and the copy has no size statistics, so Spark
            # would shuffle every row of the table to join it; the hint survives the copy and keeps the table in place.
            rows = F.broadcast(rows)
        got = _run_merge(spark, cfg, rows, matched)
        check_merge_result("updates", got, (0, changes.updated + changes.flagged_deleted))
    if INSERT in changes.kinds:
        rows = source.where(F.col("_kind") == INSERT) if matched else source
        check_merge_result("inserts", _run_merge(spark, cfg, rows, frozenset({INSERT}), changes.insert_keys), (changes.inserted, 0))
    return counts
