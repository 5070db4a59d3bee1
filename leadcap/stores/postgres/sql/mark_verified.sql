-- Leads whose code came back: `verified` with verified_at, a batch at a time (group commit:
-- concurrent verifications share one transaction, and one fsync). $1..$14 are parallel arrays,
-- one element per lead, the columns record_submissions.sql takes (leads.columns builds both; the
-- verify and visited matter only there); each (phone, campaign) appears once (the caller keeps
-- the first of a batch). $15: the campaign variant its visitor was shown (migration 0015; NULL:
-- none), kept by a lead created here as by one the worker creates (the worker's submission then
-- finds the lead and leaves its variant as it is).
-- The verify endpoint may run before the worker has written the lead: then the lead is created
-- here with 0 submissions, and the worker's record_submissions adds the submission to it as to
-- any existing lead. A lead already being worked on (contacted, qualified, …) keeps its status;
-- verified_at is set all the same. Returns each lead's id, and whether it became verified in this
-- transaction (the caller writes its lead.verified webhook event then, once).
INSERT INTO leads AS l (id, phone, campaign, region, carrier, status, submissions, first_submitted_at,
                        last_submitted_at, source, utm_source, utm_medium, utm_campaign,
                        utm_term, utm_content, verified_at, variant)
SELECT id, phone, campaign, region, carrier, 'verified', 0, submitted_at, submitted_at, source, utm_source,
       utm_medium, utm_campaign, utm_term, utm_content, now(), variant
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::boolean[],
            $13::boolean[], $14::text[], $15::text[])
     AS t(id, phone, region, carrier, source, utm_source, utm_medium, utm_campaign, utm_term,
          utm_content, submitted_at, verify, visited, campaign, variant)
-- An erased number is not brought back (0012), nor its lead in one campaign (erasure.mark_name).
WHERE NOT lead_erased(phone, submitted_at) AND NOT lead_erased(campaign || ' ' || phone, submitted_at)
ORDER BY phone, campaign  -- the workers' lock order, so a batch here and a batch there cannot deadlock
ON CONFLICT (phone, campaign) DO UPDATE SET
    verified_at = COALESCE(l.verified_at, now()),
    status      = CASE WHEN l.status IN ('new', 'unverified') THEN 'verified' ELSE l.status END,
    updated_at  = now()
RETURNING l.id, l.verified_at = now() AS newly_verified
