-- A dead letter ($1) refused once more, with its new error ($2).
UPDATE dead_letters SET error = $2, failures = failures + 1, last_failed_at = now()
WHERE id = $1
