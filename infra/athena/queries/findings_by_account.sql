-- Findings per account key and category in the last 7 days; the key comes from the object's path (account=<key>).
SELECT regexp_extract("$path", '/account=([^/]+)/', 1) AS account_key,
       category,
       count(DISTINCT finding_id) AS findings
FROM socialaudit.findings
WHERE dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
GROUP BY 1, 2
ORDER BY findings DESC;
