-- Record a batch of submissions in one statement, idempotent on the submission id:
-- a redelivered submission inserts nothing and counts nothing.
-- $1..$11 are parallel arrays, one element per submission.
WITH incoming AS (
    -- DISTINCT ON (id): one batch may carry the same submission twice (a redelivery that
    -- overtook the original); it must still count once.
    SELECT DISTINCT ON (id) *
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[])
         AS t(id, phone, region, carrier, source, utm_source, utm_medium, utm_campaign,
              utm_term, utm_content, submitted_at)
),
fresh AS (
    INSERT INTO submissions (id, phone, source, utm_source, utm_medium, utm_campaign,
                             utm_term, utm_content, submitted_at)
    SELECT id, phone, source, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
           submitted_at
    FROM incoming
    ORDER BY id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
),
per_phone AS (
    SELECT DISTINCT ON (i.phone)
           i.id, i.phone, i.region, i.carrier, i.source, i.utm_source, i.utm_medium,
           i.utm_campaign, i.utm_term, i.utm_content,
           count(*) OVER w AS n,
           min(i.submitted_at) OVER w AS first_at,
           max(i.submitted_at) OVER w AS last_at
    FROM incoming i JOIN fresh f ON f.id = i.id
    WINDOW w AS (PARTITION BY i.phone)
    ORDER BY i.phone, i.submitted_at, i.id
)
INSERT INTO leads AS l (id, phone, region, carrier, submissions, first_submitted_at,
                        last_submitted_at, source, utm_source, utm_medium, utm_campaign,
                        utm_term, utm_content)
SELECT id, phone, region, carrier, n, first_at, last_at, source, utm_source, utm_medium,
       utm_campaign, utm_term, utm_content
FROM per_phone
ORDER BY phone  -- a stable lock order, so two workers' batches cannot deadlock
ON CONFLICT (phone) DO UPDATE SET
    submissions        = l.submissions + EXCLUDED.submissions,
    first_submitted_at = LEAST(l.first_submitted_at, EXCLUDED.first_submitted_at),
    last_submitted_at  = GREATEST(l.last_submitted_at, EXCLUDED.last_submitted_at),
    carrier            = COALESCE(l.carrier, EXCLUDED.carrier),
    updated_at         = now()
