SELECT count(*) FROM leads
WHERE ($1::timestamptz IS NULL OR first_submitted_at >= $1)
  AND ($2::timestamptz IS NULL OR first_submitted_at < $2)
  AND ($3::text IS NULL OR status = $3)
  AND ($4::text IS NULL OR campaign = $4)
