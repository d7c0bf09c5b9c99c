"""Landing-zone layout: ``<landing>/members/ingest_date=YYYY-MM-DD/part-*.parquet`` + ``_manifest.json``.

The manifest is written last and removed first, so a batch is complete exactly when its manifest exists.
Spark ignores files starting with ``_`` when it reads the Parquet directory.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from .config import _RUN_ID

MANIFEST_NAME = "_manifest.json"
MANIFEST_VERSION = 1
FULL_SNAPSHOT = "full"


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


class ManifestError(ValueError):
    """A manifest that is malformed or lies in another date's folder; the message names the file and every problem."""


@dataclass(frozen=True)
class ManifestSource:
    """Where the extract read the batch (never credentials)."""

    table: str
    host: str
    port: int
    database: str


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _parses(parse: Callable[[str], Any]) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        try:
            parse(value)
            return True
        except (TypeError, ValueError):
            return False

    return ok


# key -> (required, accepts, what is expected, conversion from JSON). Required keys are what the load relies on;
# attempt_id and snapshot are optional because manifests written before they existed lack them (no attempt_id: the
# batch id is date/run; no snapshot: not a full snapshot, so nothing is flagged deleted).
_FIELDS: dict[str, tuple[bool, Callable[[Any], bool], str, Callable[[Any], Any] | None]] = {
    "run_id": (True, lambda v: _text(v) and bool(_RUN_ID.fullmatch(v)), "up to 64 letters, digits or ._:-", None),
    "ingest_date": (True, lambda v: _text(v) and _parses(dt.date.fromisoformat)(v), "an ISO date (YYYY-MM-DD)", dt.date.fromisoformat),
    "rows": (True, lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a non-negative integer", None),
    # A sum of xxhash64 values as decimal(38,0), written as its string (may be negative).
    "checksum": (True, lambda v: _text(v) and bool(re.fullmatch(r"-?[0-9]{1,40}", v)), "an integer as a string", None),
    "manifest_version": (False, lambda v: v == MANIFEST_VERSION and not isinstance(v, bool), f"{MANIFEST_VERSION} (this load's version)", None),
    "attempt_id": (False, _text, "a string", None),
    "snapshot": (False, lambda v: v == FULL_SNAPSHOT, repr(FULL_SNAPSHOT), None),
    "table": (False, _text, "a string", None),
    "extracted_at": (False, lambda v: _text(v) and _parses(dt.datetime.fromisoformat)(v), "an ISO timestamp", dt.datetime.fromisoformat),
    "source": (
        False,
        lambda v: (
            isinstance(v, dict)
            and set(v) == {"table", "host", "port", "database"}
            and all(_text(v[k]) for k in ("table", "host", "database"))
            and isinstance(v["port"], int)
        ),
        "an object with table, host, port and database",
        lambda v: ManifestSource(**v),
    ),
    "files": (False, lambda v: isinstance(v, list) and all(map(_text, v)), "a list of file names", tuple),
    "min_member_id": (False, _text, "a string", None),
    "max_member_id": (False, _text, "a string", None),
    "min_registration_date": (False, _text, "a string", None),
    "max_registration_date": (False, _text, "a string", None),
}


@dataclass(frozen=True)
class Manifest:
    """The one shape of ``_manifest.json``: the extract writes it (to_json) as the batch's last file; the load reads it
    (from_json, which validates it) and checks the batch's files against its rows and checksum."""

    run_id: str
    ingest_date: dt.date
    rows: int
    checksum: str
    attempt_id: str | None = None
    snapshot: str | None = None
    extracted_at: dt.datetime | None = None
    source: ManifestSource | None = None
    files: tuple[str, ...] = ()
    min_member_id: str | None = None
    max_member_id: str | None = None
    min_registration_date: str | None = None
    max_registration_date: str | None = None
    table: str = "members"
    manifest_version: int = MANIFEST_VERSION

    @property
    def full_snapshot(self) -> bool:
        """The whole source table: members it does not contain are flagged deleted."""
        return self.snapshot == FULL_SNAPSHOT

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, keyed by field name (from_json reads it back to an equal Manifest)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dt.date):  # dates and datetimes
                value = value.isoformat()
            elif isinstance(value, ManifestSource):
                value = {k.name: getattr(value, k.name) for k in fields(value)}
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, path: str, data: Any, *, ingest_date: dt.date | None = None) -> Manifest:
        """The manifest in ``data`` (the parsed JSON of the file at ``path``), validated; with ``ingest_date`` (its
        folder's date) it must be that date's batch. Unknown keys are ignored. ManifestError names the file and lists
        every problem."""
        if not isinstance(data, dict):
            raise ManifestError(f"invalid manifest {path}: expected a JSON object, got {type(data).__name__}")
        problems: list[str] = []
        values: dict[str, Any] = {}
        for key, (required, accepts, expected, convert) in _FIELDS.items():
            if key not in data:
                if required:
                    problems.append(f"missing {key!r}")
            elif data[key] is None and not required:
                pass
            elif not accepts(data[key]):
                problems.append(f"{key}: got {data[key]!r}, expected {expected}")
            else:
                values[key] = convert(data[key]) if convert else data[key]
        if ingest_date is not None and "ingest_date" in values and values["ingest_date"] != ingest_date:
            problems.append(f"ingest_date: got {data['ingest_date']!r}, expected {ingest_date.isoformat()!r} (its folder)")
        if problems:
            raise ManifestError(f"invalid manifest {path}: " + "; ".join(problems))
        return cls(**values)
