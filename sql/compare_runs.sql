-- Two runs compared as `luotrace diff` compares two reports: per phase and per named lock, count, total, longest and p99 before (the lowest run_id) and after (the highest), the change, and whether it regressed (after > before x 1.2 and at least 1 ms more).
WITH runs AS (
  SELECT MIN(run_id) AS before_run, MAX(run_id) AS after_run FROM hosts
),
figures AS (
  SELECT run_id, 'phase' AS metric, phase AS metric_key, SUM(count) AS n, SUM(total_ns) AS sum_ns, MAX(max_ns) AS longest_ns
  FROM phase_stats GROUP BY run_id, phase
  UNION ALL
  SELECT run_id, 'lock_wait' AS metric, lock_key AS metric_key, SUM(wait_count) AS n, SUM(wait_total_ns) AS sum_ns, MAX(wait_max_ns) AS longest_ns
  FROM lock_stats WHERE lock IS NOT NULL GROUP BY run_id, lock_key
),
merged_bins AS (
  SELECT run_id, metric, metric_key, bin_index, MIN(bin_value_ns) AS estimate_ns, SUM(count) AS in_bin
  FROM distributions
  WHERE scheme = 'ddsketch' AND metric IN ('phase', 'lock_wait')
  GROUP BY run_id, metric, metric_key, bin_index
),
cumulative AS (
  SELECT run_id, metric, metric_key, estimate_ns,
         SUM(in_bin) OVER (PARTITION BY run_id, metric, metric_key ORDER BY bin_index ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS up_to,
         SUM(in_bin) OVER (PARTITION BY run_id, metric, metric_key) AS n
  FROM merged_bins
),
p99 AS (
  SELECT run_id, metric, metric_key, MIN(estimate_ns) AS p99_ns
  FROM cumulative
  WHERE up_to >= FLOOR((990 * n + 999) / 1000.0)
  GROUP BY run_id, metric, metric_key
),
sides AS (
  SELECT f.metric, f.metric_key,
         SUM(CASE WHEN f.run_id = r.before_run THEN f.n END) AS before_count,
         SUM(CASE WHEN f.run_id = r.after_run THEN f.n END) AS after_count,
         SUM(CASE WHEN f.run_id = r.before_run THEN f.sum_ns END) AS before_total_ns,
         SUM(CASE WHEN f.run_id = r.after_run THEN f.sum_ns END) AS after_total_ns,
         MAX(CASE WHEN f.run_id = r.before_run THEN f.longest_ns END) AS before_max_ns,
         MAX(CASE WHEN f.run_id = r.after_run THEN f.longest_ns END) AS after_max_ns,
         MAX(CASE WHEN f.run_id = r.before_run THEN p.p99_ns END) AS before_p99_ns,
         MAX(CASE WHEN f.run_id = r.after_run THEN p.p99_ns END) AS after_p99_ns
  FROM figures f
  CROSS JOIN runs r
  LEFT JOIN p99 p ON p.run_id = f.run_id AND p.metric = f.metric AND p.metric_key = f.metric_key
  WHERE f.run_id = r.before_run OR f.run_id = r.after_run
  GROUP BY f.metric, f.metric_key
)
SELECT metric, metric_key, before_count, after_count, before_total_ns, after_total_ns, after_total_ns - before_total_ns AS delta_total_ns,
       before_max_ns, after_max_ns, before_p99_ns, after_p99_ns, after_p99_ns - before_p99_ns AS delta_p99_ns,
       CASE WHEN after_p99_ns > before_p99_ns * 1.2 AND after_p99_ns - before_p99_ns >= 1000000 THEN 1 ELSE 0 END AS p99_regressed,
       CASE WHEN after_total_ns > before_total_ns * 1.2 AND after_total_ns - before_total_ns >= 1000000 THEN 1 ELSE 0 END AS total_regressed
FROM sides
ORDER BY p99_regressed DESC, total_regressed DESC, metric, metric_key
