"""Pure DataFrame transformations used by extract and load."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from .schema import BUSINESS_COLUMNS, LANDING_FILE_SCHEMA, SOURCE_COLUMNS, STRING_COLUMNS

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def clean_members(df: DataFrame, run_id: str, extracted_at: dt.datetime) -> DataFrame:
    """Trim strings (blank -> NULL), lower-case email, keep phone as text, enforce types, add audit columns.

    ``extracted_at`` is a literal from the driver, not current_timestamp(), so a recomputed partition carries
    the same value as the rest of the batch.
    """
    missing = [c for c in SOURCE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"source query is missing column(s): {', '.join(missing)}")
    cols = []
    for name in STRING_COLUMNS:
        value = F.trim(F.col(name).cast("string"))
        if name == "email":
            value = F.lower(value)
        cols.append(F.when(value == "", F.lit(None)).otherwise(value).alias(name))
    cols.append(F.col("registration_date").cast("date").alias("registration_date"))
    cols.append(F.lit(run_id).alias("run_id"))
    cols.append(F.lit(extracted_at).cast("timestamp").alias("extracted_at"))
    out = df.select(*cols)
    got = [(f.name, f.dataType) for f in out.schema.fields]
    if got != [(f.name, f.dataType) for f in LANDING_FILE_SCHEMA.fields]:
        raise ValueError(f"cleaned schema {got} does not match the landing schema")
    return out


def long_pieces(value: Column) -> tuple[Column, Column, Column]:
    """A long split as v = a * 2^42 + b * 2^21 + c: a signed high piece and two unsigned 21-bit pieces, each below 2^22
    in magnitude, so sums of them cannot overflow a long below 2^41 rows (see exact_long_sum)."""
    mask = F.lit((1 << 21) - 1).cast("long")
    return F.shiftright(value, 42), F.shiftright(value, 21).bitwiseAND(mask), value.bitwiseAND(mask)


def combine_piece_sums(sums: tuple[Column, Column, Column]) -> Column:
    """The exact sum as decimal(38,0) from the long sums of long_pieces (NULL over no rows)."""
    a, b, c = (s.cast("decimal(38,0)") for s in sums)
    return (a * F.lit(1 << 42).cast("decimal(38,0)") + b * F.lit(1 << 21).cast("decimal(38,0)") + c).cast("decimal(38,0)")


def exact_long_sum(value: Column) -> Column:
    """The exact sum of a long column as decimal(38,0) (NULL over no rows), aggregated as three long sums.

    Equal to ``sum(value.cast("decimal(38,0)"))`` for any values, but Spark aggregates longs in generated code while a
    decimal sum allocates a Decimal per row (1M rows: about 1.5 s of the extract's 2-core CPU time). The sums of the
    pieces may themselves be summed again (per group, then over groups) with the same exact total."""
    a, b, c = long_pieces(value)
    return combine_piece_sums((F.sum(a), F.sum(b), F.sum(c)))


def row_checksum_value() -> Column:
    """The per-row value row_checksum sums: xxhash64 of the source columns."""
    return F.xxhash64(*[F.col(c) for c in SOURCE_COLUMNS])


def checksum_or_zero(total: Column) -> Column:
    """A checksum total over no rows: 0, as the manifest of an empty batch records it, not NULL."""
    return F.coalesce(total, F.lit(0).cast("decimal(38,0)"))


def row_checksum(df: DataFrame) -> Column:
    """Order-independent checksum of the source columns: the exact sum of per-row xxhash64 as decimal(38,0) (no
    overflow); the same value as the first releases' ``sum(xxhash64(...).cast("decimal(38,0)"))``, so batches landed by
    them verify unchanged."""
    return checksum_or_zero(exact_long_sum(row_checksum_value()))


# The members table's row_hash column: a 64-bit hash (BIGINT) in tables created since 2026-12-06, the SHA-256 hex of the
# joined values (STRING) in older ones, which keep it: a column's type cannot change in place, and another hash would
# count every member as changed once. The load asks the table (tables.row_hash_type) and hashes the batch to match.
ROW_HASH_TYPE = "bigint"
LEGACY_ROW_HASH_TYPE = "string"
ROW_HASH_TYPES = (ROW_HASH_TYPE, LEGACY_ROW_HASH_TYPE)


def check_row_hash_type(column_type: str | None, where: str = "members table row_hash column") -> str:
    """``column_type`` when it is one of ROW_HASH_TYPES, else ValueError naming ``where`` it came from."""
    if column_type not in ROW_HASH_TYPES:
        raise ValueError(f"{where}: got type {column_type!r}, expected one of {list(ROW_HASH_TYPES)}")
    return column_type


def row_hash(column_type: str = ROW_HASH_TYPE) -> Column:
    """Hash of everything but the key, used by the change set to skip unchanged members, of the table's row_hash type.

    bigint: xxhash64 of each business column's NULL flag and typed value, in column order. The flags keep NULL and ''
    apart and pin each value to its column (xxhash64 skips NULLs: without them, a value moving into a NULL neighbour
    would hash the same). 8 bytes a row against 64 characters: at 10M members the table is about half the size on
    disk and its first load writes about 5 s less (2026-12-06). Two different rows hash alike with a chance of 2^-64,
    which the change set's fingerprints accepted already (hash_fingerprint). string: the SHA-256 hex of the values
    joined by U+001F, NULL as U+0000 (tables created before)."""
    check_row_hash_type(column_type)
    if column_type == LEGACY_ROW_HASH_TYPE:
        parts = [F.coalesce(F.col(c).cast("string"), F.lit("\u0000")) for c in BUSINESS_COLUMNS]
        return F.sha2(F.concat_ws("\u001f", *parts), 256)
    return F.xxhash64(*(x for c in BUSINESS_COLUMNS for x in (F.col(c).isNull(), F.col(c))))


def erased_row_hash_sql(column_type: str = ROW_HASH_TYPE) -> str:
    """The row_hash an erased tombstone gets, as SQL: a value no row of the batch is expected to hash to, so a member
    who comes back is updated in full (0 for a 64-bit hash: a chance of 2^-64 that a real row hashes to it)."""
    check_row_hash_type(column_type)
    return "'pii-erased'" if column_type == LEGACY_ROW_HASH_TYPE else "0"


# SQL function of hash_fingerprint, for the MERGE's SQL text too.
FINGERPRINT_FUNCTION = "xxhash64"


def hash_fingerprint(row_hash_col: Column) -> Column:
    """A row hash as 64 bits (its xxhash64): what the change set shuffles, picks and compares. Fixed width, so the
    change-set pass aggregates in a hash aggregate; a string in the aggregation buffer forces a sort aggregate, which
    sorts the batch's keys twice (10M members: 44 s against 31 s for the pass). A changed member whose new row hash
    has the same fingerprint as its old one would be missed: a chance of 2^-64 per changed member."""
    return F.call_function(FINGERPRINT_FUNCTION, row_hash_col)


def several_extracts(first: Column, last: Column) -> Column:
    """TRUE when a batch's rows carry more than one extracted_at (first < last): not one extract's output, which the
    change set's pick (the greatest fingerprint, ignoring extracted_at) relies on."""
    return F.coalesce(last > first, F.lit(False)).alias("several_extracts")


def with_rejection_reason(df: DataFrame) -> DataFrame:
    """Add ``reject_reason`` (NULL for valid rows). First failing rule wins, in the order below.

    A NULL e-mail is accepted (members may have none); a present but malformed one is not.
    registration_date is missing when MySQL held NULL or the zero date (CONVERT_TO_NULL) and is in the
    future when it lies after the batch's ingest date (deterministic on reruns, unlike today's date).
    """
    reason = (
        F.when(F.col("member_id").isNull() | (F.trim(F.col("member_id")) == ""), F.lit("missing member_id"))
        .when(F.col("email").isNotNull() & ~F.col("email").rlike(EMAIL_PATTERN), F.lit("malformed email"))
        .when(F.col("registration_date").isNull(), F.lit("missing or zero registration_date"))
        .when(F.col("registration_date") > F.col("ingest_date"), F.lit("future registration_date"))
    )
    return df.withColumn("reject_reason", reason)


def deduplicate(valid: DataFrame) -> DataFrame:
    """One row per member_id. Deterministic choice: latest extracted_at, then the greatest hash_fingerprint of the row
    hash (the change set's pick: merge._snapshot_keys), then the greatest row hash.

    Within one batch extracted_at is equal, so the fingerprint breaks the tie; any rerun picks the same row.
    """
    from pyspark.sql.window import Window

    order = (F.col("extracted_at").desc(), hash_fingerprint(F.col("row_hash")).desc(), F.col("row_hash").desc())
    w = Window.partitionBy("member_id").orderBy(*order)
    return valid.withColumn("_rn", F.row_number().over(w)).where("_rn = 1").drop("_rn")
