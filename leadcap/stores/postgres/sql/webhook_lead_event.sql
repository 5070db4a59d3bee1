-- Add one event ($1: its type, e.g. lead.verified) for the lead $2 to the outbox, with a pending
-- delivery per subscribed endpoint. Run it inside the transaction that changes the lead (as
-- record_submissions.sql does for lead.created): the event commits with the change or not at all.
WITH lead AS (
    SELECT * FROM leads WHERE id = $2
),
event AS (
    INSERT INTO webhook_events (id, type, lead_id, occurred_at, data)
    SELECT gen_random_uuid(), $1, l.id, now(),
           jsonb_build_object(
               'id', l.id, 'phone', l.phone, 'region', l.region, 'carrier', l.carrier,
               'status', l.status, 'submissions', l.submissions,
               'first_submitted_at', to_char(l.first_submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
               'last_submitted_at', to_char(l.last_submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
               'source', l.source, 'utm_source', l.utm_source, 'utm_medium', l.utm_medium,
               'utm_campaign', l.utm_campaign, 'utm_term', l.utm_term, 'utm_content', l.utm_content)
           -- a row's own columns (verified_at, when the migration adding it ran) travel too
           || (to_jsonb(l) - 'created_at' - 'updated_at' - 'first_submitted_at' - 'last_submitted_at'
               - 'phone' - 'id' - 'region' - 'carrier' - 'status' - 'submissions' - 'source'
               - 'utm_source' - 'utm_medium' - 'utm_campaign' - 'utm_term' - 'utm_content')
    FROM lead l
    RETURNING id, type
)
INSERT INTO webhook_deliveries (event_id, endpoint_id)
SELECT e.id, ep.id
FROM event e JOIN webhook_endpoints ep ON ep.enabled AND e.type = ANY (ep.events)
RETURNING event_id
