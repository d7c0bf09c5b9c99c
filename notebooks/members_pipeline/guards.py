"""Data guards: refuse a batch that would change an unusual share of the members table.

A full snapshot flags every active member it does not contain as deleted, so a truncated source table or a broken
extract would otherwise "delete" everyone; an unusual share of invalid rows usually means a source change, not bad
members. Both are decided before anything is written, from counts only (pure functions, unit-tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class DataGuardError(RuntimeError):
    """A batch exceeded max_deleted_share or max_quarantined_share; nothing of it was merged or quarantined, and the
    load log holds a row with status refused (not a loaded batch: the next run tries it again)."""


@dataclass(frozen=True)
class BatchImpact:
    rows: int  # manifest rows
    quarantined: int
    active: int  # members not flagged deleted before this batch
    absent: int  # of those, members the batch does not contain (would be flagged deleted)


def _pct(part: int | Decimal, whole: int | Decimal = 1) -> str:
    share = float(part) / float(whole) * 100 if whole else 0.0
    text = f"{share:.1f}"
    if text == "0.0" and share > 0:  # 1 row of 100,000 is not 0%
        text = f"{share:.2g}"
    return text + "%"


def guard_problems(impact: BatchImpact, max_deleted_share: Decimal, max_quarantined_share: Decimal) -> list[str]:
    """What exceeds a threshold, with the numbers. Exact integer/Decimal comparison: no float rounding at the edge.

    With no active members the deleted share is 0 (the first load of a new system passes)."""
    problems = []
    if impact.absent > max_deleted_share * impact.active:
        problems.append(
            f"would flag {impact.absent:,} of {impact.active:,} active members deleted "
            f"({_pct(impact.absent, impact.active)}), above max_deleted_share {_pct(max_deleted_share)}"
        )
    if impact.quarantined > max_quarantined_share * impact.rows:
        share = _pct(impact.quarantined, impact.rows)
        problems.append(
            f"would quarantine {impact.quarantined:,} of {impact.rows:,} rows ({share}), above max_quarantined_share {_pct(max_quarantined_share)}"
        )
    return problems


def refusal_message(batch_id: str, problems: list[str]) -> str:
    return (
        f"batch {batch_id}: "
        + "; ".join(problems)
        + "; rerun with accept_mass_change=true to accept it for one run"
        + " (nothing of this batch was merged or quarantined; the load log records the refusal)"
    )


def override_note(batch_id: str, problems: list[str]) -> str:
    return f"batch {batch_id}: accepted with accept_mass_change=true although it " + "; ".join(problems)
