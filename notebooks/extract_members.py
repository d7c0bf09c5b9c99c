# Databricks notebook source
# MAGIC %md
# MAGIC # Extract members: MySQL → Parquet landing zone
# MAGIC Reads the MySQL `members` table over JDBC, cleans and types it, and writes one complete Parquet batch per
# MAGIC run date under `<landing>/members/ingest_date=YYYY-MM-DD/`. A manifest written last marks the batch complete;
# MAGIC the load job only reads batches that have one. All logic lives in `members_pipeline` (tested with pytest).

# COMMAND ----------

# MAGIC %md
# MAGIC ## 1. Parameters and connection
# MAGIC Widgets: secret scope, landing path, run date (the job passes `{{job.start_time.iso_date}}`), number of parallel
# MAGIC JDBC partitions, fetch size (0, the default: rows stream from the server), TLS mode and trust store. Connection
# MAGIC details come from the secret scope (keys host, port, database, user, password; host must be a DNS name or IP
# MAGIC literal, database a plain name, so no secret can add URL parameters); the JDBC URL carries `sslMode`,
# MAGIC `zeroDateTimeBehavior=CONVERT_TO_NULL`, `tinyInt1isBit=false`, `connectionTimeZone=UTC` (and `useCursorFetch`
# MAGIC for a fetch size above 0). Credentials are passed as properties and never printed.
# MAGIC `sslMode` defaults to `VERIFY_IDENTITY`: the server's certificate must chain to a trusted CA and name the host
# MAGIC (`REQUIRED` would encrypt without knowing who answers). The CA comes from `trust_store_path` (a password-less
# MAGIC PKCS12 file in a volume, read by the executors too) or, when empty, from the JVM's default trust store.
# MAGIC
# MAGIC **Fixed by the deployment**: secret scope, landing path, TLS settings and source table come from the job
# MAGIC cluster's Spark conf (`spark.members.extract.<widget>`, pinned by the cluster policy), not from job parameters.
# MAGIC Such a widget may be left empty or hold the same value; any other value stops the run before MySQL is read or
# MAGIC anything is written. Without these settings (local runs) the widgets decide.

# COMMAND ----------

from members_pipeline.config import parse_extract_widgets
from members_pipeline.contract import declare_widgets
from members_pipeline.deployment import read_deployment_settings
from members_pipeline.extract import source_jdbc
from members_pipeline.mysql import connection_from_secrets

# Widget names, defaults and labels: members_pipeline/contract.json (the stack reads the same file).
deployed = read_deployment_settings(spark, "extract")  # noqa: F821
declare_widgets(dbutils, "extract", deployed)  # noqa: F821

cfg = parse_extract_widgets(dbutils.widgets.get, deployed)  # noqa: F821
conn = connection_from_secrets(dbutils.secrets.get, cfg.secret_scope)  # noqa: F821
print(cfg)
print(conn, source_jdbc(conn, cfg)[0])

# COMMAND ----------

# MAGIC %md
# MAGIC ## 2. Plan the parallel read
# MAGIC One explicit query over the nine columns, split into `partition_count` range predicates on the leading hex
# MAGIC characters of `member_id` (a uuid, so the ranges are even and served by the primary key). The ranges cover
# MAGIC every possible value, so non-hex or NULL ids are read too, exactly once.

# COMMAND ----------

from members_pipeline.extract import source_query
from members_pipeline.partitioning import member_id_predicates

print(source_query(cfg.source_table))
for predicate in member_id_predicates(cfg.partition_count):
    print("  WHERE", predicate)

# COMMAND ----------

# MAGIC %md
# MAGIC ## 3–4. Read, transform, write
# MAGIC Trim strings (blank becomes NULL), lower-case e-mail, keep phone numbers as text, enforce the schema and add the
# MAGIC audit columns `ingest_date`, `run_id`, `extracted_at`. The batch is written with dynamic partition overwrite
# MAGIC (a rerun replaces only its date), one file per JDBC partition (split above a million rows). MySQL is read
# MAGIC once, straight into Parquet; the manifest's numbers (row count, checksum, min/max member_id and
# MAGIC registration_date) are observed on the same rows as they are written. Order of writes: remove the date's old
# MAGIC manifest, write the Parquet, verify the row count that landed, then write the manifest. If MySQL is unreachable
# MAGIC the error names host and port and no manifest exists, so no reader ever sees a half batch. An empty source
# MAGIC table is a valid, empty snapshot: one schema-only Parquet file and a manifest with 0 rows (the load's data
# MAGIC guards decide whether it may flag members).

# COMMAND ----------

from members_pipeline.extract import extract_members
from members_pipeline.files import Files

summary = extract_members(spark, Files(dbutils), conn, cfg)  # noqa: F821
print(summary)

# COMMAND ----------

# MAGIC %md
# MAGIC ## 5. Result
# MAGIC The JSON summary (rows, files, path, checksum, seconds) is the task's exit value, visible in the job run.

# COMMAND ----------

import json

dbutils.notebook.exit(json.dumps(summary))  # noqa: F821
