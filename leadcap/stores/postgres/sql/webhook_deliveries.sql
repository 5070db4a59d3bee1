-- The latest deliveries (only failed ones when $1), newest first.
SELECT d.id, d.endpoint_id, e.type, d.event_id, d.state, d.attempts, d.last_status, d.last_error,
       d.next_attempt_at, d.delivered_at, d.created_at, d.updated_at
FROM webhook_deliveries d
JOIN webhook_events e ON e.id = d.event_id
WHERE NOT $1::boolean OR d.state = 'failed'
ORDER BY d.id DESC
LIMIT $2
