-- title: Rows per day
-- description: Per ingest date, summed over the loaded batches: manifest rows, rows loaded (valid rows merged, unchanged ones included), inserted, updated, flagged deleted, quarantined, duplicates; the quarantined share of the manifest rows; and the batches a data guard refused.
-- alert: quarantine_share > max_quarantined_share (the guard's threshold)
SELECT
  ingest_date,
  count_if(coalesce(status, 'loaded') <> 'refused') AS batches_loaded,
  count_if(status = 'refused') AS batches_refused,
  sum(CASE WHEN coalesce(status, 'loaded') <> 'refused' THEN manifest_rows ELSE 0 END) AS manifest_rows,
  sum(merged) AS merged,
  sum(inserted) AS inserted,
  sum(updated) AS updated,
  sum(flagged_deleted) AS flagged_deleted,
  sum(quarantined) AS quarantined,
  sum(duplicates) AS duplicates,
  round(sum(quarantined) / nullif(sum(CASE WHEN coalesce(status, 'loaded') <> 'refused' THEN manifest_rows ELSE 0 END), 0), 4) AS quarantine_share
FROM ${load_log_table}
GROUP BY ingest_date
ORDER BY ingest_date
