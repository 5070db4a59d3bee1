-- Rollups of [$1, $2) per variant of campaign $3 (dimension 'variant', key '<slug>/<variant>',
-- migration 0016; its index on the slug part keeps this to the campaign's own rows).
SELECT split_part(key, '/', 2) AS key,
       sum(submissions)::bigint AS submissions,
       sum(new_leads)::bigint AS new_leads,
       sum(visited_leads)::bigint AS visited_leads,
       sum(verified)::bigint AS verified
FROM campaign_rollups
WHERE dim = 'variant' AND split_part(key, '/', 1) = $3 AND bucket >= $1 AND bucket < $2
GROUP BY 1
ORDER BY 1
