"""Split the JDBC read of ``members`` into parallel, evenly sized, complete partitions."""

from __future__ import annotations

from itertools import pairwise


def member_id_boundaries(partition_count: int) -> list[str]:
    """Evenly spaced lower bounds (hex prefixes) of partitions 2..n."""
    if not 1 <= partition_count <= 256:
        raise ValueError(f"partition_count: got {partition_count}, expected 1..256")
    width = 1 if partition_count <= 16 else 2
    space = 16**width
    return [format(i * space // partition_count, f"0{width}x") for i in range(1, partition_count)]


def member_id_predicates(partition_count: int, column: str = "member_id") -> list[str]:
    """WHERE clauses, one per Spark partition, on the leading hex characters of ``member_id``.

    Why this split: member_id is a uuid4 string (the primary key), so its first hex characters are uniformly
    distributed and range predicates on it are served by the primary-key index; a numeric lowerBound/upperBound
    split or a boundary query does not apply to a string key, and registration_date is skewed.

    Why no row is lost or read twice: the predicates are contiguous ranges of one total order,
    ``id < b1 OR id IS NULL``, ``b1 <= id < b2``, ..., ``id >= b(n-1)``; any value (empty, non-hex,
    upper-case under a binary collation, NULL) falls into exactly one of them. Ids outside the hex alphabet
    only make a partition larger, never disappear. Under MySQL's default case-insensitive collation upper-case
    uuids are spread like lower-case ones.
    """
    col = f"`{column}`"
    bounds = member_id_boundaries(partition_count)
    if not bounds:
        return ["1=1"]
    preds = [f"({col} < '{bounds[0]}' OR {col} IS NULL)"]
    preds += [f"{col} >= '{lo}' AND {col} < '{hi}'" for lo, hi in pairwise(bounds)]
    preds.append(f"{col} >= '{bounds[-1]}'")
    return preds
