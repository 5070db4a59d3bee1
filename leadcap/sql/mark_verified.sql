-- A lead whose code came back: `verified` with verified_at. The verify endpoint may run before
-- the worker has written the lead: then the lead is created here with 0 submissions, and the
-- worker's record_submissions adds the submission to it as to any existing lead.
-- A lead already being worked on (contacted, qualified, …) keeps its status; verified_at is set.
INSERT INTO leads AS l (id, phone, region, carrier, status, submissions, first_submitted_at,
                        last_submitted_at, source, utm_source, utm_medium, utm_campaign,
                        utm_term, utm_content, verified_at)
VALUES ($1, $2, $3, $4, 'verified', 0, $5, $5, $6, $7, $8, $9, $10, $11, now())
ON CONFLICT (phone) DO UPDATE SET
    verified_at = COALESCE(l.verified_at, now()),
    status      = CASE WHEN l.status IN ('new', 'unverified') THEN 'verified' ELSE l.status END,
    updated_at  = now()
