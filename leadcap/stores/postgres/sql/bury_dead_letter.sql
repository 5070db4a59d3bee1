-- Keep a refused message with its error; a redelivered one only counts another failure.
-- $1 submission id (or null), $2 the message as JSON bytes, $3 the error.
INSERT INTO dead_letters AS d (submission_id, message, error)
VALUES ($1, $2, $3)
ON CONFLICT (submission_id) DO UPDATE SET
    error          = EXCLUDED.error,
    failures       = d.failures + 1,
    last_failed_at = now()
RETURNING id
