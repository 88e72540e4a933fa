-- Fleet-wide totals: hosts, hosts analyzed, sessions (and those not listed in full), lines, events, skipped lines, lost events.
SELECT COUNT(*) AS host_count,
       SUM(CASE WHEN usable = TRUE THEN 1 ELSE 0 END) AS analyzed,
       SUM(sessions_total) AS sessions,
       SUM(sessions_omitted) AS sessions_omitted,
       SUM(lines) AS line_count,
       SUM(events) AS event_count,
       SUM(skipped_lines) AS skipped,
       SUM(lost_events) AS lost
FROM hosts
