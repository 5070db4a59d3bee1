-- Take the turn to send to each channel in $1 that has a due delivery and whose pace allows it
-- now; hold it $2 seconds (a send's timeout and the interval: a worker that dies mid-send holds
-- it no longer). Row locks serialise the workers: of two asking at once, one gets the turn.
-- Returns the channels whose turn this worker took; only those are claimed from.
WITH due AS (
    SELECT DISTINCT endpoint_id
    FROM webhook_deliveries
    WHERE endpoint_id = ANY ($1::bigint[]) AND state = 'pending' AND next_attempt_at <= now()
)
UPDATE webhook_endpoints ep
SET paced_until = now() + make_interval(secs => $2::float8)
FROM due
WHERE ep.id = due.endpoint_id AND (ep.paced_until IS NULL OR ep.paced_until <= now())
RETURNING ep.id
