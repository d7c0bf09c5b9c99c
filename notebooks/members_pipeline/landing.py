"""Landing-zone layout: ``<landing>/members/ingest_date=YYYY-MM-DD/part-*.parquet`` + ``_manifest.json``.

The manifest is written last and removed first, so a batch is complete exactly when its manifest exists.
Spark ignores files starting with ``_`` when it reads the Parquet directory.
"""

from __future__ import annotations

import datetime as dt

MANIFEST_NAME = "_manifest.json"
MANIFEST_VERSION = 1


def members_root(landing_path: str) -> str:
    return landing_path.rstrip("/") + "/members"


def partition_dir(ingest_date: dt.date) -> str:
    return f"ingest_date={ingest_date.isoformat()}"


def partition_path(landing_path: str, ingest_date: dt.date) -> str:
    return f"{members_root(landing_path)}/{partition_dir(ingest_date)}"


def manifest_path(landing_path: str, ingest_date: dt.date) -> str:
    return f"{partition_path(landing_path, ingest_date)}/{MANIFEST_NAME}"


def parse_partition_dir(name: str) -> dt.date | None:
    if not name.startswith("ingest_date="):
        return None
    try:
        return dt.date.fromisoformat(name.split("=", 1)[1])
    except ValueError:
        return None
