-- Per LUO phase: hosts that ran it, phases counted, errors, total, shortest and longest duration (exact sums and extremes).
SELECT phase, COUNT(DISTINCT host) AS host_count, SUM(count) AS phase_count, SUM(errors) AS error_count,
       SUM(total_ns) AS sum_ns, MIN(min_ns) AS shortest_ns, MAX(max_ns) AS longest_ns
FROM phase_stats
GROUP BY phase
ORDER BY phase
