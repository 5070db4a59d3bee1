-- Record the outcome of claimed attempts, only where the claim still stands (same attempt
-- number, still pending): a replay or a newer claim since then wins.
UPDATE webhook_deliveries d
SET state           = f.state,
    next_attempt_at = now() + make_interval(secs => f.delay_s),
    last_status     = f.status,
    last_error      = f.error,
    delivered_at    = CASE WHEN f.state = 'delivered' THEN now() ELSE d.delivered_at END,
    updated_at      = now()
FROM unnest($1::bigint[], $2::int[], $3::text[], $4::float8[], $5::int[], $6::text[])
     AS f(id, attempts, state, delay_s, status, error)
WHERE d.id = f.id AND d.attempts = f.attempts AND d.state = 'pending'
