-- The outbox's backlog: pending deliveries to enabled endpoints, how many are due now, and how
-- long the longest-waiting due one has been due (the delivery loop is behind when that grows).
SELECT count(*)                                                     AS pending,
       count(*) FILTER (WHERE d.next_attempt_at <= now())            AS due,
       coalesce(extract(epoch FROM now() - min(d.next_attempt_at)
                FILTER (WHERE d.next_attempt_at <= now())), 0)::float8 AS oldest_due_s
FROM webhook_deliveries d
JOIN webhook_endpoints ep ON ep.id = d.endpoint_id AND ep.enabled
WHERE d.state = 'pending'
