-- Uses counted by one web process since its last flush, added in one statement: $1 key ids,
-- $2 uses, $3 the latest use of each (parallel arrays, in id order so two flushes lock alike).
UPDATE api_keys k
SET uses = k.uses + u.n,
    last_used_at = GREATEST(k.last_used_at, u.at)
FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS u (id, n, at)
WHERE k.id = u.id
