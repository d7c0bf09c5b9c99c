# Databricks notebook source
# MAGIC %md
# MAGIC # Generate member data
# MAGIC Fills a **test** MySQL database with fake members (Faker, seeded: the same seed gives the same members),
# MAGIC like the original generator script. Creates the `members` table with its primary key and inserts in batches.
# MAGIC Never point it at production: with `if_exists=REPLACE` it drops the table first.

# COMMAND ----------

# MAGIC %md
# MAGIC ## Libraries
# MAGIC Faker and PyMySQL are not on the Databricks runtime; the versions match `notebooks/requirements.txt`.

# COMMAND ----------

# MAGIC %pip install faker==40.63.0 PyMySQL==1.2.4

# COMMAND ----------

# MAGIC %md
# MAGIC ## Parameters
# MAGIC Widgets: secret scope with the MySQL connection (keys host, port, database, user, password), number of rows,
# MAGIC seed, insert batch size, target table, what to do if the table exists (FAIL, REPLACE, APPEND) and how many of
# MAGIC the rows are deliberately invalid (to exercise the load's quarantine). Bad values stop here with a clear error.
# MAGIC The generator has its own secret scope (default `members-mysql-generator`: a user allowed to create tables in the
# MAGIC test database, not the extract's credentials) and connects over TLS that verifies the server: its certificate must
# MAGIC chain to `ca_path` (a PEM file, e.g. in a volume; empty = the system CAs) and name the host.
# MAGIC Secret scope and table (and the CA) are fixed by the deployment when the job cluster's Spark conf carries them
# MAGIC (`spark.members.generate.<widget>`): a widget that differs stops the run before MySQL is touched.

# COMMAND ----------

from members_pipeline.config import parse_generate_widgets
from members_pipeline.contract import declare_widgets
from members_pipeline.deployment import read_deployment_settings
from members_pipeline.mysql import connection_from_secrets

# Widget names, defaults and labels: members_pipeline/contract.json (the stack reads the same file).
deployed = read_deployment_settings(spark, "generate")  # noqa: F821
declare_widgets(dbutils, "generate", deployed)  # noqa: F821

cfg = parse_generate_widgets(dbutils.widgets.get, deployed)  # noqa: F821
conn = connection_from_secrets(dbutils.secrets.get, cfg.secret_scope)  # noqa: F821
print(cfg, conn)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Generate and insert
# MAGIC Rows are generated lazily and sent as multi-row INSERTs of `batch_size` rows, one commit per batch.

# COMMAND ----------

import json

from members_pipeline.generate import generate_members

summary = generate_members(conn, cfg)
print(json.dumps(summary))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Result
# MAGIC The JSON summary (rows inserted, rows now in the table, seconds) is the notebook's exit value.

# COMMAND ----------

dbutils.notebook.exit(json.dumps(summary))  # noqa: F821
