-- Totals of [$1, $2) per local day or hour ($3 'day'|'hour') of time zone $4: of all campaigns
-- ($5 'total', $6 '') or of one ($5 'slug', $6 its slug; migration 0013).
SELECT date_trunc($3, bucket AT TIME ZONE $4) AS period,
       sum(submissions)::bigint AS submissions,
       sum(new_leads)::bigint AS new_leads,
       sum(visited_leads)::bigint AS visited_leads,
       sum(verified)::bigint AS verified
FROM campaign_rollups
WHERE dim = $5 AND key = $6 AND bucket >= $1 AND bucket < $2
GROUP BY 1
ORDER BY 1
