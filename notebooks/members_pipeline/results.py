"""Typed results shared by the load's batch summary, the run totals and the load-log row."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from enum import StrEnum


class Status(StrEnum):
    """Status strings of notebook summaries and of a batch's result (JSON: the value)."""

    OK = "ok"  # a notebook run finished
    LOADED = "loaded"  # this run merged and logged the batch
    ALREADY_LOADED_CONCURRENTLY = "already_loaded_concurrently"  # another load logged it while this one merged it
    REFUSED = "refused"  # a data guard refused the batch: only its load-log row is written


@dataclass(frozen=True)
class BatchCounts:
    """A batch's numbers: the result summary, the run totals (sum) and the load-log row all use these names."""

    manifest_rows: int = 0
    merged: int = 0
    quarantined: int = 0
    duplicates: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged_deleted: int = 0
    pii_erased: int = 0
    pii_erased_quarantine_rows: int = 0

    def __add__(self, other: BatchCounts) -> BatchCounts:
        return BatchCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @classmethod
    def total(cls, counts: list[BatchCounts]) -> BatchCounts:
        return sum(counts, cls())

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    ingest_date: dt.date
    run_id: str
    counts: BatchCounts
    guard_override: str | None
    status: Status
    # Latest pii_erased_at in the table before this batch: for the run's VACUUM decision, neither logged nor returned.
    last_erased_at: dt.datetime | None = None
    seconds: float | None = None  # how long the batch's load took (load log only)
    refusal: str | None = None  # the data guards' refusal (status refused)

    def summary(self) -> dict:
        """The batch's entry in the run summary (JSON-ready)."""
        return {
            "batch_id": self.batch_id,
            "ingest_date": self.ingest_date.isoformat(),
            "run_id": self.run_id,
            **self.counts.as_dict(),
            "guard_override": self.guard_override,
            "status": self.status.value,
        }

    def log_values(self, loaded_at: dt.datetime) -> dict:
        """Every value a load-log row may hold, by column name (the table's schema picks its columns)."""
        return {
            "batch_id": self.batch_id,
            "ingest_date": self.ingest_date,
            "run_id": self.run_id,
            **self.counts.as_dict(),
            "loaded_at": loaded_at,
            "guard_override": self.guard_override,
            "status": self.status.value,
            "seconds": self.seconds,
            "refusal": self.refusal,
        }
