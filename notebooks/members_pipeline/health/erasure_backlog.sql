-- title: PII erasure backlog
-- description: Members flagged deleted whose PII is still there; of those, the ones due for erasure (flagged at least pii_retention_days ago, by today's date) and the oldest flagging date among them. The load erases due members when it loads a batch; a backlog means no load ran since.
SELECT
  count(1) AS deleted_with_pii,
  count_if(coalesce(deleted_ingest_date, CAST(updated_at AS DATE)) <= date_sub(current_date(), ${pii_retention_days})) AS due_for_erasure,
  min(CASE WHEN coalesce(deleted_ingest_date, CAST(updated_at AS DATE)) <= date_sub(current_date(), ${pii_retention_days})
    THEN coalesce(deleted_ingest_date, CAST(updated_at AS DATE)) END) AS oldest_due_since
FROM ${members_table}
WHERE is_deleted AND pii_erased_at IS NULL
