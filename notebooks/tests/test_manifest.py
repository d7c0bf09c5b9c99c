"""The manifest's one typed shape (landing.Manifest): what the extract writes is what the load reads back, and a
manifest that is malformed or lies in another date's folder is refused naming the file. Plain unit tests: no JVM."""

import datetime as dt
import json

import pytest
from members_pipeline.batches import ReconciliationError, check_manifest, read_manifest
from members_pipeline.files import Files
from members_pipeline.landing import Manifest, ManifestError, ManifestSource
from run_local import LocalDbutils

DAY = dt.date(2026, 1, 15)
PATH = "/landing/members/ingest_date=2026-01-15/_manifest.json"
# A manifest as the extract wrote it before the typed shape: its keys and value types are still the file format.
WRITTEN = {
    "manifest_version": 1,
    "table": "members",
    "snapshot": "full",
    "ingest_date": "2026-01-15",
    "run_id": "4242",
    "attempt_id": "0f3c1d2e4b5a69788796a5b4c3d2e1f0",
    "extracted_at": "2026-01-15T02:00:07+00:00",
    "source": {"table": "members", "host": "mysql.internal", "port": 3306, "database": "members"},
    "files": ["part-00000-a.snappy.parquet", "part-00001-b.snappy.parquet"],
    "rows": 14,
    "checksum": "-81985529216486895",
    "min_member_id": "00a1",
    "max_member_id": "ff02",
    "min_registration_date": "1900-01-01",
    "max_registration_date": "2026-01-15",
}


def test_the_written_file_format_reads_back_typed_and_writes_back_unchanged():
    manifest = Manifest.from_json(PATH, WRITTEN, ingest_date=DAY)

    assert (manifest.run_id, manifest.ingest_date, manifest.rows, manifest.checksum) == ("4242", DAY, 14, "-81985529216486895")
    assert manifest.extracted_at == dt.datetime(2026, 1, 15, 2, 0, 7, tzinfo=dt.UTC)
    assert manifest.source == ManifestSource("members", "mysql.internal", 3306, "members")
    assert manifest.files == ("part-00000-a.snappy.parquet", "part-00001-b.snappy.parquet") and manifest.full_snapshot
    assert manifest.to_json() == WRITTEN
    assert json.loads(json.dumps(manifest.to_json())) == WRITTEN


def test_a_manifest_from_before_attempt_id_and_snapshot_still_loads_as_not_a_full_snapshot():
    old = {k: WRITTEN[k] for k in ("run_id", "rows", "checksum", "ingest_date")}

    manifest = Manifest.from_json(PATH, old, ingest_date=DAY)

    assert manifest.attempt_id is None and manifest.snapshot is None and not manifest.full_snapshot


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"run_id": "x'; DROP TABLE members; --"}, 'run_id: got "x\'; DROP TABLE members; --", expected up to 64 letters, digits or ._:-'),
        ({"run_id": None}, "run_id: got None, expected up to 64 letters"),
        ({"run_id": "4242\n"}, "run_id: got '4242\\n', expected up to 64 letters"),
        ({"rows": -1}, "rows: got -1, expected a non-negative integer"),
        ({"rows": "14"}, "rows: got '14', expected a non-negative integer"),
        ({"rows": True}, "rows: got True, expected a non-negative integer"),
        ({"checksum": 12}, "checksum: got 12, expected an integer as a string"),
        ({"ingest_date": "2026-01-14"}, "ingest_date: got '2026-01-14', expected '2026-01-15' (its folder)"),
        ({"ingest_date": "15.01.2026"}, "ingest_date: got '15.01.2026', expected an ISO date"),
        ({"manifest_version": 2}, "manifest_version: got 2, expected 1 (this load's version)"),
        ({"snapshot": "incremental"}, "snapshot: got 'incremental', expected 'full'"),
        ({"source": {"host": "h"}}, "source: got {'host': 'h'}, expected an object with table, host, port and database"),
        ({"files": "part-0.parquet"}, "files: got 'part-0.parquet', expected a list of file names"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_file_the_key_and_what_was_expected(change, problem):
    with pytest.raises(ManifestError) as err:
        Manifest.from_json(PATH, {**WRITTEN, **change}, ingest_date=DAY)
    assert str(err.value).startswith(f"invalid manifest {PATH}: ") and problem in str(err.value), str(err.value)


def test_every_problem_is_listed_at_once():
    broken = {"run_id": "bad id", "rows": -3, "ingest_date": "2026-01-14"}

    with pytest.raises(ManifestError) as err:
        Manifest.from_json(PATH, broken, ingest_date=DAY)

    msg = str(err.value)
    for problem in ("run_id: got 'bad id'", "rows: got -3", "missing 'checksum'", "ingest_date: got '2026-01-14'"):
        assert problem in msg, msg


def test_not_an_object_is_refused():
    with pytest.raises(ManifestError, match=r"invalid manifest .*_manifest.json: expected a JSON object, got list"):
        Manifest.from_json(PATH, [WRITTEN])


def test_the_load_raises_reconciliation_error_naming_the_file(tmp_path):
    """batches.check_manifest/read_manifest: what find_batches calls; nothing is loaded when they raise."""
    with pytest.raises(ReconciliationError, match=r"invalid manifest .*_manifest.json: rows: got -1"):
        check_manifest({**WRITTEN, "rows": -1}, DAY, PATH)
    assert check_manifest(WRITTEN, DAY, PATH) == Manifest.from_json(PATH, WRITTEN)

    path = tmp_path / "_manifest.json"
    path.write_text('{"run_id": "4242", "rows": 1')  # truncated
    with pytest.raises(ReconciliationError, match=rf"invalid manifest {path}: not JSON"):
        read_manifest(Files(LocalDbutils({})), str(path), DAY)
