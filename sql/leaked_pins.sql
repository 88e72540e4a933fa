-- Leaked module pins (open at the end, no session explains them) by module, session and call site, with the hosts and runs they were seen on.
SELECT module, session, get_call_site, COUNT(*) AS leaked, COUNT(DISTINCT host) AS host_count,
       MIN(host) AS first_host, MIN(run_id) AS first_run, MAX(run_id) AS last_run
FROM pin_windows
WHERE leaked = TRUE
GROUP BY module, session, get_call_site
ORDER BY leaked DESC, module, session, get_call_site
