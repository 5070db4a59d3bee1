-- Consent (leadcap/landing/consent.py): a campaign may ask its visitors to agree to a text.
--
-- Each submission records the version it agreed to (sha256 of the language and the exact text
-- shown, 32 hex digits) at its own submitted_at; the lead carries its latest. The text itself is
-- kept once per version, written by the same statement as the first submission that names it
-- (record_submissions.sql), so no version is ever recorded without its text. The texts hold no
-- number: an erase leaves them.
CREATE TABLE consent_texts (
    version    text        PRIMARY KEY CHECK (version ~ '^[0-9a-f]{32}$'),
    lang       text        NOT NULL,
    text       text        NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now()
);

-- NULL: the campaign asked for no consent when it was sent. Adding a NULL column rewrites nothing.
ALTER TABLE submissions ADD COLUMN consent_version text;
ALTER TABLE leads ADD COLUMN consent_version text, ADD COLUMN consent_at timestamptz;

-- The webhook `data` carries the lead's consent once it has one, as it does verified_at (the rest
-- as migration 0013 left it).
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
$$;
