-- title: Freshness
-- description: Hours since the last loaded batch (the load's start time), with that batch's ingest date; NULL hours when nothing was ever loaded.
-- alert: hours_since_last_load > stale_after_hours (the environment's staleness threshold)
SELECT
  max(loaded_at) AS last_loaded_at,
  max(ingest_date) AS last_ingest_date,
  round((unix_timestamp(current_timestamp()) - unix_timestamp(max(loaded_at))) / 3600, 2) AS hours_since_last_load
FROM ${load_log_table}
WHERE coalesce(status, 'loaded') <> 'refused'
