"""DataFrame transformations on local Spark."""

import datetime as dt
import hashlib

import pytest
from members_pipeline.frames import local_frame
from members_pipeline.schema import LANDING_FILE_SCHEMA, SOURCE_COLUMNS, SOURCE_SCHEMA
from members_pipeline.transform import clean_members, deduplicate, exact_long_sum, row_checksum, row_hash, with_rejection_reason
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DateType, DoubleType, LongType, StringType, StructField, StructType, TimestampType

T0 = dt.datetime(2026, 1, 15, 3, 0, tzinfo=dt.UTC)


def test_clean_members_trims_lowercases_and_types(spark):
    raw = local_frame(
        spark,
        [(" id-1 ", "  Ann ", "Lee", "  Ann.Lee@Example.COM ", " 531.754.6833x29494 ", "1 Main", "", "PT", dt.date(2000, 2, 29))],
        SOURCE_SCHEMA,
    )
    out = clean_members(raw, "run-1", T0)
    assert out.schema == LANDING_FILE_SCHEMA
    row = out.first()
    assert row.member_id == "id-1" and row.first_name == "Ann"
    assert row.email == "ann.lee@example.com"
    assert row.phone_number == "531.754.6833x29494"
    assert row.city is None  # blank becomes NULL
    assert row.registration_date == dt.date(2000, 2, 29)
    assert row.run_id == "run-1" and row.extracted_at == T0.replace(tzinfo=None)


def test_rejection_reasons(spark):
    ingest = dt.date(2026, 1, 15)
    rows = [
        ("ok", "a@b.co", dt.date(2026, 1, 15), None),
        ("no-email", None, dt.date(2020, 1, 1), None),
        (None, "a@b.co", dt.date(2020, 1, 1), "missing member_id"),
        ("  ", "a@b.co", dt.date(2020, 1, 1), "missing member_id"),
        ("bad-mail", "a at b.co", dt.date(2020, 1, 1), "malformed email"),
        ("bad-mail2", "a@b", dt.date(2020, 1, 1), "malformed email"),
        ("zero-date", "a@b.co", None, "missing or zero registration_date"),
        ("future", "a@b.co", dt.date(2026, 1, 16), "future registration_date"),
    ]
    df = spark.createDataFrame([(r[0], r[1], r[2], ingest) for r in rows], "member_id string, email string, registration_date date, ingest_date date")
    got = {r.member_id: r.reject_reason for r in with_rejection_reason(df).collect()}
    assert got == {r[0]: r[3] for r in rows}


def test_row_hash_tells_null_from_empty_and_keeps_each_value_in_its_column(spark):
    """Both row_hash types: NULL and '' differ, a value moving to a NULL neighbour changes the hash (xxhash64 skips
    NULLs, hence the flags), equal rows hash alike; the string type is the earlier releases' SHA-256 hex, unchanged."""
    rows = [
        ("a", None, "X", *["k"] * 5, dt.date(2020, 1, 1)),
        ("b", "X", None, *["k"] * 5, dt.date(2020, 1, 1)),
        ("c", "", "X", *["k"] * 5, dt.date(2020, 1, 1)),
        ("d", None, "X", *["k"] * 5, dt.date(2020, 1, 1)),
    ]
    df = local_frame(spark, rows, SOURCE_SCHEMA)
    got = {r.member_id: (r.h, r.hex) for r in df.select("member_id", row_hash().alias("h"), row_hash("string").alias("hex")).collect()}
    for i in (0, 1):
        assert len({got[k][i] for k in "abc"}) == 3 and got["a"][i] == got["d"][i], i
    assert all(isinstance(h, int) for h, _ in got.values())
    joined = "\u001f".join(["\u0000", "X", *["k"] * 5, "2020-01-01"])
    assert got["a"][1] == hashlib.sha256(joined.encode()).hexdigest()
    with pytest.raises(ValueError, match=r"got type 'int', expected one of \['bigint', 'string'\]"):
        row_hash("int")


def test_deduplicate_is_deterministic(spark):
    cols = (
        "member_id string, first_name string, last_name string, email string, phone_number string, "
        "address string, city string, country string, registration_date date, extracted_at timestamp"
    )
    base = ["x", "e@x.io", "1", "a", "c", "k", dt.date(2020, 1, 1), dt.datetime(2026, 1, 1)]
    df = spark.createDataFrame([("m1", "Ann", *base), ("m1", "Bob", *base), ("m2", "Cy", *base)], cols)
    df = df.withColumn("row_hash", row_hash())
    first = {r.member_id: r.first_name for r in deduplicate(df).collect()}
    again = {r.member_id: r.first_name for r in deduplicate(df.orderBy("first_name", ascending=False)).collect()}
    assert first == again and set(first) == {"m1", "m2"}


def test_exact_long_sum_equals_the_decimal_sum_at_the_extremes(spark):
    lo, hi = -(2**63), 2**63 - 1
    for values in ([lo] * 3000, [hi] * 3000, [lo, hi, -1, 0, 1, 2**42, -(2**42) - 1, 2**21 - 1], [None, 5], []):
        df = local_frame(spark, [(v,) for v in values], StructType([StructField("v", LongType())]))
        decimal_sum = F.sum(F.col("v").cast("decimal(38,0)"))
        got = df.agg(exact_long_sum(F.col("v")).cast("string").alias("new"), decimal_sum.cast("string").alias("old")).first()
        assert got.new == got.old, values[:3]
        assert got.new == (str(sum(v for v in values if v is not None)) if any(v is not None for v in values) else None)


def test_row_checksum_is_the_first_releases_value(spark):
    """Batches landed by the releases that summed xxhash64 as decimal(38,0) keep verifying (same manifest_version)."""
    rows = [(f"id-{i}", "Ann", None, f"a{i}@x.io", "1", "2 Main", "Porto", "PT", dt.date(2000, 1, 1 + i % 28)) for i in range(500)]
    df = local_frame(spark, rows, SOURCE_SCHEMA)
    first_release = F.coalesce(F.sum(F.xxhash64(*[F.col(c) for c in SOURCE_COLUMNS]).cast("decimal(38,0)")), F.lit(0))
    got = df.agg(row_checksum(df).cast("string").alias("new"), first_release.cast("string").alias("old")).first()
    assert got.new == got.old
    empty = df.limit(0)
    assert empty.agg(row_checksum(empty).cast("string").alias("c")).first().c == "0"


def test_local_frame_keeps_every_value_and_runs_no_python_worker(spark):
    """The load log's row and a collected change set become DataFrames through local_frame: every type they use, and
    NULL, must come back as given, and the rows must reach the JVM without a Python worker (createDataFrame of a
    list needs one per partition on classic compute: the contrast below shows the check can tell)."""
    kinds = (StringType(), LongType(), BooleanType(), DateType(), TimestampType(), DoubleType())
    schema = StructType([StructField(f"c{i}", kind) for i, kind in enumerate(kinds)])
    rows = [("m1", -(2**63), True, dt.date(2020, 5, 17), T0, 1.5), ("m2", 2**63 - 1, False, dt.date(1970, 1, 1), T0, -0.0), (None,) * 6]

    frame = local_frame(spark, rows, schema)

    want = [(*r[:4], r[4].astimezone().replace(tzinfo=None), r[5]) if r[0] else r for r in rows]  # collect gives local wall time
    assert [tuple(r) for r in frame.orderBy(F.asc_nulls_last("c0")).collect()] == want
    assert frame.schema == schema

    def lineage(df) -> str:
        return df._jdf.queryExecution().toRdd().toDebugString()

    assert "PythonRDD" in lineage(spark.createDataFrame(rows, schema))
    assert "PythonRDD" not in lineage(frame)
