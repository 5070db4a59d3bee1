-- Stop sending to an endpoint ($1), saying why ($2): it answered 410 Gone, or an operator asked.
UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, updated_at = now()
WHERE id = $1
