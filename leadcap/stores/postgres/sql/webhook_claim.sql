-- Claim due deliveries: at most $2[i] rows for endpoint $1[i], the longest-due first, skipping
-- rows another worker holds. A claim is a lease: next_attempt_at moves $3 seconds ahead, so if
-- this worker dies mid-send the row becomes due again and another worker sends it.
-- attempts counts this attempt; finishing matches on it, so a stale lease never overwrites.
WITH wanted AS (
    SELECT * FROM unnest($1::bigint[], $2::int[]) AS w(endpoint_id, room)
),
picked AS (
    SELECT d.id
    FROM wanted w
    CROSS JOIN LATERAL (
        SELECT id FROM webhook_deliveries
        WHERE endpoint_id = w.endpoint_id AND state = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT w.room
        FOR UPDATE SKIP LOCKED
    ) d
)
UPDATE webhook_deliveries d
SET next_attempt_at = now() + make_interval(secs => $3::float8),
    attempts = d.attempts + 1,
    updated_at = now()
FROM picked p, webhook_events e
WHERE d.id = p.id AND e.id = d.event_id
RETURNING d.id, d.endpoint_id, d.attempts,
          extract(epoch FROM now() - d.retry_started_at)::float8 AS age_s,
          e.id AS event_id, e.type, e.occurred_at, e.data::text AS data
