-- The campaign view's scale fixture: 1,000,000 leads and 3,000,000 submissions, made in SQL.
-- Leads come in over the last 90 days, more of them recently; each lead has three submissions
-- (the first made it; its id is the lead's id); 4 sources and 6 campaigns; a few statuses set.
-- Two leads in three came with a counted visit (their first submission carries it; migration
-- 0006), the others through the API. The rollup trigger (migrations 0005, 0006) builds
-- campaign_rollups from the inserts themselves.
-- Parameters (psql -v): leads (default 1000000), days (default 90).
\set ON_ERROR_STOP on
SELECT coalesce(:'leads', '1000000')::int AS n_leads \gset
SELECT coalesce(:'days', '90')::int AS n_days \gset

BEGIN;
CREATE TEMP TABLE fixture ON COMMIT DROP AS
SELECT i,
       md5('lead-' || i)::uuid AS id,
       '+98912' || lpad(i::text, 7, '0') AS phone,
       now() - make_interval(secs => (:n_days * 86400) * power(random(), 1.6)) AS first_at,
       (ARRAY['hero', 'footer', 'popup', 'exit'])[1 + i % 4] AS source,
       (ARRAY['fall', 'winter', 'brand', 'retarget', 'instagram', 'search'])[1 + (i / 4) % 6] AS campaign,
       CASE WHEN i % 10 = 0 THEN 'contacted' WHEN i % 25 = 0 THEN 'qualified'
            WHEN i % 40 = 0 THEN 'rejected' ELSE 'new' END AS status
FROM generate_series(1, :n_leads) AS i;

INSERT INTO leads (id, phone, region, carrier, status, submissions, first_submitted_at,
                   last_submitted_at, source, utm_source, utm_medium, utm_campaign)
SELECT id, phone, 'IR', 'Hamrah-e Aval', status, 3, first_at, first_at + interval '2 hours', source,
       'google', 'cpc', campaign
FROM fixture;

INSERT INTO submissions (id, phone, source, utm_source, utm_medium, utm_campaign, submitted_at,
                         visited)
SELECT CASE WHEN k = 0 THEN f.id ELSE md5('sub-' || f.i || '-' || k)::uuid END,
       f.phone, f.source, 'google', 'cpc', f.campaign, f.first_at + make_interval(hours => k),
       f.i % 3 <> 0
FROM fixture f CROSS JOIN generate_series(0, 2) AS k;
COMMIT;

ANALYZE leads;
ANALYZE submissions;
ANALYZE campaign_rollups;
SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM submissions) AS submissions,
       (SELECT count(*) FROM campaign_rollups) AS rollup_rows;
