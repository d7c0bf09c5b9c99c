"""members_pipeline: every transformation behind the extract / load / generate notebooks.

The notebooks only read widgets and secrets and call into this package, so the same code runs on
Databricks and on local Spark (see ../run_local.py) and is tested with pytest on real engines.
"""

__version__ = "0.2.0"

__all__ = [
    "config",
    "mysql",
    "partitioning",
    "schema",
    "transform",
    "landing",
    "extract",
    "load",
    "guards",
    "retention",
    "results",
    "contract",
    "deployment",
    "generate",
]
