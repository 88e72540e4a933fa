-- Lock waits and holds per lock and mode (lock name x type; unnamed locks grouped per type), summed over hosts.
SELECT lock_key, MIN(lock) AS lock_name, MIN(mode) AS lock_mode, MIN(type) AS lock_kind,
       COALESCE(MIN(CASE WHEN lock_type <> 'unknown' THEN lock_type END), MIN(lock_type)) AS lock_class,
       MIN(luo_role) AS role,
       COUNT(DISTINCT host) AS host_count, SUM(merged_rows) AS row_count, SUM(instances) AS instance_count,
       SUM(acquisitions) AS acquired, SUM(contended) AS contended_count, SUM(sleeps) AS slept_count,
       SUM(failed) AS failed_count, SUM(trylock_failed) AS trylock_failed_count,
       SUM(wait_count) AS waits, SUM(wait_total_ns) AS wait_sum_ns, MAX(wait_max_ns) AS wait_longest_ns,
       SUM(hold_count) AS holds, SUM(hold_total_ns) AS hold_sum_ns, MAX(hold_max_ns) AS hold_longest_ns
FROM lock_stats
GROUP BY lock_key
ORDER BY wait_sum_ns DESC, contended_count DESC, acquired DESC, lock_key
