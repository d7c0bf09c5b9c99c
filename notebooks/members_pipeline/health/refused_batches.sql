-- title: Batches refused by a data guard
-- description: Every refusal the load logged (a batch refused by several runs appears once per run): when, the batch, its manifest rows and the guard's numbers. The batch stays pending until a run accepts or replaces it.
-- alert: any row with refused_at in the last day (a refused load)
SELECT
  loaded_at AS refused_at,
  ingest_date,
  batch_id,
  manifest_rows,
  refusal
FROM ${load_log_table}
WHERE status = 'refused'
ORDER BY refused_at DESC, batch_id
