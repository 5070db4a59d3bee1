-- After fixture.sql, on a database with every migration: the rollups of 20 more campaigns
-- (`c01` … `c20`) with 4 variants each (`a` … `d`), one row per 15-minute bucket of the fixture's
-- 90 days for each campaign and each variant, as the trigger would keep them if every bucket had
-- leads of every variant: 8,640 x 80 variant rows and 8,640 x 20 slug rows beside the fixture's.
-- What /admin/?slug=c07 reads (bench/campaign/measure.py); the figures themselves are a share of
-- the fixture's totals and do not matter for the time.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO campaign_rollups (dim, bucket, key, submissions, new_leads, visited_leads, verified)
SELECT d.dim, t.bucket, d.key, greatest(t.submissions / d.share, 1), greatest(t.new_leads / d.share, 1),
       t.visited_leads / d.share, t.verified / d.share
FROM campaign_rollups t
CROSS JOIN generate_series(1, 20) AS c
CROSS JOIN LATERAL (
    SELECT 'variant' AS dim, format('c%s/%s', lpad(c::text, 2, '0'), v) AS key, 80 AS share
    FROM unnest(ARRAY['a', 'b', 'c', 'd']) AS v
    UNION ALL
    SELECT 'slug', format('c%s', lpad(c::text, 2, '0')), 20
) AS d
WHERE t.dim = 'total'
ORDER BY 1, 2, 3;
COMMIT;
ANALYZE campaign_rollups;
SELECT dim, count(*) AS rows FROM campaign_rollups GROUP BY dim ORDER BY dim;
