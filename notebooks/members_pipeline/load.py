"""Landing Parquet batches -> Delta members table: the order of the stages (tables, batches, reconcile, guards, merge, retention)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace

from pyspark.sql import SparkSession

from .batches import Batch, ReconciliationError, find_batches, log_batch, read_batch
from .config import LoadConfig
from .files import Files
from .guards import BatchImpact, DataGuardError, guard_problems, override_note, refusal_message
from .merge import ChangedSinceDiffError, change_set, merge_changes
from .reconcile import quarantine_rejected, reconcile_batch
from .results import BatchCounts, BatchResult, Status
from .retention import erase_expired_pii, vacuum_due, vacuum_tables
from .tables import GovernanceError, ensure_tables, row_hash_type

__all__ = ["DataGuardError", "ReconciliationError", "ConcurrentLoadError", "GovernanceError", "load_members", "ensure_tables"]


class ConcurrentLoadError(RuntimeError):
    """Another load committed to the same Delta tables at the same time; this run lost and logged nothing."""


def _is_delta_conflict(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}"[:2000]
    return any(
        k in text
        for k in (
            "ConcurrentAppendException",
            "ConcurrentDeleteReadException",
            "ConcurrentDeleteDeleteException",
            "ConcurrentTransactionException",
            "MetadataChangedException",
            "ProtocolChangedException",
            "DELTA_CONCURRENT",
        )
    )


def check_guards(batch: Batch, impact: BatchImpact, cfg: LoadConfig) -> str | None:
    """Raise DataGuardError when the batch exceeds a threshold; with accept_mass_change return the note instead."""
    problems = guard_problems(impact, cfg.max_deleted_share, cfg.max_quarantined_share)
    if not problems:
        return None
    if not cfg.accept_mass_change:
        raise DataGuardError(refusal_message(batch.batch_id, problems))
    note = override_note(batch.batch_id, problems)
    print(note)
    return note


def log_refusal(spark: SparkSession, cfg: LoadConfig, batch: Batch, at: dt.datetime, rows: int, seconds: float, refusal: str) -> None:
    """The refused batch's load-log row (status refused, counts 0 but its manifest rows): refusals are visible in
    the log (the health queries count them) without the batch counting as loaded."""
    counts = BatchCounts(manifest_rows=rows)
    result = BatchResult(batch.batch_id, batch.ingest_date, batch.run_id, counts, None, Status.REFUSED, seconds=round(seconds, 3), refusal=refusal)
    log_batch(spark, cfg, result, at)


def load_batch(spark: SparkSession, batch: Batch, cfg: LoadConfig, hash_type: str) -> BatchResult:
    """change set and counts (one pass) -> reconcile -> guards -> quarantine -> merge (the change set only) -> erase -> log.
    ``hash_type``: the members table's row_hash type (tables.row_hash_type)."""
    started = time.monotonic()
    loaded_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    df = read_batch(spark, batch, cfg)
    with change_set(spark, cfg, df, batch, batch.manifest.full_snapshot, hash_type) as changes:
        # Before any write: a batch that does not reconcile leaves members, quarantine and load log untouched (the
        # change set's staging table, if any, is dropped); a refused one too, but for its refusal row in the load log.
        rec = reconcile_batch(df, changes.batch_counts, batch)
        try:
            override = check_guards(batch, BatchImpact(rec.manifest_rows, rec.quarantined, changes.active, changes.absent), cfg)
        except DataGuardError as exc:
            log_refusal(spark, cfg, batch, loaded_at, rec.manifest_rows, time.monotonic() - started, str(exc))
            raise
        quarantine_rejected(cfg, batch, rec.rejected, loaded_at, rec.quarantined)
        deduplicated = rec.duplicates == 0  # no duplicate valid member_id: the merged rows need no deduplication
        try:
            merged = merge_changes(spark, cfg, batch, changes, df, loaded_at, deduplicated)
        except ChangedSinceDiffError as exc:
            raise ConcurrentLoadError(
                f"batch {batch.batch_id}: {exc}; this run logged nothing; rerun the load: it computes the change set anew"
            ) from None
    # Always: aged quarantine rows without a member row are erased even when no member is due.
    erased = erase_expired_pii(spark, cfg, batch, loaded_at, members_due=bool(changes.erasure_due), row_hash_type=hash_type)
    counts = BatchCounts(
        manifest_rows=rec.manifest_rows,
        merged=rec.merged,
        quarantined=rec.quarantined,
        duplicates=rec.duplicates,
        inserted=merged.inserted,
        updated=merged.updated,
        unchanged=changes.unchanged(rec.merged),
        flagged_deleted=merged.flagged_deleted,
        pii_erased=erased.members,
        pii_erased_quarantine_rows=erased.quarantine_rows,
    )
    seconds = round(time.monotonic() - started, 3)
    result = BatchResult(
        batch.batch_id, batch.ingest_date, batch.run_id, counts, override, Status.LOADED, last_erased_at=changes.last_erased_at, seconds=seconds
    )
    if not log_batch(spark, cfg, result, loaded_at):
        return replace(result, status=Status.ALREADY_LOADED_CONCURRENTLY)
    return result


def _delta_error_line(exc: BaseException) -> str:
    """The first line of the error that names an exception or a DELTA_ error code (else the exception's type)."""
    for line in str(exc).splitlines():
        line = line.strip()
        if "Exception" in line or "DELTA_" in line:
            return line[:300]
    return type(exc).__name__


def load_members(spark: SparkSession, files: Files, cfg: LoadConfig) -> dict:
    started = time.monotonic()
    ensure_tables(spark, cfg)
    to_load, superseded = find_batches(spark, files, cfg)
    hash_type = row_hash_type(spark, cfg.members_table) if to_load else None
    results: list[BatchResult] = []
    concurrent: list[BatchResult] = []
    for b in to_load:
        try:
            r = load_batch(spark, b, cfg, hash_type)
        except DataGuardError as exc:
            if results:  # say what this run did commit before the refusal
                raise DataGuardError(f"{exc}; earlier batch(es) of this run were loaded: {', '.join(x.batch_id for x in results)}") from None
            raise
        except Exception as exc:
            if not _is_delta_conflict(exc):
                raise
            raise ConcurrentLoadError(
                f"batch {b.batch_id}: another load committed to {cfg.members_table} or its quarantine/load log "
                f"concurrently ({_delta_error_line(exc)}); this run logged nothing; rerun the load, it skips batches "
                f"already logged"
            ) from None
        (concurrent if r.status is Status.ALREADY_LOADED_CONCURRENTLY else results).append(r)
    done = results + concurrent
    erased = any(r.counts.pii_erased for r in done)
    last_erased = max((r.last_erased_at for r in done if r.last_erased_at), default=None)
    vacuumed = []
    if done and vacuum_due(erased, last_erased, dt.datetime.now(dt.UTC), cfg.history_retention_days):
        vacuumed = vacuum_tables(spark, cfg)
    totals = BatchCounts.total([r.counts for r in results])
    return {
        "status": Status.OK.value,
        "table": f"{cfg.catalog}.{cfg.schema}.{cfg.table}",
        "batches_loaded": len(results),
        "batches": [r.summary() for r in results],
        "superseded_batches": [b.batch_id for b in superseded],
        # Batches another load logged while this one was merging them (the table is unchanged by this run).
        "concurrently_loaded_batches": [r.batch_id for r in concurrent],
        **totals.as_dict(),
        # Batches accepted with accept_mass_change=true although they exceeded a data guard, with the numbers.
        "guard_overrides": [r.guard_override for r in results if r.guard_override],
        "vacuumed_tables": vacuumed,
        "seconds": round(time.monotonic() - started, 2),
    }
