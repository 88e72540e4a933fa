-- One line per host: usable or why not, kernel model, sessions, open and leaked pins, total lock wait, events and data quality.
WITH pins AS (
  SELECT host, SUM(open_luo_pins) AS open_pins, SUM(leaked_pins) AS leaked
  FROM module_refs
  GROUP BY host
),
waited AS (
  SELECT host, SUM(wait_total_ns) AS wait_ns
  FROM lock_stats
  GROUP BY host
)
SELECT h.host, h.run_id, h.usable, h.error, h.kernel_model, h.boots, h.sessions_total, h.sessions_listed, h.sessions_omitted,
       h.lines, h.events, h.skipped_lines, h.lost_events, h.lost_markers, h.truncated, h.incomplete,
       COALESCE(p.open_pins, 0) AS open_pins, COALESCE(p.leaked, 0) AS leaked_pins, COALESCE(w.wait_ns, 0) AS lock_wait_ns
FROM hosts h
LEFT JOIN pins p ON p.host = h.host
LEFT JOIN waited w ON w.host = h.host
ORDER BY h.host
