-- Findings per ISO week, by severity, over the last 12 weeks (one finding counted once, however often re-detected).
WITH unique_findings AS (
  SELECT finding_id,
         arbitrary(severity) AS severity,
         min(from_iso8601_timestamp(detected_at)) AS first_detected
  FROM socialaudit.findings
  WHERE dt >= date_format(current_date - INTERVAL '84' DAY, '%Y-%m-%d')
  GROUP BY finding_id
)
SELECT date_trunc('week', first_detected) AS week,
       count(*) AS findings,
       count_if(severity = 'critical') AS critical,
       count_if(severity = 'high') AS high,
       count_if(severity = 'medium') AS medium,
       count_if(severity = 'low') AS low
FROM unique_findings
GROUP BY 1
ORDER BY 1 DESC;
