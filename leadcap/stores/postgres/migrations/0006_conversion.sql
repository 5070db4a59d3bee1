-- Conversion as api.md's Campaign view defines it: new leads that came with a counted visit over
-- unique visitors. A submission knows it came with one when its POST carried the cookie GET /
-- sets on the visit it counted (leadcap/campaign/visits.py, COUNTED_COOKIE); an API client's carries none
-- and its lead is counted apart, so conversion cannot pass 100 % by leads that had no visit.
--
-- A column with a constant default is a catalogue change: no table rewrite, whatever the size.
-- Submissions and rollups recorded before this migration have no such knowledge: they count as
-- leads without a visit (their conversion reads 0 rather than a figure made up).
ALTER TABLE submissions ADD COLUMN visited boolean NOT NULL DEFAULT false;
ALTER TABLE campaign_rollups ADD COLUMN visited_leads bigint NOT NULL DEFAULT 0;  -- of new_leads

-- migration 0005's trigger function, counting visited_leads too
CREATE OR REPLACE FUNCTION campaign_rollup_submissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_rollups AS r (dim, bucket, key, submissions, new_leads, visited_leads)
    SELECT d.dim, g.bucket, d.key, sum(g.n), sum(g.fresh_leads), sum(g.visited_leads)
    FROM (
        SELECT date_bin('15 minutes', f.submitted_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
               coalesce(f.source, '') AS source, coalesce(f.utm_campaign, '') AS campaign,
               count(*) AS n, count(l.id) AS fresh_leads,
               count(l.id) FILTER (WHERE f.visited) AS visited_leads
        FROM fresh f LEFT JOIN leads l ON l.id = f.id
        GROUP BY 1, 2, 3
    ) g
    CROSS JOIN LATERAL (VALUES ('total', ''), ('source', g.source), ('campaign', g.campaign)) AS d (dim, key)
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (dim, bucket, key) DO UPDATE SET
        submissions   = r.submissions + EXCLUDED.submissions,
        new_leads     = r.new_leads + EXCLUDED.new_leads,
        visited_leads = r.visited_leads + EXCLUDED.visited_leads;
    RETURN NULL;
END $$;
