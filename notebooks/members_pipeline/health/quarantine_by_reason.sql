-- title: Quarantined rows by reason
-- description: Rows in the quarantine table per ingest date and validation rule that rejected them.
SELECT
  ingest_date,
  reason,
  count(1) AS quarantined
FROM ${quarantine_table}
GROUP BY ingest_date, reason
ORDER BY ingest_date, reason
