-- The read API's scale fixture: :leads leads (default 1,000,000), committed as workers commit
-- them: in transactions of 250 (commit_xid), their ids (UUIDv7-like: time first) in rough time
-- order, batches slightly out of order. Made with generate_series in one INSERT: ~30 s for 1M.
-- The commit_xid values are ids of transactions that really ran and finished first (the loop
-- below burns them), so every lead is under the horizon, as on a live database.
-- Statuses as the campaign fixture sets them; 4 sources, 6 campaigns; over the last 90 days.
-- Parameters (psql -v): leads (default 1000000).
\set ON_ERROR_STOP on
SELECT coalesce(:'leads', '1000000')::int AS n_leads \gset
SELECT set_config('bench.batches', (:n_leads / 250 + 10)::text, false) AS batches \gset

-- Enough finished transactions that every batch's commit_xid is a past one.
DO $$
BEGIN
    WHILE pg_current_xact_id()::text::bigint < current_setting('bench.batches')::bigint + 100 LOOP
        COMMIT;
    END LOOP;
END $$;

INSERT INTO leads (id, phone, region, carrier, status, submissions, first_submitted_at,
                   last_submitted_at, source, utm_source, utm_medium, utm_campaign, commit_xid)
SELECT
    -- a UUIDv7 made of the submission time (48 bits of ms) and random bits
    (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') || '7'
     || substr(md5('lead-' || i), 1, 3) || '8' || substr(md5('lead-' || i), 4, 15))::uuid,
    '+98912' || lpad(i::text, 7, '0'), 'IR', 'Hamrah-e Aval',
    CASE WHEN i % 10 = 0 THEN 'contacted' WHEN i % 25 = 0 THEN 'qualified'
         WHEN i % 40 = 0 THEN 'rejected' ELSE 'new' END,
    1, at, at, (ARRAY['hero', 'footer', 'popup', 'exit'])[1 + i % 4], 'google', 'cpc',
    (ARRAY['fall', 'winter', 'brand', 'retarget', 'instagram', 'search'])[1 + (i / 4) % 6],
    -- batches of 250 in order of time, every third pair of batches swapped: out of id order
    (50 + (i / 250) + CASE WHEN (i / 250) % 3 = 0 THEN 1 WHEN (i / 250) % 3 = 1 THEN -1 ELSE 0 END
    )::text::xid8
FROM generate_series(1, :n_leads) AS i,
     LATERAL (SELECT now() - interval '90 days' + (i::float8 / :n_leads) * interval '90 days' AS at) t;

ANALYZE leads;
SELECT count(*) AS leads, count(DISTINCT commit_xid) AS transactions FROM leads;
