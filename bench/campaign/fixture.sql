-- The campaign view's scale fixture: 1,000,000 leads and 3,000,000 submissions, made in SQL.
-- Leads come in over the last 90 days, more of them recently; each lead has three submissions
-- (the first made it; its id is the lead's id); 4 sources and 6 utm campaigns; a few statuses set.
-- Two leads in three came with a counted visit (their first submission carries it; migration
-- 0006), the others through the API. The rollup trigger (migrations 0005, 0006, 0013) builds
-- campaign_rollups from the inserts themselves, as the worker's writes leave them.
-- Once migration 0013 has run, leads are spread over the default campaign and the rows of the
-- `campaigns` table (bench/campaign/measure.py adds them first, as `leadcap campaigns add` does),
-- unevenly (the first slugs get most), and a campaign whose file has `variants` has its leads and
-- submissions on them in turn (a, b, …). Before 0013 (bench/campaign/migration.py) every lead is
-- the default campaign's, as it was then.
-- Parameters (psql -v): leads, days (bench/campaign/measure.py passes 1000000 and 90).
\set ON_ERROR_STOP on
SELECT :'leads'::int AS n_leads \gset
SELECT :'days'::int AS n_days \gset
SELECT to_regclass('campaigns') IS NOT NULL AS slugged \gset

BEGIN;
CREATE TEMP TABLE slugs (n int PRIMARY KEY, slug text NOT NULL, variants int NOT NULL) ON COMMIT DROP;
INSERT INTO slugs VALUES (0, 'default', 0);
\if :slugged
INSERT INTO slugs
SELECT row_number() OVER (ORDER BY slug), slug, coalesce(jsonb_array_length(document -> 'variants'), 0)
FROM campaigns WHERE archived_at IS NULL;
\set slug_columns ', campaign, variant'
\set slug_values ', f.slug, f.variant'
\else
\set slug_columns ''
\set slug_values ''
\endif
SELECT count(*) AS n_slugs FROM slugs \gset

CREATE TEMP TABLE fixture ON COMMIT DROP AS
SELECT f.*, s.slug,
       CASE WHEN s.variants > 0 THEN chr(ascii('a') + (f.i / 7) % s.variants) END AS variant
FROM (
    SELECT i,
           md5('lead-' || i)::uuid AS id,
           '+98912' || lpad(i::text, 7, '0') AS phone,
           now() - make_interval(secs => (:n_days * 86400) * power(random(), 1.6)) AS first_at,
           (ARRAY['hero', 'footer', 'popup', 'exit'])[1 + i % 4] AS source,
           (ARRAY['fall', 'winter', 'brand', 'retarget', 'instagram', 'search'])[1 + (i / 4) % 6] AS campaign,
           CASE WHEN i % 10 = 0 THEN 'contacted' WHEN i % 25 = 0 THEN 'qualified'
                WHEN i % 40 = 0 THEN 'rejected' ELSE 'new' END AS status,
           -- uneven and uncorrelated with the statuses: a hash of i, squared towards the first slugs
           floor(:n_slugs * power((hashint4(i)::bigint + 2147483648) / 4294967296.0, 2))::int AS n
    FROM generate_series(1, :n_leads) AS i
) f JOIN slugs s USING (n);

INSERT INTO leads (id, phone, region, carrier, status, submissions, first_submitted_at,
                   last_submitted_at, source, utm_source, utm_medium, utm_campaign :slug_columns)
SELECT id, phone, 'IR', 'Hamrah-e Aval', status, 3, first_at, first_at + interval '2 hours', source,
       'google', 'cpc', campaign :slug_values
FROM fixture f;

INSERT INTO submissions (id, phone, source, utm_source, utm_medium, utm_campaign, submitted_at,
                         visited :slug_columns)
SELECT CASE WHEN k = 0 THEN f.id ELSE md5('sub-' || f.i || '-' || k)::uuid END,
       f.phone, f.source, 'google', 'cpc', f.campaign, f.first_at + make_interval(hours => k),
       f.i % 3 <> 0 :slug_values
FROM fixture f CROSS JOIN generate_series(0, 2) AS k;
COMMIT;

ANALYZE leads;
ANALYZE submissions;
ANALYZE campaign_rollups;
SELECT (SELECT count(*) FROM leads) AS leads, (SELECT count(*) FROM submissions) AS submissions,
       (SELECT count(*) FROM campaign_rollups) AS rollup_rows;
