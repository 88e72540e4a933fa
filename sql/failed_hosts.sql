-- Every host that failed or warned on a verdict, with the verdict's message on that host.
SELECT verdict_id, host,
       CASE WHEN severity = 'warning' THEN 'warn' ELSE 'fail' END AS outcome,
       severity, ok, message
FROM verdicts
WHERE severity = 'warning' OR ok = FALSE
ORDER BY verdict_id, host
