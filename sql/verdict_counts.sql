-- Hosts passing, warning, failing, inconclusive and not applicable on each verdict (a verdict that is not ok fails unless its severity is warning; an ok verdict counts by its status), over the hosts that could be analyzed.
SELECT verdict_id,
       SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END) AS pass_hosts,
       SUM(CASE WHEN outcome = 'warn' THEN 1 ELSE 0 END) AS warn_hosts,
       SUM(CASE WHEN outcome = 'fail' THEN 1 ELSE 0 END) AS fail_hosts,
       SUM(CASE WHEN outcome = 'inconclusive' THEN 1 ELSE 0 END) AS inconclusive_hosts,
       SUM(CASE WHEN outcome = 'n/a' THEN 1 ELSE 0 END) AS na_hosts
FROM (
  SELECT verdict_id,
         CASE
           WHEN ok = TRUE AND status IN ('inconclusive', 'n/a') THEN status
           WHEN severity = 'warning' THEN 'warn'
           WHEN ok = FALSE THEN 'fail'
           ELSE 'pass'
         END AS outcome
  FROM verdicts
) AS v
GROUP BY verdict_id
ORDER BY fail_hosts DESC, warn_hosts DESC, inconclusive_hosts DESC, verdict_id
