-- Conversion per variant (api.md "Campaigns"; leadcap/campaign/stats.py, `--by variant`): a fifth
-- rollup dimension, `variant`, keyed '<slug>/<variant>' (both [a-z0-9-]: the `/` splits them).
-- Only submissions shown a variant add to it, so campaigns without variants cost it nothing.
--
-- Writes to leads and submissions wait until this commits: the backfill below then counts every
-- submission recorded so far exactly once, and every later one is counted by the new trigger
-- (taken first, before any lock on the rollups, in the order a worker's batch takes them, so a
-- batch already running finishes first instead of deadlocking). The intake does not wait: it
-- answers from Redis. Reads go on, the rollups' too: the partition is filled beside them and
-- then attached, which takes only a SHARE UPDATE EXCLUSIVE lock on campaign_rollups (CREATE
-- TABLE … PARTITION OF would hold ACCESS EXCLUSIVE, and /admin/ would wait for the backfill).
LOCK TABLE submissions, leads IN SHARE MODE;

CREATE TABLE campaign_rollups_variant (LIKE campaign_rollups INCLUDING DEFAULTS);

-- What was recorded before this migration: only submissions since migration 0015 carry a variant.
-- A submission made a new lead when the lead carries its id (as in migration 0005); a verified
-- lead counts in the bucket of its first submission (as campaign_rollup_verified does).
INSERT INTO campaign_rollups_variant (dim, bucket, key, submissions, new_leads, visited_leads, verified)
SELECT 'variant', bucket, key, sum(submissions), sum(new_leads), sum(visited_leads), sum(verified)
FROM (
    SELECT date_bin('15 minutes', s.submitted_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
           s.campaign || '/' || s.variant AS key,
           count(*) AS submissions, count(l.id) AS new_leads,
           count(l.id) FILTER (WHERE s.visited) AS visited_leads, 0 AS verified
    FROM submissions s LEFT JOIN leads l ON l.id = s.id
    WHERE s.variant IS NOT NULL
    GROUP BY 1, 2
    UNION ALL
    SELECT date_bin('15 minutes', first_submitted_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           campaign || '/' || variant, 0, 0, 0, count(*)
    FROM leads
    WHERE variant IS NOT NULL AND verified_at IS NOT NULL
    GROUP BY 1, 2
) counted
GROUP BY 1, 2, 3
ORDER BY 2, 3;

ALTER TABLE campaign_rollups_variant ADD PRIMARY KEY (dim, bucket, key);  -- the parent's key, attached
-- A report reads one campaign's variants over a range of buckets.
CREATE INDEX campaign_rollups_variant_slug_idx
    ON campaign_rollups_variant (split_part(key, '/', 1), bucket);
ALTER TABLE campaign_rollups ATTACH PARTITION campaign_rollups_variant FOR VALUES IN ('variant');

-- migration 0013's trigger function, with the variant dimension
CREATE OR REPLACE FUNCTION campaign_rollup_submissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_rollups AS r (dim, bucket, key, submissions, new_leads, visited_leads)
    SELECT d.dim, g.bucket, d.key, sum(g.n), sum(g.fresh_leads), sum(g.visited_leads)
    FROM (
        SELECT date_bin('15 minutes', f.submitted_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
               coalesce(f.source, '') AS source, coalesce(f.utm_campaign, '') AS campaign,
               f.campaign AS slug, f.campaign || '/' || f.variant AS variant,
               count(*) AS n, count(l.id) AS fresh_leads,
               count(l.id) FILTER (WHERE f.visited) AS visited_leads
        FROM fresh f LEFT JOIN leads l ON l.id = f.id
        GROUP BY 1, 2, 3, 4, 5
    ) g
    CROSS JOIN LATERAL (VALUES ('total', ''), ('source', g.source), ('campaign', g.campaign),
                               ('slug', g.slug), ('variant', g.variant)) AS d (dim, key)
    WHERE d.key IS NOT NULL  -- a submission shown no variant adds no variant row
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (dim, bucket, key) DO UPDATE SET
        submissions   = r.submissions + EXCLUDED.submissions,
        new_leads     = r.new_leads + EXCLUDED.new_leads,
        visited_leads = r.visited_leads + EXCLUDED.visited_leads;
    RETURN NULL;
END $$;

-- migration 0013's verified trigger function, with the variant dimension
CREATE OR REPLACE FUNCTION campaign_rollup_verified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_rollups AS r (dim, bucket, key, verified)
    SELECT d.dim, date_bin('15 minutes', NEW.first_submitted_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           d.key, 1
    FROM (VALUES ('campaign', coalesce(NEW.utm_campaign, '')), ('slug', NEW.campaign),
                 ('source', coalesce(NEW.source, '')), ('total', ''),
                 ('variant', NEW.campaign || '/' || NEW.variant)) AS d (dim, key)
    WHERE d.key IS NOT NULL
    ORDER BY 1, 3
    ON CONFLICT (dim, bucket, key) DO UPDATE SET verified = r.verified + 1;
    RETURN NULL;
END $$;

-- A lead created already verified (its code came back before the worker wrote it, so
-- mark_verified.sql inserts it `verified`) is verified too: the UPDATE trigger of migration 0005
-- never saw it, and every dimension missed it. Counted once: the worker's submission that lands
-- next finds it `verified` already, which that trigger does not count again. (Such leads verified
-- before this migration stay uncounted in the other dimensions; the variant backfill above
-- counts every lead with a verified_at.)
CREATE TRIGGER leads_verified_insert_rollup
    AFTER INSERT ON leads
    FOR EACH ROW WHEN (NEW.status = 'verified')
    EXECUTE FUNCTION campaign_rollup_verified();
