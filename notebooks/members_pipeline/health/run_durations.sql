-- title: Load durations
-- description: Seconds each batch's load took, loaded or refused, oldest first (NULL for batches logged before durations were recorded).
SELECT
  loaded_at AS started_at,
  ingest_date,
  batch_id,
  coalesce(status, 'loaded') AS status,
  manifest_rows,
  seconds
FROM ${load_log_table}
ORDER BY started_at, batch_id
