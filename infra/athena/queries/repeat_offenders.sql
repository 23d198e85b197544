-- Repeat offenders: outside authors with findings on three or more distinct posts in the last 30 days.
SELECT author.handle AS handle,
       platform,
       count(DISTINCT post_id) AS posts,
       count(DISTINCT finding_id) AS findings,
       array_join(array_agg(DISTINCT category), ', ') AS categories,
       max(severity = 'critical') AS any_critical,
       min(created_at) AS first_seen,
       max(created_at) AS last_seen
FROM socialaudit.findings
WHERE dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')
  AND NOT author.is_org
GROUP BY author.handle, platform
HAVING count(DISTINCT post_id) >= 3
ORDER BY posts DESC, findings DESC
LIMIT 50;
