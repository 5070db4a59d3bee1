-- Several campaigns from one install (api.md "Campaigns"; leadcap/campaigns/).
--
-- 1. The campaigns `leadcap campaigns add` stores, so every web process and host serves the same.
--    The default campaign (slug `default`) is not a row: it stays LEADCAP_CAMPAIGN_FILE. `document`
--    is the campaign file, checked by the CLI with the parser `serve` checks its own file with.
--    A host names at most one live campaign; an archived one gives its host and slug up to nobody
--    (the slug stays taken, so old leads never change meaning).
CREATE TABLE campaigns (
    slug        text        PRIMARY KEY CHECK (slug ~ '^[a-z0-9-]{1,40}$' AND slug <> 'default'),
    host        text        CHECK (host ~ '^[a-z0-9.-]{1,253}$'),
    document    jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz
);
CREATE UNIQUE INDEX campaigns_live_host_idx ON campaigns (host) WHERE archived_at IS NULL;

-- 2. A lead is one per campaign and phone. Every lead and submission recorded so far is the
--    default campaign's: a column with a constant default is a catalogue change (no rewrite).
--    The CHECKs are NOT VALID: every existing row holds the default, so scanning them would prove
--    nothing; new rows are checked.
ALTER TABLE leads ADD COLUMN campaign text NOT NULL DEFAULT 'default';
ALTER TABLE submissions ADD COLUMN campaign text NOT NULL DEFAULT 'default';
ALTER TABLE leads ADD CONSTRAINT leads_campaign_check CHECK (campaign ~ '^[a-z0-9-]{1,40}$') NOT VALID;
ALTER TABLE submissions ADD CONSTRAINT submissions_campaign_check
    CHECK (campaign ~ '^[a-z0-9-]{1,40}$') NOT VALID;

-- The unique key moves from (phone) to (phone, campaign): phone first, so the lookups by number
-- alone (erasure, the admin's search) keep an index. The one index build of the migration that a
-- big table pays for (bench/campaign fixture: see docs/campaigns.md for the time measured).
ALTER TABLE submissions DROP CONSTRAINT submissions_phone_fkey;
CREATE UNIQUE INDEX leads_phone_campaign_key ON leads (phone, campaign);
ALTER TABLE leads DROP CONSTRAINT leads_phone_key;
-- NOT VALID for the same reason: every existing submission met the old key (phone), and its
-- campaign and its lead's are both the default. New submissions are checked at commit.
ALTER TABLE submissions ADD CONSTRAINT submissions_lead_fkey FOREIGN KEY (phone, campaign)
    REFERENCES leads (phone, campaign) DEFERRABLE INITIALLY DEFERRED NOT VALID;

-- /admin/'s campaign filter, newest first (as migration 0005's per-filter indexes).
CREATE INDEX leads_slug_newest_idx ON leads (campaign, first_submitted_at DESC, id DESC);

-- 3. The campaign view counts per campaign slug too: a fourth rollup dimension, `slug` (the
--    dimension `campaign` stays the utm_campaign value, as `stats --by utm_campaign` reads it).
CREATE TABLE campaign_rollups_slug PARTITION OF campaign_rollups FOR VALUES IN ('slug');
INSERT INTO campaign_rollups (dim, bucket, key, submissions, new_leads, verified, visited_leads)
SELECT 'slug', bucket, 'default', submissions, new_leads, verified, visited_leads
FROM campaign_rollups_total
ORDER BY bucket;

-- migration 0006's trigger function, with the slug dimension
CREATE OR REPLACE FUNCTION campaign_rollup_submissions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_rollups AS r (dim, bucket, key, submissions, new_leads, visited_leads)
    SELECT d.dim, g.bucket, d.key, sum(g.n), sum(g.fresh_leads), sum(g.visited_leads)
    FROM (
        SELECT date_bin('15 minutes', f.submitted_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
               coalesce(f.source, '') AS source, coalesce(f.utm_campaign, '') AS campaign,
               f.campaign AS slug,
               count(*) AS n, count(l.id) AS fresh_leads,
               count(l.id) FILTER (WHERE f.visited) AS visited_leads
        FROM fresh f LEFT JOIN leads l ON l.id = f.id
        GROUP BY 1, 2, 3, 4
    ) g
    CROSS JOIN LATERAL (VALUES ('total', ''), ('source', g.source), ('campaign', g.campaign),
                               ('slug', g.slug)) AS d (dim, key)
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (dim, bucket, key) DO UPDATE SET
        submissions   = r.submissions + EXCLUDED.submissions,
        new_leads     = r.new_leads + EXCLUDED.new_leads,
        visited_leads = r.visited_leads + EXCLUDED.visited_leads;
    RETURN NULL;
END $$;

-- migration 0005's verified trigger function, with the slug dimension
CREATE OR REPLACE FUNCTION campaign_rollup_verified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_rollups AS r (dim, bucket, key, verified)
    SELECT d.dim, date_bin('15 minutes', NEW.first_submitted_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
           d.key, 1
    FROM (VALUES ('campaign', coalesce(NEW.utm_campaign, '')), ('slug', NEW.campaign),
                 ('source', coalesce(NEW.source, '')), ('total', '')) AS d (dim, key)
    ORDER BY 1, 3
    ON CONFLICT (dim, bucket, key) DO UPDATE SET verified = r.verified + 1;
    RETURN NULL;
END $$;

-- 4. Webhooks' `data` carries the slug (migration 0008's function, one key more).
CREATE OR REPLACE FUNCTION webhook_lead_data(l leads) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
               'id', l.id, 'campaign', l.campaign, 'phone', l.phone, 'region', l.region,
               'carrier', l.carrier, 'status', l.status, 'submissions', l.submissions,
               'first_submitted_at', to_char(l.first_submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
               'last_submitted_at', to_char(l.last_submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
               'source', l.source, 'utm_source', l.utm_source, 'utm_medium', l.utm_medium,
               'utm_campaign', l.utm_campaign, 'utm_term', l.utm_term, 'utm_content', l.utm_content)
           || CASE WHEN l.verified_at IS NULL THEN '{}'::jsonb
                   ELSE jsonb_build_object('verified_at', l.verified_at) END
$$;
