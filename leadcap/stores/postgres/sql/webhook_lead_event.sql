-- Add one event ($1: its type, e.g. lead.verified) for the lead $2 to the outbox, with a pending
-- delivery per subscribed endpoint. Run it inside the transaction that changes the lead (as
-- record_submissions.sql does for lead.created): the event commits with the change or not at all.
WITH event AS (
    INSERT INTO webhook_events (id, type, lead_id, occurred_at, data)
    SELECT gen_random_uuid(), $1, l.id, now(), webhook_lead_data(l)  -- migration 0008
    FROM leads l
    WHERE l.id = $2
    RETURNING id, type, data ->> 'campaign' AS campaign
)
INSERT INTO webhook_deliveries (event_id, endpoint_id)
SELECT e.id, ep.id
-- an endpoint limited to one campaign (a notify channel's --campaign) gets only that one's leads
FROM event e JOIN webhook_endpoints ep ON ep.enabled AND e.type = ANY (ep.events)
                                      AND (ep.campaign IS NULL OR ep.campaign = e.campaign)
RETURNING event_id
