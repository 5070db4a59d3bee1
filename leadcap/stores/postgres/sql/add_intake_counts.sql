-- Add one web process's intake outcome counts ($1..$4: parallel arrays, sorted by key).
INSERT INTO intake_counts AS c (bucket, outcome, code, n)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[])
ON CONFLICT (bucket, outcome, code) DO UPDATE SET n = c.n + EXCLUDED.n
