# Databricks notebook source
# MAGIC %md
# MAGIC # Load members: Parquet landing zone → Delta
# MAGIC Merges every complete, not yet loaded batch from `<landing>/members/` into the Delta members table, quarantines
# MAGIC invalid rows with a reason, and records each batch in a load log. Running it again on the same batch changes
# MAGIC nothing. All logic lives in `members_pipeline` (tested with pytest on local Spark + Delta).

# COMMAND ----------

# MAGIC %md
# MAGIC ## Parameters
# MAGIC Widgets: landing path, catalog, schema, table, optional ingest date (empty = every pending batch), and the account
# MAGIC group that may read PII in clear (in the readers' masking view). Locally the catalog is `spark_catalog`.
# MAGIC
# MAGIC **Data guards** (checked per batch before anything is written): the load refuses a batch that would flag more than
# MAGIC `max_deleted_share` (default 0.05) of the active members deleted, or quarantine more than `max_quarantined_share`
# MAGIC (default 0.01) of its rows. The run fails with `DataGuardError` and the numbers; nothing of that batch is merged
# MAGIC or quarantined, and the load log gets a row with status `refused` (the batch stays pending).
# MAGIC `accept_mass_change=true` accepts the batches of this one run anyway (the override and its numbers are printed,
# MAGIC returned and written to the load log); leave it `false` in the job.
# MAGIC
# MAGIC **Erasure**: members flagged deleted for at least `pii_retention_days` (default 30, counted in ingest dates) keep
# MAGIC a tombstone row but get their PII set to NULL, in the quarantine table too. `history_retention_days` (default 7)
# MAGIC sets `delta.deletedFileRetentionDuration` and `delta.logRetentionDuration`: older table versions, which still
# MAGIC hold erased values, are deleted by VACUUM once older than that.
# MAGIC
# MAGIC **Fixed by the deployment**: landing path, catalog, schema, table, PII reader group and both retentions come from
# MAGIC the job cluster's Spark conf (`spark.members.load.<widget>`, pinned by the cluster policy), not from job
# MAGIC parameters. Such a widget may be left empty or hold the same value; any other value stops the run before
# MAGIC anything is read or written. Without these settings (local runs) the widgets decide.

# COMMAND ----------

from members_pipeline.config import parse_load_widgets
from members_pipeline.contract import declare_widgets
from members_pipeline.deployment import read_deployment_settings

# Widget names, defaults and labels: members_pipeline/contract.json (the stack reads the same file).
deployed = read_deployment_settings(spark, "load")  # noqa: F821
declare_widgets(dbutils, "load", deployed)  # noqa: F821

cfg = parse_load_widgets(dbutils.widgets.get, deployed)  # noqa: F821
print(cfg)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Tables
# MAGIC Creates, if missing, the members table (Delta, liquid clustering on `member_id`, table and column comments, PII
# MAGIC columns listed as a table property), the quarantine table and the load log; tables created by an older version
# MAGIC get the newer columns added. History retention and statistics (non-PII columns only) are set as table properties.
# MAGIC On Databricks a new members table also gets Unity Catalog tags on its PII columns. The tables carry no column
# MAGIC mask (the load's own reads and writes stay off fine-grained access control): readers query the view
# MAGIC `<masked_schema>.<table>`, whose PII columns show `***` to everyone but the reader group. The view is replaced on
# MAGIC every run, only from a reader group the deployment fixed; masks an earlier release put on the table are dropped.

# COMMAND ----------

# MAGIC %md
# MAGIC ## 1. Find complete batches
# MAGIC A batch is complete when its `_manifest.json` exists (the extract writes it last). Batches already in the load
# MAGIC log are skipped; a batch older than the newest loaded one is reported as superseded instead of being loaded.

# COMMAND ----------

# MAGIC %md
# MAGIC ## 2–4. Validate, quarantine, deduplicate, merge, reconcile
# MAGIC Per batch, oldest first: read with the explicit schema and check row count and checksum against the manifest;
# MAGIC rows with a missing/blank member_id, a malformed e-mail, or a missing, zero or future registration date go to
# MAGIC the quarantine table with the reason; duplicates of a member_id collapse to one row (deterministic choice);
# MAGIC one pass compares the batch's keys and row hashes with the table (the change set), then `MERGE` takes only those
# MAGIC members: it inserts new ones, updates changed ones, skips unchanged ones and flags members missing from the full
# MAGIC snapshot as deleted. `manifest rows = merged + quarantined + duplicates` must hold, otherwise
# MAGIC the batch fails loudly and is not logged. Before the first write the data guards are checked (see Parameters).
# MAGIC After the MERGE, PII of members deleted for `pii_retention_days` is erased (members and quarantine), then
# MAGIC deletion vectors are purged. The load-log row is written last. After a run that erased something (and on the
# MAGIC following runs until `history_retention_days` + 2 days have passed) both tables are vacuumed.

# COMMAND ----------

import json

from members_pipeline.files import Files
from members_pipeline.load import load_members

# One call runs the sections above in order (members_pipeline/load.py): tables, batches, then each batch.
summary = load_members(spark, Files(dbutils), cfg)  # noqa: F821
print(json.dumps(summary, indent=2))

# COMMAND ----------

# MAGIC %md
# MAGIC ## 5. Result
# MAGIC The JSON summary (batches, merged, inserted, updated, unchanged, quarantined, duplicates, flagged deleted, PII
# MAGIC erased, guard overrides, vacuumed tables) is the task's exit value.

# COMMAND ----------

dbutils.notebook.exit(json.dumps(summary))  # noqa: F821
