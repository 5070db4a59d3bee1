-- Rollups of [$1, $2) per key of one dimension ($3 'source', 'campaign': utm_campaign, or 'slug'),
-- most new leads first.
SELECT key,
       sum(submissions)::bigint AS submissions,
       sum(new_leads)::bigint AS new_leads,
       sum(visited_leads)::bigint AS visited_leads,
       sum(verified)::bigint AS verified
FROM campaign_rollups
WHERE dim = $3 AND bucket >= $1 AND bucket < $2
GROUP BY key
ORDER BY new_leads DESC, key
