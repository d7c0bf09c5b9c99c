"""Column lists and Spark schemas shared by extract and load (SPEC §1)."""

from pyspark.sql.types import DateType, StringType, StructField, StructType, TimestampType

from .contract import CONTRACT

# The nine source columns, in MySQL order.
SOURCE_COLUMNS = (
    "member_id",
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "address",
    "city",
    "country",
    "registration_date",
)
STRING_COLUMNS = SOURCE_COLUMNS[:-1]
# Columns compared to decide whether a member changed (everything but the key).
BUSINESS_COLUMNS = SOURCE_COLUMNS[1:]
# The columns that hold personal data: contract.json, which the stack reads too (masks, health queries).
PII_COLUMNS = tuple(CONTRACT["piiColumns"])

SOURCE_SCHEMA = StructType([StructField(c, StringType(), True) for c in STRING_COLUMNS] + [StructField("registration_date", DateType(), True)])

# What a landed Parquet file holds; ingest_date is the partition column (directory), not a file column.
AUDIT_FIELDS = [
    StructField("run_id", StringType(), False),
    StructField("extracted_at", TimestampType(), False),
]
LANDING_FILE_SCHEMA = StructType(SOURCE_SCHEMA.fields + AUDIT_FIELDS)
# What a reader sees when it reads the landing root (partition column included).
LANDING_SCHEMA = StructType(LANDING_FILE_SCHEMA.fields + [StructField("ingest_date", DateType(), False)])
