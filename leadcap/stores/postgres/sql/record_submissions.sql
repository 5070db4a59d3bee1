-- Record a batch of submissions in one statement, idempotent on the submission id:
-- a redelivered submission inserts nothing and counts nothing.
-- The same statement writes the outbox: one lead.created event per lead it creates, and a
-- pending delivery of it to every endpoint subscribed now (migrations/0003_webhooks.sql). One
-- statement, one transaction: no lead without its event, no event without its lead.
-- A lead is written with the status it has from its first moment: `unverified` when the submission
-- that creates it was sent with LEADCAP_VERIFY=sms ($12), else `new`. Its lead.created event reads
-- that status from the same row, so a CRM is never told `new` for a number nobody confirmed.
-- $13: the submission came with a visit counted on GET / (the campaign view's conversion; the
-- rollup trigger of migrations 0005/0006 counts it).
-- $14: the campaign's slug (migration 0013): a lead is one per (phone, campaign).
-- $15..$17: the consent the submission gave (version, language, text; NULL when the campaign asked
-- for none, migration 0014). The text is kept once per version; the lead carries its latest.
-- $18: the campaign variant the visitor was shown (migration 0015; NULL: none). A lead keeps the
-- variant of the submission that created it.
-- $1..$18 are parallel arrays, one element per submission.
-- A submission accepted before its number was erased (leadcap/privacy/) is skipped: it lands as
-- if written and acked, and brings nothing back.
WITH incoming AS (
    -- DISTINCT ON (id): one batch may carry the same submission twice (a redelivery that
    -- overtook the original); it must still count once.
    SELECT DISTINCT ON (id) *
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::boolean[],
                $13::boolean[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[])
         AS t(id, phone, region, carrier, source, utm_source, utm_medium, utm_campaign,
              utm_term, utm_content, submitted_at, verify, visited, campaign, consent_version,
              consent_lang, consent_text, variant)
    -- A number erased after this submission was accepted (migration 0012): it is not written;
    -- nor is one whose lead in this campaign was erased (`<slug> <number>`, erasure.mark_name).
    WHERE NOT lead_erased(phone, submitted_at) AND NOT lead_erased(campaign || ' ' || phone, submitted_at)
),
texts AS (
    INSERT INTO consent_texts (version, lang, text)
    SELECT DISTINCT ON (consent_version) consent_version, consent_lang, consent_text
    FROM incoming
    WHERE consent_version IS NOT NULL
    ORDER BY consent_version
    ON CONFLICT (version) DO NOTHING
),
fresh AS (
    INSERT INTO submissions (id, phone, campaign, source, utm_source, utm_medium, utm_campaign,
                             utm_term, utm_content, submitted_at, visited, consent_version, variant)
    SELECT id, phone, campaign, source, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
           submitted_at, visited, consent_version, variant
    FROM incoming
    ORDER BY id
    ON CONFLICT (id) DO NOTHING
    RETURNING id
),
consented AS (
    -- each lead's latest consent in this batch
    SELECT DISTINCT ON (i.phone, i.campaign) i.phone, i.campaign, i.consent_version,
           i.submitted_at AS consent_at
    FROM incoming i JOIN fresh f ON f.id = i.id
    WHERE i.consent_version IS NOT NULL
    ORDER BY i.phone, i.campaign, i.submitted_at DESC, i.id DESC
),
per_phone AS (
    SELECT DISTINCT ON (i.phone, i.campaign)
           i.id, i.phone, i.campaign, i.region, i.carrier, i.source, i.utm_source, i.utm_medium,
           i.utm_campaign, i.utm_term, i.utm_content, i.verify, i.variant,
           count(*) OVER w AS n,
           min(i.submitted_at) OVER w AS first_at,
           max(i.submitted_at) OVER w AS last_at
    FROM incoming i JOIN fresh f ON f.id = i.id
    WINDOW w AS (PARTITION BY i.phone, i.campaign)
    ORDER BY i.phone, i.campaign, i.submitted_at, i.id
),
upserted AS (
    INSERT INTO leads AS l (id, phone, campaign, region, carrier, status, submissions,
                            first_submitted_at, last_submitted_at, source, utm_source, utm_medium,
                            utm_campaign, utm_term, utm_content, consent_version, consent_at, variant)
    SELECT p.id, p.phone, p.campaign, p.region, p.carrier,
           CASE WHEN p.verify THEN 'unverified' ELSE 'new' END, p.n, p.first_at, p.last_at, p.source,
           p.utm_source, p.utm_medium, p.utm_campaign, p.utm_term, p.utm_content, c.consent_version,
           c.consent_at, p.variant
    FROM per_phone p LEFT JOIN consented c ON c.phone = p.phone AND c.campaign = p.campaign
    ORDER BY p.phone, p.campaign  -- a stable lock order, so two workers' batches cannot deadlock
    ON CONFLICT (phone, campaign) DO UPDATE SET
        submissions        = l.submissions + EXCLUDED.submissions,
        first_submitted_at = LEAST(l.first_submitted_at, EXCLUDED.first_submitted_at),
        last_submitted_at  = GREATEST(l.last_submitted_at, EXCLUDED.last_submitted_at),
        carrier            = COALESCE(l.carrier, EXCLUDED.carrier),  -- status stays: a known lead's own
        -- the latest consent wins, whichever order the submissions land in
        consent_version    = CASE WHEN EXCLUDED.consent_at >= l.consent_at OR l.consent_at IS NULL
                                  THEN COALESCE(EXCLUDED.consent_version, l.consent_version)
                                  ELSE l.consent_version END,
        consent_at         = GREATEST(l.consent_at, EXCLUDED.consent_at),
        updated_at         = now()
    -- xmax = 0 only on a row this statement inserted: a new lead, not a known phone again.
    RETURNING l AS lead, (l.xmax = 0) AS created
),
events AS (
    -- the event's data: migration 0008's webhook_lead_data, as for every lead event
    INSERT INTO webhook_events (id, type, lead_id, occurred_at, data)
    SELECT gen_random_uuid(), 'lead.created', (u.lead).id, now(), webhook_lead_data(u.lead)
    FROM upserted u
    WHERE u.created
    RETURNING id, type, data ->> 'campaign' AS campaign
)
INSERT INTO webhook_deliveries (event_id, endpoint_id)
SELECT e.id, ep.id
-- an endpoint limited to one campaign (a notify channel's --campaign) gets only that one's leads
FROM events e JOIN webhook_endpoints ep ON ep.enabled AND e.type = ANY (ep.events)
                                       AND (ep.campaign IS NULL OR ep.campaign = e.campaign)
