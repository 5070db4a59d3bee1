-- Variants (leadcap/landing/variants.py): a campaign may show its visitors up to 4 versions of its
-- copy. Each submission records the variant its visitor was shown (derived by the server from the
-- visitor cookie, never taken from the form); the lead keeps the variant of the submission that
-- created it, so conversion per variant counts each lead once. NULL: no variants, or no cookie
-- (an API client). Adding a NULL column rewrites nothing.
ALTER TABLE submissions ADD COLUMN variant text;
ALTER TABLE leads ADD COLUMN variant text;

-- The webhook `data` carries the lead's variant when it has one (the rest as migration 0014 left it).
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
           || CASE WHEN l.consent_version IS NULL THEN '{}'::jsonb
                   ELSE jsonb_build_object(
                       'consent_version', l.consent_version,
                       'consent_at', to_char(l.consent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'))
              END
           || CASE WHEN l.variant IS NULL THEN '{}'::jsonb
                   ELSE jsonb_build_object('variant', l.variant) END
$$;
