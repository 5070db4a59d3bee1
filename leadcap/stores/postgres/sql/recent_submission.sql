-- The first submission of a phone in one campaign inside the dedupe window (degraded mode's dedupe).
SELECT id FROM submissions
WHERE phone = $1 AND campaign = $3 AND submitted_at > now() - make_interval(secs => $2)
ORDER BY submitted_at
LIMIT 1
