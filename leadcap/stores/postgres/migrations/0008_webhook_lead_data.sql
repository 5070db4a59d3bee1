-- The `data` of a lead's webhook events, built in one place for every event type: the lead's
-- export columns (docs/export.md, docs/webhooks.md) as they are at that moment, times in UTC.
-- verified_at travels once it holds a time (a lead.verified carries it, a lead.created never
-- does). record_submissions.sql (lead.created) and webhook_lead_event.sql (lead.verified) call it.
CREATE FUNCTION webhook_lead_data(l leads) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
               'id', l.id, 'phone', l.phone, 'region', l.region, 'carrier', l.carrier,
               'status', l.status, 'submissions', l.submissions,
               'first_submitted_at', to_char(l.first_submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
               'last_submitted_at', to_char(l.last_submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
               'source', l.source, 'utm_source', l.utm_source, 'utm_medium', l.utm_medium,
               'utm_campaign', l.utm_campaign, 'utm_term', l.utm_term, 'utm_content', l.utm_content)
           || CASE WHEN l.verified_at IS NULL THEN '{}'::jsonb
                   ELSE jsonb_build_object('verified_at', l.verified_at) END
$$;
