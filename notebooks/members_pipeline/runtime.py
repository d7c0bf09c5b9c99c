"""Where are we running? Databricks sets DATABRICKS_RUNTIME_VERSION on every cluster."""

import os


def is_databricks() -> bool:
    return bool(os.environ.get("DATABRICKS_RUNTIME_VERSION"))
