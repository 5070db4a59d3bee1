-- A page of the read API: leads after the position ($1 commit_xid as text, $2 id), in the order
-- they committed, only below the horizon every running transaction is above
-- (migrations/0011_read_api.sql), with the export's columns and filters ($3 since, $4 until,
-- $5 status, $6 campaign: NULL matches everything), at most $7 rows. The horizon comes back on every row, and
-- on a row of its own (lead columns NULL) when nothing matched.
WITH h AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon)
SELECT h.horizon::text AS horizon, p.*
FROM h LEFT JOIN LATERAL (
    SELECT l.commit_xid::text AS commit_xid, l.id, l.phone, l.region, l.carrier, l.status,
           l.submissions, l.first_submitted_at, l.last_submitted_at, l.source, l.utm_source,
           l.utm_medium, l.utm_campaign, l.utm_term, l.utm_content, l.verified_at, l.campaign,
           l.consent_version, l.consent_at, l.variant
    FROM leads l
    WHERE (l.commit_xid, l.id) > ($1::text::xid8, $2::uuid)
      AND l.commit_xid < h.horizon
      AND ($3::timestamptz IS NULL OR l.first_submitted_at >= $3)
      AND ($4::timestamptz IS NULL OR l.first_submitted_at < $4)
      AND ($5::text IS NULL OR l.status = $5)
      AND ($6::text IS NULL OR l.campaign = $6)
    ORDER BY l.commit_xid, l.id
    LIMIT $7
) p ON true
