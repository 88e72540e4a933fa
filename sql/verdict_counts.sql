-- Hosts passing, warning and failing each verdict (warning = severity warning; fail = not ok otherwise), over the hosts that could be analyzed.
SELECT verdict_id,
       SUM(CASE WHEN severity <> 'warning' AND ok = TRUE THEN 1 ELSE 0 END) AS pass_hosts,
       SUM(CASE WHEN severity = 'warning' THEN 1 ELSE 0 END) AS warn_hosts,
       SUM(CASE WHEN severity <> 'warning' AND ok = FALSE THEN 1 ELSE 0 END) AS fail_hosts
FROM verdicts
GROUP BY verdict_id
ORDER BY fail_hosts DESC, warn_hosts DESC, verdict_id
