"""DataFrames of rows the driver holds (a load-log row, a collected change set), built through Arrow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType


def local_frame(spark: SparkSession, rows: Iterable[Sequence], schema: StructType) -> DataFrame:
    """``rows`` (tuples or Rows in ``schema``'s column order) as a DataFrame of ``schema``.

    Through an Arrow table, which the JVM reads as it is. ``createDataFrame`` of a Python list on classic compute (job
    clusters) ships pickled rows that a Python worker per partition unpickles: 20 rows took 0.29 s against 0.013 s
    through Arrow (warm session, 2026-12-06), and a small daily load builds such frames several times. Over Spark
    Connect both become the same local relation. Datetimes should be time-zone aware (naive ones are read as UTC)."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    names = schema.names
    table = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows], schema=to_arrow_schema(schema))
    return spark.createDataFrame(table, schema)
