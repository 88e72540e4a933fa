-- Every host that failed, warned or was inconclusive on a verdict, with the verdict's message on that host.
SELECT verdict_id, host, outcome, severity, ok, message
FROM (
  SELECT verdict_id, host, severity, ok, message,
         CASE
           WHEN ok = TRUE AND status IN ('inconclusive', 'n/a') THEN status
           WHEN severity = 'warning' THEN 'warn'
           WHEN ok = FALSE THEN 'fail'
           ELSE 'pass'
         END AS outcome
  FROM verdicts
) AS v
WHERE outcome IN ('fail', 'warn', 'inconclusive')
ORDER BY verdict_id, host
