-- Make deliveries due again now, with a fresh retry window: those in $1, or every failed one
-- (of an enabled endpoint) when $2. attempts restarts at 0, so a send still in flight from
-- before cannot overwrite the replay when it finishes.
UPDATE webhook_deliveries d
SET state = 'pending', attempts = 0, next_attempt_at = now(), retry_started_at = now(),
    last_error = NULL, updated_at = now()
FROM webhook_endpoints ep
WHERE ep.id = d.endpoint_id AND ep.enabled
  AND (d.id = ANY ($1::bigint[]) OR ($2::boolean AND d.state = 'failed'))
RETURNING d.id
