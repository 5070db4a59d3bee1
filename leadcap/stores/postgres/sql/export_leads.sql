-- Leads for export, oldest first. NULL filters match everything.
SELECT id, phone, region, carrier, status, submissions, first_submitted_at, last_submitted_at,
       source, utm_source, utm_medium, utm_campaign, utm_term, utm_content, verified_at,
       campaign, consent_version, consent_at, variant
FROM leads
WHERE ($1::timestamptz IS NULL OR first_submitted_at >= $1)
  AND ($2::timestamptz IS NULL OR first_submitted_at < $2)
  AND ($3::text IS NULL OR status = $3)
  AND ($4::text IS NULL OR campaign = $4)
ORDER BY first_submitted_at, id
