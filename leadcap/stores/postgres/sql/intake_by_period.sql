-- The intake's answers in [$1, $2) per local day or hour ($3 'day'|'hour') of time zone $4.
SELECT date_trunc($3, bucket AT TIME ZONE $4) AS period, outcome, code, sum(n)::bigint AS n
FROM intake_counts
WHERE bucket >= $1 AND bucket < $2
GROUP BY 1, 2, 3
