-- Phase durations and lock wait/hold p50, p90, p99, p99.9 merged over hosts from DDSketch bins: the nearest rank ceil(q*n) read off cumulative bin counts.
WITH merged_bins AS (
  SELECT metric, metric_key, bin_index, MIN(bin_value_ns) AS estimate_ns, SUM(count) AS in_bin
  FROM distributions
  WHERE scheme = 'ddsketch'
  GROUP BY metric, metric_key, bin_index
),
cumulative AS (
  SELECT metric, metric_key, bin_index, estimate_ns,
         SUM(in_bin) OVER (PARTITION BY metric, metric_key ORDER BY bin_index ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS up_to
  FROM merged_bins
),
merged_totals AS (
  SELECT metric, metric_key, SUM(count) AS n, MIN(min_ns) AS lowest_ns, MAX(max_ns) AS highest_ns
  FROM distribution_totals
  GROUP BY metric, metric_key
),
quantiles AS (
  SELECT 500 AS permille UNION ALL SELECT 900 UNION ALL SELECT 990 UNION ALL SELECT 999
),
ranks AS (
  SELECT t.metric, t.metric_key, q.permille, FLOOR((q.permille * t.n + 999) / 1000.0) AS wanted, t.lowest_ns, t.highest_ns
  FROM merged_totals t CROSS JOIN quantiles q
  WHERE t.n > 0
),
answers AS (
  SELECT r.metric, r.metric_key, r.permille, r.lowest_ns, r.highest_ns, MIN(c.estimate_ns) AS estimate_ns
  FROM ranks r JOIN cumulative c ON c.metric = r.metric AND c.metric_key = r.metric_key
  WHERE c.up_to >= r.wanted
  GROUP BY r.metric, r.metric_key, r.permille, r.lowest_ns, r.highest_ns
)
SELECT metric, metric_key, permille,
       CASE WHEN estimate_ns < lowest_ns THEN lowest_ns WHEN estimate_ns > highest_ns THEN highest_ns ELSE estimate_ns END AS value_ns
FROM answers
ORDER BY metric, metric_key, permille
