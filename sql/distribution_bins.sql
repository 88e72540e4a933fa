-- Every distribution's bins summed over hosts (DDSketch bins and log2 buckets), with what the merged distribution holds.
WITH merged_totals AS (
  SELECT metric, metric_key, SUM(count) AS n, SUM(total_ns) AS sum_ns, MIN(min_ns) AS lowest_ns, MAX(max_ns) AS highest_ns
  FROM distribution_totals
  GROUP BY metric, metric_key
),
merged_bins AS (
  SELECT metric, metric_key, scheme, bin_index, MIN(bin_value_ns) AS estimate_ns, SUM(count) AS in_bin
  FROM distributions
  GROUP BY metric, metric_key, scheme, bin_index
)
SELECT t.metric, t.metric_key, t.n, t.sum_ns, t.lowest_ns, t.highest_ns, b.scheme, b.bin_index, b.estimate_ns, b.in_bin
FROM merged_totals t JOIN merged_bins b ON b.metric = t.metric AND b.metric_key = t.metric_key
ORDER BY t.metric, t.metric_key, b.scheme, b.bin_index
